"""The load generator: N keep-alive connections, each issuing GETs back to back.

A run warms up for `warmup` seconds (not recorded), then records every request that starts
within the next `seconds` (or until `max_requests` are recorded), and waits for those in
flight. Throughput counts successful answers over the time from the window's start to the
last recorded answer."""

from __future__ import annotations

import asyncio
import math
import time
from dataclasses import asdict, dataclass

import aiohttp


@dataclass
class RunStats:
    requests: int
    errors: int
    seconds: float
    rps: float
    p50_ms: float
    p99_ms: float

    def as_dict(self) -> dict:
        return {k: round(v, 2) if isinstance(v, float) else v for k, v in asdict(self).items()}


def percentile(sorted_values: list[float], q: float) -> float:
    """Nearest rank on already sorted values."""
    if not sorted_values:
        return float("nan")
    rank = min(len(sorted_values), max(1, math.ceil(q * len(sorted_values)))) - 1
    return sorted_values[rank]


async def measure(url: str, *, connections: int, warmup: float, seconds: float, max_requests: int) -> RunStats:
    latencies: list[float] = []
    errors = 0
    last_done = 0.0
    connector = aiohttp.TCPConnector(limit=connections)
    async with aiohttp.ClientSession(connector=connector, timeout=aiohttp.ClientTimeout(total=10)) as http:
        window_start = time.perf_counter() + warmup
        window_end = window_start + seconds

        async def connection() -> None:
            nonlocal errors, last_done
            while True:
                started = time.perf_counter()
                if started >= window_end or len(latencies) + errors >= max_requests:
                    return
                try:
                    async with http.get(url) as resp:
                        await resp.read()
                        ok = resp.status == 200
                except (aiohttp.ClientError, asyncio.TimeoutError):
                    ok = False
                done = time.perf_counter()
                if started >= window_start:
                    last_done = max(last_done, done)
                    if ok:
                        latencies.append(done - started)
                    else:
                        errors += 1

        await asyncio.gather(*(connection() for _ in range(connections)))
    latencies.sort()
    elapsed = max(last_done - window_start, 1e-9)
    return RunStats(
        requests=len(latencies),
        errors=errors,
        seconds=elapsed,
        rps=len(latencies) / elapsed,
        p50_ms=percentile(latencies, 0.50) * 1000,
        p99_ms=percentile(latencies, 0.99) * 1000,
    )
