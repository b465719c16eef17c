"""The security review's fixes (SECURITY.md, "Findings"), one test each, the check the
review relies on (the internal secret guards every service route but the probes), and the
fix the load test (bench/loadtest.py) led to."""

from __future__ import annotations

import html
import re

import httpx
import pytest
from pydantic import ValidationError

from backbone.identity import INTERNAL_SECRET_HEADER
from backbone.settings import DEV_INTERNAL_SECRET, CommonSettings
from services.papers.bootstrap import create_http_app as papers_app
from services.papers.config import PapersSettings
from services.search.bootstrap import create_http_app as search_app
from services.search.config import SearchSettings
from services.social.bootstrap import create_http_app as social_app
from services.social.config import SocialSettings
from services.summaries.bootstrap import create_http_app as summaries_app
from services.summaries.config import SummariesSettings

PASSWORD = "first password 1"
NEW_PASSWORD = "second password 2"
_CSRF_META = re.compile(r'<meta name="csrf-token" content="([^"]*)">')


# -- Finding 1: a password change signs the user out everywhere else --------------------

async def _web_login(base_url: str, username: str) -> httpx.AsyncClient:
    browser = httpx.AsyncClient(base_url=base_url, timeout=10, follow_redirects=False)
    r = await browser.post("/login", data={"username": username, "password": PASSWORD, "next": "/",
                                           "csrf_token": await _csrf(browser, "/login")})
    assert r.status_code == 303, r.text[:500]
    return browser


async def _csrf(browser: httpx.AsyncClient, path: str) -> str:
    found = _CSRF_META.search((await browser.get(path)).text)
    assert found, f"no CSRF token on {path}"
    return html.unescape(found.group(1))


async def test_password_change_revokes_every_other_login_session(platform):
    api = platform.client
    r = await api.post("/api/v1/auth/signup", json={"username": "victim", "email": "victim@example.org",
                                                    "password": PASSWORD})
    assert r.status_code == 201, r.text
    stolen = {"Authorization": "Bearer " + (await api.post(
        "/api/v1/auth/login", json={"username": "victim", "password": PASSWORD})).json()["access_token"]}
    personal = await api.post("/api/v1/me/tokens", json={"name": "ci"}, headers=stolen)
    assert personal.status_code == 201, personal.text
    personal_headers = {"Authorization": "Bearer " + personal.json()["token"]}
    browser = await _web_login(platform.url, "victim")
    other_browser = await _web_login(platform.url, "victim")
    try:
        r = await browser.post("/settings/password", data={
            "current_password": PASSWORD, "new_password": NEW_PASSWORD, "new_password_again": NEW_PASSWORD,
            "csrf_token": await _csrf(browser, "/settings")})
        assert r.status_code == 303, r.text[:500]

        # The session that changed the password goes on; every other session is over.
        assert (await browser.get("/settings")).status_code == 200
        assert (await api.get("/api/v1/me", headers=stolen)).status_code == 401
        r = await other_browser.get("/settings")
        assert r.status_code == 303 and r.headers["location"].startswith("/login")
        # Personal tokens are the user's to revoke (listed on the settings page).
        assert (await api.get("/api/v1/me", headers=personal_headers)).status_code == 200
        # And the password did change.
        assert (await api.post("/api/v1/auth/login", json={"username": "victim", "password": PASSWORD})
                ).status_code == 401
        assert (await api.post("/api/v1/auth/login", json={"username": "victim", "password": NEW_PASSWORD})
                ).status_code == 200
    finally:
        await browser.aclose()
        await other_browser.aclose()


# The store side of this fix (`revoke_sessions` on both engines) is in the identity store's
# contract suite: tests/contracts/test_identity_store_contract.py.


# -- Finding 2: the internal secret must not be empty, nor short in production ------------

def test_an_empty_internal_secret_is_refused_in_every_environment():
    for environment in ("development", "test", "production"):
        with pytest.raises(ValidationError, match="must not be empty"):
            CommonSettings(environment=environment, internal_secret="")


