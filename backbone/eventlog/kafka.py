"""The distributed event log: Kafka through aiokafka (0.14, which speaks to Kafka 4 brokers).

- Topics are `<prefix><topic>` with `partitions` partitions, created at start (and on first
  use of a topic not created yet); "already exists" is fine. Records are keyed by the
  envelope's aggregate id, so the events of one aggregate share a partition and stay in
  order. Retention is unlimited by default: the search index is rebuilt from the log.
- The producer is idempotent with `acks=all`: its own retries (a broker restart, a leader
  change) never duplicate or reorder a partition's records. `publish` returns once every
  record is acknowledged, so the outbox removes only what the log holds. Kafka cannot refuse
  an event id it already holds (the outbox may publish twice after a crash): consumers
  deduplicate by event id, as the port says.
- A consumer group is a Kafka group `<prefix><group>` with auto-commit off: `commit` stores,
  per partition, the offset after the last record handled. A rebalance is graceful: a member
  losing partitions waits (bounded) until its application commits or abandons the batch it
  is handling before it lets go, so a normal scale-out or shutdown hands over without
  redelivery. A member that dies or hangs loses its partitions after the session timeout or
  `max_poll_interval`, and the new owner starts at the committed offsets, so that member's
  uncommitted records are delivered again: handlers are idempotent.
- Dead letters live in Kafka too, on one single-partition topic `<prefix>dead-letters`: a
  dead letter is a record there and its id is that record's offset; "replayed" is a later
  marker record naming the id. Listing folds the topic (read incrementally from where the
  last listing stopped).
"""

from __future__ import annotations

import asyncio
import heapq
import json
import time
import uuid
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRebalanceListener, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import KafkaConnectionError, KafkaError, TopicAlreadyExistsError, for_code

from backbone.errors import EngineUnavailable
from backbone.eventlog.port import DeadLetter, Record
from backbone.events import IDENTITY, PAPERS, SOCIAL, SUMMARIES, Envelope
from backbone.logs import get_logger

EVENT_TOPICS = (PAPERS, SUMMARIES, IDENTITY, SOCIAL)
DEAD_LETTER_TOPIC = "dead-letters"
# Summary events carry the rendered body: allow records well above Kafka's 1 MB default.
MAX_MESSAGE_BYTES = 8 * 1024 * 1024

logger = get_logger("kafka")


