"""Fault injection on the split platform (every service its own OS process).

During a steady stream of writes through the gateway: kill -9 the search and social
consumers at random moments and restart them; kill -9 the summaries service between its
database commit and its relay's publish (and between publish and outbox removal), through
the SIGKILL hook of backbone/faults.py; take the event log away and bring it back; then make
the search handler fail until events are dead-lettered, and replay them with
`shortscience dlq replay`. Afterwards every acknowledged write must be in its owner's store,
the index must equal the public state document by document, social must hold exactly one
post per (public summary, channel), and no version may go backwards.

`make test` runs the bounded variant; `make faults` (SHORTSCIENCE_FAULTS_HEAVY=1) more faults
and a longer stream. The counts are printed at the end and written to artifacts/faults/last.json.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from tests.engines import drop_installation, unique_prefix
from tests.faults.cluster import Cluster, platform_env
from tests.faults.eventlogs import EmbeddedLog, KafkaLog
from tests.faults.scenario import ARTIFACTS, HEAVY, Plan, run_scenario

pytestmark = [pytest.mark.slow, pytest.mark.timeout(1800 if HEAVY else 240)]


def _keep_logs(tmp_path: Path, variant: str) -> None:
    """The processes' logs and the journal, kept where pytest's temp-dir rotation cannot reach."""
    target = ARTIFACTS / f"{variant}-logs"
    shutil.rmtree(target, ignore_errors=True)
    shutil.copytree(tmp_path / "data" / "logs", target, dirs_exist_ok=True)
    if (tmp_path / "journal.jsonl").exists():
        shutil.copy(tmp_path / "journal.jsonl", target / "journal.jsonl")


def _show(counts: dict) -> None:
    print(json.dumps(counts, sort_keys=True))


async def test_nothing_is_lost_or_applied_twice_under_faults(tmp_path):
    env = platform_env(tmp_path / "data", tmp_path / "journal.jsonl")
    cluster = Cluster.create(tmp_path / "data", env)
    try:
        counts = await run_scenario(cluster, EmbeddedLog(tmp_path / "data" / "events.db"),
                                    Plan.for_run(distributed=False), variant="embedded", seed=8)
    finally:
        cluster.stop()
        _keep_logs(tmp_path, "embedded")
    _show(counts)
    assert counts["items_lost"] == 0 and counts["writes_acknowledged"] > 0


@pytest.mark.engine("kafka")
@pytest.mark.engine("mongo")
async def test_nothing_is_lost_or_applied_twice_under_faults_on_kafka_mongodb_and_search_engine(
        tmp_path, mongodb_url, search_engine):
    # The event log is a throwaway broker of this test's own (stopped and started by the
    # scenario); the document store and the search engine are the shared ones, under this
    # test's own prefixes. One process per service: FerretDB needs the stores' in-process lock.
    from tests.kafka.broker import ThrowawayBroker, kafka_jars

    broker = ThrowawayBroker(tmp_path / "broker", kafka_jars())
    await _to_thread(broker.start)
    prefix = unique_prefix("faults").replace("_", "-").lower()
    values = {
        "SHORTSCIENCE_EVENTS": "kafka",
        "SHORTSCIENCE_STORE": "mongo",
        "SHORTSCIENCE_SEARCH": search_engine.kind,
        "SHORTSCIENCE_KAFKA_BOOTSTRAP_SERVERS": broker.bootstrap_servers,
        "KAFKA_BOOTSTRAP_SERVERS": broker.bootstrap_servers,
        "SHORTSCIENCE_KAFKA_PARTITIONS": "2",
        "SHORTSCIENCE_KAFKA_PREFIX": f"{prefix}.",
        "SHORTSCIENCE_MONGODB_URL": mongodb_url,
        "SHORTSCIENCE_MONGODB_PREFIX": f"{prefix}_".replace("-", "_"),
        f"SHORTSCIENCE_{search_engine.kind.upper()}_URL": search_engine.url,
        "SHORTSCIENCE_SEARCH_INDEX_NAME": f"{prefix}-summaries",
    }
    env = platform_env(tmp_path / "data", tmp_path / "journal.jsonl", **values)
    cluster = Cluster.create(tmp_path / "data", env)
    log = KafkaLog(broker, f"{prefix}.", 2)
    try:
        await log.start()
        counts = await run_scenario(cluster, log, Plan.for_run(distributed=True), variant="distributed", seed=9)
    finally:
        cluster.stop()
        _keep_logs(tmp_path, "distributed")
        await log.close()
        await _to_thread(broker.stop)
        await drop_installation(_settings(values))
    _show(counts)
    assert counts["items_lost"] == 0 and counts["writes_acknowledged"] > 0


async def _to_thread(fn):
    import asyncio

    return await asyncio.to_thread(fn)


def _settings(values: dict[str, str]):
    """The names this test created in the shared engines, for `drop_installation`."""
    from gateway.config import GatewaySettings

    return GatewaySettings(
        events="sqlite",  # the topics died with the throwaway broker
        store="mongo", search=values["SHORTSCIENCE_SEARCH"], mongodb_url=values["SHORTSCIENCE_MONGODB_URL"],
        mongodb_prefix=values["SHORTSCIENCE_MONGODB_PREFIX"],
        search_index_name=values["SHORTSCIENCE_SEARCH_INDEX_NAME"],
        **{f"{values['SHORTSCIENCE_SEARCH']}_url": values[f"SHORTSCIENCE_{values['SHORTSCIENCE_SEARCH'].upper()}_URL"]},
    )
