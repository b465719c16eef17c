"""Token-bucket rate limits, in memory (one gateway process; see README for replicas)."""

from __future__ import annotations

import math
import time
from collections import OrderedDict

from backbone.errors import RateLimited


class RateLimiter:
    def __init__(self, limit: int, window: float, *, max_keys: int = 100_000) -> None:
        self.capacity = float(limit)
        self.rate = limit / window  # tokens per second
        self.max_keys = max_keys
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()

    def hit(self, key: str, what: str = "requests") -> None:
        """Take one token for `key` or raise RateLimited with the seconds to wait."""
        now = time.monotonic()
        tokens, last = self._buckets.pop(key, (self.capacity, now))
        tokens = min(self.capacity, tokens + (now - last) * self.rate)
        if tokens < 1.0:
            self._buckets[key] = (tokens, now)
            retry_after = max(1, math.ceil((1.0 - tokens) / self.rate))
            raise RateLimited(f"too many {what}; try again in {retry_after} s", retry_after=retry_after)
        self._buckets[key] = (tokens - 1.0, now)
        if len(self._buckets) > self.max_keys:
            self._buckets.popitem(last=False)
