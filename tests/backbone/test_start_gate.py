"""A service whose engine is out of reach still starts serving: healthy, not ready, 503 for
everything else, one log line per attempt naming the engine and its address; once the
engine answers it connects by itself and serves."""

from __future__ import annotations

import httpx
import structlog
from fastapi import APIRouter

from backbone.app import create_service_app
from backbone.errors import EngineUnavailable
from backbone.identity import INTERNAL_SECRET_HEADER
from backbone.eventlog.sqlite import SqliteEventLog
from backbone.runtime import Runtime
from tests.conftest import Server
from tests.helpers import eventually


class Engine:
    """A resource whose engine refuses connections until `reachable` is set."""

    def __init__(self) -> None:
        self.reachable = False
        self.attempts = 0
        self.open = False

    async def start(self) -> None:
        self.attempts += 1
        if not self.reachable:
            raise EngineUnavailable("MongoDB", "mongodb://db.example:27017", "connection refused")
        self.open = True

    async def close(self) -> None:
        self.open = False

    async def ping(self) -> bool:
        return self.open


def make_app(tmp_path, engine: Engine):
    runtime = Runtime(name="papers", event_log=SqliteEventLog(tmp_path / "events.db"), api=object(),
                      resources=[engine], retry_base=0.02, retry_max=0.05)
    router = APIRouter()

    @router.get("/things")
    async def things():
        return {"things": []}

    return create_service_app(runtime, router, internal_secret="s3cret"), runtime


async def test_unreachable_engine_serves_health_but_not_readiness_then_recovers(tmp_path):
    engine = Engine()
    app, runtime = make_app(tmp_path, engine)
    with structlog.testing.capture_logs() as logs:
        async with Server(app) as server, httpx.AsyncClient(base_url=server.url) as client:
            assert (await client.get("/healthz")).status_code == 200
            ready = await client.get("/readyz")
            assert ready.status_code == 503 and ready.json()["ready"] is False

            r = await client.get("/things", headers={INTERNAL_SECRET_HEADER: "s3cret"})
            assert r.status_code == 503
            assert r.headers["content-type"].startswith("application/problem+json")
            assert "MongoDB at mongodb://db.example:27017" in r.json()["detail"]
            assert r.headers["retry-after"]
            assert "Traceback" not in r.text

            await eventually(lambda: engine.attempts >= 3)
            assert not runtime.started

            engine.reachable = True
            await eventually(lambda: runtime.started)
            assert (await client.get("/readyz")).status_code == 200
            r = await client.get("/things", headers={INTERNAL_SECRET_HEADER: "s3cret"})
            assert r.status_code == 200 and r.json() == {"things": []}

    failures = [e for e in logs if e["event"] == "engine_unavailable"]
    assert len(failures) >= 3
    assert failures[0]["engine"] == "MongoDB" and failures[0]["url"] == "mongodb://db.example:27017"
    assert failures[0]["reason"] == "connection refused"
    assert not engine.open  # closed with the app


async def test_failed_start_closes_what_it_opened(tmp_path):
    class Opened:
        closed = False

        async def start(self):
            pass

        async def close(self):
            Opened.closed = True

    engine = Engine()
    runtime = Runtime(name="papers", event_log=SqliteEventLog(tmp_path / "events.db"), api=object(),
                      resources=[Opened(), engine])
    try:
        await runtime.start()
    except EngineUnavailable as exc:
        assert exc.engine == "MongoDB"
    else:
        raise AssertionError("start should have failed")
    assert Opened.closed and not runtime.started
    assert not await runtime.ready()
