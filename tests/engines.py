"""Real engines for the tests that need them (pytest plugin, loaded by tests/conftest.py).

Each fixture finds its engine in this order:
1. the address in the environment (`KAFKA_BOOTSTRAP_SERVERS`, `MONGODB_URL`,
   `OPENSEARCH_URL` / `ELASTICSEARCH_URL`), as `make engines` prints them and `.ci/run` sets;
2. a container started through the Docker SDK when a Docker daemon answers;
3. otherwise the test is skipped, with the reason.

With `SHORTSCIENCE_REQUIRE_ENGINES=1` (CI sets it after `make engines`) a missing engine is
a failure instead of a skip, so CI can never pass by skipping the real-engine tier.
"""

from __future__ import annotations

import itertools
import os
import socket
import time
import uuid
from dataclasses import dataclass
from urllib.parse import urlparse

import pytest

_names = itertools.count(1)


@dataclass(frozen=True)
class SearchEngine:
    kind: str  # "opensearch" | "elasticsearch"
    url: str


def unique_prefix(tag: str) -> str:
    """A fresh name prefix for topics, groups, databases and indexes, so tests sharing one
    engine never see each other's data."""
    return f"t{uuid.uuid4().hex[:8]}{next(_names)}_{tag}_"


def _missing(reason: str):
    if os.environ.get("SHORTSCIENCE_REQUIRE_ENGINES", "").lower() in {"1", "true", "yes"}:
        pytest.fail(f"{reason} (SHORTSCIENCE_REQUIRE_ENGINES is set, so this is a failure, not a skip)")
    pytest.skip(reason)


def _reachable(host: str, port: int, timeout: float = 1.0) -> bool:
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def _docker():
    """A Docker client when a daemon answers, else None."""
    host = os.environ.get("DOCKER_HOST", "unix:///var/run/docker.sock")
    if host.startswith("unix://") and not os.path.exists(host.removeprefix("unix://")):
        # No socket, no daemon; and docker-py's failed connect would leak a socket, which
        # surfaces as a ResourceWarning (an error here) in whichever test runs next.
        return None
    try:
        import docker

        client = docker.from_env(timeout=5)
        client.ping()
        return client
    except Exception:
        return None


class _Container:
    """One engine container on a random loopback port, removed at the end of the session."""

    def __init__(self, client, image: str, port: int, **options) -> None:
        self.container = client.containers.run(
            image, detach=True, remove=True, ports={f"{port}/tcp": ("127.0.0.1", None)}, **options
        )
        deadline = time.monotonic() + 120
        while True:
            self.container.reload()
            binding = (self.container.ports.get(f"{port}/tcp") or [None])[0]
            if binding:
                self.port = int(binding["HostPort"])
                break
            if time.monotonic() > deadline:
                raise RuntimeError(f"{image}: no port binding")
            time.sleep(0.2)

    def wait(self, probe, what: str, timeout: float = 180) -> None:
        deadline = time.monotonic() + timeout
        while not probe():
            if time.monotonic() > deadline:
                raise RuntimeError(f"{what} did not become ready")
            time.sleep(0.5)

    def stop(self) -> None:
        try:
            self.container.stop(timeout=5)
        except Exception:
            pass


def _wait_http(url: str) -> bool:
    import httpx

    try:
        return httpx.get(url, timeout=2).status_code < 500
    except httpx.HTTPError:
        return False


@pytest.fixture(scope="session")
def kafka_bootstrap():
    """`host:port` of a Kafka broker (KRaft)."""
    servers = os.environ.get("KAFKA_BOOTSTRAP_SERVERS")
    if servers:
        yield servers
        return
    client = _docker()
    if client is None:
        _missing("Kafka: KAFKA_BOOTSTRAP_SERVERS is not set and no Docker daemon answers (run `make engines`)")
    host_port = _free_port()
    box = _KafkaContainer(client, host_port)
    try:
        yield f"127.0.0.1:{box.port}"
    finally:
        box.stop()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class _KafkaContainer(_Container):
    def __init__(self, client, host_port: int) -> None:
        self.container = client.containers.run(
            "apache/kafka:4.1.0", detach=True, remove=True, ports={"9092/tcp": ("127.0.0.1", host_port)},
            environment={
                "KAFKA_NODE_ID": "1",
                "KAFKA_PROCESS_ROLES": "broker,controller",
                "KAFKA_LISTENERS": "PLAINTEXT://:9092,CONTROLLER://:9093",
                "KAFKA_ADVERTISED_LISTENERS": f"PLAINTEXT://127.0.0.1:{host_port}",
                "KAFKA_CONTROLLER_LISTENER_NAMES": "CONTROLLER",
                "KAFKA_CONTROLLER_QUORUM_VOTERS": "1@localhost:9093",
                "KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR": "1",
                "KAFKA_TRANSACTION_STATE_LOG_REPLICATION_FACTOR": "1",
                "KAFKA_TRANSACTION_STATE_LOG_MIN_ISR": "1",
                "KAFKA_GROUP_INITIAL_REBALANCE_DELAY_MS": "0",
            },
        )
        self.port = host_port
        self.wait(lambda: _reachable("127.0.0.1", host_port), "Kafka container")


