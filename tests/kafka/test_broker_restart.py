"""A broker restart is survived: a publish made while the broker is down completes once it
is back (the idempotent producer retries without duplicating), /readyz's ping follows the
broker, and a consumer running across the restart ends up with every event."""

from __future__ import annotations

import asyncio
from collections import Counter

import pytest

from backbone.consumer import ConsumerRunner
from backbone.eventlog.kafka import KafkaEventLog
from tests.contracts.eventlog_backends import FAST_KAFKA_GROUPS
from tests.contracts.test_eventlog_contract import drain, paper_event
from tests.helpers import eventually

# Starting a broker JVM twice takes 10-40 s on a loaded two-core machine.
pytestmark = [pytest.mark.engine("kafka"), pytest.mark.slow, pytest.mark.timeout(180)]


async def test_a_restarted_broker_is_survived_by_producer_retries(throwaway_broker):
    log = KafkaEventLog(throwaway_broker.bootstrap_servers, prefix="restart.", partitions=3, publish_timeout=50,
                        **FAST_KAFKA_GROUPS)
    await log.start()
    handled: Counter[str] = Counter()

    async def handle(envelope):
        handled[envelope.event_id] += 1

    runner = ConsumerRunner(log, "g", ["papers"], handle, poll_timeout=0.2)
    running = asyncio.create_task(runner.run())
    try:
        before = [paper_event(f"k{i}", 1) for i in range(10)]
        await log.publish(before)
        await eventually(lambda: len(handled) == len(before), timeout=15)

        await asyncio.to_thread(throwaway_broker.stop)
        assert not await log.ping()
        during = [paper_event(f"k{i}", 2) for i in range(10)]
        publishing = asyncio.create_task(log.publish(during))  # waits for the broker, does not fail
        done, _ = await asyncio.wait({publishing}, timeout=1.0)
        assert not done, "publish returned while no broker could have acknowledged it"
        await asyncio.to_thread(throwaway_broker.start)
        await publishing
        assert await log.ping()

        await eventually(lambda: len(handled) == len(before) + len(during), timeout=30)
    finally:
        runner.stop()
        await running

    # The log holds every event exactly once, each key's events in order.
    reader = log.consumer("check", ["papers"])
    records = await drain(reader, 20, timeout=15)
    await reader.close()
    assert sorted(r.envelope.event_id for r in records) == sorted(e.event_id for e in before + during)
    for key in {r.key for r in records}:
        assert [r.envelope.aggregate_version for r in records if r.key == key] == [1, 2]
    await log.close()
