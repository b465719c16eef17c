"""Citations through the summaries service, on both stores: a cited paper registered later
turns the outbound identifier into a link to its page on the next read after its event,
the paper lists the summaries citing it, and the outline survives a restart without the
body being rendered again."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Awaitable, Callable

import pytest

from backbone.contracts.summaries import SummaryCreate, SummaryUpdate
from backbone.events import PaperRegistered, PaperSnapshot, PaperUpdated
from backbone.identity import Identity
from backbone.ids import new_id
from services.summaries import consumers
from services.summaries.domain import render as renderer
from services.summaries.domain.outline import TOC_MIN_WORDS
from services.summaries.handlers import SummariesService
from tests.engines import unique_prefix

ADA = Identity(user_id="user-ada", username="ada")
ARXIV = "1512.03385"
BODY = f"Residual learning builds on earlier work \\cite{{arXiv:{ARXIV}v2}}.\n\n## Method\n\nShortcuts.\n"
LONG = (
    "## Method\n\n" + "word " * (TOC_MIN_WORDS // 2) + "\n\n## Results\n\n" + "word " * (TOC_MIN_WORDS // 2)
    + f"with $x^2$ \\cite{{arXiv:{ARXIV}}}.\n"
)


def snapshot(paper_id: str | None = None, *, title: str = "Deep Residual Learning for Image Recognition",
             version: int = 1, **identifiers: str) -> PaperSnapshot:
    return PaperSnapshot(paper_id=paper_id or new_id(), title=title, authors=["K. He"], venue="CVPR",
                         venue_key="cvpr", year=2016, identifiers=identifiers, version=version)


@pytest.fixture(params=["sqlite", pytest.param("mongo", marks=pytest.mark.engine("mongo"))])
async def open_service(request, tmp_path) -> AsyncIterator[Callable[[], Awaitable[SummariesService]]]:
    """Opens a service over the same (initially empty) store, once per 'process'."""
    if request.param == "sqlite":
        from services.summaries.adapters.sqlite import SqliteSummariesStore

        def new():
            return SqliteSummariesStore(tmp_path / "summaries.db")
    else:
        from services.summaries.adapters.mongo import MongoSummariesStore

        url, database = request.getfixturevalue("mongodb_url"), unique_prefix("cites") + "db"

        def new():
            return MongoSummariesStore(url, database)
    stores = []

    async def open_() -> SummariesService:
        store = new()
        await store.start()
        stores.append(store)
        return SummariesService(store)

    try:
        yield open_
    finally:
        if stores and request.param == "mongo":
            await stores[0].drop()
        for store in stores:
            await store.close()


async def deliver(service: SummariesService, event) -> None:
    """What the service's consumer does with an event of the papers topic."""
    envelope = event.envelope(aggregate_id=event.paper.paper_id, aggregate_version=event.paper.version,
                              producer="papers")
    await consumers.make_handler(service.store)(envelope)


async def test_a_citation_links_out_until_the_paper_is_registered_then_to_its_page(open_service):
    service = await open_service()
    published = await service.publish(snapshot(), SummaryCreate(body=BODY), ADA)
    assert f'href="https://arxiv.org/abs/{ARXIV}"' in published.body_html
    assert [(c.key, c.paper_id) for c in published.citations] == [(f"arxiv:{ARXIV}", None)]

    cited = snapshot(arxiv=ARXIV)
    await deliver(service, PaperRegistered(paper=cited))
    read = await service.get(published.id, None)
    link = re.search(r'<a [^>]*href="/papers/([^"]+)"[^>]*>([^<]*)</a>', read.body_html)
    assert link and link.groups() == (cited.paper_id, "Deep Residual Learning for Image Recognition")
    assert "arxiv.org" not in read.body_html
    assert [(c.key, c.paper_id, c.title) for c in read.citations] == [(f"arxiv:{ARXIV}", cited.paper_id, cited.title)]
    page = await service.citing(cited.paper_id, viewer=None, page=1, size=10)
    assert [s.id for s in page.items] == [published.id] and page.total == 1
    assert page.items[0].body_html == read.body_html

    # Another process (nothing cached) reads the same; a corrected title shows on the next read.
    other = await open_service()
    renderer.clear_caches()
    assert (await other.get(published.id, None)).body_html == read.body_html
    await deliver(other, PaperUpdated(paper=snapshot(cited.paper_id, title="ResNet", version=2, arxiv=ARXIV),
                                      changed=["title"]))
    assert ">ResNet</a>" in (await service.get(published.id, None)).body_html

    # A revision stores the links as they now resolve, and its event names the citation.
    revised = await service.revise(published.id, SummaryUpdate(body=BODY + "\nMore.\n"), ADA)
    stored = await service.store.get(published.id)
    assert stored.body_html == revised.body_html and ">ResNet</a>" in stored.body_html
    assert stored.cited == ((f"arxiv:{ARXIV}", cited.paper_id, "ResNet"),)
    assert stored.state().citations == [f"arxiv:{ARXIV}"]


async def test_a_paper_known_before_publishing_is_linked_at_once_and_in_the_preview(open_service):
    service = await open_service()
    cited = snapshot(arxiv=ARXIV)
    await deliver(service, PaperRegistered(paper=cited))
    preview = await service.preview(BODY)
    assert f'href="/papers/{cited.paper_id}"' in preview.html
    published = await service.publish(snapshot(), SummaryCreate(body=BODY, visibility="private"), ADA)
    assert f'href="/papers/{cited.paper_id}"' in published.body_html
    assert (await service.store.get(published.id)).cited == ((f"arxiv:{ARXIV}", cited.paper_id, cited.title),)
    # Private summaries are not listed as citing it.
    assert (await service.citing(cited.paper_id, viewer=None, page=1, size=10)).total == 0


async def test_after_a_restart_a_read_returns_the_outline_without_rendering(open_service):
    service = await open_service()
    published = await service.publish(snapshot(), SummaryCreate(body=LONG), ADA)
    assert [e.id for e in published.toc] == ["sec-method", "sec-results"]
    assert published.words > TOC_MIN_WORDS and published.reading_minutes >= 7

    renderer.clear_caches()  # a fresh process: nothing rendered yet
    restarted = await open_service()
    read = await restarted.get(published.id, None)
    listed = await restarted.list(sort="newest", venue=None, year=None, viewer=None, page=1, size=10)
    assert len(renderer._CACHE) == 0  # neither read rendered the body
    for got in (read, listed.items[0]):
        assert (got.toc, got.words, got.reading_minutes, got.body_html) == (
            published.toc, published.words, published.reading_minutes, published.body_html)
