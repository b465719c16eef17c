"""Runs one consumer group: poll, handle, commit after success; retry, then dead-letter.

Handlers must be idempotent (they dedupe by event id or aggregate version), because a
crash between handling and committing delivers the same records again.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Awaitable, Callable, Sequence

from backbone import faults
from backbone.eventlog.port import EventLog, Record
from backbone.events import Envelope
from backbone.logs import correlation_id, get_logger
from backbone.metrics import DEAD_LETTERS, EVENTS_CONSUMED

Handler = Callable[[Envelope], Awaitable[None]]


class ConsumerRunner:
    def __init__(
        self,
        log: EventLog,
        group: str,
        topics: Sequence[str],
        handler: Handler,
        *,
        max_attempts: int = 5,
        retry_base: float = 0.2,
        batch: int = 200,
        poll_timeout: float = 0.5,
    ) -> None:
        self.log = log
        self.group = group
        self.topics = list(topics)
        self.handler = handler
        self.max_attempts = max_attempts
        self.retry_base = retry_base
        self.batch = batch
        self.poll_timeout = poll_timeout
        self._stopping = False
        self._logger = get_logger("consumer").bind(group=group)
        self.handled = 0
        # Off unless SHORTSCIENCE_FAULT_* is set (backbone/faults.py, for tests/faults).
        self._errors = faults.handler_errors(group)
        self._journal = faults.journal()

    async def handle_record(self, record: Record) -> None:
        """Handle one record with retries; after the last failed attempt, dead-letter it."""
        token = correlation_id.set(record.envelope.correlation_id)
        try:
            for attempt in range(1, self.max_attempts + 1):
                try:
                    if self._errors is not None:
                        self._errors.maybe_fail(record.envelope)
                    await self.handler(record.envelope)
                    EVENTS_CONSUMED.labels(self.group, record.envelope.type, "ok").inc()
                    self.handled += 1
                    if self._journal is not None:
                        env = record.envelope
                        self._journal.write("handled", group=self.group, event_id=env.event_id,
                                            aggregate_id=env.aggregate_id, version=env.aggregate_version,
                                            attempt=attempt)
                    return
                except asyncio.CancelledError:
                    raise
                except Exception as exc:
                    EVENTS_CONSUMED.labels(self.group, record.envelope.type, "error").inc()
                    self._logger.warning(
                        "event_handler_failed",
                        event_id=record.envelope.event_id,
                        type=record.envelope.type,
                        attempt=attempt,
                        error=repr(exc),
                    )
                    if attempt == self.max_attempts:
                        await self.log.dead_letter(self.group, record, repr(exc), attempt)
                        DEAD_LETTERS.labels(self.group).inc()
                        return
                    delay = self.retry_base * 2 ** (attempt - 1)
                    await asyncio.sleep(delay * (0.5 + random.random()))
        finally:
            correlation_id.reset(token)

    async def run(self) -> None:
        consumer = self.log.consumer(self.group, self.topics)
        try:
            while not self._stopping:
                try:
                    records = await consumer.poll(self.batch, self.poll_timeout)
                    for record in records:
                        await self.handle_record(record)
                        # Handlers on the embedded engines do their I/O synchronously: yield
                        # between records so a long backlog never starves the HTTP requests
                        # served by the same event loop.
                        await asyncio.sleep(0)
                    await consumer.commit(records)
                except asyncio.CancelledError:
                    raise
                except Exception as exc:  # engine trouble: nothing committed, so it redelivers
                    self._logger.warning("consumer_poll_failed", error=repr(exc))
                    await asyncio.sleep(1.0)
        finally:
            try:
                await consumer.close()
            except Exception:
                pass

    def stop(self) -> None:
        self._stopping = True

    async def replay_dead_letters(self) -> tuple[int, int]:
        """Run each dead letter of this group through the handler again: (replayed, still failing)."""
        replayed = failed = 0
        for dl in await self.log.dead_letters(self.group):
            try:
                await self.handler(dl.record.envelope)
            except Exception as exc:
                failed += 1
                self._logger.warning("dead_letter_replay_failed", id=dl.id, error=repr(exc))
                continue
            await self.log.mark_dead_letter_replayed(dl.id)
            replayed += 1
        return replayed, failed
