"""The embedded event log: one SQLite file, append-only, with consumer groups.

- One table `log` with a global autoincrement offset; a topic's records are read in
  offset order, so events of one key stay in order (one partition per topic, like a
  Kafka topic with a single partition).
- `event_id` is unique: the outbox relay may publish the same event twice after a crash,
  and the second append is ignored.
- A consumer group has one active member at a time, held by a lease that the member
  renews while it polls; a member that dies stops renewing and another takes over from
  the last committed offset. Commits are fenced by the lease, so a member that lost its
  lease cannot move the group's position.
- Appends in this process wake waiting consumers at once; other processes see new
  records at the next poll tick.
"""

from __future__ import annotations

import asyncio
import os
import time
import uuid
from collections.abc import Sequence
from pathlib import Path

from backbone.eventlog.port import DeadLetter, Record
from backbone.events import Envelope
from backbone.sqlite import connect, migrate, transaction

MIGRATIONS = [
    """
    CREATE TABLE log (
        offset INTEGER PRIMARY KEY AUTOINCREMENT,
        topic TEXT NOT NULL,
        key TEXT NOT NULL,
        event_id TEXT NOT NULL UNIQUE,
        envelope BLOB NOT NULL,
        appended_at REAL NOT NULL
    );
    CREATE INDEX log_topic_offset ON log(topic, offset);
    CREATE TABLE group_offsets (
        grp TEXT NOT NULL,
        topic TEXT NOT NULL,
        committed INTEGER NOT NULL,
        PRIMARY KEY (grp, topic)
    );
    CREATE TABLE group_leases (
        grp TEXT PRIMARY KEY,
        member TEXT NOT NULL,
        expires_at REAL NOT NULL
    );
    CREATE TABLE dead_letters (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        grp TEXT NOT NULL,
        topic TEXT NOT NULL,
        offset INTEGER NOT NULL,
        key TEXT NOT NULL,
        envelope BLOB NOT NULL,
        error TEXT NOT NULL,
        attempts INTEGER NOT NULL,
        created_at REAL NOT NULL,
        replayed_at REAL
    )
    """
]


class SqliteEventLog:
    def __init__(self, path: Path | str, *, poll_interval: float = 0.05, lease_seconds: float = 10.0) -> None:
        self.path = Path(path)
        self.poll_interval = poll_interval
        self.lease_seconds = lease_seconds
        self._conn = None
        # Set and replaced on every append in this process: waiters hold the event that
        # was current when they started waiting (no lock, so cancellation is clean).
        self._appended: asyncio.Event | None = None

    async def start(self) -> None:
        if self._conn is None:
            self._conn = connect(self.path, synchronous="FULL")
            migrate(self._conn, MIGRATIONS)
            self._appended = asyncio.Event()

    async def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    @property
    def conn(self):
        if self._conn is None:
            raise RuntimeError("event log not started")
        return self._conn

    async def ping(self) -> bool:
        try:
            self.conn.execute("SELECT 1").fetchone()
            return True
        except Exception:
            return False

    async def publish(self, envelopes: Sequence[Envelope]) -> None:
        if not envelopes:
            return
        now = time.time()
        rows = [
            (e.topic, e.aggregate_id, e.event_id, e.model_dump_json().encode(), now) for e in envelopes
        ]
        with transaction(self.conn):
            self.conn.executemany(
                "INSERT OR IGNORE INTO log(topic, key, event_id, envelope, appended_at) VALUES (?,?,?,?,?)",
                rows,
            )
        await self._notify()

    async def _notify(self) -> None:
        assert self._appended is not None
        self._appended.set()
        self._appended = asyncio.Event()

    async def wait_for_append(self, timeout: float) -> None:
        """Sleep until this process appends or `timeout` passes (cross-process: polling)."""
        assert self._appended is not None
        try:
            await asyncio.wait_for(self._appended.wait(), timeout)
        except TimeoutError:
            pass

    def consumer(self, group: str, topics: Sequence[str], *, member: str | None = None) -> "SqliteConsumer":
        return SqliteConsumer(self, group, list(topics), member or f"{os.getpid()}-{uuid.uuid4().hex[:8]}")

    async def end_offsets(self, topics: Sequence[str]) -> dict[str, int]:
        result = {}
        for topic in topics:
            row = self.conn.execute("SELECT MAX(offset) FROM log WHERE topic=?", (topic,)).fetchone()
            result[topic] = (row[0] or 0) + 1
        return result

    async def partition_end_offsets(self, topics: Sequence[str]) -> dict[tuple[str, int], int]:
        result = {}
        for topic in topics:
            row = self.conn.execute("SELECT MAX(offset) FROM log WHERE topic=?", (topic,)).fetchone()
            result[(topic, 0)] = 0 if row[0] is None else row[0] + 1
        return result

    async def dead_letter(self, group: str, record: Record, error: str, attempts: int) -> None:
        with transaction(self.conn):
            self.conn.execute(
                "INSERT INTO dead_letters(grp, topic, offset, key, envelope, error, attempts, created_at)"
                " VALUES (?,?,?,?,?,?,?,?)",
                (
                    group,
                    record.topic,
                    record.offset,
                    record.key,
                    record.envelope.model_dump_json().encode(),
                    error[:4000],
                    attempts,
                    time.time(),
                ),
            )

    async def dead_letters(self, group: str | None = None, *, include_replayed: bool = False) -> list[DeadLetter]:
        sql = "SELECT * FROM dead_letters WHERE 1=1"
        args: list = []
        if group is not None:
            sql += " AND grp=?"
            args.append(group)
        if not include_replayed:
            sql += " AND replayed_at IS NULL"
        rows = self.conn.execute(sql + " ORDER BY id", args).fetchall()
        return [
            DeadLetter(
                id=r["id"],
                group=r["grp"],
                record=Record(r["topic"], 0, r["offset"], r["key"], Envelope.model_validate_json(r["envelope"])),
                error=r["error"],
                attempts=r["attempts"],
                created_at=r["created_at"],
            )
            for r in rows
        ]

    async def mark_dead_letter_replayed(self, dead_letter_id: int) -> None:
        with transaction(self.conn):
            self.conn.execute("UPDATE dead_letters SET replayed_at=? WHERE id=?", (time.time(), dead_letter_id))


