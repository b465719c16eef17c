"""`python -m bench.search`: the search service on a large synthetic corpus.

1. Writes a deterministic corpus (`--summaries`, default 100,000) as events into a fresh
   event log, as the summaries and papers services would have published them.
2. Rebuilds the search index from that log in-process, exactly as `shortscience reindex`
   does, and reports the build rate (summaries/s).
3. Starts the all-in-one platform on that data and measures through the gateway over
   HTTP: search p50/p99 over a fixed mix of `--queries` queries (one request at a time),
   overall and per kind of query, suggest p50/p99, and freshness (POST of a summary ->
   findable by search) over `--writes` writes. A bare FastAPI endpoint returning a search
   answer's bytes is measured with the same client in the same run as the baseline.
Prints JSON (and writes bench/results/search.json); exit code 0 whatever the figures.

`--backends search` runs the same on the search engine of `make engines` (OpenSearch, or
Elasticsearch when only ELASTICSEARCH_URL is set) with the embedded event log and stores,
which isolates the engine; `--backends distributed` runs everything on the real engines
(Kafka, MongoDB, the search engine). Their figures go to search-<backends>.json; the
targets are the embedded ones and are reported for the embedded run only. The run's
topics, databases and indexes are deleted at the end.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib
import os
import platform
import sys
import tempfile
import time
import typing
from pathlib import Path

import aiohttp
import uvloop
from rich.console import Console

from backbone.runtime import make_event_log
from bench.corpus import QUERY_KINDS, Corpus
from bench.load import percentile
from bench.output import emit
from bench.processes import ProcessGroup, clean_env, free_port
from bench.topologies import allinone, distributed_env
from shortscience.cli import SERVICES

RESULTS = Path(__file__).resolve().parent / "results" / "search.json"
TARGETS = {"search_p99_ms": 30.0, "suggest_p99_ms": 10.0, "reindex_per_s": 2000.0, "freshness_p99_ms": 250.0}
console = Console(stderr=True, log_path=False)


def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m bench.search", description=__doc__.splitlines()[0])
    p.add_argument("--summaries", type=int, default=100_000)
    p.add_argument("--queries", type=int, default=1_000)
    p.add_argument("--suggests", type=int, default=500)
    p.add_argument("--writes", type=int, default=200)
    p.add_argument("--backends", choices=["embedded", "search", "distributed"], default="embedded",
                   help="embedded (default); search: only the search engine is a real server; "
                        "distributed: Kafka, MongoDB and the search engine (`make engines`)")
    p.add_argument("--output", type=Path, default=None, help=f"where to write the JSON (default {RESULTS} "
                                                              "or search-<backends>.json beside it)")
    opts = p.parse_args(argv)
    if opts.output is None:
        opts.output = RESULTS if opts.backends == "embedded" else RESULTS.with_name(f"search-{opts.backends}.json")
    return opts


def backend_env(backends: str) -> dict[str, str]:
    """The platform's environment for the chosen backends, with names of this run's own."""
    if backends == "embedded":
        return {}
    env = distributed_env()
    if not (os.environ.get("OPENSEARCH_URL") or os.environ.get("ELASTICSEARCH_URL")):
        raise SystemExit("set OPENSEARCH_URL or ELASTICSEARCH_URL (run `make engines`)")
    if backends == "search":
        env = {k: v for k, v in env.items() if k in ("SHORTSCIENCE_SEARCH", "SHORTSCIENCE_SEARCH_INDEX_NAME")}
    return env


def setting_values(env: dict[str, str]) -> dict[str, str]:
    """The same choices as settings arguments (this process builds services in-process too)."""
    return {k.removeprefix("SHORTSCIENCE_").lower(): v for k, v in env.items()}


def search_settings(data_dir: Path, values: dict):
    from services.search.config import SearchSettings

    return SearchSettings(data_dir=data_dir, **values)


def stats(latencies: list[float]) -> dict:
    ordered = sorted(latencies)
    return {"count": len(ordered), "p50_ms": round(percentile(ordered, 0.5) * 1000, 2),
            "p99_ms": round(percentile(ordered, 0.99) * 1000, 2)}


async def write_corpus(data_dir: Path, corpus: Corpus, n_summaries: int, values: dict) -> None:
    log = make_event_log(search_settings(data_dir, values))
    await log.start()
    batch = []
    for envelope in corpus.events(max(n_summaries * 6 // 10, 1), n_summaries):
        batch.append(envelope)
        if len(batch) == 5_000:
            await log.publish(batch)
            batch = []
    await log.publish(batch)
    await log.close()


async def reindex(data_dir: Path, values: dict) -> tuple[int, float]:
    from services.search.bootstrap import bootstrap

    settings = search_settings(data_dir, values)
    log = make_event_log(settings)
    await log.start()
    runtime = bootstrap(settings, event_log=log)
    await runtime.start(background=False)
    started = time.perf_counter()
    applied = await runtime.api.rebuild(log)
    elapsed = time.perf_counter() - started
    count = await runtime.api.index.count()
    # Every live consumer group starts at the end: the rebuild did the search's work, the
    # summaries service's own store is not read here, and the corpus is history (nothing
    # for the social service to post). Otherwise the platform would replay the whole log
    # at start-up.
    for group, topics in consumer_groups(data_dir, log, values).items():
        await commit_to_end(log, group, topics)
    await runtime.stop()
    await log.close()
    return count, elapsed if applied else float("nan")


async def commit_to_end(log, group: str, topics: list[str]) -> None:
    """Commit `group` at the end of its topics, through the event-log port: a seek is only a
    position on Kafka, so the group reads each partition's last record and commits it."""
    ends = await log.partition_end_offsets(topics)
    consumer = log.consumer(group, topics)
    try:
        for (topic, partition), end in ends.items():
            if end:
                await consumer.seek(topic, end - 1, partition)
        waiting = {tp for tp, end in ends.items() if end}
        while waiting:
            records = await consumer.poll(1000, 1.0)
            await consumer.commit(records)
            waiting -= {(r.topic, r.partition) for r in records if r.offset == ends[r.topic, r.partition] - 1}
    finally:
        await consumer.close()


