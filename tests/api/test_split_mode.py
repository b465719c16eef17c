"""The split deployment: each service its own app on its own port, the gateway reaching
them over HTTP with aiohttp, all sharing one event-log file (as separate processes would)."""

from __future__ import annotations

from contextlib import AsyncExitStack

import httpx
import pytest

from gateway.bootstrap import create_http_gateway
from services.papers.bootstrap import create_http_app as papers_app
from services.papers.config import PapersSettings
from services.search.bootstrap import create_http_app as search_app
from services.search.config import SearchSettings
from services.summaries.bootstrap import create_http_app as summaries_app
from services.summaries.config import SummariesSettings
from tests.conftest import Platform, Server, make_settings
from tests.helpers import eventually

SECRET = "split-mode-test-secret"


@pytest.fixture
async def split(tmp_path):
    common = dict(data_dir=tmp_path, environment="test", poll_interval=0.01, internal_secret=SECRET,
                  consumer_retry_base=0.01, log_level="WARNING")
    async with AsyncExitStack() as stack:
        papers = await stack.enter_async_context(Server(papers_app(PapersSettings(**common))))
        summaries = await stack.enter_async_context(Server(summaries_app(SummariesSettings(**common))))
        search = await stack.enter_async_context(Server(search_app(SearchSettings(**common))))
        settings = make_settings(tmp_path, internal_secret=SECRET, papers_url=papers.url,
                                 summaries_url=summaries.url, search_url=search.url)
        gateway = await stack.enter_async_context(Server(create_http_gateway(settings)))
        client = await stack.enter_async_context(httpx.AsyncClient(base_url=gateway.url, timeout=10))
        yield Platform(client, gateway.app, settings, gateway.url), {"papers": papers, "summaries": summaries}


async def test_the_whole_flow_works_over_http(split):
    plat, _ = split
    ada, bob = await plat.user(), await plat.user()
    paper = await plat.paper(ada, title="Attention Is All You Need", venue="NeurIPS", year=2017,
                             identifiers={"arxiv": "1706.03762"})
    summary = await plat.summary(ada, paper["id"], body="Self-attention replaces recurrence: $QK^T$.")
    c = plat.client

    r = await c.get(f"/api/v1/summaries/{summary['id']}")
    assert r.status_code == 200 and "<math" in r.json()["body_html"]
    r = await c.put(f"/api/v1/summaries/{summary['id']}/vote", json={"value": 1}, headers=bob["headers"])
    assert r.json() == {"score": 1, "my_vote": 1}
    r = await c.get(f"/api/v1/papers/{paper['id']}/summaries", headers=bob["headers"])
    assert r.json()["total"] == 1 and r.json()["items"][0]["my_vote"] == 1
    r = await c.get("/api/v1/venues")
    assert r.json() == [{"key": "neurips", "name": "NeurIPS", "papers": 1, "summaries": 1}]
    r = await c.get("/api/v1/venues/neurips/years")
    assert r.json() == [{"year": 2017, "papers": 1, "summaries": 1}]

    async def searchable():
        r = await c.get("/api/v1/search", params={"q": "recurrence", "venue": ["neurips"]})
        return r.json()["total"] == 1

    await eventually(searchable)


async def test_errors_cross_the_wire_unchanged(split):
    plat, _ = split
    ada = await plat.user()
    paper = await plat.paper(ada, identifiers={"doi": "10.1000/xyz123"})
    r = await plat.client.post("/api/v1/papers", headers=ada["headers"],
                               json={"title": "Again", "authors": ["A"], "identifiers": {"doi": "10.1000/XYZ123"}})
    assert r.status_code == 409
    assert r.headers["content-type"].startswith("application/problem+json")
    assert r.json()["existing_id"] == paper["id"] and r.json()["errors"][0]["field"] == "identifiers.doi"
    r = await plat.client.get("/api/v1/summaries/does-not-exist")
    assert r.status_code == 404 and r.json()["errors"][0]["field"] == "summary_id"


async def test_services_refuse_requests_that_bypass_the_gateway(split):
    _, services = split
    async with httpx.AsyncClient() as raw:
        r = await raw.get(services["papers"].url + "/papers")
        assert r.status_code == 403
        r = await raw.post(services["summaries"].url + "/summaries", headers={"x-user-id": "forged"}, json={})
        assert r.status_code == 403
        r = await raw.get(services["papers"].url + "/healthz")
        assert r.status_code == 200


async def test_the_personal_export_works_over_http(split):
    plat, _ = split
    ada, bob = await plat.user(), await plat.user()
    paper = await plat.paper(ada)
    mine = await plat.summary(ada, paper["id"], body="Ada's own words.")
    await plat.summary(bob, paper["id"], body="Bob's words.")
    r = await plat.client.get("/api/v1/me/export", headers=ada["headers"])
    assert r.status_code == 200, r.text
    data = r.json()
    assert [s["id"] for s in data["summaries"]] == [mine["id"]]
    assert "Bob's words." not in r.text
