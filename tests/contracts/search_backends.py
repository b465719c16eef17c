"""Backends for the port contract suites. The embedded adapters always run; a real-engine
adapter runs when its engine is reachable (see tests/engines.py) and is otherwise reported
as skipped with the reason.

The distributed backends run against the one engine the session has (`search_engine`):
its kind picks the client, and the other kind is reported as skipped. Each test gets
its own alias and indexes (deleted afterwards), and every write is refreshed before it
returns, so a test reads what it wrote."""

from __future__ import annotations

import pytest

SEARCH_INDEX_BACKENDS = [
    "fts5",
    pytest.param("opensearch", marks=pytest.mark.engine("opensearch")),
    pytest.param("elasticsearch", marks=pytest.mark.engine("elasticsearch")),
]


@pytest.fixture(params=SEARCH_INDEX_BACKENDS)
async def search_index(request, tmp_path):
    """A started, empty SearchIndex of each backend, closed after the test."""
    if request.param == "fts5":
        from services.search.adapters.fts5 import Fts5Index

        index = Fts5Index(tmp_path / "search.db")
        await index.start()
        yield index
        await index.close()
        return
    index = await distributed_index(request, request.param)
    try:
        yield index
    finally:
        await index.drop()
        await index.close()


async def distributed_index(request, kind: str):
    """A started ElasticIndex on the session's engine when it is of `kind` (else a skip),
    under a fresh alias; the caller drops and closes it."""
    from services.search.adapters.elastic import ElasticIndex
    from tests.engines import unique_prefix

    engine = request.getfixturevalue("search_engine")
    if engine.kind != kind:
        pytest.skip(f"{kind}: the search engine under test is {engine.kind} at {engine.url}")
    index = ElasticIndex(engine.kind, engine.url, unique_prefix("search").rstrip("_"), refresh="true")
    await index.start()
    return index