def consumer_groups(data_dir: Path, log, values: dict) -> dict[str, list[str]]:
    """The consumer groups the platform runs, with their topics, from each service's own
    wiring (built, not started)."""
    groups = {}
    for name in SERVICES:
        if name == "gateway":
            continue
        bootstrap = importlib.import_module(f"services.{name}.bootstrap").bootstrap
        settings = typing.get_type_hints(bootstrap)["settings"](data_dir=data_dir, **values)
        for runner in bootstrap(settings, event_log=log).consumers:
            groups[runner.group] = list(runner.topics)
    return groups


async def timed_gets(http: aiohttp.ClientSession, url: str, params_list: list) -> tuple[list[float], int]:
    latencies, errors = [], 0
    for params in params_list:
        started = time.perf_counter()
        async with http.get(url, params=params) as resp:
            await resp.read()
            if resp.status != 200:
                errors += 1
                continue
        latencies.append(time.perf_counter() - started)
    return latencies, errors


WRITES_PER_WRITER = 50  # a user's writes stay well within the gateway's write rate limit (120 per window)


async def writer(http: aiohttp.ClientSession, base: str, n: int) -> dict[str, str]:
    """The auth header of a freshly signed-up user."""
    account = {"username": f"benchwriter{n}", "email": f"bench{n}@example.org", "password": "bench-password-1"}
    async with http.post(base + "/api/v1/auth/signup", json=account) as r:
        assert r.status == 201, await r.text()
    async with http.post(base + "/api/v1/auth/login", json={k: account[k] for k in ("username", "password")}) as r:
        return {"Authorization": "Bearer " + (await r.json())["access_token"]}


