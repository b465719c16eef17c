"""The website on a split deployment: the gateway reaches the services over HTTP, the
editor's preview included (the summaries service's internal preview call)."""

from __future__ import annotations

from contextlib import AsyncExitStack

import pytest

from gateway.bootstrap import create_http_gateway
from services.papers.bootstrap import create_http_app as papers_app
from services.papers.config import PapersSettings
from services.search.bootstrap import create_http_app as search_app
from services.search.config import SearchSettings
from services.summaries.bootstrap import create_http_app as summaries_app
from services.summaries.config import SummariesSettings
from tests.conftest import Server, make_settings
from tests.web.conftest import WebClient

SECRET = "split-web-test-secret"


@pytest.fixture
async def split_url(tmp_path):
    common = dict(data_dir=tmp_path, environment="test", poll_interval=0.01, internal_secret=SECRET,
                  consumer_retry_base=0.01, log_level="WARNING")
    async with AsyncExitStack() as stack:
        papers = await stack.enter_async_context(Server(papers_app(PapersSettings(**common))))
        summaries = await stack.enter_async_context(Server(summaries_app(SummariesSettings(**common))))
        search = await stack.enter_async_context(Server(search_app(SearchSettings(**common))))
        settings = make_settings(tmp_path, internal_secret=SECRET, papers_url=papers.url,
                                 summaries_url=summaries.url, search_url=search.url)
        gateway = await stack.enter_async_context(Server(create_http_gateway(settings)))
        yield gateway.url


async def test_write_and_read_through_the_website_over_http(split_url):
    browser = WebClient(split_url)
    try:
        await browser.sign_up("splitter")
        r = await browser.post("/papers/new", {"title": "Split Paper", "authors": "A. Author", "venue": "ICML",
                                               "year": "2019"}, from_page="/papers/new")
        paper_path = r.headers["location"].split("?")[0]
        editor = paper_path + "/summaries/new"
        live = await browser.post("/summaries/preview", {"body": "Inline $e^{i\\pi}$ and <b>tags</b>."},
                                  from_page=editor)
        assert live.status_code == 200 and "<math" in live.text and "<b>" not in live.text
        r = await browser.post(editor, {"body": "Split *summary* $x^2$.", "action": "save"}, from_page=editor)
        assert r.status_code == 303
        page = await browser.page(paper_path)
        assert "<em>summary</em>" in page and "<math" in page
        assert "Split Paper" in await browser.page("/venues/icml")
        assert "Split Paper" in (await browser.get("/feeds/summaries.atom")).text
    finally:
        await browser.aclose()
