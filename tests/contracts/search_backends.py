"""Backends for the port contract suites. The embedded adapters always run; a real-engine
adapter runs when its engine is reachable (see tests/engines.py) and is otherwise reported
as skipped with the reason."""

from __future__ import annotations

import os

import pytest

# The Elasticsearch/OpenSearch adapter joins this list when it is built (the engines issue).
SEARCH_INDEX_BACKENDS = ["fts5"]


@pytest.fixture(params=SEARCH_INDEX_BACKENDS)
async def search_index(request, tmp_path):
    """A started, empty SearchIndex of each backend, closed after the test."""
    if request.param == "fts5":
        from services.search.adapters.fts5 import Fts5Index

        index = Fts5Index(tmp_path / "search.db")
    else:
        if not os.environ.get("ELASTICSEARCH_URL"):
            pytest.skip(f"{request.param}: ELASTICSEARCH_URL is not set (run `make engines`)")
        raise NotImplementedError(request.param)
    await index.start()
    yield index
    await index.close()