def test_production_refuses_a_short_or_default_internal_secret():
    with pytest.raises(ValidationError, match="at least 32"):
        CommonSettings(environment="production", internal_secret="s" * 31)
    with pytest.raises(ValidationError, match="must be set in production"):
        CommonSettings(environment="production", internal_secret=DEV_INTERNAL_SECRET)
    assert CommonSettings(environment="production", internal_secret="s" * 32).internal_secret == "s" * 32
    # Outside production a short secret is fine (tests, a laptop).
    assert CommonSettings(environment="test", internal_secret="x").internal_secret == "x"


# -- Checked by the review: every service route but the probes requires the secret --------

SERVICES = {
    "papers": (papers_app, PapersSettings),
    "summaries": (summaries_app, SummariesSettings),
    "search": (search_app, SearchSettings),
    "social": (social_app, SocialSettings),
}
OPEN = {"/healthz", "/readyz", "/metrics"}
SECRET = "review-secret-" + "x" * 24


def _concrete(path: str) -> str:
    return re.sub(r"\{[^}]+\}", "x1", path)


@pytest.mark.parametrize("service", sorted(SERVICES))
async def test_every_service_route_but_the_probes_requires_the_internal_secret(service, tmp_path):
    factory, settings_class = SERVICES[service]
    app = factory(settings_class(data_dir=tmp_path, environment="test", internal_secret=SECRET))
    # The documented operations (routers included with a prefix only show there) and the
    # app's own routes.
    routes = {(method.upper(), path) for path, operations in app.openapi()["paths"].items()
              for method in operations}
    routes |= {(method, route.path) for route in app.routes if hasattr(route, "path")
               for method in getattr(route, "methods", None) or {"GET"} if method != "HEAD"}
    assert len(routes) > len(OPEN), f"{service}: no routes found"
    transport = httpx.ASGITransport(app=app)  # no lifespan: the secret is checked before anything else
    async with httpx.AsyncClient(transport=transport, base_url="http://service") as client:
        checked = 0
        for method, path in sorted(routes):
            url = _concrete(path)
            if path in OPEN:
                continue
            for headers in ({}, {INTERNAL_SECRET_HEADER: ""}, {INTERNAL_SECRET_HEADER: SECRET[:-1]},
                            {INTERNAL_SECRET_HEADER: SECRET + "x"}):
                r = await client.request(method, url, headers=headers, json={})
                assert r.status_code == 403, f"{service} {method} {path} with {headers}: {r.status_code}"
            checked += 1
        for path in OPEN:
            r = await client.get(path)
            assert r.status_code != 403, f"{service} {path} must stay open for probes"
        # A path no route knows is refused too, not answered with the service's 404.
        assert (await client.get("/no/such/path")).status_code == 403
    assert checked >= 3, f"{service}: only {checked} routes checked"


# -- Found by the load test: a split gateway answered 500 to `facets=false` ----------------

async def test_split_gateway_passes_search_flags_to_the_search_service(tmp_path):
    """aiohttp refuses a bool query value; the gateway's search client spells it out."""
    from backbone.contracts.search import SearchRequest
    from gateway.clients.http import SearchHttpClient
    from tests.conftest import Server

    settings = SearchSettings(data_dir=tmp_path, environment="test", internal_secret=SECRET, poll_interval=0.01,
                              log_level="WARNING")
    async with Server(search_app(settings)) as search:
        client = SearchHttpClient(search.url, SECRET)
        await client.start()
        try:
            without = await client.search(SearchRequest(q="attention", facets=False))
            with_facets = await client.search(SearchRequest(q="attention", venue=["iclr", "neurips"], year_from=2017,
                                                            facets=True))
        finally:
            await client.close()
    assert without.total == 0 and with_facets.total == 0  # before the fix: TypeError in aiohttp, a 500
