"""What the summaries use cases need from storage. Each write method changes one summary
aggregate (with its votes or comments) and queues its events in one atomic step, which a
document store can do in a single-document update and SQLite in one transaction."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from backbone.events import Event, PaperSnapshot
from services.summaries.domain.citations import CitedPaper
from services.summaries.domain.model import Comment, Summary


class DuplicateSummary(Exception):
    def __init__(self, existing_id: str) -> None:
        super().__init__(existing_id)
        self.existing_id = existing_id


class StaleWrite(Exception):
    """The summary changed since it was read; the use case reloads and tries again."""


class SummariesStore(Protocol):
    async def start(self) -> None: ...
    async def close(self) -> None: ...
    async def ping(self) -> bool: ...
    def outbox(self): ...

    async def get(self, summary_id: str) -> Summary | None: ...
    async def add(self, summary: Summary, events: Sequence[Event]) -> None: ...
    async def save(
        self, summary: Summary, expected_version: int, events: Sequence[Event], *, new_revision: bool = False
    ) -> None: ...
    async def save_vote(
        self, summary: Summary, expected_version: int, user_id: str, value: int, events: Sequence[Event]
    ) -> None: ...
    async def add_comment(
        self, summary: Summary, expected_version: int, comment: Comment, events: Sequence[Event]
    ) -> None: ...
    async def save_comment(
        self, summary: Summary, expected_version: int, comment: Comment, events: Sequence[Event]
    ) -> None: ...

    async def vote_of(self, summary_id: str, user_id: str) -> int: ...
    async def votes_of(self, summary_ids: Sequence[str], user_id: str) -> dict[str, int]: ...
    async def revisions(self, summary_id: str) -> list[tuple[int, str, str]]: ...
    async def get_comment(self, comment_id: str) -> Comment | None: ...
    async def comments(self, summary_id: str) -> list[Comment]: ...

    async def list(
        self,
        *,
        paper_id: str | None,
        venue_key: str | None,
        year: int | None,
        sort: str,
        viewer_id: str | None,
        offset: int,
        limit: int,
    ) -> tuple[list[Summary], int]:
        """Public summaries, plus the viewer's own private ones when listing a paper."""

    async def after(self, summary_id: str | None, limit: int) -> list[Summary]:
        """Every summary (deleted and private too) in id order, after `summary_id`."""

    async def counts_by_venue(self) -> dict[str, int]: ...
    async def counts_by_year(self, venue_key: str) -> dict[int | None, int]: ...

    async def apply_paper(self, event_id: str, paper: PaperSnapshot) -> bool:
        """Refresh the copy of a paper in its summaries, and the known paper (id, title,
        identifier keys) citations may name, where newer; False if already applied."""

    async def known_papers(self, keys: Sequence[str]) -> dict[str, CitedPaper]:
        """The known papers that citation keys (`kind:value`) name; unknown keys are absent."""

    async def citing(self, paper_id: str, *, offset: int, limit: int) -> tuple[list[Summary], int]:
        """Public summaries citing the paper by any key it is known by, newest first."""