class KafkaEventLog:
    """Times are in seconds. The group settings (`session_timeout`, `heartbeat_interval`,
    `rebalance_timeout`, `max_poll_interval`, `handover_timeout`) apply to every consumer
    this log makes; `session_timeout` must lie within the brokers' group.min/max.session.timeout.ms
    (6 s to 30 min by default)."""

    def __init__(
        self,
        bootstrap_servers: str,
        *,
        prefix: str = "",
        partitions: int = 6,
        replication_factor: int = 1,
        topics: Sequence[str] = EVENT_TOPICS,
        retention_ms: int = -1,
        connect_timeout: float = 10.0,
        request_timeout: float = 15.0,
        publish_timeout: float = 30.0,
        session_timeout: float = 10.0,
        heartbeat_interval: float = 1.0,
        rebalance_timeout: float = 30.0,
        max_poll_interval: float = 300.0,
        handover_timeout: float = 20.0,
        join_timeout: float = 30.0,
    ) -> None:
        self.bootstrap_servers = bootstrap_servers
        self.prefix = prefix
        self.partitions = partitions
        self.replication_factor = replication_factor
        self.topics = list(topics)
        self.retention_ms = retention_ms
        self.connect_timeout = connect_timeout
        self.request_timeout = request_timeout
        self.publish_timeout = publish_timeout
        self.session_timeout = session_timeout
        self.heartbeat_interval = heartbeat_interval
        self.rebalance_timeout = rebalance_timeout
        self.max_poll_interval = max_poll_interval
        self.handover_timeout = handover_timeout
        self.join_timeout = join_timeout
        self._admin: AIOKafkaAdminClient | None = None
        self._producer: AIOKafkaProducer | None = None
        self._reader: AIOKafkaConsumer | None = None  # offsets and the dead-letter topic; no group
        self._created: set[str] = set()  # full topic names known to exist
        self._topics_lock = asyncio.Lock()
        self._consumers: set[KafkaConsumer] = set()
        self._ledger = _DeadLetterLedger()
        self._ledger_lock = asyncio.Lock()

    # -- names --------------------------------------------------------------------------

    def topic_name(self, topic: str) -> str:
        return f"{self.prefix}{topic}"

    def group_name(self, group: str) -> str:
        return f"{self.prefix}{group}"

    @property
    def dead_letter_partition(self) -> TopicPartition:
        return TopicPartition(self.topic_name(DEAD_LETTER_TOPIC), 0)

    def _ms(self, seconds: float) -> int:
        return int(seconds * 1000)

    # -- lifecycle ----------------------------------------------------------------------

    async def start(self) -> None:
        if self._producer is not None:
            return
        try:
            async with asyncio.timeout(self.connect_timeout):
                self._admin = AIOKafkaAdminClient(
                    bootstrap_servers=self.bootstrap_servers, client_id=f"{self.prefix}admin",
                    request_timeout_ms=self._ms(self.request_timeout),
                )
                await self._admin.start()
                await self._create_topics(self.topics)
                await self._create_topics([DEAD_LETTER_TOPIC], partitions=1)
                self._producer = AIOKafkaProducer(
                    bootstrap_servers=self.bootstrap_servers, client_id=f"{self.prefix}producer",
                    enable_idempotence=True, acks="all", linger_ms=0,
                    max_request_size=MAX_MESSAGE_BYTES, request_timeout_ms=self._ms(self.request_timeout),
                )
                await self._producer.start()
                self._reader = AIOKafkaConsumer(
                    bootstrap_servers=self.bootstrap_servers, client_id=f"{self.prefix}reader", group_id=None,
                    enable_auto_commit=False, auto_offset_reset="earliest",
                    request_timeout_ms=self._ms(self.request_timeout),
                )
                await self._reader.start()
        except (KafkaError, OSError, TimeoutError) as exc:
            await self._close_clients()
            raise EngineUnavailable("Kafka", self.bootstrap_servers, _reason(exc, self.connect_timeout)) from None
        logger.info("kafka_connected", servers=self.bootstrap_servers, prefix=self.prefix,
                    partitions=self.partitions)

    async def close(self) -> None:
        for consumer in list(self._consumers):
            await consumer.close()
        await self._close_clients()

    async def _close_clients(self) -> None:
        producer, reader, admin = self._producer, self._reader, self._admin
        self._producer = self._reader = self._admin = None
        self._created.clear()
        self._ledger = _DeadLetterLedger()
        if producer is not None:
            await _stop_producer(producer, self.request_timeout)
        for client in (reader, admin):
            if client is None:
                continue
            try:
                await (client.stop() if isinstance(client, AIOKafkaConsumer) else client.close())
            except Exception as exc:  # closing what is already broken
                logger.debug("kafka_close_failed", error=repr(exc))

    @property
    def producer(self) -> AIOKafkaProducer:
        if self._producer is None:
            raise RuntimeError("event log not started")
        return self._producer

    async def ping(self) -> bool:
        if self._admin is None:
            return False
        try:
            async with asyncio.timeout(min(self.request_timeout, 5.0)):
                cluster = await self._admin.describe_cluster()
            return bool(cluster.get("brokers"))
        except Exception:
            return False

    # -- topics -------------------------------------------------------------------------

    async def ensure_topics(self, topics: Iterable[str]) -> None:
        """Create the topics (short names) not known to exist yet."""
        missing = [t for t in dict.fromkeys(topics) if self.topic_name(t) not in self._created]
        if missing:
            await self._create_topics(missing)

    async def _create_topics(self, topics: Sequence[str], *, partitions: int | None = None) -> None:
        if self._admin is None:
            raise RuntimeError("event log not started")
        config = {"retention.ms": str(self.retention_ms), "max.message.bytes": str(MAX_MESSAGE_BYTES)}
        if self.replication_factor >= 3:
            config["min.insync.replicas"] = "2"  # acks=all then survives one broker down
        names = [self.topic_name(t) for t in topics]
        async with self._topics_lock, asyncio.timeout(self.request_timeout):
            names = [n for n in names if n not in self._created]
            if not names:
                return
            count = partitions or self.partitions
            response = await self._admin.create_topics(
                [NewTopic(n, count, self.replication_factor, topic_configs=config) for n in names],
                timeout_ms=self._ms(self.request_timeout),
            )
            for item in response.topic_errors:
                name, code = item[0], item[1]
                error = for_code(code)
                if code != 0 and error is not TopicAlreadyExistsError:
                    message = item[2] if len(item) > 2 and item[2] else error.__name__
                    raise error(f"cannot create topic {name}: {message}")
            await self._wait_for_leaders(names, count)
            self._created.update(names)

    async def _wait_for_leaders(self, names: list[str], expected_partitions: int) -> None:
        """New topics answer requests once every partition has a leader."""
        assert self._admin is not None
        while True:
            described = await self._admin.describe_topics(names)
            ready = [
                t for t in described
                if t["error_code"] == 0 and t["partitions"] and all(p["leader"] >= 0 for p in t["partitions"])
            ]
            if {t["topic"] for t in ready} >= set(names):
                break
            await asyncio.sleep(0.05)
        for topic in ready:
            if len(topic["partitions"]) < expected_partitions:
                # An existing topic keeps its partitions; they bound each group's parallelism.
                logger.warning("kafka_topic_has_fewer_partitions", topic=topic["topic"],
                               partitions=len(topic["partitions"]), configured=expected_partitions)

    # -- publishing ---------------------------------------------------------------------

    async def publish(self, envelopes: Sequence[Envelope]) -> None:
        if not envelopes:
            return
        producer = self.producer
        async with asyncio.timeout(self.publish_timeout):
            await self.ensure_topics(e.topic for e in envelopes)
            deliveries = [
                await producer.send(
                    self.topic_name(e.topic), value=e.model_dump_json().encode(), key=e.aggregate_id.encode(),
                    headers=_headers(e),
                )
                for e in envelopes
            ]
            await asyncio.gather(*deliveries)

    # -- consuming ----------------------------------------------------------------------

    def consumer(self, group: str, topics: Sequence[str], *, member: str | None = None) -> KafkaConsumer:
        consumer = KafkaConsumer(self, group, list(topics), member or uuid.uuid4().hex[:8])
        self._consumers.add(consumer)
        return consumer

    def _forget(self, consumer: KafkaConsumer) -> None:
        self._consumers.discard(consumer)

    async def partition_end_offsets(self, topics: Sequence[str]) -> dict[tuple[str, int], int]:
        """Per (topic, partition), the offset the next appended record will have."""
        if self._reader is None:
            raise RuntimeError("event log not started")
        await self.ensure_topics(topics)
        partitions = []
        for topic in topics:
            name = self.topic_name(topic)
            partitions += [TopicPartition(name, p) for p in sorted(await self.producer.partitions_for(name))]
        ends = await self._reader.end_offsets(partitions)
        return {(self._short(tp.topic), tp.partition): offset for tp, offset in ends.items()}

    async def end_offsets(self, topics: Sequence[str]) -> dict[str, int]:
        """Per topic, the sum over its partitions of their end offsets: how many records the
        topic has received (with unlimited retention), a figure that grows by one per record."""
        result = dict.fromkeys(topics, 0)
        for (topic, _), offset in (await self.partition_end_offsets(topics)).items():
            result[topic] += offset
        return result

    def _short(self, name: str) -> str:
        return name[len(self.prefix):]

    # -- dead letters -------------------------------------------------------------------

    async def dead_letter(self, group: str, record: Record, error: str, attempts: int) -> None:
        await self._append_to_dead_letters({
            "kind": "dead_letter",
            "group": group,
            "topic": record.topic,
            "partition": record.partition,
            "offset": record.offset,
            "key": record.key,
            "envelope": record.envelope.model_dump(mode="json"),
            "error": error[:4000],
            "attempts": attempts,
            "created_at": time.time(),
        }, key=group)

    async def mark_dead_letter_replayed(self, dead_letter_id: int) -> None:
        await self._append_to_dead_letters(
            {"kind": "replayed", "id": dead_letter_id, "at": time.time()}, key=str(dead_letter_id)
        )

    async def _append_to_dead_letters(self, entry: dict, *, key: str) -> None:
        async with asyncio.timeout(self.publish_timeout):
            delivery = await self.producer.send(
                self.dead_letter_partition.topic, value=json.dumps(entry).encode(), key=key.encode(), partition=0
            )
            await delivery

    async def dead_letters(self, group: str | None = None, *, include_replayed: bool = False) -> list[DeadLetter]:
        await self._catch_up_dead_letters()
        return [
            letter for letter_id, letter in sorted(self._ledger.letters.items())
            if (group is None or letter.group == group)
            and (include_replayed or letter_id not in self._ledger.replayed)
        ]

    async def _catch_up_dead_letters(self) -> None:
        """Fold the dead-letter topic from where the previous listing stopped to its end."""
        reader = self._reader
        if reader is None:
            raise RuntimeError("event log not started")
        tp = self.dead_letter_partition
        async with self._ledger_lock, asyncio.timeout(self.request_timeout):
            if tp not in reader.assignment():
                reader.assign([tp])
            end = (await reader.end_offsets([tp]))[tp]
            while await reader.position(tp) < end:
                batch = await reader.getmany(tp, timeout_ms=200)
                for rec in batch.get(tp, []):
                    self._ledger.fold(rec.offset, rec.value)


