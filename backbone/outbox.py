"""The outbox: a write and its events commit in one transaction; a relay moves them on.

A service appends envelopes to its outbox inside the transaction that changes its data
(`SqliteOutbox.add`), so an event exists if and only if its write does. The relay then
publishes pending events to the log and only afterwards removes them from the outbox; a
crash in between publishes them again, which the log (unique event ids) and consumers
(processed-event ids, aggregate versions) absorb.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Sequence
from typing import Protocol

from backbone import faults
from backbone.eventlog.port import EventLog
from backbone.events import Envelope
from backbone.logs import get_logger
from backbone.metrics import EVENTS_PUBLISHED, OUTBOX_PENDING


class OutboxReader(Protocol):
    async def pending(self, limit: int) -> list[tuple[object, Envelope]]: ...

    async def remove(self, markers: Sequence[object]) -> None: ...


class SqliteOutbox:
    """Outbox table inside a service's own SQLite database."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn

    @staticmethod
    def add(conn: sqlite3.Connection, envelopes: Sequence[Envelope]) -> None:
        """Call inside the write's transaction."""
        conn.executemany(
            "INSERT INTO outbox(event_id, envelope) VALUES (?, ?)",
            [(e.event_id, e.model_dump_json().encode()) for e in envelopes],
        )

    async def pending(self, limit: int) -> list[tuple[object, Envelope]]:
        rows = self.conn.execute("SELECT seq, envelope FROM outbox ORDER BY seq LIMIT ?", (limit,)).fetchall()
        return [(r[0], Envelope.model_validate_json(r[1])) for r in rows]

    async def remove(self, markers: Sequence[object]) -> None:
        self.conn.execute("BEGIN IMMEDIATE")
        try:
            self.conn.executemany("DELETE FROM outbox WHERE seq=?", [(m,) for m in markers])
        except BaseException:
            self.conn.execute("ROLLBACK")
            raise
        self.conn.execute("COMMIT")

    def count(self) -> int:
        return self.conn.execute("SELECT COUNT(*) FROM outbox").fetchone()[0]


class OutboxRelay:
    def __init__(
        self, service: str, outbox: OutboxReader, log: EventLog, *, poll_interval: float = 0.25, batch: int = 500
    ) -> None:
        self.service = service
        self.outbox = outbox
        self.log = log
        self.poll_interval = poll_interval
        self.batch = batch
        self._wake = asyncio.Event()
        self._stopping = False
        self._logger = get_logger("outbox")
        # Off unless SHORTSCIENCE_FAULT_* is set (backbone/faults.py, for tests/faults).
        self._crash = faults.relay_crash(service)
        self._journal = faults.journal()

    def wake(self) -> None:
        """Called after a commit so events leave at once instead of at the next tick."""
        self._wake.set()

    async def drain(self) -> int:
        """Publish everything pending now; returns how many events moved."""
        moved = 0
        while True:
            pending = await self.outbox.pending(self.batch)
            if not pending:
                return moved
            if self._crash is not None:
                self._crash.at("before_publish")
            await self.log.publish([env for _, env in pending])
            if self._journal is not None:
                for _, env in pending:
                    self._journal.write("published", service=self.service, event_id=env.event_id)
            if self._crash is not None:
                self._crash.at("after_publish")
            await self.outbox.remove([marker for marker, _ in pending])
            moved += len(pending)
            EVENTS_PUBLISHED.labels(self.service).inc(len(pending))

    async def run(self) -> None:
        backoff = self.poll_interval
        while not self._stopping:
            try:
                await asyncio.wait_for(self._wake.wait(), self.poll_interval)
            except TimeoutError:
                pass
            self._wake.clear()
            try:
                await self.drain()
                backoff = self.poll_interval
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # the log is down: keep the events, try again later
                self._logger.warning("outbox_relay_failed", service=self.service, error=str(exc))
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, 5.0)

    def stop(self) -> None:
        self._stopping = True
        self._wake.set()
