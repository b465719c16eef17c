"""The wire contract between services: the event envelope and every event schema.

Events are frozen, past-tense, versioned. They carry what consumers need (a summary event
carries its paper's title, authors, venue and year) so no consumer ever calls back.
Anonymous summaries carry no author fields at all: identity never leaves the summaries
service for them.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict

from backbone.logs import current_correlation_id

PAPERS, SUMMARIES, IDENTITY, SOCIAL = "papers", "summaries", "identity", "social"


class Envelope(BaseModel):
    model_config = ConfigDict(frozen=True)

    event_id: str
    type: str
    version: int
    topic: str
    aggregate_id: str
    aggregate_version: int
    occurred_at: datetime
    producer: str
    correlation_id: str | None = None
    payload: dict[str, Any]


class Event(BaseModel):
    """Base of every payload; subclasses set TOPIC and VERSION."""

    model_config = ConfigDict(frozen=True, extra="ignore")
    TOPIC: ClassVar[str]
    VERSION: ClassVar[int] = 1

    def envelope(self, *, aggregate_id: str, aggregate_version: int, producer: str) -> Envelope:
        return Envelope(
            event_id=uuid.uuid4().hex,
            type=type(self).__name__,
            version=self.VERSION,
            topic=self.TOPIC,
            aggregate_id=aggregate_id,
            aggregate_version=aggregate_version,
            occurred_at=datetime.now(UTC),
            producer=producer,
            correlation_id=current_correlation_id(),
            payload=self.model_dump(mode="json"),
        )


# --- papers --------------------------------------------------------------------------


class PaperSnapshot(BaseModel):
    model_config = ConfigDict(frozen=True)

    paper_id: str
    title: str
    authors: list[str]
    venue: str | None
    venue_key: str | None
    year: int | None
    abstract: str = ""
    keywords: list[str] = []
    identifiers: dict[str, str] = {}
    version: int = 1


class PaperRegistered(Event):
    TOPIC = PAPERS
    paper: PaperSnapshot


class PaperUpdated(Event):
    TOPIC = PAPERS
    paper: PaperSnapshot
    changed: list[str]


# --- summaries -----------------------------------------------------------------------


class SummaryState(BaseModel):
    """What a summary looks like from outside its service: no author when anonymous."""

    model_config = ConfigDict(frozen=True)

    summary_id: str
    paper: PaperSnapshot
    author_id: str | None
    author_username: str | None
    body: str
    visibility: Literal["public", "private"]
    anonymous: bool
    hidden: bool
    deleted: bool
    score: int
    revision: int
    created_at: datetime
    updated_at: datetime
    # The papers the body cites, as normalised keys (`arxiv:1512.03385`, `doi:...`,
    # `dblp:...`, `paper:<id>`); absent from events written before citations were recorded.
    citations: list[str] = []

    @property
    def is_public(self) -> bool:
        return self.visibility == "public" and not self.hidden and not self.deleted


class SummaryPublished(Event):
    TOPIC = SUMMARIES
    summary: SummaryState


class SummaryRevised(Event):
    TOPIC = SUMMARIES
    summary: SummaryState
    changed: list[str]


class SummaryDeleted(Event):
    TOPIC = SUMMARIES
    summary: SummaryState


class SummaryHidden(Event):
    TOPIC = SUMMARIES
    summary: SummaryState


class VoteCast(Event):
    """Carries the whole summary state too, so every summary event is a full snapshot and
    a consumer can apply any of them by version alone. The voter is not named."""

    TOPIC = SUMMARIES
    VERSION = 2  # v1 carried no state
    summary_id: str
    value: int
    score: int
    summary: SummaryState


class CommentAdded(Event):
    TOPIC = SUMMARIES
    comment_id: str
    summary_id: str
    author_id: str
    author_username: str
    body: str


class CommentHidden(Event):
    TOPIC = SUMMARIES
    comment_id: str
    summary_id: str


# --- social --------------------------------------------------------------------------


class PostSent(Event):
    """A summary reached a social channel. `duplicate` means the platform refused the text
    as already posted (a send whose outcome was lost, repeated), so it has no post id."""

    TOPIC = SOCIAL
    post_id: str
    summary_id: str
    channel: str
    platform_post_id: str | None
    url: str | None
    attempts: int
    duplicate: bool = False


class PostFailed(Event):
    """A post gave up: a permanent refusal, or transient failures past the attempt limit."""

    TOPIC = SOCIAL
    post_id: str
    summary_id: str
    channel: str
    error: str
    attempts: int


# --- identity ------------------------------------------------------------------------


class UserRegistered(Event):
    TOPIC = IDENTITY
    user_id: str
    username: str
    display_name: str


EVENT_TYPES: dict[str, type[Event]] = {
    cls.__name__: cls
    for cls in (
        PaperRegistered,
        PaperUpdated,
        SummaryPublished,
        SummaryRevised,
        SummaryDeleted,
        SummaryHidden,
        VoteCast,
        CommentAdded,
        CommentHidden,
        PostSent,
        PostFailed,
        UserRegistered,
    )
}


def parse_event(envelope: Envelope) -> Event | None:
    """The typed payload, or None for an event type or version this code does not know."""
    cls = EVENT_TYPES.get(envelope.type)
    if cls is None or envelope.version != cls.VERSION:
        return None
    return cls.model_validate(envelope.payload)