class SqliteConsumer:
    def __init__(self, log: SqliteEventLog, group: str, topics: list[str], member: str) -> None:
        self.log = log
        self.group = group
        self.topics = topics
        self.member = member
        self._positions: dict[str, int] | None = None  # next offset to read, per topic
        self._lease_until = 0.0  # while well inside the lease, polls skip renewing it

    # -- lease ------------------------------------------------------------------------

    def _hold_lease(self) -> bool:
        """Take or renew the group's lease; on taking it, start from committed offsets.
        Renewal is a durable write, so it happens only once half the lease has passed."""
        now = time.time()
        if self._positions is not None and now < self._lease_until - self.log.lease_seconds / 2:
            return True
        conn = self.log.conn
        with transaction(conn):
            conn.execute(
                "INSERT INTO group_leases(grp, member, expires_at) VALUES (?,?,?)"
                " ON CONFLICT(grp) DO UPDATE SET member=excluded.member, expires_at=excluded.expires_at"
                " WHERE group_leases.member=excluded.member OR group_leases.expires_at < ?",
                (self.group, self.member, now + self.log.lease_seconds, now),
            )
            owner = conn.execute("SELECT member FROM group_leases WHERE grp=?", (self.group,)).fetchone()[0]
        if owner != self.member:
            self._positions = None
            self._lease_until = 0.0
            return False
        self._lease_until = now + self.log.lease_seconds
        if self._positions is None:
            self._positions = self._committed()
        return True

    def _committed(self) -> dict[str, int]:
        rows = self.log.conn.execute(
            "SELECT topic, committed FROM group_offsets WHERE grp=?", (self.group,)
        ).fetchall()
        committed = {r["topic"]: r["committed"] for r in rows}
        return {t: committed.get(t, 0) for t in self.topics}

    # -- consuming --------------------------------------------------------------------

    def _fetch(self, max_records: int) -> list[Record]:
        assert self._positions is not None
        clauses = " OR ".join("(topic=? AND offset>=?)" for _ in self.topics)
        args: list = []
        for topic in self.topics:
            args += [topic, self._positions[topic]]
        rows = self.log.conn.execute(
            f"SELECT offset, topic, key, envelope FROM log WHERE {clauses} ORDER BY offset LIMIT ?",
            (*args, max_records),
        ).fetchall()
        records = [
            Record(r["topic"], 0, r["offset"], r["key"], Envelope.model_validate_json(r["envelope"])) for r in rows
        ]
        for rec in records:
            self._positions[rec.topic] = rec.offset + 1
        return records

    async def poll(self, max_records: int = 100, timeout: float = 1.0) -> list[Record]:
        deadline = time.monotonic() + timeout
        while True:
            if self._hold_lease():
                records = self._fetch(max_records)
                if records:
                    return records
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return []
            await self.log.wait_for_append(min(remaining, self.log.poll_interval))

    async def commit(self, records: Sequence[Record]) -> None:
        if not records:
            return
        last: dict[str, int] = {}
        for rec in records:
            last[rec.topic] = max(last.get(rec.topic, -1), rec.offset + 1)
        conn = self.log.conn
        with transaction(conn):
            owner = conn.execute("SELECT member FROM group_leases WHERE grp=?", (self.group,)).fetchone()
            if owner is None or owner[0] != self.member:
                raise LeaseLost(f"consumer {self.member} no longer holds group {self.group}")
            conn.executemany(
                "INSERT INTO group_offsets(grp, topic, committed) VALUES (?,?,?)"
                " ON CONFLICT(grp, topic) DO UPDATE SET committed=MAX(committed, excluded.committed)",
                [(self.group, topic, offset) for topic, offset in last.items()],
            )

    async def seek(self, topic: str, offset: int, partition: int = 0) -> None:
        if self._positions is None and not self._hold_lease():
            raise LeaseLost(f"group {self.group} is held by another member")
        assert self._positions is not None
        self._positions[topic] = offset
        with transaction(self.log.conn):
            self.log.conn.execute(
                "INSERT INTO group_offsets(grp, topic, committed) VALUES (?,?,?)"
                " ON CONFLICT(grp, topic) DO UPDATE SET committed=excluded.committed",
                (self.group, topic, offset),
            )

    async def seek_to_beginning(self) -> None:
        for topic in self.topics:
            await self.seek(topic, 0)

    async def close(self) -> None:
        """Give the lease up so another member can take over at once."""
        if self.log._conn is None:
            return
        with transaction(self.log.conn):
            self.log.conn.execute(
                "DELETE FROM group_leases WHERE grp=? AND member=?", (self.group, self.member)
            )
        self._positions = None
        self._lease_until = 0.0


class LeaseLost(RuntimeError):
    """This member no longer holds its group's lease; its uncommitted work is redelivered."""
