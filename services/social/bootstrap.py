"""Wires the social service; the HTTP app, the all-in-one process, the benchmark and the
tests call this."""

from __future__ import annotations

import time
from collections.abc import Callable

from fastapi import FastAPI

from backbone.app import create_service_app
from backbone.consumer import ConsumerRunner
from backbone.eventlog.port import EventLog
from backbone.outbox import OutboxRelay
from backbone.runtime import Runtime, make_event_log
from services.social import consumers
from services.social.adapters.sqlite import SqliteSocialStore
from services.social.api.routes import router
from services.social.channels import make_channels
from services.social.config import SocialSettings
from services.social.domain.compose import Composer
from services.social.domain.pacing import DAY, HOUR, Pace
from services.social.handlers import SocialService
from services.social.worker import ChannelSender


def make_store(settings: SocialSettings):
    if settings.store == "sqlite":
        return SqliteSocialStore(settings.db_path("social"))
    if settings.store == "mongo":
        from services.social.adapters.mongo import MongoSocialStore  # imports pymongo only when used

        return MongoSocialStore(settings.mongodb_url, settings.mongo_database("social"))
    raise ValueError(f"unknown store backend {settings.store!r}")


def bootstrap(
    settings: SocialSettings,
    *,
    event_log: EventLog | None = None,
    store=None,
    channels: dict | None = None,
    clock: Callable[[], float] = time.time,
) -> Runtime:
    store = store or make_store(settings)
    log = event_log or make_event_log(settings)
    channels = channels if channels is not None else make_channels(settings, clock)
    runtime = Runtime(name="social", event_log=log, api=None, resources=[store, *channels.values()],
                      owns_event_log=event_log is None)
    service = SocialService(
        store,
        Composer(settings.templates, settings.public_url),
        channels,
        paces={"twitter": Pace(settings.twitter_max_per_day, DAY),
               "facebook": Pace(settings.facebook_max_per_hour, HOUR)},
        max_attempts=settings.max_attempts,
        retry_base=settings.retry_base_seconds,
        retry_max=settings.retry_max_seconds,
        lease=settings.send_lease_seconds,
        max_age=settings.max_age_hours * 3600,
        concurrency=settings.send_concurrency,
        clock=clock,
        # No wake per post: PostSent/PostFailed are on no one's latency path, and the relay's
        # tick batches a burst's events into a few appends to the shared log (each one fsyncs).
    )
    runtime.api = service
    runtime.relay_factory = lambda: OutboxRelay("social", store.outbox(), log,
                                                poll_interval=max(settings.poll_interval, 0.25))
    runtime.consumers.append(
        ConsumerRunner(log, consumers.GROUP, consumers.TOPICS, service.handle,
                       max_attempts=settings.consumer_max_attempts, retry_base=settings.consumer_retry_base)
    )
    senders = [ChannelSender(service, name, idle=settings.idle_seconds, clock=clock)
               for name, channel in channels.items() if channel.live]
    runtime.workers.extend(senders)

    def wake_senders() -> None:
        for sender in senders:
            sender.wake()

    service.on_new_work = wake_senders
    return runtime


def create_http_app(settings: SocialSettings | None = None) -> FastAPI:
    settings = settings or SocialSettings()
    return create_service_app(bootstrap(settings), router(), internal_secret=settings.internal_secret)
