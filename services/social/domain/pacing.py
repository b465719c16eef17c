"""When a channel may send next: the per-channel cap over a trailing window, and the
backoff between retries of a transient failure."""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass

DAY, HOUR = 86_400.0, 3_600.0


@dataclass(frozen=True)
class Pace:
    """At most `limit` sends in any trailing `window` seconds; a limit of 0 means no cap."""

    limit: int
    window: float

    def room(self, recent_sends: Sequence[float], now: float) -> int | None:
        """How many sends may start now (None: unlimited)."""
        if self.limit <= 0:
            return None
        in_window = sum(1 for t in recent_sends if t > now - self.window)
        return max(self.limit - in_window, 0)

    def next_slot(self, recent_sends: Sequence[float], now: float) -> float:
        """The earliest time a send may start: now while under the cap, else when the
        oldest send that keeps the window full leaves it."""
        if self.limit <= 0:
            return now
        in_window = sorted(t for t in recent_sends if t > now - self.window)
        if len(in_window) < self.limit:
            return now
        return in_window[len(in_window) - self.limit] + self.window


def retry_delay(failures: int, *, base: float, cap: float, rand: Callable[[], float] = random.random) -> float:
    """Exponential backoff with jitter: base·2^(failures-1), capped, then drawn from its
    upper half so retries of many posts do not land together."""
    delay = min(cap, base * 2 ** max(failures - 1, 0))
    return delay / 2 + rand() * delay / 2
