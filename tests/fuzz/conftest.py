"""A real platform over HTTP for the fuzzers, served from a background thread.

Schemathesis drives Hypothesis synchronously (requests), so the platform runs in its own
event loop in a thread for the whole module, with seeded data the fuzzers aim at: users
in each role, a paper, summaries, a comment, a personal token and the social posts."""

from __future__ import annotations

import asyncio
import itertools
import threading
import time
from collections.abc import Coroutine, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.conftest import DISTRIBUTED, Platform, start_platform

PASSWORD = "correct horse 1"
_names = itertools.count(1)


class ThreadedPlatform:
    """`start_platform` in a thread of its own; `run(coro)` executes in the platform's loop."""

    def __init__(self, data_dir: Path, **overrides) -> None:
        self.data_dir = data_dir
        self.overrides = overrides
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, name="fuzz-platform", daemon=True)
        self.server = None
        self.platform: Platform | None = None

    def run(self, coro: Coroutine) -> Any:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout=60)

    def __enter__(self) -> "ThreadedPlatform":
        self.thread.start()
        self.server, self.platform = self.run(start_platform(self.data_dir, **self.overrides))
        return self

    def __exit__(self, *exc) -> None:
        async def stop() -> None:
            await self.platform.client.aclose()
            await self.server.__aexit__()

        try:
            self.run(stop())
        finally:
            self.loop.call_soon_threadsafe(self.loop.stop)
            self.thread.join(timeout=30)
            self.loop.close()

    @property
    def url(self) -> str:
        return self.platform.url

    @property
    def app(self):
        return self.platform.app


@dataclass
class Account:
    role: str
    id: str
    username: str
    token: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


@dataclass
class Seeded:
    """What exists on the fuzzed platform, by role, and the ids the fuzzers aim at."""

    url: str
    accounts: dict[str, Account]
    ids: dict[str, list[str]] = field(default_factory=dict)


def make_account(tp: ThreadedPlatform, client: httpx.Client, role: str, roles: set[str] = frozenset()) -> Account:
    name = f"fuzz{role}{next(_names)}"
    r = client.post("/api/v1/auth/signup", json={"username": name, "email": f"{name}@example.org", "password": PASSWORD})
    assert r.status_code == 201, r.text
    for granted in roles:
        tp.run(tp.app.state.gateway.identity.grant(name, granted))
    return Account(role, r.json()["id"], name, login(client, name))


def login(client: httpx.Client, username: str) -> str:
    r = client.post("/api/v1/auth/login", json={"username": username, "password": PASSWORD})
    assert r.status_code == 200, r.text
    return r.json()["access_token"]


def wait_for_posts(client: httpx.Client, moderator: Account) -> list[dict]:
    """The social service posts each public summary on its own time; wait for the first."""
    for _ in range(200):
        posts = client.get("/api/v1/social/posts", headers=moderator.headers).json()["items"]
        if posts:
            return posts
        time.sleep(0.05)
    return []


def seed(tp: ThreadedPlatform) -> Seeded:
    with httpx.Client(base_url=tp.url, timeout=30) as client:
        accounts = {
            "member": make_account(tp, client, "member"),
            "other": make_account(tp, client, "other"),
            "moderator": make_account(tp, client, "moderator", {"moderator"}),
            "admin": make_account(tp, client, "admin", {"admin"}),
        }
        member, other = accounts["member"], accounts["other"]
        paper = client.post("/api/v1/papers", headers=member.headers, json={
            "title": "Deep Residual Learning", "authors": ["Kaiming He"], "venue": "CVPR", "year": 2016,
            "identifiers": {"arxiv": "1512.03385", "doi": "10.1109/cvpr.2016.90"}}).json()
        summaries = [
            client.post(f"/api/v1/papers/{paper['id']}/summaries", headers=who.headers, json=body).json()["id"]
            for who, body in ((member, {"body": "Residual *connections* with $x^2$."}),
                              (other, {"body": "Anonymous notes.", "anonymous": True}))
        ]
        comment = client.post(f"/api/v1/summaries/{summaries[0]}/comments", headers=other.headers,
                              json={"body": "A question."}).json()["id"]
        token = client.post("/api/v1/me/tokens", headers=member.headers, json={"name": "ci"}).json()["id"]
        posts = wait_for_posts(client, accounts["moderator"])
    ids = {"paper_id": [paper["id"]], "summary_id": summaries, "comment_id": [comment], "token_id": [token],
           "post_id": [p["id"] for p in posts] or ["none"], "key": ["cvpr"]}
    return Seeded(tp.url, accounts, ids)


@pytest.fixture(scope="module")
def fuzz_platform(tmp_path_factory) -> Iterator[tuple[ThreadedPlatform, Seeded]]:
    if DISTRIBUTED:
        pytest.skip("the fuzzers run on the embedded tier; the distributed run repeats tests/api only")
    with ThreadedPlatform(tmp_path_factory.mktemp("fuzz")) as tp:
        yield tp, seed(tp)