class _DeadLetterLedger:
    def __init__(self) -> None:
        self.letters: dict[int, DeadLetter] = {}
        self.replayed: set[int] = set()

    def fold(self, offset: int, value: bytes | None) -> None:
        try:
            entry = json.loads(value or b"null")
            if entry["kind"] == "dead_letter":
                record = Record(entry["topic"], entry["partition"], entry["offset"], entry["key"],
                                Envelope.model_validate(entry["envelope"]))
                self.letters[offset] = DeadLetter(offset, entry["group"], record, entry["error"],
                                                  entry["attempts"], entry["created_at"])
            elif entry["kind"] == "replayed":
                self.replayed.add(int(entry["id"]))
        except (ValueError, KeyError, TypeError) as exc:
            logger.warning("dead_letter_entry_unreadable", offset=offset, error=repr(exc))


class KafkaConsumer:
    """One member of a consumer group. The aiokafka consumer starts (and joins its group) in
    the background on first use, so `poll` keeps to its timeout while the group forms."""

    def __init__(self, log: KafkaEventLog, group: str, topics: list[str], member: str) -> None:
        self.log = log
        self.group = group
        self.topics = topics
        self.member = member
        self._consumer: AIOKafkaConsumer | None = None
        self._starting: asyncio.Task | None = None
        # Per partition, the offset after the last record handed to the application and not
        # yet committed or given up; a revoked partition waits for these to settle.
        self._in_flight: dict[TopicPartition, int] = {}
        self._settled = asyncio.Event()
        self._settled.set()
        self._closing = asyncio.Event()
        # Undecodable records dead-lettered by `poll` itself, committed with what follows them.
        self._skipped: dict[TopicPartition, int] = {}

    # -- joining ------------------------------------------------------------------------

    async def _joined(self, timeout: float) -> AIOKafkaConsumer | None:
        """The started consumer, or None while it is still joining after `timeout` seconds.
        A failed start is cleaned up and raised (the next call tries again)."""
        if self._closing.is_set():
            raise RuntimeError(f"consumer {self.member} of {self.group} is closed")
        if self._consumer is None:
            await self.log.ensure_topics(self.topics)
            log = self.log
            consumer = AIOKafkaConsumer(
                bootstrap_servers=log.bootstrap_servers, group_id=log.group_name(self.group),
                client_id=f"{log.group_name(self.group)}-{self.member}",
                enable_auto_commit=False, auto_offset_reset="earliest",
                session_timeout_ms=log._ms(log.session_timeout), heartbeat_interval_ms=log._ms(log.heartbeat_interval),
                rebalance_timeout_ms=log._ms(log.rebalance_timeout),
                max_poll_interval_ms=log._ms(log.max_poll_interval),
                request_timeout_ms=log._ms(log.request_timeout), max_partition_fetch_bytes=MAX_MESSAGE_BYTES,
            )
            consumer.subscribe([log.topic_name(t) for t in self.topics], listener=_Handover(self))
            self._consumer = consumer
            self._starting = asyncio.create_task(consumer.start(), name=f"kafka-join-{self.group}-{self.member}")
        assert self._starting is not None
        if not self._starting.done():
            await asyncio.wait({self._starting}, timeout=max(timeout, 0))
            if not self._starting.done():
                return None
        if self._starting.exception() is not None:
            error = self._starting.exception()
            await self._stop_client()
            raise error
        return self._consumer

    async def _joined_or_fail(self) -> AIOKafkaConsumer:
        consumer = await self._joined(self.log.join_timeout)
        if consumer is None:
            raise TimeoutError(f"group {self.group} did not form within {self.log.join_timeout} s")
        return consumer

    def assignment(self) -> set[tuple[str, int]]:
        """The (topic, partition) pairs this member holds now."""
        if self._consumer is None or self._starting is None or not self._starting.done():
            return set()
        return {(self.log._short(tp.topic), tp.partition) for tp in self._consumer.assignment()}

    # -- consuming ----------------------------------------------------------------------

    async def poll(self, max_records: int = 100, timeout: float = 1.0) -> list[Record]:
        deadline = asyncio.get_running_loop().time() + timeout
        consumer = await self._joined(timeout)
        self._give_up_in_flight()  # polling again means the previous batch is done with
        remaining = deadline - asyncio.get_running_loop().time()
        if consumer is None or remaining <= 0:
            return []
        try:
            # getmany waits without limit while a rebalance is in progress; cancelling it is
            # safe (it only ever returns records, it never holds them across an await).
            async with asyncio.timeout(remaining + 0.05):
                batches = await consumer.getmany(timeout_ms=int(remaining * 1000), max_records=max_records)
        except TimeoutError:
            return []
        try:
            per_partition = [await self._decode_batch(tp, batch) for tp, batch in batches.items()]
        except BaseException:
            # Dead-lettering an undecodable record failed (or this poll was cancelled): put the
            # positions back, so nothing fetched here is skipped.
            for tp, batch in batches.items():
                self._skipped.pop(tp, None)
                if batch and tp in consumer.assignment():
                    consumer.seek(tp, batch[0].offset)
            raise
        for decoded in per_partition:
            if decoded:
                last = decoded[-1][1]
                self._in_flight[TopicPartition(self.log.topic_name(last.topic), last.partition)] = last.offset + 1
        if self._in_flight:
            self._settled.clear()
        # Oldest first across partitions; merging keeps each partition's own order.
        return [record for _, record in heapq.merge(*per_partition, key=lambda item: item[0])]

    async def _decode_batch(self, tp: TopicPartition, batch) -> list[tuple[int, Record]]:
        """(timestamp, record) pairs; records that are not envelopes become dead letters."""
        decoded = []
        for rec in batch:
            key = rec.key.decode("utf-8", "replace") if rec.key is not None else ""
            topic = self.log._short(tp.topic)
            try:
                envelope = Envelope.model_validate_json(rec.value or b"")
            except ValueError as exc:
                await self._dead_letter_undecodable(tp, rec, key, exc)
                continue
            decoded.append((rec.timestamp, Record(topic, tp.partition, rec.offset, key, envelope)))
        return decoded

    async def _dead_letter_undecodable(self, tp: TopicPartition, rec, key: str, exc: ValueError) -> None:
        """Not ours to crash on: record it as a dead letter and move past it."""
        topic = self.log._short(tp.topic)
        raw = (rec.value or b"").decode("utf-8", "replace")
        placeholder = Envelope(
            event_id=f"undecodable-{tp.topic}-{tp.partition}-{rec.offset}", type="Undecodable", version=0,
            topic=topic, aggregate_id=key, aggregate_version=0,
            occurred_at=datetime.fromtimestamp(rec.timestamp / 1000, UTC), producer="unknown",
            payload={"raw": raw[:10_000]},
        )
        await self.log.dead_letter(self.group, Record(topic, tp.partition, rec.offset, key, placeholder),
                                   f"undecodable record: {exc}"[:4000], 1)
        logger.warning("kafka_record_undecodable", group=self.group, topic=topic, partition=tp.partition,
                       offset=rec.offset)
        self._skipped[tp] = rec.offset + 1

    async def commit(self, records: Sequence[Record]) -> None:
        offsets: dict[TopicPartition, int] = {}
        for rec in records:
            tp = TopicPartition(self.log.topic_name(rec.topic), rec.partition)
            offsets[tp] = max(offsets.get(tp, 0), rec.offset + 1)
        for tp, skipped in list(self._skipped.items()):
            if offsets.get(tp, 0) >= self._in_flight.get(tp, 0):  # nothing handed out before it is pending
                offsets[tp] = max(offsets.get(tp, 0), skipped)
                del self._skipped[tp]
        if not offsets:
            return
        consumer = self._consumer
        held = consumer.assignment() if consumer is not None else set()
        mine = {tp: offset for tp, offset in offsets.items() if tp in held}
        try:
            if mine:
                await consumer.commit(mine)  # type: ignore[union-attr]
        finally:
            for tp, offset in offsets.items():
                if tp not in mine or self._in_flight.get(tp, offset) <= offset:
                    self._in_flight.pop(tp, None)
            if not self._in_flight:
                self._settled.set()
        if len(mine) < len(offsets):
            # The partition moved to another member before this commit: that member starts
            # at the last committed offset and handles these records again (idempotently).
            logger.info("kafka_commit_after_handover", group=self.group, member=self.member,
                        partitions=sorted(f"{tp.topic}:{tp.partition}" for tp in offsets.keys() - mine.keys()))

    def _give_up_in_flight(self) -> None:
        self._in_flight.clear()
        self._settled.set()

    async def _wait_settled(self, revoked: set[TopicPartition]) -> None:
        """Called by the rebalance: let the batch being handled be committed before the
        partitions go, within `handover_timeout` (and never past `max_poll_interval`, after
        which the group has given up on this member anyway)."""
        if not (revoked & self._in_flight.keys()):
            return
        limit = min(self.log.handover_timeout, self.log.max_poll_interval)
        closing = asyncio.ensure_future(self._closing.wait())
        settled = asyncio.ensure_future(self._settled.wait())
        try:
            await asyncio.wait({closing, settled}, timeout=limit, return_when=asyncio.FIRST_COMPLETED)
        finally:
            closing.cancel()
            settled.cancel()
        left = revoked & self._in_flight.keys()
        if left:
            logger.warning("kafka_handover_uncommitted", group=self.group, member=self.member,
                           partitions=sorted(f"{tp.topic}:{tp.partition}" for tp in left))
            for tp in left:
                self._in_flight.pop(tp, None)
            if not self._in_flight:
                self._settled.set()

    # -- positions ----------------------------------------------------------------------

    async def seek(self, topic: str, offset: int, partition: int = 0) -> None:
        consumer = await self._joined_or_fail()
        tp = TopicPartition(self.log.topic_name(topic), partition)
        if tp not in consumer.assignment():
            raise PartitionNotHeld(f"{topic}:{partition} is held by another member of group {self.group}")
        consumer.seek(tp, offset)
        self._in_flight.pop(tp, None)
        self._skipped.pop(tp, None)
        if not self._in_flight:
            self._settled.set()

    async def seek_to_beginning(self) -> None:
        consumer = await self._joined_or_fail()
        held = consumer.assignment()
        if held:
            await consumer.seek_to_beginning(*held)
        self._give_up_in_flight()
        self._skipped.clear()

    async def close(self) -> None:
        """Leave the group (its partitions go to the other members at once)."""
        self._closing.set()
        self.log._forget(self)
        await self._stop_client()

    async def _stop_client(self) -> None:
        consumer, starting = self._consumer, self._starting
        self._consumer = self._starting = None
        self._give_up_in_flight()
        if starting is not None and not starting.done():
            starting.cancel()
            await asyncio.gather(starting, return_exceptions=True)
        if consumer is not None:
            try:
                async with asyncio.timeout(self.log.request_timeout):
                    await consumer.stop()
            except Exception as exc:
                logger.debug("kafka_consumer_close_failed", group=self.group, error=repr(exc))


