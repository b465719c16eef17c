from __future__ import annotations

from datetime import datetime
from typing import Literal, Protocol

from pydantic import BaseModel, Field, StrictInt, field_validator

from backbone.contracts.common import Paginated, Strict
from backbone.events import PaperSnapshot, SummaryState
from backbone.identity import Identity

MAX_SUMMARY_CHARS = 100_000
MAX_COMMENT_CHARS = 10_000

Visibility = Literal["public", "private"]
SummarySort = Literal["newest", "score"]


class SummaryCreate(Strict):
    body: str = Field(min_length=1, max_length=MAX_SUMMARY_CHARS)
    visibility: Visibility = "public"
    anonymous: bool = False


class SummaryUpdate(Strict):
    body: str | None = Field(default=None, min_length=1, max_length=MAX_SUMMARY_CHARS)
    visibility: Visibility | None = None
    anonymous: bool | None = None


class VoteIn(Strict):
    value: StrictInt  # strict: `true` is not a vote

    @field_validator("value")
    @classmethod
    def _one_of(cls, value: int) -> int:
        if value not in (-1, 0, 1):
            raise ValueError("a vote is -1, 0 or 1")
        return value


class CommentCreate(Strict):
    body: str = Field(min_length=1, max_length=MAX_COMMENT_CHARS)


class PreviewIn(Strict):
    body: str = Field(max_length=MAX_SUMMARY_CHARS)


class RenderedPreview(BaseModel):
    """A body rendered as a published summary would be (sanitised HTML), stored nowhere."""

    html: str


class AuthorRead(BaseModel):
    id: str
    username: str


class PaperBrief(BaseModel):
    id: str
    title: str
    authors: list[str]
    venue: str | None
    venue_key: str | None
    year: int | None


class TocEntryRead(BaseModel):
    level: int
    id: str  # the heading's anchor in body_html
    text: str


class CitationRead(BaseModel):
    key: str  # normalised, `kind:value`: arxiv:1512.03385, doi:10.1109/..., dblp:conf/..., paper:<id>
    paper_id: str | None  # the cited paper here, when it is known
    title: str | None


class SummaryRead(BaseModel):
    id: str
    paper_id: str
    paper: PaperBrief
    body: str
    body_html: str
    score: int
    author: AuthorRead | None
    anonymous: bool
    visibility: Visibility
    hidden: bool
    created_at: datetime
    updated_at: datetime
    revision: int
    comments: int
    my_vote: int | None = None
    # From the renderer: a table of contents for long summaries, and the reading length.
    toc: list[TocEntryRead] = Field(default_factory=list)
    words: int = 0
    reading_minutes: int = 0
    citations: list[CitationRead] = Field(default_factory=list)  # each cited paper once, in order


class SummaryPage(Paginated[SummaryRead]):
    pass


class RevisionRead(BaseModel):
    revision: int
    body: str
    created_at: datetime


class VoteResult(BaseModel):
    score: int
    my_vote: int


class CommentRead(BaseModel):
    id: str
    summary_id: str
    author: AuthorRead
    body: str
    body_html: str
    hidden: bool
    created_at: datetime


class VersionedState(BaseModel):
    """A summary as its events describe it, with its version: what derived stores hold."""

    state: SummaryState
    version: int


class StatesPage(BaseModel):
    items: list[VersionedState]
    next_after: str | None


class SummariesAPI(Protocol):
    async def publish(self, paper: PaperSnapshot, data: SummaryCreate, actor: Identity) -> SummaryRead: ...
    async def get(self, summary_id: str, viewer: Identity | None) -> SummaryRead: ...
    async def revise(self, summary_id: str, data: SummaryUpdate, actor: Identity) -> SummaryRead: ...
    async def revisions(self, summary_id: str, viewer: Identity | None) -> list[RevisionRead]: ...
    async def delete(self, summary_id: str, actor: Identity) -> None: ...
    async def hide(self, summary_id: str, actor: Identity) -> SummaryRead: ...
    async def list_for_paper(
        self, paper_id: str, *, sort: SummarySort, viewer: Identity | None, page: int, size: int
    ) -> SummaryPage: ...
    async def list(
        self, *, sort: SummarySort, venue: str | None, year: int | None, viewer: Identity | None, page: int, size: int
    ) -> SummaryPage: ...
    async def citing(self, paper_id: str, *, viewer: Identity | None, page: int, size: int) -> SummaryPage: ...
    async def vote(self, summary_id: str, value: int, actor: Identity) -> VoteResult: ...
    async def comment(self, summary_id: str, data: CommentCreate, actor: Identity) -> CommentRead: ...
    async def comments(self, summary_id: str, viewer: Identity | None) -> list[CommentRead]: ...
    async def hide_comment(self, comment_id: str, actor: Identity) -> CommentRead: ...
    async def states(self, *, after: str | None, limit: int) -> StatesPage: ...
    async def export_for_user(self, user_id: str) -> "PersonalExport": ...
    async def preview(self, body: str) -> RenderedPreview: ...
    async def counts_by_venue(self) -> dict[str, int]: ...
    async def counts_by_year(self, venue_key: str) -> dict[int | None, int]: ...
    async def ready(self) -> bool: ...


# -- export and restore (operator tools and the personal export) -------------------------


class VoteRecord(BaseModel):
    summary_id: str
    user_id: str
    value: int


class CommentRecord(BaseModel):
    id: str
    summary_id: str
    author_id: str
    author_username: str
    body: str
    hidden: bool
    created_at: datetime


class SummaryRecord(BaseModel):
    """A summary as the operator export holds it: everything needed to put it back as it was."""

    id: str
    paper: PaperSnapshot
    author_id: str
    author_username: str
    body: str
    visibility: Visibility
    anonymous: bool
    hidden: bool
    deleted: bool
    score: int
    revision: int
    comment_count: int
    created_at: datetime
    updated_at: datetime
    version: int
    revisions: list[RevisionRead]


class PersonalExport(BaseModel):
    """What `GET /api/v1/me/export` gives a user: their own summaries (anonymous and private
    ones too) with revisions, the votes they cast, the comments they wrote. Nothing written
    or cast by anyone else: a summary's score is there, who voted is not."""

    summaries: list[SummaryRecord]
    votes: list[VoteRecord]
    comments: list[CommentRecord]
