"""The store contract suites' backends: SQLite in the test's temp dir, and MongoDB (the
`mongodb_url` engine, each test its own database, dropped afterwards)."""

from __future__ import annotations

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
