"""Kafka-only tests: fixtures for logs with their own topics, and a throwaway broker."""

from __future__ import annotations

import pytest

from tests.contracts.eventlog_backends import FAST_KAFKA_GROUPS, drop_topics
from tests.engines import unique_prefix
from tests.kafka.broker import ThrowawayBroker, kafka_jars


@pytest.fixture
async def kafka_log(kafka_bootstrap):
    """make(**options) -> a started KafkaEventLog; every log of one test shares its topics."""
    from backbone.eventlog.kafka import KafkaEventLog

    prefix = unique_prefix("kafka")
    opened = []

    async def make(**options):
        settings = dict(prefix=prefix, partitions=4, replication_factor=1, **FAST_KAFKA_GROUPS)
        settings.update(options)
        log = KafkaEventLog(kafka_bootstrap, **settings)
        await log.start()
        opened.append(log)
        return log

    make.prefix = prefix
    make.servers = kafka_bootstrap
    yield make
    for log in opened:
        await log.close()
    await drop_topics(kafka_bootstrap, prefix)


@pytest.fixture
def throwaway_broker(tmp_path):
    """A single-node KRaft broker of our own, on spare ports, that a test may stop and start.
    (Never the shared development broker.) Needs the jars `make engines` caches."""
    jars = kafka_jars()
    broker = ThrowawayBroker(tmp_path / "broker", jars)
    broker.start()
    try:
        yield broker
    finally:
        broker.stop()
