"""Fixtures for the search tests. Every response the `platform` client gets in these tests
is checked: no 5xx, and no trace of the search engine (its name, its error messages) in
the body, whatever the test itself asserts."""

from __future__ import annotations

import httpx
import pytest

ENGINE_TRACES = ("fts5", "sqlite", "syntax error", "operationalerror", "no such column", "malformed match",
                 "traceback (most recent call last)")


async def refuse_engine_leaks(response: httpx.Response) -> None:
    await response.aread()
    request = response.request
    assert response.status_code < 500, f"{request.method} {request.url} -> {response.status_code}: {response.text}"
    body = response.text.casefold()
    leaked = [t for t in ENGINE_TRACES if t in body]
    assert not leaked, f"{request.method} {request.url} leaked {leaked}: {response.text}"


@pytest.fixture(autouse=True)
def _refuse_engine_leaks(request: pytest.FixtureRequest) -> None:
    if "platform" in request.fixturenames:
        client = request.getfixturevalue("platform").client
        hooks = client.event_hooks
        hooks["response"].append(refuse_engine_leaks)
        client.event_hooks = hooks
