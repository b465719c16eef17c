"""SQLite helpers for the embedded backends.

The embedded adapters call sqlite3 synchronously from async methods on purpose: a point
read or a small write transaction takes tens of microseconds, far less than a hop to a
thread pool (aiosqlite) costs. The rule that keeps this safe: a transaction never spans
an `await`, so one connection is never used by two coroutines at once.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path


def connect(path: Path | str, *, synchronous: str = "NORMAL") -> sqlite3.Connection:
    """Open a WAL-mode connection. NORMAL survives a process crash (kill -9) with nothing
    lost; FULL also survives power loss and is used for the event log, which the outbox
    relay must be able to trust before it marks events as published."""
    if str(path) != ":memory:":
        Path(path).parent.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(str(path), isolation_level=None, check_same_thread=False, timeout=10.0)
    conn.row_factory = sqlite3.Row
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute(f"PRAGMA synchronous={synchronous}")
    conn.execute("PRAGMA foreign_keys=ON")
    conn.execute("PRAGMA busy_timeout=10000")
    conn.execute("PRAGMA temp_store=MEMORY")
    return conn


@contextmanager
def transaction(conn: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    """BEGIN IMMEDIATE ... COMMIT, rolled back on any exception. Inside a transaction
    already open on this connection it is a savepoint, so a bulk job can wrap many
    single-item writes in one commit."""
    if conn.in_transaction:
        conn.execute("SAVEPOINT nested")
        try:
            yield conn
        except BaseException:
            conn.execute("ROLLBACK TO nested")
            conn.execute("RELEASE nested")
            raise
        else:
            conn.execute("RELEASE nested")
        return
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield conn
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    else:
        conn.execute("COMMIT")


def split_sql(script: str) -> list[str]:
    """Split a script into statements (trigger bodies included) with SQLite's own rule."""
    statements, current = [], ""
    for line in script.splitlines(keepends=True):
        current += line
        if sqlite3.complete_statement(current):
            statements.append(current.strip())
            current = ""
    if current.strip():
        statements.append(current.strip())
    return statements


def migrate(conn: sqlite3.Connection, migrations: Sequence[str]) -> None:
    """Apply the migrations not yet applied, tracked by PRAGMA user_version."""
    current = conn.execute("PRAGMA user_version").fetchone()[0]
    for version, script in enumerate(migrations, start=1):
        if version <= current:
            continue
        with transaction(conn):
            for statement in split_sql(script):
                conn.execute(statement)
            conn.execute(f"PRAGMA user_version={version}")


OUTBOX_TABLE = """
CREATE TABLE IF NOT EXISTS outbox (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    event_id TEXT NOT NULL UNIQUE,
    envelope BLOB NOT NULL
);
CREATE TABLE IF NOT EXISTS processed_events (
    event_id TEXT PRIMARY KEY,
    consumer TEXT NOT NULL,
    applied_at REAL NOT NULL
)
"""


class SqliteStore:
    """A service's own SQLite file: opened and migrated at start, closed at stop, with
    its outbox in the same file. Subclasses name their MIGRATIONS."""

    MIGRATIONS: Sequence[str] = ()

    def __init__(self, path: Path | str) -> None:
        self.path = path
        self._conn: sqlite3.Connection | None = None

    async def start(self) -> None:
        if self._conn is None:
            self._conn = connect(self.path)
            migrate(self._conn, self.MIGRATIONS)

    async def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    @property
    def conn(self) -> sqlite3.Connection:
        assert self._conn is not None, f"{type(self).__name__} not started"
        return self._conn

    async def ping(self) -> bool:
        return self.conn.execute("SELECT 1").fetchone() is not None

    def outbox(self):
        from backbone.outbox import SqliteOutbox

        return SqliteOutbox(self.conn)


def where_equal(**columns) -> tuple[str, list]:
    """`WHERE a=? AND b=?` for the filters that are set (None means no filter), and their
    arguments; an empty clause when none is set. Column names come from code, never input."""
    given = {name: value for name, value in columns.items() if value is not None}
    if not given:
        return "", []
    return "WHERE " + " AND ".join(f"{name}=?" for name in given), list(given.values())
