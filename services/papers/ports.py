"""What the papers use cases need from storage. One implementation per engine."""

from __future__ import annotations

from typing import Protocol

from backbone.events import Event
from services.papers.domain.model import Paper


class PapersStore(Protocol):
    async def start(self) -> None: ...
    async def close(self) -> None: ...
    async def ping(self) -> bool: ...

    async def get(self, paper_id: str) -> Paper | None: ...

    async def find_by_identifier(self, kind: str, value: str) -> Paper | None: ...

    async def add(self, paper: Paper, event: Event, *, source: tuple[str, str] | None = None) -> None:
        """Insert the paper, claim its identifiers, remember the (source, key) it was imported
        from, and queue its event, atomically. Raises `IdentifierTaken` when an identifier
        already belongs to another paper."""

    async def save(self, paper: Paper, expected_version: int, event: Event | None, *,
                   source: tuple[str, str] | None = None) -> None:
        """Replace the paper if it is still at `expected_version`, re-claim identifiers,
        queue the event, atomically (event None: only remember `source`). Raises
        `IdentifierTaken` or `StaleWrite`."""

    async def find_by_source(self, source: str, key: str) -> Paper | None: ...

    async def find_by_title(self, key: str, year: int | None) -> Paper | None:
        """A paper whose normalised title (see domain.imports.title_key) and year are these."""

    async def after(self, paper_id: str | None, limit: int) -> list[Paper]:
        """Every paper in id order after `paper_id`."""

    def batch(self):
        """A context manager grouping writes into one commit."""

    async def list(self, *, venue_key: str | None, year: int | None, offset: int, limit: int) -> tuple[list[Paper], int]: ...

    async def venues(self) -> list[tuple[str, str, int]]:
        """(key, display name, papers) for every venue."""

    async def venue_years(self, venue_key: str) -> list[tuple[int | None, int]]: ...

    def outbox(self): ...


class IdentifierTaken(Exception):
    def __init__(self, kind: str, value: str, paper_id: str) -> None:
        super().__init__(f"{kind} {value} belongs to paper {paper_id}")
        self.kind, self.value, self.paper_id = kind, value, paper_id


class StaleWrite(Exception):
    """Somebody else changed the aggregate since it was read."""
