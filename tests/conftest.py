"""Shared fixtures: a real platform on a free loopback port, and test-data factories.

Each test gets its own data directory (fresh SQLite files) and its own server."""

from __future__ import annotations

import asyncio
import hashlib
import itertools
import os
import socket
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
import uvicorn
from fastapi import FastAPI

from gateway.config import GatewaySettings

pytest_plugins = ["tests.engines"]

_counter = itertools.count(1)


# `SHORTSCIENCE_TEST_BACKENDS=distributed` runs the platform tests on Kafka, MongoDB and
# OpenSearch/Elasticsearch (the engines `make engines` starts) instead of the embedded default.
DISTRIBUTED = os.environ.get("SHORTSCIENCE_TEST_BACKENDS", "embedded") == "distributed"
_created_settings: list[GatewaySettings] = []


def distributed_values(data_dir: Path) -> dict:
    """Backends and per-installation names for a distributed platform. Derived from the data
    directory, so a platform restarted on the same directory finds its own topics,
    databases and index again, and no two tests share any."""
    tag = "t" + hashlib.sha1(str(data_dir.resolve()).encode()).hexdigest()[:12]
    search = "opensearch" if os.environ.get("OPENSEARCH_URL") else "elasticsearch"
    return dict(events="kafka", store="mongo", search=search, kafka_prefix=f"{tag}.", kafka_partitions=2,
                mongodb_prefix=f"{tag}_", search_index_name=f"{tag}-summaries")


def make_settings(data_dir: Path, **overrides) -> GatewaySettings:
    values = dict(
        data_dir=data_dir,
        environment="test",
        argon2_time_cost=1,
        argon2_memory_kib=1024,
        demo_data=False,
        poll_interval=0.01,
        log_level="WARNING",
        consumer_retry_base=0.01,
        write_limit=10_000,
        login_limit=10_000,
        signup_limit=10_000,
    )
    if DISTRIBUTED:
        values.update(distributed_values(data_dir))
    values.update(overrides)
    settings = GatewaySettings(**values)
    if DISTRIBUTED:
        _created_settings.append(settings)
    return settings


@pytest.fixture(autouse=True)
async def _drop_distributed_data():
    """In a distributed run, remove each test's topics, databases and index afterwards."""
    yield
    if DISTRIBUTED and _created_settings:
        from tests.engines import drop_installation

        seen = set()
        while _created_settings:
            settings = _created_settings.pop()
            if settings.kafka_prefix not in seen:
                seen.add(settings.kafka_prefix)
                await drop_installation(settings)


def pytest_collection_modifyitems(config, items) -> None:
    if not DISTRIBUTED:
        return
    reason = "reads the embedded engines' files directly; runs in the embedded tier"
    for item in items:
        if item.get_closest_marker("embedded_only"):
            item.add_marker(pytest.mark.skip(reason=reason))


class Server:
    """uvicorn on an ephemeral loopback port, in the test's event loop."""

    def __init__(self, app: FastAPI) -> None:
        self.app = app
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="on", access_log=False))
        self.task: asyncio.Task | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def __aenter__(self) -> "Server":
        self.task = asyncio.create_task(self.server.serve(sockets=[self.sock]))
        while not self.server.started:
            if self.task.done():
                self.task.result()
            await asyncio.sleep(0.01)
        return self

    async def __aexit__(self, *exc) -> None:
        self.server.should_exit = True
        assert self.task is not None
        await self.task
        self.sock.close()


@dataclass
class Platform:
    client: httpx.AsyncClient
    app: FastAPI
    settings: GatewaySettings
    url: str

    async def user(self, name: str | None = None, *, roles: set[str] | None = None) -> dict:
        """Sign up and log in a fresh user; returns {'id', 'username', 'headers'}."""
        name = name or f"user{next(_counter)}"
        r = await self.client.post("/api/v1/auth/signup",
                                   json={"username": name, "email": f"{name}@example.org", "password": "correct horse 1"})
        assert r.status_code == 201, r.text
        user = r.json()
        if roles:
            gw = self.app.state.gateway
            for role in roles:
                await gw.identity.grant(name, role)
        r = await self.client.post("/api/v1/auth/login", json={"username": name, "password": "correct horse 1"})
        assert r.status_code == 200, r.text
        return {"id": user["id"], "username": name, "headers": {"Authorization": f"Bearer {r.json()['access_token']}"}}

    async def paper(self, who: dict, **overrides) -> dict:
        n = next(_counter)
        body = {"title": f"A Study of Things {n}", "authors": ["Ada Lovelace", "Alan Turing"], "venue": "ICLR",
                "year": 2020, "identifiers": {"arxiv": f"2001.{n:05d}"}}
        body.update(overrides)
        r = await self.client.post("/api/v1/papers", json=body, headers=who["headers"])
        assert r.status_code == 201, r.text
        return r.json()

    async def summary(self, who: dict, paper_id: str, body: str = "A fine summary with $x^2$.", **extra) -> dict:
        r = await self.client.post(f"/api/v1/papers/{paper_id}/summaries", json={"body": body, **extra},
                                   headers=who["headers"])
        assert r.status_code == 201, r.text
        return r.json()


async def start_platform(data_dir: Path, **overrides) -> tuple[Server, Platform]:
    from shortscience.allinone import create_allinone_app

    settings = make_settings(data_dir, **overrides)
    server = Server(create_allinone_app(settings))
    await server.__aenter__()
    client = httpx.AsyncClient(base_url=server.url, timeout=10)
    return server, Platform(client, server.app, settings, server.url)


@pytest.fixture
async def platform(tmp_path) -> AsyncIterator[Platform]:
    server, plat = await start_platform(tmp_path)
    try:
        yield plat
    finally:
        await plat.client.aclose()
        await server.__aexit__()


def pytest_configure(config) -> None:
    from backbone.logs import configure_logging

    configure_logging("WARNING", json=True)


def pytest_asyncio_loop_factories(config, item):
    """Run async tests on uvloop, as the platform runs in production. On the default
    asyncio loop a keep-alive request between a client and a server in one process
    waits ~40 ms for a delayed ACK; uvloop answers in ~1 ms, so the suite runs fast."""
    import uvloop

    return {"uvloop": uvloop.new_event_loop}
