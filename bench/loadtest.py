"""`python -m bench.loadtest` (`make load`): the platform under a realistic mixed load.

1. Data: an installation of `--summaries` summaries (default 100,000 on 60,000 papers,
   2,000 users, a vote each): the export/restore benchmark's synthetic export, restored
   through the use cases, search index rebuilt from the log as `shortscience reindex` does.
   It is built once and cached under artifacts/loadtest/ (gitignored; `--rebuild` forces a
   new one); every run works on a fresh copy, so runs do not see each other's writes.
2. The platform runs as separate OS processes on loopback (`--topology allinone`, the
   default, or `split`: one process per service plus the gateway), embedded backends.
3. An asyncio client (aiohttp) offers open-loop arrivals (Poisson, so a slow answer does
   not slow the offered rate down) with the mix in `MIX`: 80% reads (home page, a paper
   page, summaries through the API, search), 15% votes and comments, 5% new summaries and
   revisions, by `--users` signed-up members. Latency counts from each request's scheduled
   arrival, so the client's own lag is charged to the platform, never hidden.
4. The knee: the offered rate starts at `--start-rate` and grows by `--factor` per step
   (`--step-seconds` each) until a step's p99 over all requests exceeds 250 ms (or errors
   appear, or `--max-rate`/the time budget is reached); if the first rate is already over,
   it halves until a rate holds (down to `--min-rate`). Then a longer sustained run
   (`--sustain-seconds`) at the last rate under the knee gives the per-endpoint figures.
   Each step records the machine's load average: on a shared machine the knee moves with it.
5. Search freshness under load: while each step runs, a probe member publishes a summary
   carrying a unique word every `--probe-interval` seconds and searches for it until found.

Bounded: every step stops scheduling after its duration, in-flight requests are capped
(`--max-in-flight`; arrivals beyond are counted as `shed`) and time out after 10 s, and the
whole measurement stops at `--budget` seconds. Prints JSON (also bench/results/load.json).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import random
import shutil
import tempfile
import time
from collections import defaultdict
from contextlib import AbstractAsyncContextManager
from pathlib import Path

import aiohttp
import orjson
import uvloop
from rich.console import Console

from bench.corpus import Corpus
from bench.load import percentile
from bench.output import emit

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results" / "load.json"
CACHE = ROOT / "artifacts" / "loadtest"
KNEE_P99_MS = 250.0
REQUEST_TIMEOUT_S = 10.0
# Endpoint -> weight (percent). Reads 80, votes and comments 15, summaries and revisions 5.
MIX = {
    "home": 15, "paper_page": 20, "api_summary": 15, "api_paper_summaries": 10, "search": 20,
    "vote": 10, "comment": 5,
    "summary_create": 3, "summary_revise": 2,
}
console = Console(stderr=True, log_path=False)


def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m bench.loadtest", description=__doc__.splitlines()[0])
    p.add_argument("--summaries", type=int, default=100_000, help="corpus size (papers: 60%% of it)")
    p.add_argument("--topology", choices=["allinone", "split"], default="allinone")
    p.add_argument("--users", type=int, default=200, help="members issuing the writes")
    p.add_argument("--start-rate", type=float, default=10.0, help="offered requests/s of the first step")
    p.add_argument("--factor", type=float, default=1.25, help="offered rate multiplier per step")
    p.add_argument("--max-rate", type=float, default=2_000.0)
    p.add_argument("--min-rate", type=float, default=2.0, help="lowest rate tried when the first step is over")
    p.add_argument("--p99-ms", type=float, default=KNEE_P99_MS, help="the knee's p99 bound")
    p.add_argument("--step-seconds", type=float, default=30.0)
    p.add_argument("--warmup-seconds", type=float, default=10.0)
    p.add_argument("--sustain-seconds", type=float, default=90.0, help="0: no sustained run")
    p.add_argument("--probe-interval", type=float, default=2.0, help="seconds between freshness probes")
    p.add_argument("--max-in-flight", type=int, default=1_000)
    p.add_argument("--budget", type=float, default=600.0, help="seconds of measurement at most (after setup)")
    p.add_argument("--seed", type=int, default=8)
    p.add_argument("--rebuild", action="store_true", help="build the corpus even if cached")
    p.add_argument("--cache-dir", type=Path, default=CACHE)
    p.add_argument("--output", type=Path, default=RESULTS)
    return p.parse_args(argv)


# -- the data -----------------------------------------------------------------------------

async def build_installation(data_dir: Path, n: int) -> dict:
    from bench.pages import rebuild_search
    from bench.portability import write_export
    from gateway.config import GatewaySettings
    from shortscience.portability import restore_all

    with tempfile.TemporaryDirectory(prefix="shortscience-load-export-") as export:
        started = time.perf_counter()
        write_export(Path(export), n)
        console.log(f"restoring {n:,} summaries through the use cases")
        settings = GatewaySettings(data_dir=data_dir, environment="test", events="sqlite", store="sqlite",
                                   search="fts5", argon2_time_cost=1, argon2_memory_kib=1024,
                                   poll_interval=0.25, log_level="WARNING")
        counts = await restore_all(settings, Path(export))
        restore_s = time.perf_counter() - started
    console.log(f"restored in {restore_s:.0f} s; rebuilding the search index from the log")
    started = time.perf_counter()
    await rebuild_search(data_dir)
    return {"counts": counts, "restore_s": round(restore_s, 1), "reindex_s": round(time.perf_counter() - started, 1)}


async def cached_installation(cache_dir: Path, n: int, rebuild: bool) -> tuple[Path, dict]:
    """The cached data dir for `n` summaries, built first if needed (atomically: a
    half-built one is never taken for a cached one)."""
    target = cache_dir / f"s{n}"
    marker = target / "built.json"
    if marker.exists() and not rebuild:
        return target / "data", {**orjson.loads(marker.read_bytes()), "cached": True}
    cache_dir.mkdir(parents=True, exist_ok=True)
    building = Path(tempfile.mkdtemp(prefix=f"building-s{n}-", dir=cache_dir))
    try:
        (building / "data").mkdir()
        info = await build_installation(building / "data", n)
        (building / "built.json").write_bytes(orjson.dumps(info))
        shutil.rmtree(target, ignore_errors=True)
        building.rename(target)
    finally:
        shutil.rmtree(building, ignore_errors=True)
    return target / "data", {**info, "cached": False}


# -- the platform -------------------------------------------------------------------------

def platform_values() -> dict[str, str]:
    """Cheap argon2 and high sign-up/login limits so setup takes seconds; the per-user write
    limit stays at its default (its 429s are counted, not errors)."""
    return {"SHORTSCIENCE_ARGON2_TIME_COST": "1", "SHORTSCIENCE_ARGON2_MEMORY_KIB": "1024",
            "SHORTSCIENCE_SIGNUP_LIMIT": "100000", "SHORTSCIENCE_LOGIN_LIMIT": "100000"}


def start_platform(topology: str, data_dir: Path, log_dir: Path) -> AbstractAsyncContextManager[str]:
    from bench import topologies

    # Social channels stay in dry-run: no credentials reach the processes, nothing leaves loopback.
    for name in [k for k in os.environ if k.startswith(("TWITTER_", "FACEBOOK_", "X_API"))]:
        os.environ.pop(name)
    start = topologies.allinone if topology == "allinone" else topologies.split
    return start(data_dir, log_dir, **platform_values())


# -- the client ---------------------------------------------------------------------------

class Member:
    def __init__(self, name: str, headers: dict[str, str]) -> None:
        self.name = name
        self.headers = headers
        self.papers: set[str] = set()  # papers this member summarised in this run


async def sign_up(http: aiohttp.ClientSession, base: str, name: str) -> Member:
    account = {"username": name, "email": f"{name}@example.org", "password": "load-password-1"}
    async with http.post(base + "/api/v1/auth/signup", json=account) as r:
        if r.status != 201:
            raise RuntimeError(f"sign-up of {name}: {r.status} {await r.text()}")
    async with http.post(base + "/api/v1/auth/login", json={"username": name, "password": account["password"]}) as r:
        if r.status != 200:
            raise RuntimeError(f"login of {name}: {r.status} {await r.text()}")
        return Member(name, {"Authorization": "Bearer " + (await r.json())["access_token"]})


class Workload:
    """Draws requests of the mix; knows the corpus ids and what members wrote."""

    def __init__(self, base: str, n_summaries: int, members: list[Member], seed: int) -> None:
        self.base = base
        self.n_summaries = n_summaries
        self.n_papers = max(n_summaries * 6 // 10, 1)
        self.members = members
        self.random = random.Random(seed)
        corpus = Corpus()
        self.words = [corpus.query_word() for _ in range(500)]
        self.kinds = list(MIX)
        self.weights = [MIX[k] for k in self.kinds]
        self.serial = 0
        self.written: list[tuple[Member, str]] = []  # summaries members published in this run

    def summary_id(self) -> str:
        return f"s{self.random.randrange(self.n_summaries):07d}"

    def paper_id(self) -> str:
        return f"p{self.random.randrange(self.n_papers):07d}"

    def draw(self) -> tuple[str, str, str, dict | None, dict | None, Member | None]:
        """(endpoint, method, path, json, params, member)."""
        kind = self.random.choices(self.kinds, self.weights)[0]
        rnd = self.random
        if kind == "home":
            return kind, "GET", "/", None, None, None
        if kind == "paper_page":
            return kind, "GET", f"/papers/{self.paper_id()}", None, None, None
        if kind == "api_summary":
            return kind, "GET", f"/api/v1/summaries/{self.summary_id()}", None, None, None
        if kind == "api_paper_summaries":
            return kind, "GET", f"/api/v1/papers/{self.paper_id()}/summaries", None, {"sort": "score"}, None
        if kind == "search":
            return kind, "GET", "/api/v1/search", None, {"q": rnd.choice(self.words)}, None
        member = rnd.choice(self.members)
        if kind == "vote":
            return kind, "PUT", f"/api/v1/summaries/{self.summary_id()}/vote", {"value": rnd.choice((1, 1, -1))}, \
                None, member
        if kind == "comment":
            body = f"Load comment {rnd.choice(self.words)} {rnd.choice(self.words)}."
            return kind, "POST", f"/api/v1/summaries/{self.summary_id()}/comments", {"body": body}, None, member
        if kind == "summary_revise" and self.written:
            author, summary_id = rnd.choice(self.written)  # its own author revises it
            body = self.summary_body(f"revised {rnd.choice(self.words)}")
            return kind, "PATCH", f"/api/v1/summaries/{summary_id}", {"body": body}, None, author
        # A new summary (also a revision's stand-in until someone has published one).
        paper = self.paper_id()
        while paper in member.papers:
            paper = self.paper_id()
        member.papers.add(paper)  # taken now, so two concurrent drafts never collide (409)
        return "summary_create", "POST", f"/api/v1/papers/{paper}/summaries", \
            {"body": self.summary_body("new")}, None, member

    def summary_body(self, tag: str) -> str:
        self.serial += 1
        words = " ".join(self.random.choice(self.words) for _ in range(60))
        return f"A {tag} load summary number {self.serial}. {words.capitalize()}. With $x^2$ and **emphasis**."


class Recorder:
    def __init__(self) -> None:
        self.latencies: dict[str, list[float]] = defaultdict(list)
        self.status: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
        self.error_samples: list[str] = []
        self.shed = 0
        self.max_lag = 0.0
        self.first = float("inf")
        self.last = 0.0

    def record(self, endpoint: str, status: str, scheduled: float, done: float) -> None:
        self.status[endpoint][status] += 1
        self.first = min(self.first, scheduled)
        self.last = max(self.last, done)
        if status.startswith("2"):
            self.latencies[endpoint].append(done - scheduled)

    def summary(self, duration: float) -> dict:
        endpoints = {}
        everything: list[float] = []
        totals = defaultdict(int)
        for endpoint in MIX:
            counts = self.status.get(endpoint, {})
            ok = sum(v for k, v in counts.items() if k.startswith("2"))
            limited = counts.get("429", 0)
            errors = sum(counts.values()) - ok - limited
            lat = sorted(self.latencies.get(endpoint, []))
            everything.extend(lat)
            totals["requests"] += sum(counts.values())
            totals["ok"] += ok
            totals["rate_limited"] += limited
            totals["errors"] += errors
            endpoints[endpoint] = {"requests": sum(counts.values()), "ok": ok, "rate_limited": limited,
                                   "errors": errors, **latency_stats(lat),
                                   **({"statuses": dict(counts)} if errors else {})}
        everything.sort()
        elapsed = max(self.last - self.first, duration, 1e-9)
        return {
            **totals, "shed": self.shed,
            "throughput_rps": round(totals["ok"] / elapsed, 1),
            "error_rate": round(totals["errors"] / max(totals["requests"], 1), 5),
            **latency_stats(everything), "client_max_lag_ms": round(self.max_lag * 1000, 1),
            "endpoints": endpoints, "error_samples": self.error_samples[:5],
        }


def latency_stats(ordered: list[float]) -> dict:
    if not ordered:
        return {"p50_ms": None, "p95_ms": None, "p99_ms": None}
    return {f"p{q}_ms": round(percentile(ordered, q / 100) * 1000, 1) for q in (50, 95, 99)}


async def one_request(http: aiohttp.ClientSession, workload: Workload, recorder: Recorder, scheduled: float,
                      request: tuple) -> None:
    endpoint, method, path, body, params, member = request
    headers = member.headers if member else None
    try:
        async with http.request(method, workload.base + path, json=body, params=params, headers=headers) as r:
            payload = await r.read()
            status = str(r.status)
            if endpoint == "summary_create" and r.status == 201:
                workload.written.append((member, orjson.loads(payload)["id"]))
            elif not (200 <= r.status < 300 or r.status == 429) and len(recorder.error_samples) < 20:
                recorder.error_samples.append(f"{endpoint} {method} {path} -> {r.status} {payload[:200]!r}")
    except (aiohttp.ClientError, asyncio.TimeoutError) as exc:
        status = type(exc).__name__
        if len(recorder.error_samples) < 20:
            recorder.error_samples.append(f"{endpoint} {method} {path} -> {status}")
    recorder.record(endpoint, status, scheduled, time.perf_counter())


async def offer(http: aiohttp.ClientSession, workload: Workload, rate: float, seconds: float,
                max_in_flight: int, record: bool = True) -> Recorder:
    """Open-loop Poisson arrivals at `rate` per second for `seconds`; waits for the stragglers."""
    recorder = Recorder()
    tasks: set[asyncio.Task] = set()
    rnd = random.Random(workload.random.random())
    start = time.perf_counter()
    next_at = start
    while True:
        next_at += rnd.expovariate(rate)
        if next_at - start >= seconds:
            break
        delay = next_at - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        else:
            recorder.max_lag = max(recorder.max_lag, -delay)
        if len(tasks) >= max_in_flight:
            recorder.shed += 1
            continue
        task = asyncio.create_task(one_request(http, workload, recorder, next_at, workload.draw()))
        tasks.add(task)
        task.add_done_callback(tasks.discard)
    if tasks:
        await asyncio.wait(tasks, timeout=REQUEST_TIMEOUT_S + 5)
    return recorder


async def probe_freshness(http: aiohttp.ClientSession, workload: Workload, member: Member, interval: float,
                          stop: asyncio.Event, out: dict) -> None:
    """Publish a summary with a unique word, then search for it until found (10 s at most)."""
    while not stop.is_set():
        token = f"zload{workload.random.randrange(10**9)}q"
        paper = workload.paper_id()
        while paper in member.papers:
            paper = workload.paper_id()
        member.papers.add(paper)
        async with http.post(f"{workload.base}/api/v1/papers/{paper}/summaries", headers=member.headers,
                             json={"body": f"A freshness probe carrying the word {token}."}) as r:
            await r.read()
            if r.status != 201:
                out["write_failed"] += 1
                await asyncio.sleep(interval)
                continue
        written = time.perf_counter()
        while True:
            async with http.get(workload.base + "/api/v1/search", params={"q": token, "facets": "false"}) as r:
                found = r.status == 200 and (await r.json())["total"] >= 1
            if found:
                out["latencies"].append(time.perf_counter() - written)
                break
            if time.perf_counter() - written > 10:
                out["not_found_10s"] += 1
                break
            await asyncio.sleep(0.01)
        await asyncio.sleep(max(0.0, interval - (time.perf_counter() - written)))


async def measured(http, workload: Workload, rate: float, seconds: float, opts, probe: Member) -> dict:
    fresh = {"latencies": [], "not_found_10s": 0, "write_failed": 0}
    stop = asyncio.Event()
    prober = asyncio.create_task(probe_freshness(http, workload, probe, opts.probe_interval, stop, fresh))
    try:
        recorder = await offer(http, workload, rate, seconds, opts.max_in_flight)
    finally:
        stop.set()
        await asyncio.wait_for(prober, REQUEST_TIMEOUT_S + 5)
    lat = sorted(fresh["latencies"])
    return {"offered_rps": round(rate, 1), "seconds": seconds, **recorder.summary(seconds),
            "load_average_1m": round(os.getloadavg()[0], 2),
            "search_freshness": {"samples": len(lat), **latency_stats(lat),
                                 "max_ms": round(lat[-1] * 1000, 1) if lat else None,
                                 "not_found_10s": fresh["not_found_10s"], "write_failed": fresh["write_failed"]}}


def is_under(step: dict, bound_ms: float) -> bool:
    """The step held: p99 within the bound, no errors, no arrival shed."""
    return step["p99_ms"] is not None and step["p99_ms"] <= bound_ms and not step["errors"] and not step["shed"]


def brief(step: dict) -> str:
    return (f"offered {step['offered_rps']}/s: {step['throughput_rps']}/s ok, p50 {step['p50_ms']} p95 "
            f"{step['p95_ms']} p99 {step['p99_ms']} ms, errors {step['errors']}, 429 {step['rate_limited']}, "
            f"shed {step['shed']}, freshness p50 {step['search_freshness']['p50_ms']} ms")


async def load(base: str, opts) -> dict:
    deadline = time.monotonic() + opts.budget
    # Idle connections are dropped before uvicorn's 5 s keep-alive timeout closes them: reusing
    # one the server is closing would be a client-made error (a reset POST is not retried).
    connector = aiohttp.TCPConnector(limit=256, keepalive_timeout=3)
    timeout = aiohttp.ClientTimeout(total=REQUEST_TIMEOUT_S)
    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as http:
        console.log(f"signing up {opts.users} members")
        members = []
        for i in range(0, opts.users, 20):
            members += await asyncio.gather(*(sign_up(http, base, f"loaduser{n}")
                                              for n in range(i, min(i + 20, opts.users))))
        probe = await sign_up(http, base, "loadprobe")
        workload = Workload(base, opts.summaries, members, opts.seed)
        console.log(f"warming up for {opts.warmup_seconds:.0f} s at {opts.start_rate}/s")
        await offer(http, workload, opts.start_rate, opts.warmup_seconds, opts.max_in_flight)

        # Up by `factor` while p99 holds; when the very first rate is already over, down by
        # halves until one holds (a busy machine), then stop there.
        steps, rate, stopped, bound = [], opts.start_rate, "max rate", opts.p99_ms
        while opts.min_rate <= rate <= opts.max_rate:
            if time.monotonic() + opts.step_seconds + opts.sustain_seconds > deadline:
                stopped = "time budget"
                break
            step = await measured(http, workload, rate, opts.step_seconds, opts, probe)
            steps.append(step)
            console.log(brief(step))
            holds = is_under(step, bound)
            if holds and len(steps) > 1 and not is_under(steps[-2], bound):
                stopped = "stepped down to a rate under the knee"
                break
            if not holds:
                stopped = f"p99 over {bound:.0f} ms" if step["p99_ms"] is None or step["p99_ms"] > bound \
                    else "errors or shed arrivals"
                if any(is_under(s, bound) for s in steps):
                    break
                rate /= 2
                continue
            rate *= opts.factor
        over = [s for s in steps if not is_under(s, bound)]
        knee = min(over, key=lambda s: s["offered_rps"]) if over else None
        ceiling = knee["offered_rps"] if knee else float("inf")
        under = sorted((s for s in steps if is_under(s, bound) and s["offered_rps"] < ceiling),
                       key=lambda s: s["offered_rps"])
        sustained = None
        if opts.sustain_seconds > 0 and under:
            rate = under[-1]["offered_rps"]
            console.log(f"sustained run: {opts.sustain_seconds:.0f} s at {rate}/s")
            sustained = await measured(http, workload, rate, opts.sustain_seconds, opts, probe)
            console.log(brief(sustained))
    return {
        "knee": {
            "criterion": f"lowest offered rate whose p99 over all requests exceeds {bound:.0f} ms "
                         "(or that has non-429 errors or shed arrivals)",
            "stopped_by": stopped,
            "last_under": ({k: under[-1][k] for k in ("offered_rps", "throughput_rps", "p99_ms")}
                           if under else None),
            "first_over": ({k: knee[k] for k in ("offered_rps", "throughput_rps", "p99_ms", "errors")}
                           if knee else None),
        },
        "sustained": sustained,
        "steps": steps,
    }


def machine() -> dict:
    info = {"python": platform.python_version(), "os": platform.platform(), "cpus": os.cpu_count(),
            "load_average_at_start": [round(x, 2) for x in os.getloadavg()]}
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                info["cpu"] = line.split(":", 1)[1].strip()
                break
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                info["memory_gib"] = round(int(line.split()[1]) / 2**20, 1)
                break
    except OSError:
        pass
    info["note"] = "client and platform share the machine (loopback)"
    return info


async def run(opts) -> dict:
    started = time.perf_counter()
    result: dict = {"machine": machine(), "summaries": opts.summaries, "topology": opts.topology,
                    "backends": "embedded (SQLite stores, SQLite event log, FTS5)", "mix_percent": MIX,
                    "users": opts.users}
    console.log(f"corpus of {opts.summaries:,} summaries")
    cached, result["corpus"] = await cached_installation(opts.cache_dir, opts.summaries, opts.rebuild)
    with tempfile.TemporaryDirectory(prefix="shortscience-load-") as tmp:
        data_dir, logs = Path(tmp) / "data", Path(tmp) / "logs"
        shutil.copytree(cached, data_dir)
        logs.mkdir()
        console.log(f"starting the platform ({opts.topology})")
        async with start_platform(opts.topology, data_dir, logs) as base:
            result.update(await load(base, opts))
    result["wall_seconds"] = round(time.perf_counter() - started, 1)
    result["machine"]["load_average_at_end"] = [round(x, 2) for x in os.getloadavg()]
    return result


def main(argv=None) -> None:
    opts = parse_args(argv)
    emit(uvloop.run(run(opts)), opts.output)


if __name__ == "__main__":
    main()
