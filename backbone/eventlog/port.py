"""The event-log port: an ordered, durable log of envelopes with consumer groups.

Shaped after Kafka so both adapters fit: topics, keys (aggregate ids, so events of one
aggregate stay in order), consumer groups with committed offsets, at-least-once delivery
(a record is delivered again until its group commits past it), replay from any offset.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from backbone.events import Envelope


@dataclass(frozen=True, slots=True)
class Record:
    topic: str
    partition: int
    offset: int
    key: str
    envelope: Envelope


@dataclass(frozen=True, slots=True)
class DeadLetter:
    id: int
    group: str
    record: Record
    error: str
    attempts: int
    created_at: float


class Consumer(Protocol):
    group: str

    async def poll(self, max_records: int = 100, timeout: float = 1.0) -> list[Record]:
        """Records after the group's position, oldest first; [] after `timeout` seconds."""

    async def commit(self, records: Sequence[Record]) -> None:
        """Commit the group's position past these records (per topic and partition)."""

    async def seek(self, topic: str, offset: int, partition: int = 0) -> None:
        """Move this consumer's position so the next poll starts at `offset`. Only `commit`
        makes a position the group's for sure: Kafka moves this member alone, in memory (the
        SQLite adapter happens to commit as well)."""

    async def seek_to_beginning(self) -> None: ...

    async def close(self) -> None: ...


class EventLog(Protocol):
    async def start(self) -> None: ...

    async def close(self) -> None: ...

    async def ping(self) -> bool:
        """True when the engine answers (used by /readyz)."""

    async def publish(self, envelopes: Sequence[Envelope]) -> None:
        """Append durably, each to its envelope's topic keyed by its aggregate id.
        Publishing an event id that is already in the log is a no-op where the engine
        allows it; consumers deduplicate by event id in any case."""

    def consumer(self, group: str, topics: Sequence[str], *, member: str | None = None) -> Consumer: ...

    async def end_offsets(self, topics: Sequence[str]) -> dict[str, int]:
        """Per topic, the offset the next appended record will have at the most (for progress)."""

    async def partition_end_offsets(self, topics: Sequence[str]) -> dict[tuple[str, int], int]:
        """Per (topic, partition), the offset after its last record (0 when it has none): a
        consumer has read everything appended so far once it has read up to these."""

    async def dead_letter(self, group: str, record: Record, error: str, attempts: int) -> None: ...

    async def dead_letters(self, group: str | None = None, *, include_replayed: bool = False) -> list[DeadLetter]: ...

    async def mark_dead_letter_replayed(self, dead_letter_id: int) -> None: ...
