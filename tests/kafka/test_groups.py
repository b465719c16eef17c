"""Consumer groups on Kafka: members split the partitions, and a rebalance hands work over
without delivering anything twice."""

from __future__ import annotations

import asyncio
from collections import Counter

import pytest

from backbone.consumer import ConsumerRunner
from tests.contracts.test_eventlog_contract import paper_event
from tests.helpers import eventually

pytestmark = pytest.mark.engine("kafka")


async def keep_polling(consumer, got: list, stop: asyncio.Event) -> None:
    while not stop.is_set():
        batch = await consumer.poll(100, 0.1)
        await consumer.commit(batch)
        got += batch


async def test_two_members_of_a_group_split_the_partitions(kafka_log):
    log = await kafka_log(partitions=4)
    one, two = log.consumer("g", ["papers"], member="one"), log.consumer("g", ["papers"], member="two")
    got_one, got_two, stop = [], [], asyncio.Event()
    tasks = [asyncio.create_task(keep_polling(c, got, stop)) for c, got in ((one, got_one), (two, got_two))]
    # Both hold partitions, none held twice, all held.
    await eventually(lambda: one.assignment() and two.assignment()
                     and len(one.assignment() | two.assignment()) == 4, timeout=15)
    assert not one.assignment() & two.assignment()

    sent = [paper_event(f"k{i}", 1) for i in range(40)]
    await log.publish(sent)
    await eventually(lambda: len(got_one) + len(got_two) >= len(sent), timeout=15)
    stop.set()
    await asyncio.gather(*tasks)

    ids_one = [r.envelope.event_id for r in got_one]
    ids_two = [r.envelope.event_id for r in got_two]
    assert ids_one and ids_two
    assert not set(ids_one) & set(ids_two)
    assert sorted(ids_one + ids_two) == sorted(e.event_id for e in sent)
    assert {(r.topic, r.partition) for r in got_one} <= one.assignment()
    assert {(r.topic, r.partition) for r in got_two} <= two.assignment()
    await one.close()
    await two.close()


async def test_a_member_joining_mid_batch_gets_nothing_handled_twice(kafka_log):
    """The first member is in the middle of a slow batch when a second joins: it finishes
    and commits the batch before its partitions move, so the newcomer starts after it."""
    log = await kafka_log(partitions=4)
    sent = [paper_event(f"k{i}", 1) for i in range(60)]
    await log.publish(sent)
    deliveries: Counter[str] = Counter()
    handled_by: dict[str, set[str]] = {"first": set(), "second": set()}

    def handler_for(name: str):
        async def handle(envelope):
            deliveries[envelope.event_id] += 1
            handled_by[name].add(envelope.event_id)
            await asyncio.sleep(0.02)  # slow work, so a rebalance lands in the middle of a batch
        return handle

    first = ConsumerRunner(log, "g", ["papers"], handler_for("first"), batch=20, poll_timeout=0.1)
    second = ConsumerRunner(log, "g", ["papers"], handler_for("second"), batch=20, poll_timeout=0.1)
    first_task = asyncio.create_task(first.run())
    await eventually(lambda: len(handled_by["first"]) >= 3, timeout=15)
    second_task = asyncio.create_task(second.run())
    await eventually(lambda: len(deliveries) == len(sent), timeout=20)
    first.stop()
    second.stop()
    await asyncio.gather(first_task, second_task)

    assert handled_by["second"], "the second member never got partitions"
    assert [event_id for event_id, n in deliveries.items() if n > 1] == []
