"""Wires the summaries service; the HTTP app, the all-in-one process and tests call this."""

from __future__ import annotations

from fastapi import FastAPI

from backbone.app import create_service_app
from backbone.consumer import ConsumerRunner
from backbone.eventlog.port import EventLog
from backbone.outbox import OutboxRelay
from backbone.runtime import Runtime, make_event_log
from services.summaries import consumers
from services.summaries.adapters.sqlite import SqliteSummariesStore
from services.summaries.api.routes import HOT_READS, router
from services.summaries.config import SummariesSettings
from services.summaries.handlers import SummariesService


def make_store(settings: SummariesSettings):
    if settings.store == "sqlite":
        return SqliteSummariesStore(settings.db_path("summaries"))
    if settings.store == "mongo":
        from services.summaries.adapters.mongo import MongoSummariesStore  # imports pymongo only when used

        return MongoSummariesStore(settings.mongodb_url, settings.mongo_database("summaries"))
    raise ValueError(f"unknown store backend {settings.store!r}")


def bootstrap(settings: SummariesSettings, *, event_log: EventLog | None = None, store=None) -> Runtime:
    store = store or make_store(settings)
    log = event_log or make_event_log(settings)
    runtime = Runtime(name="summaries", event_log=log, api=None, resources=[store], owns_event_log=event_log is None)
    runtime.api = SummariesService(store, on_commit=runtime.wake_relay)
    runtime.relay_factory = lambda: OutboxRelay("summaries", store.outbox(), log,
                                                poll_interval=max(settings.poll_interval, 0.25))
    runtime.consumers.append(
        ConsumerRunner(log, consumers.GROUP, consumers.TOPICS, consumers.make_handler(store),
                       max_attempts=settings.consumer_max_attempts, retry_base=settings.consumer_retry_base)
    )
    return runtime


def create_http_app(settings: SummariesSettings | None = None) -> FastAPI:
    settings = settings or SummariesSettings()
    return create_service_app(bootstrap(settings), router(), internal_secret=settings.internal_secret, fast_reads=HOT_READS)
