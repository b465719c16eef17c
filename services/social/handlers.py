"""Social use cases. `SocialService` is the application layer: the consumer hands it
summary events, the per-channel senders ask it to send what is due, and the operators'
routes (or, in the all-in-one process, the gateway directly) call its read and retry
methods; it satisfies `backbone.contracts.social.SocialAPI`. Rules live in `domain`."""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Callable
from datetime import UTC, datetime

from backbone.contracts.social import AttemptRead, ChannelPreview, PostPage, PostRead, PreviewRead
from backbone.errors import Conflict, Forbidden, NotFound
from backbone.events import (
    Envelope,
    PostFailed,
    PostSent,
    SummaryDeleted,
    SummaryHidden,
    SummaryPublished,
    SummaryRevised,
    SummaryState,
    VoteCast,
    parse_event,
)
from backbone.identity import Identity
from backbone.ids import new_id
from backbone.logs import get_logger
from backbone.metrics import SOCIAL_ATTEMPTS
from services.social.domain.compose import Composer
from services.social.domain.model import Attempt, InvalidTransition, Post
from services.social.domain.outcomes import Duplicate, RateLimited, Rejected, Sent, SendResult, Transient
from services.social.domain.pacing import Pace, retry_delay
from services.social.domain.text import weighted_length
from services.social.ports import Channel, SocialStore, StaleWrite

# Every summary event carries the summary's whole state, so any of them can be applied by version.
SUMMARY_EVENTS = (SummaryPublished, SummaryRevised, SummaryDeleted, SummaryHidden, VoteCast)


def _when(t: float | None) -> datetime | None:
    return datetime.fromtimestamp(t, UTC) if t is not None else None


def _not_public_reason(state: SummaryState) -> str:
    if state.deleted:
        return "cancelled: the summary was deleted before it was posted"
    if state.hidden:
        return "cancelled: a moderator hid the summary before it was posted"
    return "cancelled: the summary was made private before it was posted"


def plan_posts(
    state: SummaryState,
    existing: list[Post],
    *,
    channels: dict[str, bool],
    compose: Callable[[str], tuple[str, str]],
    fresh: bool,
    now: float,
    make_id: Callable[[], str] = new_id,
) -> list[Post]:
    """What one summary state means for its posts (the ones to write). `channels` maps each
    enabled channel to whether it is live; `fresh` is False for a summary too old to post."""
    if not state.is_public:
        reason = _not_public_reason(state)
        return [p.cancel(now, reason) for p in existing if p.cancellable]
    by_channel = {p.channel: p for p in existing}
    written = []
    for channel, live in channels.items():
        post = by_channel.get(channel)
        text, link = compose(channel)
        if post is None:
            if fresh:
                written.append(Post.new(id=make_id(), summary_id=state.summary_id, channel=channel, text=text,
                                        link=link, live=live, now=now))
        elif post.status == "cancelled":
            if fresh and live:
                written.append(post.revive(now, text))
        else:
            updated = post.recompose(now, text, link)
            if updated is not post:
                written.append(updated)
    return written


