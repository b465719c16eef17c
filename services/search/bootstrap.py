"""Wires the search service; the HTTP app, the all-in-one process, the CLI and tests call this."""

from __future__ import annotations

from fastapi import FastAPI

from backbone.app import create_service_app
from backbone.consumer import ConsumerRunner
from backbone.eventlog.port import EventLog
from backbone.runtime import Runtime, make_event_log
from services.search.adapters.fts5 import Fts5Index
from services.search.api.routes import router
from services.search.config import SearchSettings
from services.search.handlers import GROUP, TOPICS, SearchService


def make_index(settings: SearchSettings):
    if settings.search == "fts5":
        return Fts5Index(settings.db_path("search"))
    if settings.search in ("elasticsearch", "opensearch"):
        from services.search.adapters.elastic import ElasticIndex  # imports its client only when used

        return ElasticIndex(settings.search, settings.search_engine_url, settings.search_index_name)
    raise ValueError(f"unknown search backend {settings.search!r}")


def bootstrap(settings: SearchSettings, *, event_log: EventLog | None = None, index=None) -> Runtime:
    index = index or make_index(settings)
    log = event_log or make_event_log(settings)
    service = SearchService(index)
    runtime = Runtime(name="search", event_log=log, api=service, resources=[index], owns_event_log=event_log is None)
    runtime.consumers.append(
        ConsumerRunner(log, GROUP, TOPICS, service.handle, max_attempts=settings.consumer_max_attempts,
                       retry_base=settings.consumer_retry_base)
    )
    return runtime


def create_http_app(settings: SearchSettings | None = None) -> FastAPI:
    settings = settings or SearchSettings()
    return create_service_app(bootstrap(settings), router(), internal_secret=settings.internal_secret)