class _Handover(ConsumerRebalanceListener):
    def __init__(self, consumer: KafkaConsumer) -> None:
        self.consumer = consumer

    async def on_partitions_revoked(self, revoked) -> None:
        await self.consumer._wait_settled(set(revoked))

    async def on_partitions_assigned(self, assigned) -> None:
        logger.info("kafka_partitions_assigned", group=self.consumer.group, member=self.consumer.member,
                    partitions=sorted(f"{tp.topic}:{tp.partition}" for tp in assigned))


class PartitionNotHeld(RuntimeError):
    """A seek on a partition that another member of the group holds."""


def _headers(envelope: Envelope) -> list[tuple[str, bytes]]:
    headers = [("event_id", envelope.event_id.encode()), ("type", envelope.type.encode())]
    if envelope.correlation_id:
        headers.append(("correlation_id", envelope.correlation_id.encode()))
    return headers


async def _stop_producer(producer: AIOKafkaProducer, timeout: float) -> None:
    """Stop flushes what is pending, which never ends while the brokers are away (idempotent
    batches do not expire): bound it, then drop the rest (the outbox still holds those events)."""
    try:
        async with asyncio.timeout(timeout):
            await producer.stop()
        return
    except Exception as exc:
        logger.warning("kafka_producer_close_incomplete", error=repr(exc))
    # The public stop() was interrupted mid-flush: stop its sender and connections directly.
    try:
        await producer._sender.close()
        await producer.client.close()
    except Exception as exc:
        logger.debug("kafka_producer_close_failed", error=repr(exc))


def _reason(exc: BaseException, timeout: float) -> str:
    if isinstance(exc, TimeoutError):
        return f"no answer within {timeout:g} s"
    if isinstance(exc, KafkaConnectionError | OSError):
        return "no broker answered at the bootstrap servers (connection refused or unreachable)"
    text = str(exc) or type(exc).__name__
    return text[:300]
