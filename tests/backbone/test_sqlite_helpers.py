"""Small SQLite helpers shared by the stores."""

from __future__ import annotations

from backbone.sqlite import connect, transaction, where_equal


def test_where_equal_keeps_only_the_filters_that_are_set():
    assert where_equal(status=None, channel=None) == ("", [])
    assert where_equal(status="sent", channel=None) == ("WHERE status=?", ["sent"])
    assert where_equal(venue_key="iclr", year=2020) == ("WHERE venue_key=? AND year=?", ["iclr", 2020])
    assert where_equal(year=0) == ("WHERE year=?", [0])  # zero is a value, not "no filter"


def test_a_nested_transaction_is_a_savepoint_rolled_back_alone(tmp_path):
    conn = connect(tmp_path / "t.db")
    conn.execute("CREATE TABLE t (x INTEGER)")
    with transaction(conn):
        conn.execute("INSERT INTO t VALUES (1)")
        try:
            with transaction(conn):
                conn.execute("INSERT INTO t VALUES (2)")
                raise RuntimeError("inner write fails")
        except RuntimeError:
            pass
    assert [r[0] for r in conn.execute("SELECT x FROM t")] == [1]
    conn.close()
