"""The two ways the platform runs, and the baseline, each as separate OS processes.

Every function is an async context manager yielding the base URL to load; the processes
live exactly as long as the `async with` block."""

from __future__ import annotations

import os
import secrets
import sys
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from bench.processes import ProcessGroup, clean_env, free_port
from shortscience.cli import SERVICES

BIN = Path(sys.executable).parent
SHORTSCIENCE = str(BIN / "shortscience")
# Every service `shortscience serve` knows, so the split topology follows the platform as it grows.
SPLIT_SERVICES = tuple(s for s in SERVICES if s != "gateway")


def _platform_env(data_dir: Path, **values: str) -> dict[str, str]:
    return clean_env(
        SHORTSCIENCE_DATA_DIR=str(data_dir),
        SHORTSCIENCE_LOG_LEVEL="WARNING",
        SHORTSCIENCE_DEMO_DATA="false",
        **values,
    )


def engines_available() -> bool:
    """The real engines `make engines` starts are announced in the environment."""
    return bool(os.environ.get("KAFKA_BOOTSTRAP_SERVERS") and os.environ.get("MONGODB_URL")
                and (os.environ.get("OPENSEARCH_URL") or os.environ.get("ELASTICSEARCH_URL")))


def distributed_env() -> dict[str, str]:
    """Settings for the distributed backends, with names of this run's own (the engines are shared)."""
    tag = "bench" + uuid.uuid4().hex[:8]
    return {
        "SHORTSCIENCE_EVENTS": "kafka",
        "SHORTSCIENCE_STORE": "mongo",
        "SHORTSCIENCE_SEARCH": "opensearch" if os.environ.get("OPENSEARCH_URL") else "elasticsearch",
        "SHORTSCIENCE_KAFKA_PREFIX": f"{tag}.",
        "SHORTSCIENCE_MONGODB_PREFIX": f"{tag}_",
        "SHORTSCIENCE_SEARCH_INDEX_NAME": f"{tag}-summaries",
    }


@asynccontextmanager
async def allinone(data_dir: Path, log_dir: Path, **values: str) -> AsyncIterator[str]:
    """One process: the gateway calls the services' application layer in-process."""
    port = free_port()
    with ProcessGroup(log_dir, _platform_env(data_dir, **values)) as group:
        gateway = group.start("allinone", [SHORTSCIENCE, "run", "--port", str(port), "--no-demo"], port)
        await gateway.wait_ready()
        yield gateway.url


@asynccontextmanager
async def split(data_dir: Path, log_dir: Path, **values: str) -> AsyncIterator[str]:
    """One process per service, sharing the data dir (and so the event log file), and a
    gateway reaching them over HTTP with the shared internal secret. Only summaries (and
    papers, for an empty list) are on the measured path, but the gateway is ready only when
    every service is."""
    env = _platform_env(data_dir, SHORTSCIENCE_INTERNAL_SECRET=secrets.token_urlsafe(32), **values)
    with ProcessGroup(log_dir, env) as group:
        urls = {}
        for service in SPLIT_SERVICES:
            port = free_port()
            process = group.start(service, [SHORTSCIENCE, "serve", service, "--port", str(port)], port)
            await process.wait_ready()
            urls[f"SHORTSCIENCE_{service.upper()}_URL"] = process.url
        port = free_port()
        gateway = group.start("gateway", [SHORTSCIENCE, "serve", "gateway", "--port", str(port)], port, **urls)
        await gateway.wait_ready()
        yield gateway.url


@asynccontextmanager
async def baseline(payload_dir: Path, log_dir: Path) -> AsyncIterator[str]:
    """The bare FastAPI app of `bench.baseline`, run by uvicorn with the platform's flags."""
    port = free_port()
    argv = [sys.executable, "-m", "uvicorn", "bench.baseline:create_app", "--factory",
            "--host", "127.0.0.1", "--port", str(port), "--loop", "uvloop", "--http", "httptools",
            "--no-access-log", "--log-level", "warning", "--lifespan", "on"]
    with ProcessGroup(log_dir, clean_env(BENCH_PAYLOAD_DIR=str(payload_dir))) as group:
        server = group.start("baseline", argv, port)
        await server.wait_ready()
        yield server.url
