"""The outbox relay and the consumer runner: nothing lost, nothing applied twice."""

from __future__ import annotations

import asyncio

from backbone.consumer import ConsumerRunner
from backbone.eventlog.sqlite import SqliteEventLog
from backbone.events import PaperRegistered, PaperSnapshot
from backbone.outbox import OutboxRelay, SqliteOutbox
from backbone.sqlite import OUTBOX_TABLE, connect, migrate, transaction
from tests.helpers import eventually


def envelope(paper_id: str):
    snap = PaperSnapshot(paper_id=paper_id, title="T", authors=["A"], venue=None, venue_key=None, year=None)
    return PaperRegistered(paper=snap).envelope(aggregate_id=paper_id, aggregate_version=1, producer="test")


async def make_log(tmp_path):
    log = SqliteEventLog(tmp_path / "events.db", poll_interval=0.01)
    await log.start()
    return log


def make_outbox(tmp_path):
    conn = connect(tmp_path / "svc.db")
    migrate(conn, [OUTBOX_TABLE])
    return conn, SqliteOutbox(conn)


async def test_relay_moves_committed_events_and_empties_the_outbox(tmp_path):
    log = await make_log(tmp_path)
    conn, outbox = make_outbox(tmp_path)
    with transaction(conn):
        SqliteOutbox.add(conn, [envelope("a"), envelope("b")])
    moved = await OutboxRelay("svc", outbox, log).drain()
    assert moved == 2 and outbox.count() == 0
    assert (await log.end_offsets(["papers"]))["papers"] == 3
    await log.close()


async def test_a_rolled_back_write_leaves_no_event(tmp_path):
    conn, outbox = make_outbox(tmp_path)
    try:
        with transaction(conn):
            SqliteOutbox.add(conn, [envelope("a")])
            raise RuntimeError("the write failed")
    except RuntimeError:
        pass
    assert outbox.count() == 0


async def test_crash_between_publish_and_removal_publishes_nothing_twice(tmp_path):
    log = await make_log(tmp_path)
    conn, outbox = make_outbox(tmp_path)
    with transaction(conn):
        SqliteOutbox.add(conn, [envelope("a")])
    pending = await outbox.pending(10)
    await log.publish([env for _, env in pending])  # ...and the relay dies before removing
    await OutboxRelay("svc", outbox, log).drain()  # the restarted relay publishes again
    consumer = log.consumer("g", ["papers"])
    records = await consumer.poll(10, 0.2)
    assert len(records) == 1
    await consumer.close()
    await log.close()


async def test_runner_retries_then_dead_letters_and_replay_brings_it_back(tmp_path):
    log = await make_log(tmp_path)
    await log.publish([envelope("bad"), envelope("good")])
    applied: list[str] = []
    broken = {"on": True}

    async def handler(env):
        if env.aggregate_id == "bad" and broken["on"]:
            raise RuntimeError("transient trouble")
        applied.append(env.aggregate_id)

    runner = ConsumerRunner(log, "g", ["papers"], handler, max_attempts=3, retry_base=0.001)
    task = asyncio.create_task(runner.run())
    await eventually(lambda: applied == ["good"])
    [dl] = await log.dead_letters("g")
    assert dl.attempts == 3 and "transient trouble" in dl.error
    broken["on"] = False
    assert await runner.replay_dead_letters() == (1, 0)
    assert applied == ["good", "bad"]
    assert await log.dead_letters("g") == []
    runner.stop()
    await asyncio.wait_for(task, 3)
    await log.close()


async def test_runner_commits_only_after_handling(tmp_path):
    log = await make_log(tmp_path)
    await log.publish([envelope("a")])
    started = asyncio.Event()

    async def slow(env):
        started.set()
        await asyncio.sleep(10)

    runner = ConsumerRunner(log, "g", ["papers"], slow)
    task = asyncio.create_task(runner.run())
    await started.wait()
    task.cancel()  # the process dies mid-handler
    await asyncio.gather(task, return_exceptions=True)

    seen = []

    async def record(env):
        seen.append(env.aggregate_id)

    again = ConsumerRunner(log, "g", ["papers"], record)
    task = asyncio.create_task(again.run())
    await eventually(lambda: seen == ["a"])
    again.stop()
    await asyncio.wait_for(task, 3)
    await log.close()
