"""Who used the cores during a run (Linux /proc): the load generator (this process), the
servers it started, and everything else on the machine. On a 2-core machine this says
whether a figure is the server's limit, the load generator's, or a neighbour's doing."""

from __future__ import annotations

import os
import time
from pathlib import Path

TICK = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def _machine_ticks() -> tuple[int, int]:
    """(busy in processes, busy in interrupts: loopback networking mostly runs as softirq)."""
    user, nice, system, idle, iowait, irq, softirq, steal = map(int, Path("/proc/stat").read_text().split()[1:9])
    return user + nice + system + steal, irq + softirq


def _process_ticks(pid: int) -> int:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0
    return int(fields[11]) + int(fields[12])  # utime + stime


def _own_ticks() -> tuple[int, int]:
    """(this process, which generates the load; the servers it started)."""
    pid = os.getpid()
    try:
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    except OSError:
        children = []
    return _process_ticks(pid), sum(_process_ticks(int(c)) for c in children)


class CpuMeter:
    """`start()` before a run, `stop()` after: shares of all cores' time, 0..1."""

    def __init__(self) -> None:
        self.available = Path("/proc/stat").exists()
        self._start: tuple = ()

    def start(self) -> None:
        if self.available:
            self._start = (time.monotonic(), *_machine_ticks(), *_own_ticks())

    def stop(self) -> dict[str, float] | None:
        if not self.available:
            return None
        capacity = (time.monotonic() - self._start[0]) * TICK * len(os.sched_getaffinity(0))
        processes, interrupts, loadgen, servers = (
            now - then for now, then in zip((*_machine_ticks(), *_own_ticks()), self._start[1:])
        )
        share = {"load_generator": loadgen, "servers": servers, "interrupts": interrupts,
                 "other": max(processes - loadgen - servers, 0), "idle": max(capacity - processes - interrupts, 0)}
        return {name: round(ticks / capacity, 3) for name, ticks in share.items()}