class SocialService:
    def __init__(
        self,
        store: SocialStore,
        composer: Composer,
        channels: dict[str, Channel],
        *,
        paces: dict[str, Pace],
        max_attempts: int = 5,
        retry_base: float = 30.0,
        retry_max: float = 3600.0,
        lease: float = 120.0,
        max_age: float = 72 * 3600.0,
        concurrency: int = 1,
        clock: Callable[[], float] = time.time,
        rand: Callable[[], float] = random.random,
        on_commit: Callable[[], None] = lambda: None,
    ) -> None:
        self.store = store
        self.composer = composer
        self.channels = channels
        self.paces = paces
        self.max_attempts = max_attempts
        self.retry_base = retry_base
        self.retry_max = retry_max
        self.lease = lease
        self.max_age = max_age
        self.concurrency = concurrency
        self.clock = clock
        self.rand = rand
        self.on_commit = on_commit
        self.on_new_work: Callable[[], None] = lambda: None
        self._logger = get_logger("social")

    async def ready(self) -> bool:
        return await self.store.ping()

    # -- consuming summary events ---------------------------------------------------------

    async def handle(self, envelope: Envelope) -> None:
        event = parse_event(envelope)
        if not isinstance(event, SUMMARY_EVENTS):
            return
        state = event.summary
        now = self.clock()
        live = {name: channel.live for name, channel in self.channels.items()}

        def compose(channel: str) -> tuple[str, str]:
            composed = self.composer.compose(state, channel)
            return composed.text, composed.link

        def plan(existing: list[Post]) -> list[Post]:
            return plan_posts(state, existing, channels=live, compose=compose,
                              fresh=now - state.created_at.timestamp() <= self.max_age, now=now)

        written = await self.store.apply_summary(state, envelope.aggregate_version, plan)
        if written and any(p.status == "pending" for p in written):
            self.on_new_work()

    # -- sending --------------------------------------------------------------------------

    async def send_due(self, channel_name: str) -> float | None:
        """Send what is due on one channel, within its pause and pacing. Returns when to
        look again (None: nothing is waiting; the sender sleeps until woken)."""
        now = self.clock()
        pause = await self.store.paused_until(channel_name)
        if pause is not None and pause[0] > now:
            return pause[0]
        pace = self.paces.get(channel_name, Pace(0, 1.0))
        recent = await self.store.sends_since(channel_name, now - pace.window) if pace.limit else []
        room = pace.room(recent, now)
        if room == 0:
            return pace.next_slot(recent, now)
        batch = self.concurrency if room is None else min(self.concurrency, room)
        due = await self.store.due(channel_name, now, batch)
        claimed = []
        for post, summary_public in due:
            try:
                if summary_public:
                    ready = post.claim(now, self.lease)
                    await self.store.claim(ready, post.version)
                    claimed.append(ready)
                else:  # the event that cancels it may not have arrived before a retry fell due
                    await self.store.save(post.cancel(now, "cancelled: the summary is no longer public"),
                                          post.version)
            except StaleWrite:
                continue
        if not due:
            return await self.store.next_due(channel_name)
        channel = self.channels[channel_name]
        await asyncio.gather(*(self._send(channel, post) for post in claimed))
        return self.clock()

    async def _send(self, channel: Channel, post: Post) -> None:
        try:
            result: SendResult = await channel.send(post.text, post.link)
        except Exception as exc:  # a bug in an adapter must not leave the post in limbo
            self._logger.error("social_send_crashed", post_id=post.id, channel=channel.name, exc_info=exc)
            result = Transient(f"unexpected error: {exc!r}")
        await self._record(post, result)

    async def _record(self, post: Post, result: SendResult) -> None:
        now = self.clock()
        events: list = []
        if isinstance(result, Sent):
            updated, outcome, detail = post.mark_sent(now, result.platform_post_id, result.url), "sent", None
            if result.pause_until is not None:
                await self.store.pause(post.channel, result.pause_until, "the platform's quota is used up")
        elif isinstance(result, Duplicate):
            updated, outcome = post.mark_sent(now, None, None, duplicate=True), "duplicate"
            detail = ("an earlier attempt whose outcome was lost had gone through: " if post.uncertain
                      else "the platform already has this text: ") + result.detail
        elif isinstance(result, RateLimited):
            updated = post.retry_at(now, result.retry_at, result.detail, counts=False, max_failures=self.max_attempts)
            outcome, detail = "rate_limited", result.detail
            await self.store.pause(post.channel, result.retry_at, result.detail)
        elif isinstance(result, Transient):
            when = now + retry_delay(post.failures + 1, base=self.retry_base, cap=self.retry_max, rand=self.rand)
            updated = post.retry_at(now, when, result.detail, counts=True, max_failures=self.max_attempts)
            outcome, detail = "transient", result.detail
        else:
            assert isinstance(result, Rejected)
            updated, outcome, detail = post.fail(now, result.detail), "rejected", result.detail
        if updated.status == "sent":
            events.append(PostSent(post_id=post.id, summary_id=post.summary_id, channel=post.channel,
                                   platform_post_id=updated.platform_post_id, url=updated.url,
                                   attempts=updated.attempts, duplicate=updated.duplicate))
        elif updated.status == "failed":
            events.append(PostFailed(post_id=post.id, summary_id=post.summary_id, channel=post.channel,
                                     error=updated.last_error or detail or outcome, attempts=updated.attempts))
        SOCIAL_ATTEMPTS.labels(post.channel, outcome).inc()
        try:
            await self.store.finish(updated, post.version, outcome, detail, events)
        except StaleWrite:  # another sender took it over (our lease ran out); it will find out
            self._logger.warning("social_post_taken_over", post_id=post.id, outcome=outcome)
            return
        self._logger.info("social_post_attempted", post_id=post.id, channel=post.channel, outcome=outcome,
                          status=updated.status)
        if events:
            self.on_commit()

    # -- operators ------------------------------------------------------------------------

    @staticmethod
    def _require_operator(actor: Identity) -> None:
        if not actor.is_moderator:
            raise Forbidden("only moderators and admins may see and retry social posts")

    @staticmethod
    def _read(post: Post, history: list[Attempt] | None = None) -> PostRead:
        return PostRead(
            id=post.id, summary_id=post.summary_id, channel=post.channel, status=post.status, text=post.text,
            link=post.link, weighted_length=weighted_length(post.text), attempts=post.attempts,
            failures=post.failures, uncertain=post.uncertain, next_attempt_at=_when(post.next_attempt_at),
            platform_post_id=post.platform_post_id, url=post.url, duplicate=post.duplicate,
            last_error=post.last_error, created_at=_when(post.created_at), updated_at=_when(post.updated_at),
            sent_at=_when(post.sent_at),
            history=None if history is None else [
                AttemptRead(n=a.n, started_at=_when(a.started_at), finished_at=_when(a.finished_at),
                            outcome=a.outcome, detail=a.detail) for a in history
            ],
        )

    async def _load(self, post_id: str) -> Post:
        post = await self.store.get(post_id)
        if post is None:
            raise NotFound(f"no social post with id {post_id}", field="post_id")
        return post

    async def list_posts(self, *, status: str | None, channel: str | None, page: int, size: int,
                         actor: Identity) -> PostPage:
        self._require_operator(actor)
        posts, total = await self.store.list(status=status, channel=channel, offset=(page - 1) * size, limit=size)
        return PostPage(items=[self._read(p) for p in posts], total=total, page=page, size=size)

    async def get_post(self, post_id: str, actor: Identity) -> PostRead:
        self._require_operator(actor)
        post = await self._load(post_id)
        return self._read(post, await self.store.attempts(post_id))

    async def retry(self, post_id: str, actor: Identity) -> PostRead:
        """Send a failed post again (its failure count starts over), or a waiting one now."""
        self._require_operator(actor)
        post = await self._load(post_id)
        summary = await self.store.summary(post.summary_id)
        if summary is None or not summary[0].is_public:
            raise Conflict("the summary is no longer public, so it is not posted", field="post_id")
        try:
            updated = post.requeue(self.clock())
            await self.store.save(updated, post.version)
        except InvalidTransition as exc:
            raise Conflict(f"only a failed or pending post can be retried; this one is {exc.status}",
                           field="post_id") from None
        except StaleWrite:
            raise Conflict("the post changed meanwhile; look again", field="post_id") from None
        self._logger.info("social_post_retried", post_id=post_id, by=actor.user_id)
        self.on_new_work()
        return self._read(updated, await self.store.attempts(post_id))

    async def preview(self, summary_id: str, actor: Identity) -> PreviewRead:
        """The text each enabled channel would post for this summary, as it is now."""
        self._require_operator(actor)
        found = await self.store.summary(summary_id)
        if found is None or not found[0].is_public:
            raise NotFound(f"no public summary with id {summary_id} has reached the social service",
                           field="summary_id")
        previews = []
        for name, channel in self.channels.items():
            composed = self.composer.compose(found[0], name)
            previews.append(ChannelPreview(channel=name, live=channel.live, text=composed.text, link=composed.link,
                                           weighted_length=composed.weighted_length,
                                           max_weighted_length=composed.max_length))
        return PreviewRead(summary_id=summary_id, channels=previews)
