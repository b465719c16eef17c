"""The fault scenario, the same on both backends: a steady stream of writes through the
gateway while consumers are killed, the writes' owner dies between commit and publish, the
event log goes away and comes back; then a consumer's handler fails until its events are
dead-lettered and replayed. Afterwards nothing acknowledged may be missing anywhere."""

from __future__ import annotations

import asyncio
import json
import os
import random
import re
from collections import Counter, defaultdict
from dataclasses import dataclass
from pathlib import Path

import httpx

from backbone.faults import HANDLER_ERRORS, RELAY_CRASH
from tests.faults.cluster import ADMIN, Cluster
from tests.faults.workload import Stream, index_differences, login, social_differences, store_differences
from tests.helpers import eventually

HEAVY = os.environ.get("SHORTSCIENCE_FAULTS_HEAVY", "").lower() in {"1", "true", "yes"}
ARTIFACTS = Path(__file__).resolve().parents[2] / "artifacts" / "faults"
CHANNELS = ("twitter", "facebook")
MAX_ATTEMPTS = 3  # SHORTSCIENCE_CONSUMER_MAX_ATTEMPTS in cluster.platform_env
RESULTS: dict[str, dict] = {}  # printed at the end of the session (tests/faults/conftest.py)


@dataclass
class Plan:
    writes: int
    workers: int
    consumer_kills: int  # per consumer (search, social)
    relay_crashes: int
    log_outages: int
    dead_letters: int = 2
    # The relay's crash comes at a batch drawn from this range: batches are small (one write)
    # on SQLite, large on the MongoDB outbox (a backlog of hundreds), so fewer come there.
    crash_batches: tuple[int, int] = (4, 12)

    @classmethod
    def for_run(cls, *, distributed: bool) -> "Plan":
        if HEAVY:
            return cls(writes=1500, workers=3, consumer_kills=6, relay_crashes=6, log_outages=3)
        if distributed:
            return cls(writes=150, workers=2, consumer_kills=1, relay_crashes=2, log_outages=1, crash_batches=(2, 5))
        return cls(writes=250, workers=3, consumer_kills=2, relay_crashes=2, log_outages=1)


def _relay_crash_env(rng: random.Random, index: int, batches: tuple[int, int]) -> dict[str, str]:
    point = ("before_publish", "after_publish")[index % 2]
    return {RELAY_CRASH: f"summaries:{point}:{rng.randint(*batches)}"}


async def run_scenario(cluster: Cluster, log, plan: Plan, *, variant: str, seed: int) -> dict:
    rng = random.Random(seed)
    journal_path = Path(cluster.env["SHORTSCIENCE_FAULT_JOURNAL"])
    faults: Counter = Counter()
    crashes_left = plan.relay_crashes

    # The owner of the writes starts armed: its relay kills its own process at a chosen batch.
    await cluster.start(summaries=_relay_crash_env(rng, 0, plan.crash_batches) if crashes_left else {})
    async with httpx.AsyncClient(base_url=cluster.gateway_url, timeout=30) as client:
        stream = Stream(client, seed=seed)
        await stream.setup()
        admin = await login(client, *ADMIN)

        async def kill_consumer(name: str) -> None:
            cluster[name].kill()
            faults[f"kill -9 {name}"] += 1
            await asyncio.sleep(rng.uniform(0.1, 1.0))
            await cluster.restart(name)

        async def relay_crash() -> None:
            nonlocal crashes_left
            code = await cluster["summaries"].wait_exit(timeout=120)
            assert code == -9, f"summaries exited with {code}, not by its relay's SIGKILL"
            done = plan.relay_crashes - crashes_left
            crashes_left -= 1
            faults[f"kill -9 summaries at {('before_publish', 'after_publish')[done % 2]}"] += 1
            armed = _relay_crash_env(rng, done + 1, plan.crash_batches) if crashes_left else {}
            await cluster.restart("summaries", **armed)

        async def outage() -> None:
            await log.outage()
            faults[f"{log.kind} event log outage"] += 1

        schedule = ([lambda: kill_consumer("search")] * plan.consumer_kills
                    + [lambda: kill_consumer("social")] * plan.consumer_kills
                    + [relay_crash] * plan.relay_crashes + [outage] * plan.log_outages)
        rng.shuffle(schedule)
        faults_over, sampling_over = asyncio.Event(), asyncio.Event()

        async def chaos() -> None:
            try:
                for fault in schedule:
                    await asyncio.sleep(rng.uniform(0.3, 1.5))
                    await fault()
            finally:
                faults_over.set()

        sampler = asyncio.create_task(stream.sample_versions(sampling_over))
        try:
            await asyncio.gather(stream.run_writes(plan.writes, until=faults_over, workers=plan.workers), chaos())
        finally:
            sampling_over.set()
            await sampler

        # Everything settles: the index, the social posts and the stores agree with the model.
        problems: list[str] = []

        async def consistent() -> bool:
            problems[:] = (await store_differences(stream) + await index_differences(stream)
                           + await social_differences(stream, admin, CHANNELS))
            return not problems

        try:
            await eventually(consistent, timeout=120, interval=1.0)
        except AssertionError:
            raise AssertionError(f"{len(problems)} differences after the faults:\n" + "\n".join(problems[:40]))

        dead = await dead_letter_phase(cluster, log, stream, plan)

        await eventually(consistent, timeout=60, interval=1.0)
        records, distinct = await log.counts()

    counts = {
        "variant": variant,
        "heavy": HEAVY,
        "writes_acknowledged": stream.counts.writes,
        "writes_by_kind": dict(stream.counts.acknowledged),
        "writes_repeated_after_unknown_outcome": stream.counts.repeated,
        "faults": dict(faults),
        "events_published": distinct,
        "log_records": records,
        **journal_counts(journal_path),
        **dead,
        "version_samples": stream.samples,
        "versions_went_backwards": len(stream.regressions),
        "items_lost": len(problems),
    }
    assert not stream.counts.unexpected, stream.counts.unexpected[:10]
    assert not stream.regressions, stream.regressions[:10]
    assert sum(v for k, v in faults.items() if k.startswith("kill -9 summaries")) == plan.relay_crashes
    save(variant, counts)
    return counts