async def freshness(http: aiohttp.ClientSession, base: str, writes: int) -> tuple[list[float], int]:
    """Each probe registers a paper and publishes a summary of it (two writes), then
    searches for the summary's unique word until it is found."""
    latencies, lost = [], 0
    headers: dict[str, str] = {}
    for i in range(writes):
        if i % (WRITES_PER_WRITER // 2) == 0:
            headers = await writer(http, base, i)
        async with http.post(base + "/api/v1/papers", headers=headers,
                             json={"title": f"Freshness probe {i}", "authors": ["Bench Mark"]}) as r:
            assert r.status == 201, await r.text()
            paper_id = (await r.json())["id"]
        token = f"zfresh{i}x"
        async with http.post(f"{base}/api/v1/papers/{paper_id}/summaries", headers=headers,
                             json={"body": f"A probe summary carrying the word {token}."}) as r:
            assert r.status == 201, await r.text()
        written = time.perf_counter()
        while True:
            async with http.get(base + "/api/v1/search", params={"q": token}) as r:
                if (await r.json())["total"] >= 1:
                    latencies.append(time.perf_counter() - written)
                    break
            if time.perf_counter() - written > 10:
                lost += 1
                break
            await asyncio.sleep(0.002)
    return latencies, lost


async def drop_run_data(data_dir: Path, values: dict) -> None:
    """Delete this run's topics, databases and indexes from the shared engines."""
    from tests.engines import drop_installation  # the tests' own clean-up, for the same names

    await drop_installation(search_settings(data_dir, values))


async def run(opts: argparse.Namespace) -> dict:
    env = backend_env(opts.backends)
    values = setting_values(env)
    with tempfile.TemporaryDirectory(prefix="shortscience-bench-search-") as tmp:
        data_dir = Path(tmp) / "data"
        data_dir.mkdir()
        try:
            return await measure(opts, Path(tmp), env, values)
        finally:
            if env:
                await drop_run_data(data_dir, values)


async def measure(opts: argparse.Namespace, tmp: Path, env: dict[str, str], values: dict) -> dict:
    corpus = Corpus()
    data_dir, log_dir = tmp / "data", tmp / "logs"
    log_dir.mkdir()
    console.log(f"backends: {opts.backends} {env or ''}")
    console.log(f"writing a corpus of {opts.summaries:,} summaries as events")
    started = time.perf_counter()
    await write_corpus(data_dir, corpus, opts.summaries, values)
    console.log(f"  done in {time.perf_counter() - started:.1f} s")
    console.log("rebuilding the search index from the log (as `shortscience reindex`)")
    count, elapsed = await reindex(data_dir, values)
    console.log(f"  {count:,} summaries indexed in {elapsed:.1f} s: {count / elapsed:,.0f}/s")
    replay = Corpus()  # the same seed: the same papers, so phrases and prefixes hit
    papers = replay.papers(max(opts.summaries * 6 // 10, 1))
    queries, prefixes = replay.queries(opts.queries, papers), replay.prefixes(opts.suggests, papers)

    async with allinone(data_dir, log_dir, **env) as base, aiohttp.ClientSession() as http:
        console.log("search through the gateway")
        await timed_gets(http, base + "/api/v1/search", queries[:50])  # warm-up
        search_lat, search_err = await timed_gets(http, base + "/api/v1/search", queries)
        console.log(f"  {stats(search_lat)}")
        async with http.get(base + "/api/v1/search", params=queries[0]) as r:
            sample = await r.read()
        suggest_lat, suggest_err = await timed_gets(
            http, base + "/api/v1/search/suggest", [{"q": p} for p in prefixes])
        console.log(f"  suggest {stats(suggest_lat)}")
        console.log(f"freshness over {opts.writes} writes")
        fresh_lat, lost = await freshness(http, base, opts.writes)
        console.log(f"  {stats(fresh_lat)}, {lost} not found within 10 s")
        if lost:
            platform_log = (log_dir / "allinone.log").read_text(errors="replace").splitlines()
            console.log("the platform's log ends with:\n" + "\n".join(platform_log[-30:]))

    (tmp / "payload").write_bytes(sample)
    port = free_port()
    argv = [sys.executable, "-m", "uvicorn", "bench.search:baseline_app", "--factory", "--host", "127.0.0.1",
            "--port", str(port), "--loop", "uvloop", "--http", "httptools", "--no-access-log",
            "--log-level", "warning"]
    with ProcessGroup(log_dir, clean_env(BENCH_SEARCH_PAYLOAD=str(tmp / "payload"))) as group:
        server = group.start("search-baseline", argv, port)
        await server.wait_ready()
        async with aiohttp.ClientSession() as http:
            await timed_gets(http, server.url + "/api/v1/search", queries[:50])
            base_lat, _ = await timed_gets(http, server.url + "/api/v1/search", queries)

    search, suggest, fresh = stats(search_lat), stats(suggest_lat), stats(fresh_lat)
    figures = {
        "search_p99_ms": search["p99_ms"], "suggest_p99_ms": suggest["p99_ms"],
        "reindex_per_s": round(count / elapsed), "freshness_p99_ms": fresh["p99_ms"],
    }
    result = {
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version()},
        "backends": {"chosen": opts.backends, "events": values.get("events", "sqlite"),
                     "store": values.get("store", "sqlite"), "search": values.get("search", "fts5")},
        "corpus": {"summaries": count, "papers": len(papers), "queries": len(queries)},
        "search": {**search, "errors": search_err},
        # Latencies are in query order, so the mix's kinds can be told apart when none failed.
        "search_by_kind": {kind: stats(search_lat[i::len(QUERY_KINDS)]) for i, kind in enumerate(QUERY_KINDS)}
        if not search_err else None,
        "suggest": {**suggest, "errors": suggest_err},
        "baseline_same_client": stats(base_lat),
        "search_p50_vs_baseline_p50": round(search["p50_ms"] / max(stats(base_lat)["p50_ms"], 1e-9), 1),
        "reindex": {"summaries": count, "seconds": round(elapsed, 2), "per_s": figures["reindex_per_s"]},
        "freshness": {**fresh, "not_found": lost},
    }
    if opts.backends == "embedded":  # the targets are the embedded default's
        result["targets"] = {
            name: {"target": target, "measured": figures[name],
                   "met": figures[name] >= target if name == "reindex_per_s" else figures[name] <= target}
            for name, target in TARGETS.items()}
    return result


def baseline_app():
    from fastapi import FastAPI, Response

    payload = Path(os.environ["BENCH_SEARCH_PAYLOAD"]).read_bytes()
    app = FastAPI()

    @app.get("/readyz")
    async def readyz() -> Response:
        return Response(b'{"ready":true}', media_type="application/json")

    @app.get("/api/v1/search")
    async def search() -> Response:
        return Response(payload, media_type="application/json")

    return app


def main(argv=None) -> None:
    opts = parse_args(argv)
    result = uvloop.run(run(opts))
    emit(result, opts.output)
    if "targets" in result:
        missed = [name for name, t in result["targets"].items() if not t["met"]]
        console.print("search targets: " + ("all met" if not missed else "missed: " + ", ".join(missed)))


if __name__ == "__main__":
    main()
