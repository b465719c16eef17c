"""The event-log port's contract, written once and run against every adapter.

A topic may have several partitions (Kafka) or one (SQLite): order is promised per key only,
offsets are per partition, and members of a group commit what they handled, as
`ConsumerRunner` does; a record delivered but never committed may be delivered again.
"""

from __future__ import annotations

import asyncio

from backbone.events import PaperRegistered, PaperSnapshot, PaperUpdated


def paper_event(paper_id: str, version: int, title: str = "T"):
    snap = PaperSnapshot(paper_id=paper_id, title=title, authors=["A"], venue=None, venue_key=None, year=None,
                         version=version)
    cls = PaperRegistered if version == 1 else PaperUpdated
    extra = {} if version == 1 else {"changed": ["title"]}
    return cls(paper=snap, **extra).envelope(aggregate_id=paper_id, aggregate_version=version, producer="test")


async def drain(consumer, expected: int, timeout: float = 5.0, *, commit: bool = False):
    """Poll until `expected` records came or `timeout` passed; with `commit`, commit each
    batch after "handling" it, as a ConsumerRunner does."""
    got = []
    deadline = asyncio.get_running_loop().time() + timeout
    while len(got) < expected and asyncio.get_running_loop().time() < deadline:
        batch = await consumer.poll(100, 0.1)
        if commit:
            await consumer.commit(batch)
        got += batch
    return got


async def test_events_of_one_key_arrive_in_order(event_log_factory):
    log = await event_log_factory()
    envelopes = [paper_event(f"p{k}", v) for v in range(1, 6) for k in range(3)]
    await log.publish(envelopes)
    consumer = log.consumer("g1", ["papers"])
    records = await drain(consumer, len(envelopes))
    assert len(records) == len(envelopes)
    for key in ("p0", "p1", "p2"):
        versions = [r.envelope.aggregate_version for r in records if r.key == key]
        assert versions == [1, 2, 3, 4, 5]
    await consumer.close()


async def test_each_group_sees_every_event(event_log_factory):
    log = await event_log_factory()
    await log.publish([paper_event("a", 1), paper_event("b", 1)])
    first, second = log.consumer("search", ["papers"]), log.consumer("social", ["papers"])
    got_first = await drain(first, 2)
    await first.commit(got_first)
    got_second = await drain(second, 2)
    # Across keys (and so across partitions) the order is not promised, only per key.
    assert sorted(r.envelope.event_id for r in got_first) == sorted(r.envelope.event_id for r in got_second)
    assert len(got_first) == 2
    await first.close()
    await second.close()


async def test_uncommitted_records_are_redelivered_after_a_restart(event_log_factory):
    log = await event_log_factory()
    sent = [paper_event("a", 1), paper_event("a", 2), paper_event("a", 3)]
    await log.publish(sent)
    consumer = log.consumer("g", ["papers"])
    records = await drain(consumer, 3)
    await consumer.commit(records[:1])  # handled the first, then "crashed"
    await consumer.close()

    reopened = await event_log_factory()
    again = reopened.consumer("g", ["papers"])
    redelivered = await drain(again, 2)
    assert [r.envelope.event_id for r in redelivered] == [e.event_id for e in sent[1:]]
    await again.close()


async def test_a_member_that_dies_without_closing_is_replaced(event_log_factory):
    log = await event_log_factory(member_timeout=0.2)
    await log.publish([paper_event("a", 1)])
    dead = log.consumer("g", ["papers"], member="dead")
    assert len(await drain(dead, 1)) == 1  # takes the record, never commits, never closes

    survivor = log.consumer("g", ["papers"], member="survivor")
    records = await drain(survivor, 1, timeout=3.0)
    assert [r.key for r in records] == ["a"]
    await survivor.close()


async def test_a_group_delivers_each_record_to_one_member_only(event_log_factory):
    log = await event_log_factory()
    await log.publish([paper_event(f"k{i}", 1) for i in range(10)])
    one, two = log.consumer("g", ["papers"], member="one"), log.consumer("g", ["papers"], member="two")
    # Each member commits what it handled, so when the group's work moves between members
    # (a lease taken over, partitions rebalanced) nothing handled is handed out again.
    got_one, got_two = await asyncio.gather(drain(one, 10, 1.0, commit=True), drain(two, 10, 1.0, commit=True))
    ids_one = {r.envelope.event_id for r in got_one}
    ids_two = {r.envelope.event_id for r in got_two}
    assert not ids_one & ids_two
    assert len(ids_one | ids_two) == 10
    await one.close()
    await two.close()


async def test_committed_position_survives_and_replay_starts_over(event_log_factory):
    log = await event_log_factory()
    await log.publish([paper_event("a", v) for v in range(1, 4)])
    consumer = log.consumer("g", ["papers"])
    records = await drain(consumer, 3)
    await consumer.commit(records)
    assert await consumer.poll(10, 0.1) == []
    await consumer.seek_to_beginning()
    replayed = await drain(consumer, 3)
    assert [r.envelope.aggregate_version for r in replayed] == [1, 2, 3]
    await consumer.close()


async def test_seek_to_an_offset(event_log_factory):
    log = await event_log_factory()
    await log.publish([paper_event("a", v) for v in range(1, 5)])
    consumer = log.consumer("g", ["papers"])
    records = await drain(consumer, 4)
    await consumer.seek("papers", records[2].offset, records[2].partition)  # offsets are per partition
    again = await drain(consumer, 2)
    assert [r.envelope.aggregate_version for r in again] == [3, 4]
    await consumer.close()


async def test_consumers_only_see_their_topics(event_log_factory):
    log = await event_log_factory()
    other = paper_event("x", 1).model_copy(update={"topic": "summaries"})
    await log.publish([paper_event("a", 1), other])
    consumer = log.consumer("g", ["summaries"])
    records = await drain(consumer, 1)
    assert [r.topic for r in records] == ["summaries"]
    assert await consumer.poll(10, 0.1) == []
    await consumer.close()


async def test_publishing_wakes_a_waiting_consumer(event_log_factory):
    log = await event_log_factory()
    consumer = log.consumer("g", ["papers"])
    waiting = asyncio.create_task(consumer.poll(10, 5.0))
    await asyncio.sleep(0.05)
    await log.publish([paper_event("a", 1)])
    records = await asyncio.wait_for(waiting, 2.0)
    assert len(records) == 1
    await consumer.close()


async def test_end_offsets_grow_with_the_log(event_log_factory):
    log = await event_log_factory()
    before = (await log.end_offsets(["papers"]))["papers"]
    await log.publish([paper_event("a", 1), paper_event("b", 1)])
    after = (await log.end_offsets(["papers"]))["papers"]
    assert after >= before + 2


async def test_dead_letters_are_kept_listed_and_marked_replayed(event_log_factory):
    log = await event_log_factory()
    await log.publish([paper_event("a", 1)])
    consumer = log.consumer("g", ["papers"])
    [record] = await drain(consumer, 1)
    await log.dead_letter("g", record, "boom", 5)
    [dl] = await log.dead_letters("g")
    assert dl.record.envelope.event_id == record.envelope.event_id and dl.error == "boom" and dl.attempts == 5
    await log.mark_dead_letter_replayed(dl.id)
    assert await log.dead_letters("g") == []
    assert len(await log.dead_letters("g", include_replayed=True)) == 1
    await consumer.close()