async def dead_letter_phase(cluster: Cluster, log, stream: Stream, plan: Plan) -> dict:
    """The search handler fails for a while: its events are retried, then dead-lettered, the
    group moves on, and `shortscience dlq replay --group search` brings them back."""
    await stream.new_paper()  # room for new summaries; its event is handled before the errors start
    # Nothing left to redeliver, so the injected errors hit exactly the new events.
    await eventually(lambda: _zero(log.lag("search")), timeout=60, interval=0.5)
    cluster["search"].kill()
    await cluster.restart("search", **{HANDLER_ERRORS: f"search:{plan.dead_letters}"})
    failing = [await stream.new_summary(public=True) for _ in range(plan.dead_letters)]
    assert all(failing), "could not write the summaries for the dead-letter phase"

    async def listed() -> int:
        done = await asyncio.to_thread(cluster.cli, "dlq", "list", "--group", "search")
        assert done.returncode == 0, done.stdout + done.stderr
        return int(re.search(r"(\d+) dead letter", done.stdout).group(1))

    await eventually(lambda: _equals(listed(), plan.dead_letters), timeout=60, interval=1.0)
    after = await stream.new_summary(public=True)  # the group moved on past the dead letters
    await eventually(lambda: _found(stream, after), timeout=30, interval=0.2)
    for s in failing:
        assert s is not None and await stream.search_ids(stream.token(s.n, 1)) == [], "dead-lettered yet indexed"

    done = await asyncio.to_thread(cluster.cli, "dlq", "replay", "--group", "search")
    assert done.returncode == 0 and f"replayed {plan.dead_letters}, still failing 0" in done.stdout, done.stdout
    for s in failing:
        await eventually(lambda s=s: _found(stream, s), timeout=30, interval=0.2)
    assert await listed() == 0
    # Back to a healthy consumer for the final comparison.
    cluster["search"].kill()
    await cluster.restart("search")
    return {"dead_lettered": plan.dead_letters, "dead_letters_replayed": plan.dead_letters,
            "handler_attempts_per_dead_letter": MAX_ATTEMPTS}


async def _zero(value) -> bool:
    return await value == 0


async def _equals(value, expected) -> bool:
    return await value == expected


async def _found(stream: Stream, s) -> bool:
    return await stream.search_ids(stream.token(s.n, s.rev)) == [s.id]


def journal_counts(path: Path) -> dict:
    """From the fault journal: events the relays published more than once, records the
    consumer groups took more than once, and how many takes changed nothing because the
    group had already applied that version (duplicates suppressed)."""
    published: Counter = Counter()
    handled: dict[str, Counter] = defaultdict(Counter)
    suppressed: Counter = Counter()
    newest: dict[tuple[str, str], int] = {}
    if path.exists():
        for line in path.read_text().splitlines():
            entry = json.loads(line)
            if entry["kind"] == "published":
                published[entry["event_id"]] += 1
            elif entry["kind"] == "handled":
                group = entry["group"]
                handled[group][entry["event_id"]] += 1
                key = (group, entry["aggregate_id"])
                if entry["version"] <= newest.get(key, 0):
                    suppressed[group] += 1
                newest[key] = max(newest.get(key, 0), entry["version"])
    return {
        "relay_publishes": sum(published.values()),
        "relay_republished": sum(published.values()) - len(published),
        "redeliveries_seen": {g: sum(c.values()) - len(c) for g, c in sorted(handled.items())},
        "duplicates_suppressed": dict(sorted(suppressed.items())),
    }


def save(variant: str, counts: dict) -> None:
    RESULTS[variant] = counts
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / "last.json"
    try:
        previous = json.loads(path.read_text())
    except (OSError, ValueError):
        previous = {}
    previous[variant] = counts
    path.write_text(json.dumps(previous, indent=2, sort_keys=True) + "\n")
