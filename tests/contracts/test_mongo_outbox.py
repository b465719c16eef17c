"""The MongoDB outbox (backbone.mongo): events travel inside the document their write
changes, and the real OutboxRelay moves them to a real event log.

Runs on MongoDB or FerretDB (`make engines`); FerretDB's updates are not atomic, so these
tests also prove that the store's write lock keeps the relay and the writers apart."""

from __future__ import annotations

import asyncio

import pytest
from pymongo.errors import DuplicateKeyError

from backbone.errors import EngineUnavailable
from backbone.eventlog.sqlite import SqliteEventLog
from backbone.events import PaperRegistered, PaperSnapshot
from backbone.mongo import OUTBOX_FIELD, OUTBOX_MARK, MongoStore, outbox_update
from backbone.outbox import OutboxRelay
from tests.engines import unique_prefix
from tests.helpers import eventually

THINGS = "things"


class ThingsStore(MongoStore):
    OUTBOX_COLLECTIONS = (THINGS,)


def envelope(doc_id: str, version: int, note: str = ""):
    snapshot = PaperSnapshot(paper_id=doc_id, title=f"Thing {doc_id} v{version} {note}", authors=["A"], venue=None,
                             venue_key=None, year=None)
    return PaperRegistered(paper=snapshot).envelope(aggregate_id=doc_id, aggregate_version=version, producer="test")


@pytest.fixture
async def store(mongodb_url):
    store = ThingsStore(mongodb_url, unique_prefix("outbox") + "db")
    await store.start()
    try:
        yield store
    finally:
        await store.drop()
        await store.close()


@pytest.fixture
async def log(tmp_path):
    log = SqliteEventLog(tmp_path / "events.db", poll_interval=0.01)
    await log.start()
    try:
        yield log
    finally:
        await log.close()


async def read_log(log, expected: int, group: str = "reader") -> list:
    """Every envelope in the log, in log order, once `expected` of them are there."""
    consumer = log.consumer(group, ["papers"])
    seen: list = []
    try:
        async def more() -> bool:
            seen.extend(r.envelope for r in await consumer.poll(1000, 0.05))
            return len(seen) >= expected

        await eventually(more, timeout=20)
        seen.extend(r.envelope for r in await consumer.poll(1000, 0.1))  # and nothing beyond
    finally:
        await consumer.close()
    return seen


async def test_the_relay_publishes_events_exactly_as_queued_then_removes_them(store, log):
    a1, a2, a3, b1 = envelope("a", 1), envelope("a", 2), envelope("a", 3), envelope("b", 1)
    await store.insert_with_outbox(THINGS, {"_id": "a", "n": 1}, [a1, a2])
    await store.update_with_outbox(THINGS, {"_id": "a"}, [a3], {"$inc": {"n": 1}})
    await store.insert_with_outbox(THINGS, {"_id": "b", "n": 7}, [b1])
    assert await store.outbox().count() == 2

    moved = await OutboxRelay("things", store.outbox(), log).drain()

    assert moved == 4
    published = await read_log(log, 4)
    assert sorted(published, key=lambda e: e.event_id) == sorted([a1, a2, a3, b1], key=lambda e: e.event_id)
    assert [e for e in published if e.aggregate_id == "a"] == [a1, a2, a3]  # one document's events in order
    assert await store.outbox().pending(100) == [] and await store.outbox().count() == 0
    for doc_id, n in (("a", 2), ("b", 7)):
        doc = await store.db[THINGS].find_one({"_id": doc_id})
        assert doc["n"] == n and doc[OUTBOX_FIELD] == [] and OUTBOX_MARK not in doc


async def test_a_crash_between_publish_and_removal_publishes_again_then_removes(store, log):
    queued = [envelope("c", 1), envelope("c", 2)]
    await store.insert_with_outbox(THINGS, {"_id": "c"}, queued)
    pending = await store.outbox().pending(100)
    await log.publish([e for _, e in pending])  # ...and the relay dies before removing them

    # A new relay (a restarted process) finds them still queued and publishes them again.
    assert [e for _, e in await store.outbox().pending(100)] == queued
    assert await OutboxRelay("things", store.outbox(), log).drain() == 2
    assert await store.outbox().count() == 0
    # The log keeps each event id once, so consumers see each event once.
    assert await read_log(log, 2) == queued


