"""Who may write what, from ONE table: every write route of the public API against every
role, on fresh objects each time. A write route the table does not list fails the test, so a
new route cannot ship without its row.

Roles: anonymous (no token), member (signed in, unrelated to the target), author (owns the
target: the paper's registrant, the summary's and comment's author, the token's owner),
other (a second member, not the author), moderator, admin.
Cells: "ok" = a 2xx, or the status the rule answers (401 sign in, 403 refused, 404 hidden,
409 a rule that is not about who asks)."""

from __future__ import annotations

import dataclasses
import itertools

import pytest

from tests.api.support import assert_problem, guard
from tests.helpers import eventually

ROLES = ("anonymous", "member", "author", "other", "moderator", "admin")
OK = "ok"

MATRIX: dict[str, tuple] = {
    # route                                         anonymous member author other moderator admin
    "POST /api/v1/auth/signup":                     (OK, OK, OK, OK, OK, OK),
    "POST /api/v1/auth/login":                      (OK, OK, OK, OK, OK, OK),
    "POST /api/v1/auth/logout":                     (401, OK, OK, OK, OK, OK),
    "PATCH /api/v1/me":                             (401, OK, OK, OK, OK, OK),
    "POST /api/v1/me/tokens":                       (401, OK, OK, OK, OK, OK),
    "DELETE /api/v1/me/tokens/{token_id}":          (401, 404, OK, 404, 404, 404),
    "POST /api/v1/papers":                          (401, OK, OK, OK, OK, OK),
    "PATCH /api/v1/papers/{paper_id}":              (401, 403, 403, 403, OK, OK),
    "POST /api/v1/papers/{paper_id}/summaries":     (401, OK, 409, OK, OK, OK),
    "PATCH /api/v1/summaries/{summary_id}":         (401, 403, OK, 403, 403, 403),
    "DELETE /api/v1/summaries/{summary_id}":        (401, 403, OK, 403, OK, OK),
    "POST /api/v1/summaries/{summary_id}/hide":     (401, 403, 403, 403, OK, OK),
    "PUT /api/v1/summaries/{summary_id}/vote":      (401, OK, 403, OK, OK, OK),
    "POST /api/v1/summaries/{summary_id}/comments": (401, OK, OK, OK, OK, OK),
    "POST /api/v1/comments/{comment_id}/hide":      (401, 403, OK, 403, OK, OK),
    "POST /api/v1/social/posts/{post_id}/retry":    (401, 403, 403, 403, OK, OK),
}
WRITE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}
_n = itertools.count(1)


def all_routes(routes, prefix: str = ""):
    """(methods, path) of every route, through included routers (FastAPI keeps them nested)."""
    for route in routes:
        inner = getattr(route, "original_router", None)
        if inner is not None:
            context = getattr(route, "include_context", None)
            yield from all_routes(inner.routes, prefix + (getattr(context, "prefix", "") or ""))
        elif getattr(route, "path", None):
            yield set(getattr(route, "methods", None) or ()), prefix + route.path


def write_routes(app) -> set[str]:
    return {f"{method} {path}" for methods, path in all_routes(app.routes) if path.startswith("/api/")
            for method in methods & WRITE_METHODS}


async def test_the_table_lists_every_write_route_of_the_api(platform):
    assert write_routes(platform.app) == set(MATRIX)


async def people(platform) -> dict:
    author, member, other = await platform.user(), await platform.user(), await platform.user()
    return {"anonymous": None, "member": member, "author": author, "other": other,
            "moderator": await platform.user(roles={"moderator"}), "admin": await platform.user(roles={"admin"})}


async def targets(platform, author) -> dict:
    """Fresh objects owned by `author`: a paper with their summary and comment, their token."""
    c = platform.client
    paper = await platform.paper(author)
    summary = await platform.summary(author, paper["id"], body=f"Words number {next(_n)}.")
    comment = (await c.post(f"/api/v1/summaries/{summary['id']}/comments", json={"body": "Mine."},
                            headers=author["headers"])).json()
    token = (await c.post("/api/v1/me/tokens", json={"name": "t"}, headers=author["headers"])).json()
    return {"paper_id": paper["id"], "summary_id": summary["id"], "comment_id": comment["id"],
            "token_id": token["id"]}


async def social_post_of(platform, summary_id: str, moderator) -> str:
    async def find():
        r = await platform.client.get("/api/v1/social/posts", params={"size": 100}, headers=moderator["headers"])
        return next((p["id"] for p in r.json()["items"] if p["summary_id"] == summary_id), None)

    return await eventually(find)


def body_for(route: str, role: str, who) -> dict | None:
    n = next(_n)
    return {
        "POST /api/v1/auth/signup": {"username": f"new{n}", "email": f"new{n}@example.org",
                                     "password": "correct horse 1"},
        "POST /api/v1/auth/login": {"username": (who or {}).get("username", "nobody"), "password": "correct horse 1"},
        "PATCH /api/v1/me": {"display_name": f"Renamed {n}"},
        "POST /api/v1/me/tokens": {"name": "ci"},
        "POST /api/v1/papers": {"title": f"Another Paper {n}", "authors": ["A. Author"]},
        "PATCH /api/v1/papers/{paper_id}": {"title": f"Corrected {n}"},
        "POST /api/v1/papers/{paper_id}/summaries": {"body": f"My take {n}."},
        "PATCH /api/v1/summaries/{summary_id}": {"body": f"Revised {n}."},
        "PUT /api/v1/summaries/{summary_id}/vote": {"value": 1},
        "POST /api/v1/summaries/{summary_id}/comments": {"body": f"A remark {n}."},
    }.get(route)


@pytest.mark.parametrize("route", sorted(MATRIX))
async def test_each_role_is_allowed_or_refused_as_the_table_says(platform, route):
    guard(platform.client)
    roles = await people(platform)
    method, path = route.split(" ", 1)
    outcomes = {}
    for role, expected in zip(ROLES, MATRIX[route], strict=True):
        who = roles[role]
        ids = await targets(platform, roles["author"])
        if "{post_id}" in path:
            ids["post_id"] = await social_post_of(platform, ids["summary_id"], roles["moderator"])
            await fail_the_post(platform, ids["post_id"])
        if who is not None and route == "POST /api/v1/auth/logout":
            who = await fresh_login(platform, who)  # the author's own token stays for the next role
        if role == "anonymous" and route == "POST /api/v1/auth/login":
            who_for_body = roles["member"]  # anyone may log in: it is how one stops being anonymous
        else:
            who_for_body = who
        r = await platform.client.request(method, path.format(**ids), json=body_for(route, role, who_for_body),
                                          headers=who["headers"] if who else None)
        outcomes[role] = r.status_code
        if expected == OK:
            assert 200 <= r.status_code < 300, (route, role, r.status_code, r.text)
        else:
            assert_problem(r, expected)
    assert len(outcomes) == len(ROLES)


async def fresh_login(platform, who: dict) -> dict:
    r = await platform.client.post("/api/v1/auth/login", json={"username": who["username"],
                                                               "password": "correct horse 1"})
    return {**who, "headers": {"Authorization": f"Bearer {r.json()['access_token']}"}}


async def fail_the_post(platform, post_id: str) -> None:
    """A post the operators may retry: the dry-run channels post at once, so mark it failed."""
    store = platform.app.state.gateway.social.store
    post = await store.get(post_id)
    if post.status not in ("failed", "pending"):
        await store.save(dataclasses.replace(post, status="failed", version=post.version + 1), post.version)
