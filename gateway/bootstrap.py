"""Builds the gateway app around whatever service clients it is given.

`create_gateway_app` knows nothing of how services run: the all-in-one runner
(`shortscience.allinone`) hands it the services' application objects, the split
deployment (`create_http_gateway`) hands it aiohttp clients.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from contextlib import asynccontextmanager

from fastapi import FastAPI

from backbone.app import StartGate, create_app
from backbone.eventlog.port import EventLog
from backbone.outbox import OutboxRelay
from backbone.runtime import Runtime, make_event_log, start_or_keep_trying
from gateway.api.deps import GatewayState
from gateway.api.openapi import install_openapi
from gateway.api.routes import HOT_READS, router
from gateway.api.social_routes import router as social_router
from gateway.clients.http import PapersHttpClient, SearchHttpClient, SocialHttpClient, SummariesHttpClient
from gateway.config import GatewaySettings
from gateway.identity.service import IdentityService
from gateway.identity.store import IdentityStore
from gateway.ratelimit import RateLimiter
from gateway.web import install_web

StartHook = Callable[[FastAPI], Awaitable[None]]


def make_identity_store(settings: GatewaySettings):
    if settings.store == "mongo":
        from gateway.identity.mongo import MongoIdentityStore

        return MongoIdentityStore(settings.mongodb_url, settings.mongo_database("gateway"))
    return IdentityStore(settings.db_path("gateway"))


def build_identity_runtime(settings: GatewaySettings, event_log: EventLog, *, owns_event_log: bool) -> Runtime:
    store = make_identity_store(settings)
    runtime = Runtime(name="gateway", event_log=event_log, api=None, resources=[store], owns_event_log=owns_event_log)
    runtime.api = IdentityService(
        store,
        session_days=settings.session_days,
        time_cost=settings.argon2_time_cost,
        memory_kib=settings.argon2_memory_kib,
        on_commit=runtime.wake_relay,
    )
    runtime.relay_factory = lambda: OutboxRelay("gateway", store.outbox(), event_log,
                                                poll_interval=max(settings.poll_interval, 0.25))
    return runtime


def create_gateway_app(
    settings: GatewaySettings,
    *,
    papers,
    summaries,
    search,
    social=None,
    event_log: EventLog,
    runtimes: Sequence[Runtime] = (),
    clients: Sequence = (),
    on_started: Sequence[StartHook] = (),
) -> FastAPI:
    identity_rt = build_identity_runtime(settings, event_log, owns_event_log=True)

    gate = StartGate(open=False)
    opened: list = []

    async def start() -> None:
        try:
            await identity_rt.start()
            opened.append(identity_rt)
            for rt in runtimes:
                await rt.start()
                opened.append(rt)
            for client in clients:
                await client.start()
                opened.append(client)
            for hook in on_started:
                await hook(app)
        except BaseException:
            await stop()
            raise
        gate.open = True

    async def stop() -> None:
        gate.open = False
        while opened:
            thing = opened.pop()
            await (thing.stop() if isinstance(thing, Runtime) else thing.close())

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        async with start_or_keep_trying("gateway", start, stop, gate=gate, retry_base=settings.engine_retry_base,
                                        retry_max=settings.engine_retry_max):
            yield

    async def services_ready() -> bool:
        # The services on the public path; social is for operators only, and its own /readyz tells.
        return all([await papers.ready(), await summaries.ready(), await search.ready()])

    app = create_app(
        "gateway",
        lifespan=lifespan,
        ready_checks={"identity": identity_rt.ready, "services": services_ready},
        max_body=settings.max_body_bytes,
        internal_secret=None,
        fast_reads=HOT_READS,
        gate=gate,
    )
    app.state.settings = settings
    app.state.runtimes = [identity_rt, *runtimes]
    app.state.gateway = GatewayState(
        identity=identity_rt.api,
        papers=papers,
        summaries=summaries,
        search=search,
        social=social,
        login_limiter=RateLimiter(settings.login_limit, settings.login_window),
        signup_limiter=RateLimiter(settings.signup_limit, settings.signup_window),
        write_limiter=RateLimiter(settings.write_limit, settings.write_window),
    )
    app.include_router(router())
    app.include_router(social_router())
    install_web(app)  # the website: pages, feeds, sitemap, static files
    install_openapi(app)
    return app


def create_http_gateway(settings: GatewaySettings | None = None, on_started: Sequence[StartHook] = ()) -> FastAPI:
    """The gateway alone, reaching separately running services over HTTP."""
    settings = settings or GatewaySettings()
    papers = PapersHttpClient(settings.papers_url, settings.internal_secret)
    summaries = SummariesHttpClient(settings.summaries_url, settings.internal_secret)
    search = SearchHttpClient(settings.search_url, settings.internal_secret)
    social = SocialHttpClient(settings.social_url, settings.internal_secret)
    return create_gateway_app(
        settings,
        papers=papers,
        summaries=summaries,
        search=search,
        social=social,
        event_log=make_event_log(settings),
        clients=[papers, summaries, search, social],
        on_started=on_started,
    )