@pytest.fixture(scope="session")
def mongodb_url():
    """A MongoDB-protocol server URL (MongoDB, or FerretDB from `make engines`)."""
    url = os.environ.get("MONGODB_URL")
    if url:
        yield url
        return
    client = _docker()
    if client is None:
        _missing("MongoDB: MONGODB_URL is not set and no Docker daemon answers (run `make engines`)")
    box = _Container(client, "mongo:8.0", 27017)
    box.wait(lambda: _reachable("127.0.0.1", box.port), "MongoDB container")
    try:
        yield f"mongodb://127.0.0.1:{box.port}/?directConnection=true"
    finally:
        box.stop()


@pytest.fixture(scope="session")
def search_engine():
    """An OpenSearch or Elasticsearch node: `SearchEngine(kind, url)`."""
    for kind, var in (("opensearch", "OPENSEARCH_URL"), ("elasticsearch", "ELASTICSEARCH_URL")):
        url = os.environ.get(var)
        if url:
            yield SearchEngine(kind, url.rstrip("/"))
            return
    client = _docker()
    if client is None:
        _missing("Search engine: neither OPENSEARCH_URL nor ELASTICSEARCH_URL is set and no Docker daemon "
                 "answers (run `make engines`)")
    box = _Container(
        client, "docker.elastic.co/elasticsearch/elasticsearch:8.19.3", 9200,
        environment={"discovery.type": "single-node", "xpack.security.enabled": "false",
                     "ES_JAVA_OPTS": "-Xms512m -Xmx512m"},
    )
    url = f"http://127.0.0.1:{box.port}"
    box.wait(lambda: _wait_http(url), "Elasticsearch container")
    try:
        yield SearchEngine("elasticsearch", url)
    finally:
        box.stop()


def engine_host_port(url: str, default_port: int) -> tuple[str, int]:
    parsed = urlparse(url if "://" in url else f"tcp://{url}")
    return parsed.hostname or "127.0.0.1", parsed.port or default_port


async def drop_installation(settings) -> None:
    """Remove what a distributed test platform left in the shared engines: its Kafka topics,
    its MongoDB databases and its search indexes (names carry the test's own prefix)."""
    import httpx

    if settings.events == "kafka":
        from aiokafka.admin import AIOKafkaAdminClient

        admin = AIOKafkaAdminClient(bootstrap_servers=settings.kafka_bootstrap_servers)
        await admin.start()
        try:
            topics = [t for t in await admin.list_topics() if t.startswith(settings.kafka_prefix)]
            if topics:
                await admin.delete_topics(topics)
        finally:
            await admin.close()
    if settings.store == "mongo":
        from pymongo import AsyncMongoClient

        client = AsyncMongoClient(settings.mongodb_url, serverSelectionTimeoutMS=5000)
        try:
            for name in await client.list_database_names():
                if name.startswith(settings.mongodb_prefix):
                    await client.drop_database(name)
        finally:
            await client.close()
    if settings.search in {"opensearch", "elasticsearch"}:
        async with httpx.AsyncClient(base_url=settings.search_engine_url, timeout=30) as client:
            # By name: Elasticsearch 8 refuses wildcard deletes (action.destructive_requires_name).
            listed = await client.get(f"/_cat/indices/{settings.search_index_name}*",
                                      params={"format": "json", "h": "index", "expand_wildcards": "all"})
            names = [row["index"] for row in listed.json()] if listed.status_code == 200 else []
            if names:
                await client.delete("/" + ",".join(names))
