"""What the social use cases need: a store for posts (with their attempt log and the
service's outbox) and a channel per platform.

Every store write changes one post (or one summary's posts) and queues its events in one
atomic step, with a compare-and-set on the post's version, which a document store can do
in a single-document update and SQLite in one transaction."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Protocol

from backbone.events import Event, SummaryState
from services.social.domain.model import Attempt, Post
from services.social.domain.outcomes import SendResult


class StaleWrite(Exception):
    """The post changed since it was read (another sender or the consumer got there first)."""


PostPlan = Callable[[list[Post]], list[Post]]


class SocialStore(Protocol):
    async def start(self) -> None: ...
    async def close(self) -> None: ...
    async def ping(self) -> bool: ...
    def outbox(self): ...

    async def apply_summary(self, state: SummaryState, version: int, plan: PostPlan) -> list[Post] | None:
        """Keep this summary state if `version` is newer than the one held, and in the same
        transaction write what `plan` makes of its existing posts (new posts and changed
        ones). None when the state was not newer (a redelivered or stale event)."""

    async def summary(self, summary_id: str) -> tuple[SummaryState, int] | None: ...

    async def get(self, post_id: str) -> Post | None: ...
    async def list(self, *, status: str | None, channel: str | None, offset: int, limit: int) -> tuple[list[Post], int]: ...
    async def attempts(self, post_id: str) -> list[Attempt]: ...

    async def due(self, channel: str, now: float, limit: int) -> list[tuple[Post, bool]]:
        """Posts of `channel` to send now (pending and due, or sending with an expired lease),
        oldest first, each with whether its summary is still public."""

    async def next_due(self, channel: str) -> float | None:
        """The earliest time a post of `channel` becomes due, if any is waiting."""

    async def claim(self, post: Post, expected_version: int) -> None:
        """Save a claimed post and open its attempt (closing a lost one as `unknown`)."""

    async def finish(self, post: Post, expected_version: int, outcome: str, detail: str | None,
                     events: Sequence[Event]) -> None:
        """Save the post after a send, close its attempt with `outcome`, queue `events`."""

    async def save(self, post: Post, expected_version: int, events: Sequence[Event] = ()) -> None: ...

    async def sends_since(self, channel: str, since: float) -> list[float]:
        """Start times of this channel's attempts after `since` (what pacing counts)."""

    async def pause(self, channel: str, until: float, reason: str) -> None:
        """Hold every send of `channel` until `until` (a rate limit); never shortens a pause."""

    async def paused_until(self, channel: str) -> tuple[float, str] | None:
        """The channel's latest pause (until, reason), possibly already over."""


class Channel(Protocol):
    name: str
    live: bool  # False: dry-run, `send` is never called

    async def start(self) -> None: ...
    async def close(self) -> None: ...
    async def send(self, text: str, link: str) -> SendResult: ...
