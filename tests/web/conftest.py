"""Fixtures for the website tests: a real platform over HTTP and form-posting clients
that keep cookies like a browser."""

from __future__ import annotations

import html
import itertools
import re
from collections.abc import AsyncIterator, Awaitable, Callable
from urllib.parse import urlencode

import httpx
import pytest

from tests.api.support import guard
from tests.conftest import Platform, start_platform

PASSWORD = "correct horse 1"
_names = itertools.count(1)
_CSRF_META = re.compile(r'<meta name="csrf-token" content="([^"]*)">')


class WebClient:
    """One browser: its own cookie jar, forms posted with the CSRF token of the page they
    came from, redirects not followed (tests look at them)."""

    def __init__(self, base_url: str, *, check: bool = True) -> None:
        self.http = httpx.AsyncClient(base_url=base_url, timeout=10, follow_redirects=False)
        if check:
            guard(self.http)  # no 5xx, no traceback, whatever the test asserts
        self.username: str | None = None

    async def aclose(self) -> None:
        await self.http.aclose()

    async def get(self, path: str, **kwargs) -> httpx.Response:
        return await self.http.get(path, **kwargs)

    async def page(self, path: str) -> str:
        r = await self.http.get(path)
        assert r.status_code == 200, f"GET {path} -> {r.status_code}: {r.text[:500]}"
        assert r.headers["content-type"].startswith("text/html")
        return r.text

    async def csrf(self, path: str = "/") -> str:
        r = await self.http.get(path)
        found = _CSRF_META.search(r.text)
        assert found and found.group(1), f"no CSRF token on {path}"
        return html.unescape(found.group(1))

    async def post(self, path: str, data: dict | list | None = None, *, from_page: str = "/",
                   token: str | None = None, **kwargs) -> httpx.Response:
        token = token if token is not None else await self.csrf(from_page)
        fields = list(data.items()) if isinstance(data, dict) else list(data or [])
        if token:
            fields.append(("csrf_token", token))
        headers = {"content-type": "application/x-www-form-urlencoded", **kwargs.pop("headers", {})}
        return await self.http.post(path, content=urlencode(fields), headers=headers, **kwargs)

    async def sign_up(self, name: str | None = None, **extra) -> str:
        name = name or f"reader{next(_names)}"
        r = await self.post("/signup", {"username": name, "email": f"{name}@example.org", "password": PASSWORD,
                                        "password_again": PASSWORD, **extra}, from_page="/signup")
        assert r.status_code == 303, r.text[:1000]
        self.username = name
        return name

    async def log_in(self, name: str, password: str = PASSWORD) -> httpx.Response:
        r = await self.post("/login", {"username": name, "password": password, "next": "/"}, from_page="/login")
        if r.status_code == 303:
            self.username = name
        return r


@pytest.fixture
async def web(platform: Platform) -> AsyncIterator[Callable[..., Awaitable[WebClient]]]:
    """A factory of browsers on the test's platform."""
    guard(platform.client)
    clients: list[WebClient] = []

    async def browser(*, signed_up: bool = False, check: bool = True) -> WebClient:
        client = WebClient(platform.url, check=check)
        clients.append(client)
        if signed_up:
            await client.sign_up()
        return client

    try:
        yield browser
    finally:
        for client in clients:
            await client.aclose()


@pytest.fixture
async def platform_with(tmp_path):
    """Start a platform with custom settings; stopped after the test."""
    started = []

    async def start(**overrides) -> Platform:
        data_dir = tmp_path / f"platform{len(started)}"
        data_dir.mkdir()
        server, plat = await start_platform(data_dir, **overrides)
        started.append((server, plat))
        return plat

    try:
        yield start
    finally:
        for server, plat in reversed(started):
            await plat.client.aclose()
            await server.__aexit__()


async def api_user_of(platform: Platform, client: WebClient) -> dict:
    """API headers for a user who signed up through the website."""
    r = await platform.client.post("/api/v1/auth/login", json={"username": client.username, "password": PASSWORD})
    assert r.status_code == 200, r.text
    return {"username": client.username, "headers": {"Authorization": f"Bearer {r.json()['access_token']}"}}
