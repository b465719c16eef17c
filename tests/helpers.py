"""Helpers for tests (import as `from tests.helpers import ...`)."""

from __future__ import annotations

import asyncio
import inspect


async def eventually(predicate, timeout: float = 5.0, interval: float = 0.02):
    """Poll a predicate (sync or async) until it returns a truthy value (events are asynchronous)."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        value = predicate()
        if inspect.isawaitable(value):
            value = await value
        if value:
            return value
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(interval)
