"""Fixtures for the API tests through the gateway over real HTTP.

Every response in these tests passes `refuse_server_errors`: a 500 or a traceback fails
the test that provoked it, whatever that test asserts itself."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable

import pytest

from tests.api.support import guard
from tests.conftest import Platform, start_platform


@pytest.fixture(autouse=True)
def _refuse_server_errors(request: pytest.FixtureRequest) -> None:
    if "platform" in request.fixturenames:
        guard(request.getfixturevalue("platform").client)


@pytest.fixture
async def platform_with(tmp_path) -> AsyncIterator[Callable[..., Awaitable[Platform]]]:
    """Start a platform with custom settings (e.g. low rate limits); stopped after the test."""
    started = []

    async def start(**overrides) -> Platform:
        data_dir = tmp_path / f"platform{len(started)}"
        data_dir.mkdir()
        server, plat = await start_platform(data_dir, **overrides)
        started.append((server, plat))
        guard(plat.client)
        return plat

    try:
        yield start
    finally:
        for server, plat in reversed(started):
            await plat.client.aclose()
            await server.__aexit__()
