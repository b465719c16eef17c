"""Fixtures for the social service: fake X and Facebook servers on loopback ports, and the
service itself (its real runtime: consumer group, senders, relay) on a test event log.

Summary events are appended to the event log as the summaries service would, so each
test controls versions and redeliveries exactly."""

from __future__ import annotations

import os
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest

from backbone.eventlog.sqlite import SqliteEventLog
from backbone.events import (
    SOCIAL,
    Envelope,
    Event,
    PaperSnapshot,
    SummaryPublished,
    SummaryState,
)
from backbone.ids import new_id
from backbone.runtime import Runtime
from services.social.bootstrap import bootstrap
from services.social.config import SocialSettings
from services.social.domain.model import Post
from tests.social.fakes import FakeFacebook, FakeTwitter

PUBLIC_URL = "https://shortscience.example.org"
_CREDENTIAL_PREFIXES = ("TWITTER_", "FACEBOOK_", "SOCIAL_", "SHORTSCIENCE_TWITTER_", "SHORTSCIENCE_FACEBOOK_",
                        "SHORTSCIENCE_SOCIAL_", "SHORTSCIENCE_PUBLIC_URL")


@pytest.fixture(autouse=True)
def _no_real_credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    """A developer's real credentials in the environment must never reach these tests."""
    for name in list(os.environ):
        if name.upper().startswith(_CREDENTIAL_PREFIXES):
            monkeypatch.delenv(name)


def summary_state(
    *,
    summary_id: str | None = None,
    title: str = "Deep Residual Learning for Image Recognition",
    venue: str | None = "CVPR",
    year: int | None = 2016,
    body: str = "Residual connections let very deep networks train as easily as shallow ones. More follows.",
    author: str | None = "ada",
    anonymous: bool = False,
    visibility: str = "public",
    hidden: bool = False,
    deleted: bool = False,
    created_at: datetime | None = None,
    revision: int = 1,
) -> SummaryState:
    """A summary as its events carry it (no author at all when anonymous)."""
    stamp = created_at or datetime.now(UTC)
    paper = PaperSnapshot(paper_id=new_id(), title=title, authors=["Kaiming He", "Xiangyu Zhang"], venue=venue,
                          venue_key=venue.lower() if venue else None, year=year)
    return SummaryState(
        summary_id=summary_id or new_id(), paper=paper,
        author_id=None if anonymous else "user-" + (author or "x"),
        author_username=None if anonymous else author,
        body=body, visibility=visibility, anonymous=anonymous, hidden=hidden, deleted=deleted, score=0,
        revision=revision, created_at=stamp, updated_at=stamp,
    )


def social_settings(data_dir: Path, **overrides) -> SocialSettings:
    values = dict(
        data_dir=data_dir, environment="test", poll_interval=0.01, consumer_retry_base=0.01, log_level="WARNING",
        public_url=PUBLIC_URL, twitter_max_per_day=0, facebook_max_per_hour=0, retry_base_seconds=0.05,
        retry_max_seconds=0.2, idle_seconds=0.05, send_lease_seconds=5.0, http_timeout=5.0,
        throttle_backoff_seconds=60.0,
    )
    values.update(overrides)
    return SocialSettings(**values)


class Clock:
    """A clock the test moves by hand (pacing windows of an hour or a day)."""

    def __init__(self) -> None:
        self.offset = 0.0

    def __call__(self) -> float:
        return time.time() + self.offset

    def advance(self, seconds: float) -> None:
        self.offset += seconds


@dataclass
class Social:
    runtime: Runtime
    log: SqliteEventLog
    settings: SocialSettings
    stopped: bool = False

    @property
    def service(self):
        return self.runtime.api

    @property
    def store(self):
        return self.service.store

    async def append(self, event: Event, summary: SummaryState, version: int) -> Envelope:
        envelope = event.envelope(aggregate_id=summary.summary_id, aggregate_version=version, producer="summaries")
        await self.log.publish([envelope])
        return envelope

    async def publish(self, summary: SummaryState, version: int = 1) -> Envelope:
        return await self.append(SummaryPublished(summary=summary), summary, version)

    async def post(self, summary_id: str, channel: str) -> Post | None:
        posts, _ = await self.store.list(status=None, channel=channel, offset=0, limit=1000)
        found = [p for p in posts if p.summary_id == summary_id]
        return found[0] if found else None

    async def posts(self, **filters) -> list[Post]:
        posts, _ = await self.store.list(status=filters.get("status"), channel=filters.get("channel"), offset=0,
                                         limit=10_000)
        return posts

    async def stop(self) -> None:
        """Stop the service as a process would stop: senders cancelled mid-send, if any."""
        self.stopped = True
        await self.runtime.stop()

    def social_events(self) -> list[Envelope]:
        rows = self.log.conn.execute("SELECT envelope FROM log WHERE topic=? ORDER BY offset", (SOCIAL,)).fetchall()
        return [Envelope.model_validate_json(r[0]) for r in rows]


StartSocial = Callable[..., Awaitable[Social]]


@pytest.fixture
async def fake_twitter() -> AsyncIterator[FakeTwitter]:
    async with FakeTwitter() as fake:
        yield fake


@pytest.fixture
async def fake_facebook() -> AsyncIterator[FakeFacebook]:
    async with FakeFacebook() as fake:
        yield fake


@pytest.fixture
async def start_social(tmp_path) -> AsyncIterator[StartSocial]:
    """Start the social service (again, after a stop: same data dir, same event log)."""
    log = SqliteEventLog(tmp_path / "events.db", poll_interval=0.01)
    await log.start()
    running: list[Social] = []

    async def start(*, twitter: FakeTwitter | None = None, facebook: FakeFacebook | None = None,
                    clock: Callable[[], float] = time.time, **overrides) -> Social:
        values = {**(twitter.settings() if twitter else {}), **(facebook.settings() if facebook else {}), **overrides}
        settings = social_settings(tmp_path, **values)
        runtime = bootstrap(settings, event_log=log, clock=clock)
        await runtime.start()
        social = Social(runtime, log, settings)
        running.append(social)
        return social

    try:
        yield start
    finally:
        for social in reversed(running):
            if not social.stopped:
                await social.stop()
        await log.close()


@pytest.fixture
def clock() -> Clock:
    return Clock()
