"""The store contract suites' backends: SQLite in the test's temp dir, and MongoDB (the
`mongodb_url` engine, each test its own database, dropped afterwards)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.engines import unique_prefix


@dataclass
class Backend:
    kind: str
    open: Callable[[], Awaitable]  # another started handle on the same data (a second process)


def backend_fixture(tag: str, sqlite: Callable[[Path], object], mongo: Callable[[str, str], object]):
    """A `backend` fixture parametrised over both engines; `sqlite(tmp_path)` and
    `mongo(url, database)` build an unstarted store."""

    @pytest.fixture(name="backend", params=["sqlite", pytest.param("mongo", marks=pytest.mark.engine("mongo"))])
    async def backend(request, tmp_path):
        if request.param == "sqlite":
            def new():
                return sqlite(tmp_path)
        else:
            url, database = request.getfixturevalue("mongodb_url"), unique_prefix(tag) + "db"

            def new():
                return mongo(url, database)
        opened = []

        async def open_store():
            store = new()
            await store.start()
            opened.append(store)
            return store

        try:
            yield Backend(request.param, open_store)
        finally:
            if opened and request.param == "mongo":
                await opened[0].drop()
            for store in opened:
                await store.close()

    return backend


@pytest.fixture(name="store")
async def first_store(backend):
    """A started, empty store of each backend."""
    return await backend.open()


async def relayed_while(store, writes: Awaitable) -> tuple[object, list]:
    """Run `writes` while a relay drains the store's outbox as `OutboxRelay` does; returns
    (what `writes` returned, every envelope the relay took, in the order it took them)."""
    published: list = []
    writing = True

    async def relay() -> None:
        outbox = store.outbox()
        while True:
            finished = not writing  # read before looking: a write committed meanwhile is seen next time
            batch = await outbox.pending(100)
            published.extend(envelope for _, envelope in batch)
            await outbox.remove([marker for marker, _ in batch])
            if not batch and finished:
                return
            await asyncio.sleep(0)

    relaying = asyncio.create_task(relay())
    try:
        result = await writes
    finally:
        writing = False
        await relaying
    return result, published
