"""`python -m bench.run`: measure the gateway's read path against a bare FastAPI baseline.

Starts, one after the other and each as separate processes in a temporary data dir:
the all-in-one platform, the baseline (serving the all-in-one's exact answers), and the
split deployment (gateway, papers, summaries, search). Seeds each platform through the public
API, loads each target with `--connections` keep-alive connections, and prints JSON with
the median of `--repeats` runs per target. Progress goes to stderr; the exit code is 0
whether the targets are met or not (it is a measurement).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import signal
import sys
import tempfile
from dataclasses import asdict
from pathlib import Path

import aiohttp
import uvloop
from rich.console import Console
from rich.table import Table

from bench import topologies
from bench.cpu import CpuMeter
from bench.load import RunStats, measure
from bench.output import emit
from bench.seed import seed

TARGETS = {
    "summary": "/api/v1/summaries/{summary_id}",
    "paper_summaries": "/api/v1/papers/{paper_id}/summaries",
}
# From issue 2: the gateway read path relative to the baseline's throughput.
MIN_RATIO = {"allinone": 0.5, "split": 0.3}
RESULTS = Path(__file__).resolve().parent / "results" / "latest.json"

console = Console(stderr=True, log_path=False)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m bench.run", description=__doc__.splitlines()[0])
    p.add_argument("--seconds", type=float, default=5.0, help="measured seconds per run (default 5)")
    p.add_argument("--warmup", type=float, default=1.0, help="unrecorded seconds before each run (default 1)")
    p.add_argument("--repeats", type=int, default=3, help="runs per target; the median is reported (default 3)")
    p.add_argument("--connections", type=int, default=32, help="concurrent keep-alive connections (default 32)")
    p.add_argument("--max-requests", type=int, default=1_000_000, help="stop a run after this many requests")
    p.add_argument("--distributed", action=argparse.BooleanOptionalAction, default=True,
                   help="also measure both topologies on the real engines when `make engines` runs (default on)")
    p.add_argument("--output", type=Path, default=RESULTS, help=f"where to write the JSON (default {RESULTS})")
    opts = p.parse_args(argv)
    if opts.seconds <= 0 or opts.warmup < 0 or opts.repeats < 1 or opts.connections < 1:
        p.error("--seconds and --repeats and --connections must be positive, --warmup not negative")
    return opts


async def load_target(label: str, url: str, opts: argparse.Namespace) -> dict:
    runs: list[tuple[RunStats, dict | None]] = []
    meter = CpuMeter()
    for i in range(opts.repeats):
        meter.start()
        stats = await measure(url, connections=opts.connections, warmup=opts.warmup, seconds=opts.seconds,
                              max_requests=opts.max_requests)
        cpu = meter.stop()
        other = (f"; cores: load generator {cpu['load_generator']:.0%}, servers {cpu['servers']:.0%}, "
                 f"interrupts {cpu['interrupts']:.0%}, others {cpu['other']:.0%}") if cpu else ""
        console.log(f"  {label} run {i + 1}/{opts.repeats}: {stats.rps:,.0f} req/s, p50 {stats.p50_ms:.1f} ms, "
                    f"p99 {stats.p99_ms:.1f} ms, {stats.errors} errors{other}")
        runs.append((stats, cpu))
    median, cpu = sorted(runs, key=lambda run: run[0].rps)[len(runs) // 2]
    result = {**median.as_dict(), "cpu_share": cpu, "runs_rps": [round(r.rps, 1) for r, _ in runs]}
    if cpu:  # what a request costs the servers, all their processes together (warm-up included)
        result["server_cpu_us_per_request"] = round(cpu["servers"] * len(os.sched_getaffinity(0)) / median.rps * 1e6)
    return result


async def fetch(url: str) -> bytes:
    async with aiohttp.ClientSession() as http, http.get(url) as resp:
        if resp.status != 200:
            raise RuntimeError(f"GET {url} answered {resp.status}: {(await resp.text())[:300]}")
        return await resp.read()


async def measure_platform(name: str, base: str, opts: argparse.Namespace) -> tuple[dict, dict[str, bytes]]:
    console.log(f"[bold]{name}[/]: ready at {base}; seeding through the public API")
    seeded = asdict(await seed(base))
    await asyncio.sleep(1.0)  # let the relay and consumers finish with the seeding's events
    results, payloads = {}, {}
    for target, template in TARGETS.items():
        url = base + template.format(**seeded)
        payloads[target] = await fetch(url)
        results[target] = {"path": template, "bytes": len(payloads[target]),
                           **await load_target(f"{name} {target}", url, opts)}
    return results, payloads


async def measure_baseline(base: str, payloads: dict[str, bytes], opts: argparse.Namespace) -> dict:
    console.log(f"[bold]baseline[/]: ready at {base}")
    results = {}
    for target, template in TARGETS.items():
        url = base + template.format(summary_id="x", paper_id="x")
        if await fetch(url) != payloads[target]:
            raise RuntimeError(f"the baseline's {target} answer differs from the platform's")
        results[target] = {"path": template, "bytes": len(payloads[target]),
                           **await load_target(f"baseline {target}", url, opts)}
    return results


def machine() -> dict:
    cpu = next((line.split(":", 1)[1].strip() for line in _read_lines("/proc/cpuinfo")
                if line.startswith("model name")), platform.processor())
    return {
        "nproc": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count(),
        "cpu": cpu,
        "python": platform.python_version(),
        "platform": platform.platform(),
        "loadavg_at_start": _loadavg(),
    }


def _loadavg() -> list[float]:
    """Other work on the machine competes with the servers and the load generator for the cores."""
    return [round(x, 2) for x in os.getloadavg()]


def _read_lines(path: str) -> list[str]:
    try:
        return Path(path).read_text().splitlines()
    except OSError:
        return []


def report(results: dict, opts: argparse.Namespace, machine_info: dict) -> dict:
    targets = []
    for topology in results:
        for target in TARGETS:
            if topology != "baseline":
                results[topology][target]["ratio_to_baseline"] = round(
                    results[topology][target]["rps"] / results["baseline"][target]["rps"], 3)
    for topology, minimum in MIN_RATIO.items():
        for target in TARGETS:
            entry = results[topology][target]
            entry["ratio_to_baseline"] = round(entry["rps"] / results["baseline"][target]["rps"], 3)
            targets.append({"topology": topology, "target": target, "min_ratio": minimum,
                            "ratio": entry["ratio_to_baseline"], "pass": entry["ratio_to_baseline"] >= minimum})
    return {
        "machine": machine_info,
        "settings": {"connections": opts.connections, "warmup_s": opts.warmup, "seconds": opts.seconds,
                     "repeats": opts.repeats, "max_requests": opts.max_requests, "reported": "median run by req/s",
                     "cpu_share": "share of all cores' time during the run (warm-up included): load generator, "
                                  "servers under test, kernel interrupts (loopback networking), other "
                                  "processes, idle",
                     "baseline": "per target, a bare FastAPI endpoint on the same path answering the same "
                                 "JSON bytes, run by uvicorn with the same flags"},
        "results": results,
        "targets": targets,
        "all_targets_met": all(t["pass"] for t in targets),
    }


def print_summary(out: dict) -> None:
    table = Table("topology", "target", "req/s", "p50 ms", "p99 ms", "errors", "CPU µs/req", "vs base", title="bench")
    for topology, targets in out["results"].items():
        for target, r in targets.items():
            ratio = r.get("ratio_to_baseline")
            table.add_row(topology, target, f"{r['rps']:,.0f}", f"{r['p50_ms']:.1f}", f"{r['p99_ms']:.1f}",
                          str(r["errors"]), str(r.get("server_cpu_us_per_request", "")),
                          "" if ratio is None else f"{ratio:.2f}")
    console.print(table)
    verdicts = [f"{t['topology']} {t['target']} {t['ratio']:.2f} of baseline "
                f"(target {t['min_ratio']}: {'met' if t['pass'] else 'MISSED'})" for t in out["targets"]]
    headline = "all targets met" if out["all_targets_met"] else "targets MISSED"
    print(f"bench: {headline} on {out['machine']['nproc']} cores: " + "; ".join(verdicts), file=sys.stderr)


async def main(opts: argparse.Namespace) -> dict:
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, asyncio.current_task().cancel)
    machine_info = machine()
    console.log(f"{machine_info['nproc']} cores, Python {machine_info['python']}; {opts.connections} connections, "
                f"{opts.warmup:g} s warm-up + {opts.seconds:g} s x {opts.repeats} per target")
    results = {}
    with tempfile.TemporaryDirectory(prefix="shortscience-bench-") as tmp:
        tmp = Path(tmp)
        logs = tmp / "logs"
        logs.mkdir()
        async with topologies.allinone(tmp / "allinone", logs) as base:
            results["allinone"], payloads = await measure_platform("allinone", base, opts)
        payload_dir = tmp / "payloads"
        payload_dir.mkdir()
        for target, body in payloads.items():
            (payload_dir / f"{target}.json").write_bytes(body)
        async with topologies.baseline(payload_dir, logs) as base:
            results["baseline"] = await measure_baseline(base, payloads, opts)
        async with topologies.split(tmp / "split", logs) as base:
            results["split"], _ = await measure_platform("split", base, opts)
        order = ["baseline", "allinone", "split"]
        if opts.distributed and topologies.engines_available():
            # The same two topologies on Kafka + MongoDB + OpenSearch/Elasticsearch (`make engines`).
            async with topologies.allinone(tmp / "allinone-d", logs, **topologies.distributed_env()) as base:
                results["allinone-distributed"], _ = await measure_platform("allinone-distributed", base, opts)
            async with topologies.split(tmp / "split-d", logs, **topologies.distributed_env()) as base:
                results["split-distributed"], _ = await measure_platform("split-distributed", base, opts)
            order += ["allinone-distributed", "split-distributed"]
        elif opts.distributed:
            console.log("distributed backends skipped: KAFKA_BOOTSTRAP_SERVERS, MONGODB_URL and "
                        "OPENSEARCH_URL/ELASTICSEARCH_URL are not all set (run `make engines`)")
    return report({k: results[k] for k in order}, opts, machine_info)


def cli(argv: list[str] | None = None) -> int:
    opts = parse_args(argv)
    try:
        out = uvloop.run(main(opts))
    except (KeyboardInterrupt, asyncio.CancelledError):
        print("bench: interrupted; servers stopped", file=sys.stderr)
        return 130
    except RuntimeError as exc:
        print(f"bench: failed: {exc}", file=sys.stderr)
        return 1
    emit(out, opts.output)
    print_summary(out)
    return 0


if __name__ == "__main__":
    sys.exit(cli())
