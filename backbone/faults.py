"""Fault hooks for the fault-injection suite (tests/faults). Every hook is off unless its
environment variable is set, and none is read at import time: the relay and the consumer
runner ask once, when they are built.

- `SHORTSCIENCE_FAULT_RELAY_CRASH=<service>:<point>:<n>`: the outbox relay of `<service>`
  SIGKILLs its own process at its n-th non-empty batch, at `before_publish` (the write and
  its events are committed, nothing is published: the crash window the outbox exists for)
  or `after_publish` (published, not yet removed from the outbox: it is published again).
- `SHORTSCIENCE_FAULT_HANDLER_ERRORS=<group>:<n>`: every handler attempt of consumer group
  `<group>` in this process on the first n summary events it meets raises `InjectedFault`
  (a transient error: retried, then dead-lettered after the last attempt). Counted by event,
  not by attempt, so a redelivery or a retried batch cannot shift the failures onto a later
  event.
- `SHORTSCIENCE_FAULT_JOURNAL=<path>`: the relay appends a line per event it published, the
  consumer runner one per event a handler took (group, event id, aggregate, version, pid),
  so a test can count redeliveries across killed processes.
"""

from __future__ import annotations

import json
import os
import signal
import time
from dataclasses import dataclass, field

RELAY_CRASH = "SHORTSCIENCE_FAULT_RELAY_CRASH"
HANDLER_ERRORS = "SHORTSCIENCE_FAULT_HANDLER_ERRORS"
JOURNAL = "SHORTSCIENCE_FAULT_JOURNAL"
CRASH_POINTS = ("before_publish", "after_publish")


class InjectedFault(RuntimeError):
    """A transient handler error made on purpose."""


@dataclass
class RelayCrash:
    point: str
    batch: int
    seen: int = 0

    def at(self, point: str) -> None:
        """Called at each point of each non-empty batch; kills the process at the chosen one."""
        if point == "before_publish":
            self.seen += 1
        if point == self.point and self.seen == self.batch:
            os.kill(os.getpid(), signal.SIGKILL)


def relay_crash(service: str) -> RelayCrash | None:
    value = os.environ.get(RELAY_CRASH, "")
    if not value:
        return None
    target, point, batch = value.split(":")
    if point not in CRASH_POINTS:
        raise ValueError(f"{RELAY_CRASH}: the point is one of {', '.join(CRASH_POINTS)}, not {point!r}")
    return RelayCrash(point, int(batch)) if target == service else None


@dataclass
class HandlerErrors:
    events: int
    failing: set[str] = field(default_factory=set)

    def maybe_fail(self, envelope) -> None:
        if envelope.event_id not in self.failing:
            if len(self.failing) >= self.events or not envelope.type.startswith("Summary"):
                return
            self.failing.add(envelope.event_id)
        raise InjectedFault(f"injected by {HANDLER_ERRORS}")


def handler_errors(group: str) -> HandlerErrors | None:
    value = os.environ.get(HANDLER_ERRORS, "")
    if not value:
        return None
    target, count = value.split(":")
    return HandlerErrors(int(count)) if target == group else None


class Journal:
    """Append-only JSON lines; one write() per line, so lines of several processes never mix."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.pid = os.getpid()

    def write(self, kind: str, **fields) -> None:
        line = json.dumps({"kind": kind, "pid": self.pid, "at": round(time.time(), 3), **fields}) + "\n"
        fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        try:
            os.write(fd, line.encode())
        finally:
            os.close(fd)


def journal() -> Journal | None:
    path = os.environ.get(JOURNAL, "")
    return Journal(path) if path else None
