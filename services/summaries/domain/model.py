"""The summary aggregate: a summary with its votes and comments, one version sequence.

Every change (publish, revise, vote, comment, hide, delete) bumps the summary's version
and is keyed by the summary id, so consumers see one ordered stream per summary and can
ignore anything older than what they hold.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, datetime

from backbone.events import PaperSnapshot, SummaryState
from services.summaries.domain.outline import TocEntry
from services.summaries.domain.references import Resolution


def now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class Summary:
    id: str
    paper: PaperSnapshot
    author_id: str
    author_username: str
    body: str
    body_html: str
    renderer_version: str
    visibility: str
    anonymous: bool
    hidden: bool = False
    deleted: bool = False
    score: int = 0
    revision: int = 1
    comment_count: int = 0
    created_at: datetime = None  # type: ignore[assignment]
    updated_at: datetime = None  # type: ignore[assignment]
    version: int = 1
    # What rendering the body found, stored with its HTML so a read never renders again:
    # the outline (words None: stored before outlines were, render on read), the cited
    # keys (`kind:value`, in order) and which of them named a known paper at the time.
    toc: tuple[TocEntry, ...] = ()
    words: int | None = None
    reading_minutes: int = 0
    citations: tuple[str, ...] = ()
    cited: Resolution = ()

    @property
    def is_public(self) -> bool:
        return self.visibility == "public" and not self.hidden and not self.deleted

    def state(self) -> SummaryState:
        """The state as events carry it: without the author when anonymous."""
        return SummaryState(
            summary_id=self.id,
            paper=self.paper,
            author_id=None if self.anonymous else self.author_id,
            author_username=None if self.anonymous else self.author_username,
            body=self.body,
            visibility=self.visibility,  # type: ignore[arg-type]
            anonymous=self.anonymous,
            hidden=self.hidden,
            deleted=self.deleted,
            score=self.score,
            revision=self.revision,
            created_at=self.created_at,
            updated_at=self.updated_at,
            citations=list(self.citations),
        )

    def next(self, **changes) -> "Summary":
        return replace(self, **changes, version=self.version + 1)


@dataclass(frozen=True)
class Comment:
    id: str
    summary_id: str
    author_id: str
    author_username: str
    body: str
    body_html: str
    hidden: bool
    created_at: datetime
