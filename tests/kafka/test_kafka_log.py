"""The Kafka adapter's own behaviour beyond the port contract: unreachable brokers, topics,
dead letters kept in Kafka, records that are not envelopes, the settings wiring."""

from __future__ import annotations

import asyncio

import pytest

from backbone.errors import EngineUnavailable
from backbone.eventlog.kafka import DEAD_LETTER_TOPIC, KafkaEventLog
from backbone.runtime import make_event_log
from backbone.settings import CommonSettings
from tests.contracts.test_eventlog_contract import drain, paper_event
from tests.helpers import eventually


def closed_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]  # nothing listens once the socket is closed


async def test_unreachable_brokers_give_engine_unavailable_naming_kafka_and_the_address():
    servers = f"127.0.0.1:{closed_port()}"
    log = KafkaEventLog(servers, prefix="x.")
    with pytest.raises(EngineUnavailable) as caught:
        await log.start()
    assert (caught.value.engine, caught.value.url) == ("Kafka", servers)
    assert "no broker answered" in caught.value.reason
    assert caught.value.__cause__ is None and caught.value.__suppress_context__
    assert not await log.ping()
    await log.close()


async def test_a_broker_that_never_answers_gives_engine_unavailable_within_the_connect_timeout():
    accepted = []

    async def silent(reader, writer):
        accepted.append(writer)  # accept the connection, never answer

    server = await asyncio.start_server(silent, "127.0.0.1", 0)
    servers = f"127.0.0.1:{server.sockets[0].getsockname()[1]}"
    log = KafkaEventLog(servers, prefix="x.", connect_timeout=0.5, request_timeout=0.5)
    try:
        with pytest.raises(EngineUnavailable) as caught:
            await log.start()
        assert caught.value.url == servers and "0.5 s" in caught.value.reason
    finally:
        for writer in accepted:
            writer.close()
        server.close()
        await server.wait_closed()
        await log.close()


def test_settings_pick_the_kafka_adapter(tmp_path):
    settings = CommonSettings(events="kafka", data_dir=tmp_path, kafka_bootstrap_servers="k1:9092,k2:9092",
                              kafka_prefix="prod.", kafka_partitions=12, kafka_replication_factor=3)
    log = make_event_log(settings)
    assert isinstance(log, KafkaEventLog)
    assert (log.bootstrap_servers, log.prefix, log.partitions, log.replication_factor) == (
        "k1:9092,k2:9092", "prod.", 12, 3)


@pytest.mark.engine("kafka")
async def test_topics_are_created_with_the_configured_partitions(kafka_log):
    log = await kafka_log(partitions=5)
    ends = await log.partition_end_offsets(["papers", "summaries", DEAD_LETTER_TOPIC])
    assert sorted(p for t, p in ends if t == "papers") == [0, 1, 2, 3, 4]
    assert sorted(p for t, p in ends if t == DEAD_LETTER_TOPIC) == [0]  # one partition: ids in order
    again = await kafka_log(partitions=5)  # the topics exist already: fine
    assert await again.ping()


@pytest.mark.engine("kafka")
async def test_dead_letters_live_in_kafka_and_outlive_the_process(kafka_log):
    log = await kafka_log()
    await log.publish([paper_event("a", 1), paper_event("b", 1)])
    consumer = log.consumer("g", ["papers"])
    records = await drain(consumer, 2)
    await consumer.close()
    for record in records:
        await log.dead_letter("g", record, f"boom {record.key}", 5)
    await log.dead_letter("other", records[0], "elsewhere", 1)
    first = (await log.dead_letters("g"))[0]
    await log.mark_dead_letter_replayed(first.id)

    reopened = await kafka_log()  # another process: it knows only what Kafka holds
    pending = await reopened.dead_letters("g")
    assert [dl.error for dl in pending] == [f"boom {records[1].key}"]
    assert pending[0].record.envelope == records[1].envelope
    assert (pending[0].record.partition, pending[0].record.offset) == (records[1].partition, records[1].offset)
    everything = await reopened.dead_letters(include_replayed=True)
    assert [dl.group for dl in everything] == ["g", "g", "other"]
    assert [dl.id for dl in everything] == sorted(dl.id for dl in everything)


@pytest.mark.engine("kafka")
async def test_a_record_that_is_not_an_envelope_is_dead_lettered_and_committed_past(kafka_log):
    log = await kafka_log(partitions=1)
    good = paper_event("a", 1)
    await log.publish([good])
    await log.producer.send_and_wait(log.topic_name("papers"), b"{not an envelope", key=b"a")

    consumer = log.consumer("g", ["papers"])
    records = []
    async def dead_lettered():
        records.extend(await consumer.poll(10, 0.1))
        return await log.dead_letters("g")
    [letter] = await eventually(dead_lettered)
    assert [r.envelope.event_id for r in records] == [good.event_id]
    assert letter.record.offset == 1 and "undecodable" in letter.error
    assert letter.record.envelope.payload["raw"] == "{not an envelope"
    await consumer.commit(records)  # the handled record, and the bad one after it
    await consumer.close()

    again = log.consumer("g", ["papers"])
    assert await again.poll(10, 1.0) == []
    await again.close()
    assert len(await log.dead_letters("g")) == 1


@pytest.mark.engine("kafka")
async def test_a_failed_poll_puts_its_records_back(kafka_log, monkeypatch):
    """When the dead letter for a bad record cannot be written, the poll fails and the
    records it fetched are fetched again by the next poll: none is skipped."""
    log = await kafka_log(partitions=1)
    consumer = log.consumer("g", ["papers"])

    async def joined():
        await consumer.poll(10, 0.05)
        return consumer.assignment()

    await eventually(joined)

    async def unavailable(*args, **kwargs):
        raise TimeoutError("the dead-letter topic did not answer")

    first, last = paper_event("a", 1), paper_event("a", 2)
    await log.publish([first])
    await log.producer.send_and_wait(log.topic_name("papers"), b"garbage", key=b"a")
    await log.publish([last])
    got = []
    with monkeypatch.context() as patch:
        patch.setattr(log, "dead_letter", unavailable)
        with pytest.raises(TimeoutError):
            async with asyncio.timeout(10):
                while True:  # until the poll that meets the bad record fails
                    got += await consumer.poll(10, 0.2)
    got += await drain(consumer, 2 - len(got))
    assert [r.envelope.event_id for r in got] == [first.event_id, last.event_id]
    assert len(await log.dead_letters("g")) == 1
    await consumer.close()
