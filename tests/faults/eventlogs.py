"""The event log as the fault suite sees it: how many records and distinct events it holds,
how far a consumer group's committed position is behind its end, and an outage of it.

Embedded: the log is one SQLite file shared by every process; its outage is another
process holding its write lock longer than the services' busy timeout (10 s), so appends,
offset commits and lease renewals fail and are retried. Distributed: a throwaway Kafka
broker of the test's own is stopped and started again on the same data."""

from __future__ import annotations

import asyncio
import sqlite3
import time
import uuid
from pathlib import Path

from backbone.events import IDENTITY, PAPERS, SOCIAL, SUMMARIES

TOPICS = (PAPERS, SUMMARIES, IDENTITY, SOCIAL)
GROUP_TOPICS = {"search": (PAPERS, SUMMARIES), "social": (SUMMARIES,), "summaries": (PAPERS,)}


class EmbeddedLog:
    kind = "sqlite"

    def __init__(self, path: Path, *, outage_seconds: float = 12.0) -> None:
        self.path = path
        self.outage_seconds = outage_seconds

    def _query(self, sql: str, *args):
        conn = sqlite3.connect(self.path, timeout=30)
        try:
            return conn.execute(sql, args).fetchall()
        finally:
            conn.close()

    async def counts(self) -> tuple[int, int]:
        [(records, distinct)] = self._query("SELECT COUNT(*), COUNT(DISTINCT event_id) FROM log")
        return records, distinct

    async def lag(self, group: str) -> int:
        behind = 0
        for topic in GROUP_TOPICS[group]:
            [(last,)] = self._query("SELECT MAX(offset) FROM log WHERE topic=?", topic)
            rows = self._query("SELECT committed FROM group_offsets WHERE grp=? AND topic=?", group, topic)
            committed = rows[0][0] if rows else 0
            behind += (last or 0) + 1 - committed if last is not None else 0
        return behind

    def _hold(self) -> None:
        conn = sqlite3.connect(self.path, timeout=30, isolation_level=None)
        try:
            conn.execute("BEGIN EXCLUSIVE")
            time.sleep(self.outage_seconds)
            conn.execute("ROLLBACK")
        finally:
            conn.close()

    async def outage(self) -> None:
        await asyncio.to_thread(self._hold)

    async def close(self) -> None:
        pass


class KafkaLog:
    kind = "kafka"

    def __init__(self, broker, prefix: str, partitions: int, *, outage_seconds: float = 3.0) -> None:
        from backbone.eventlog.kafka import KafkaEventLog

        self.broker = broker
        self.prefix = prefix
        self.outage_seconds = outage_seconds
        self.log = KafkaEventLog(broker.bootstrap_servers, prefix=prefix, partitions=partitions)

    async def start(self) -> None:
        await self.log.start()

    async def counts(self) -> tuple[int, int]:
        end = await self.log.partition_end_offsets(TOPICS)
        consumer = self.log.consumer(f"faultcount-{uuid.uuid4().hex[:8]}", TOPICS)
        ids: list[str] = []
        try:
            await consumer.seek_to_beginning()
            position = dict.fromkeys(end, 0)
            deadline = time.monotonic() + 60
            while any(position[p] < end[p] for p in end):
                if time.monotonic() > deadline:
                    raise AssertionError("could not read the Kafka log to its end")
                for record in await consumer.poll(1000, 0.5):
                    tp = (record.topic, record.partition)
                    if record.offset < end.get(tp, 0):
                        ids.append(record.envelope.event_id)
                    position[tp] = max(position.get(tp, 0), record.offset + 1)
        finally:
            await consumer.close()
        return len(ids), len(set(ids))

    async def lag(self, group: str) -> int:
        from aiokafka.admin import AIOKafkaAdminClient

        end = await self.log.partition_end_offsets(GROUP_TOPICS[group])
        admin = AIOKafkaAdminClient(bootstrap_servers=self.broker.bootstrap_servers)
        await admin.start()
        try:
            committed = await admin.list_consumer_group_offsets(self.log.group_name(group))
        finally:
            await admin.close()
        have = {(tp.topic[len(self.prefix):], tp.partition): meta.offset for tp, meta in committed.items()}
        return sum(max(offset - max(have.get(tp, 0), 0), 0) for tp, offset in end.items())

    async def outage(self) -> None:
        await asyncio.to_thread(self.broker.stop)
        await asyncio.sleep(self.outage_seconds)
        await asyncio.to_thread(self.broker.start)

    async def close(self) -> None:
        await self.log.close()
