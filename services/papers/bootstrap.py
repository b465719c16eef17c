"""Wires the papers service; the HTTP app, the all-in-one process and tests call this."""

from __future__ import annotations

from fastapi import FastAPI

from backbone.app import create_service_app
from backbone.eventlog.port import EventLog
from backbone.outbox import OutboxRelay
from backbone.runtime import Runtime, make_event_log
from services.papers.adapters.sqlite import SqlitePapersStore
from services.papers.api.routes import router
from services.papers.config import PapersSettings
from services.papers.handlers import PapersService


def make_store(settings: PapersSettings):
    if settings.store == "mongo":
        from services.papers.adapters.mongo import MongoPapersStore

        return MongoPapersStore(settings.mongodb_url, settings.mongo_database("papers"))
    return SqlitePapersStore(settings.db_path("papers"))


def bootstrap(settings: PapersSettings, *, event_log: EventLog | None = None, store=None) -> Runtime:
    store = store or make_store(settings)
    runtime = Runtime(
        name="papers",
        event_log=event_log or make_event_log(settings),
        api=None,
        resources=[store],
        owns_event_log=event_log is None,
    )
    runtime.api = PapersService(store, on_commit=runtime.wake_relay)
    runtime.relay_factory = lambda: OutboxRelay("papers", store.outbox(), runtime.event_log,
                                                poll_interval=max(settings.poll_interval, 0.25))
    return runtime


def create_http_app(settings: PapersSettings | None = None) -> FastAPI:
    settings = settings or PapersSettings()
    return create_service_app(bootstrap(settings), router(), internal_secret=settings.internal_secret)