async def test_writes_concurrent_with_a_running_relay_lose_nothing(store, log):
    docs = [f"d{i}" for i in range(4)]
    for doc_id in docs:
        await store.insert_with_outbox(THINGS, {"_id": doc_id, "n": 0}, [envelope(doc_id, 0, "created")])
    relay = OutboxRelay("things", store.outbox(), log, poll_interval=0.01, batch=7)
    task = asyncio.create_task(relay.run())
    versions = dict.fromkeys(docs, 0)

    async def writer(k: int, rounds: int) -> None:
        for i in range(rounds):
            doc_id = docs[(k + i) % len(docs)]
            # Under the write lock, as the adapters write: the version is the document's order of writes.
            async with store.write_lock:
                versions[doc_id] += 1
                event = envelope(doc_id, versions[doc_id], f"w{k}")
                result = await store.db[THINGS].update_one({"_id": doc_id}, outbox_update([event], {"$inc": {"n": 1}}))
            assert result.matched_count == 1
            relay.wake()
            if i % 3 == 0:
                await asyncio.sleep(0)

    try:
        await asyncio.gather(*(writer(k, 30) for k in range(6)))
        await eventually(_count_is_zero(store), timeout=20)
    finally:
        relay.stop()
        await task

    total = len(docs) + 6 * 30
    published = await read_log(log, total)
    assert len(published) == total and len({e.event_id for e in published}) == total
    for doc_id in docs:  # each document's events leave in the order they were written, none missing
        assert [e.aggregate_version for e in published if e.aggregate_id == doc_id] == list(range(versions[doc_id] + 1))
    # No state update was lost to the relay's removals either.
    async for doc in store.db[THINGS].find({}):
        assert doc["n"] == versions[doc["_id"]] and doc[OUTBOX_FIELD] == [] and OUTBOX_MARK not in doc


def _count_is_zero(store):
    async def check() -> bool:
        return await store.outbox().count() == 0

    return check


async def test_a_write_that_fails_queues_nothing(store):
    await store.insert_with_outbox(THINGS, {"_id": "v", "version": 1}, [envelope("v", 1)])
    stale = await store.update_with_outbox(THINGS, {"_id": "v", "version": 0}, [envelope("v", 2)],
                                           {"$set": {"version": 2}})
    assert stale.matched_count == 0
    with pytest.raises(DuplicateKeyError):
        await store.insert_with_outbox(THINGS, {"_id": "v"}, [envelope("v", 9)])
    assert [(e.aggregate_id, e.aggregate_version) for _, e in await store.outbox().pending(100)] == [("v", 1)]
    assert (await store.db[THINGS].find_one({"_id": "v"}))["version"] == 1


async def test_a_mark_left_on_a_document_without_events_is_cleared(store):
    await store.db[THINGS].insert_one({"_id": "m", OUTBOX_MARK: 1.0})  # e.g. written by hand or older code
    await store.db[THINGS].insert_one({"_id": "e", OUTBOX_FIELD: [], OUTBOX_MARK: 2.0})
    assert await store.outbox().count() == 2
    assert await store.outbox().pending(100) == []
    assert await store.outbox().count() == 0


# -- start --------------------------------------------------------------------------------


@pytest.mark.timeout(20)
async def test_an_unreachable_server_is_reported_as_engine_unavailable_naming_mongodb_and_the_url():
    url = "mongodb://reader:s3cret@127.0.0.1:1/?directConnection=true&serverSelectionTimeoutMS=300"
    store = ThingsStore(url, "nowhere")
    with pytest.raises(EngineUnavailable) as caught:
        await store.start()
    error = caught.value
    assert error.engine == "MongoDB" and error.url == "mongodb://reader:***@127.0.0.1:1/?directConnection=true" \
        "&serverSelectionTimeoutMS=300"
    assert "MongoDB at mongodb://reader:***@127.0.0.1:1" in str(error) and "s3cret" not in str(error)
    assert error.reason
    assert not await store.ping()
    await store.close()


async def test_a_malformed_url_is_reported_as_engine_unavailable():
    with pytest.raises(EngineUnavailable) as caught:
        await ThingsStore("mongodb://127.0.0.1:notaport/", "nowhere").start()
    assert "127.0.0.1:notaport" in str(caught.value)
    assert caught.value.engine == "MongoDB"
