"""Who used the cores during a run (Linux /proc): the bench's own processes (the runner,
which generates the load, and the servers it started) versus everything else on the
machine. On a shared 2-core machine the second number says how far to trust the first."""

from __future__ import annotations

import os
import time
from pathlib import Path

TICK = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def _machine_busy_ticks() -> int:
    user, nice, system, idle, iowait, irq, softirq, steal = map(int, Path("/proc/stat").read_text().split()[1:9])
    return user + nice + system + irq + softirq + steal


def _process_ticks(pid: int) -> int:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0
    return int(fields[11]) + int(fields[12])  # utime + stime


def _own_tree_ticks() -> int:
    pid = os.getpid()
    try:
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    except OSError:
        children = []
    return _process_ticks(pid) + sum(_process_ticks(int(c)) for c in children)


class CpuMeter:
    """`start()` before a run, `stop()` after: shares of all cores' time, 0..1."""

    def __init__(self) -> None:
        self.available = Path("/proc/stat").exists()
        self._start = (0.0, 0, 0)

    def start(self) -> None:
        if self.available:
            self._start = (time.monotonic(), _machine_busy_ticks(), _own_tree_ticks())

    def stop(self) -> dict[str, float] | None:
        if not self.available:
            return None
        began, machine0, own0 = self._start
        capacity = (time.monotonic() - began) * TICK * len(os.sched_getaffinity(0))
        machine = _machine_busy_ticks() - machine0
        own = _own_tree_ticks() - own0
        return {"machine_busy": round(machine / capacity, 3), "bench": round(own / capacity, 3),
                "other": round(max(machine - own, 0) / capacity, 3)}
