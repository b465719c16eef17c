"""Rate limits on logins, sign-ups and writes: 429 problem+json with Retry-After, and the
refused request changes nothing. Each test starts a platform with low limits."""

from __future__ import annotations

import asyncio

from tests.api.support import assert_problem

PASSWORD = "correct horse 1"


async def signup(plat, name):
    return await plat.client.post("/api/v1/auth/signup",
                                  json={"username": name, "email": f"{name}@example.org", "password": PASSWORD})


async def login(plat, name, password=PASSWORD):
    return await plat.client.post("/api/v1/auth/login", json={"username": name, "password": password})


def assert_rate_limited(response, window: float) -> int:
    problem = assert_problem(response, 429)
    retry_after = int(response.headers["Retry-After"])
    assert 1 <= retry_after <= window
    assert problem["retry_after"] == retry_after
    return retry_after


async def test_too_many_logins_are_429_with_retry_after(platform_with):
    plat = await platform_with(login_limit=3, login_window=60)
    assert (await signup(plat, "ada")).status_code == 201

    assert (await login(plat, "ada")).status_code == 200
    assert_problem(await login(plat, "ada", "wrong password"), 401)  # failures count too
    assert (await login(plat, "ada")).status_code == 200
    limited = await login(plat, "ada")
    assert_rate_limited(limited, 60)
    assert "access_token" not in limited.text
    # other traffic is not limited by the login limit
    assert (await signup(plat, "bob")).status_code == 201
    assert (await plat.client.get("/api/v1/papers")).status_code == 200


async def test_the_login_limit_lifts_after_retry_after(platform_with):
    plat = await platform_with(login_limit=2, login_window=1.0)
    assert (await signup(plat, "ada")).status_code == 201
    for _ in range(2):
        assert (await login(plat, "ada")).status_code == 200
    retry_after = assert_rate_limited(await login(plat, "ada"), 1.0)
    await asyncio.sleep(retry_after + 0.05)
    assert (await login(plat, "ada")).status_code == 200


async def test_too_many_signups_are_429_and_create_nobody(platform_with):
    plat = await platform_with(signup_limit=2, signup_window=3600)
    assert (await signup(plat, "ada")).status_code == 201
    assert (await signup(plat, "bob")).status_code == 201
    assert_rate_limited(await signup(plat, "cat"), 3600)
    assert_problem(await login(plat, "cat"), 401)


async def test_too_many_writes_are_429_per_user(platform_with):
    plat = await platform_with(write_limit=3, write_window=60)
    ada, bob = await plat.user(), await plat.user()
    first = await plat.paper(ada)
    await plat.paper(ada)
    summary = await plat.summary(ada, first["id"])

    refused = await plat.client.post("/api/v1/papers", headers=ada["headers"],
                                     json={"title": "One too many", "authors": ["A"]})
    assert_rate_limited(refused, 60)
    assert_rate_limited(await plat.client.put(f"/api/v1/summaries/{summary['id']}/vote", json={"value": 1},
                                              headers=ada["headers"]), 60)
    assert_rate_limited(await plat.client.post("/api/v1/me/tokens", json={"name": "x"}, headers=ada["headers"]), 60)

    papers = (await plat.client.get("/api/v1/papers")).json()
    assert papers["total"] == 2 and "One too many" not in {p["title"] for p in papers["items"]}
    assert (await plat.client.get("/api/v1/me/tokens", headers=ada["headers"])).json() == []
    # reads still work for the limited user, and another user still writes
    assert (await plat.client.get("/api/v1/me", headers=ada["headers"])).status_code == 200
    vote = await plat.client.put(f"/api/v1/summaries/{summary['id']}/vote", json={"value": 1},
                                 headers=bob["headers"])
    assert vote.status_code == 200 and vote.json()["score"] == 1
