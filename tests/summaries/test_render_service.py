"""The renderer as the summaries service uses it: what publish stores, what a read returns
(the outline next to body_html), and stale HTML from an older renderer version."""

from __future__ import annotations

from dataclasses import replace

import pytest

from backbone.contracts.summaries import SummaryCreate, SummaryUpdate
from backbone.events import PaperSnapshot
from backbone.identity import Identity
from backbone.ids import new_id
from services.summaries.adapters.sqlite import SqliteSummariesStore
from services.summaries.domain.outline import TOC_MIN_WORDS
from services.summaries.domain.render import RENDERER_VERSION, render_uncached
from services.summaries.handlers import SummariesService

ADA = Identity(user_id="user-ada", username="ada")
LONG = (
    "# Deep residual learning\n\n## Method\n\n" + "word " * (TOC_MIN_WORDS // 2)
    + "\n\n## Results\n\n" + "word " * (TOC_MIN_WORDS // 2) + "with $x^2$ \\cite{arXiv:1512.03385}.\n"
)


def paper() -> PaperSnapshot:
    return PaperSnapshot(paper_id=new_id(), title="Deep Residual Learning", authors=["K. He"], venue="CVPR",
                         venue_key="cvpr", year=2016)


@pytest.fixture
async def service(tmp_path):
    store = SqliteSummariesStore(tmp_path / "summaries.db")
    await store.start()
    try:
        yield SummariesService(store)
    finally:
        await store.close()


async def test_publish_stores_the_rendered_html_and_a_read_returns_the_outline(service) -> None:
    published = await service.publish(paper(), SummaryCreate(body=LONG), ADA)
    stored = await service.store.get(published.id)
    assert stored.renderer_version == RENDERER_VERSION
    assert stored.body_html == render_uncached(LONG).html == published.body_html
    assert '<h2 id="sec-method">' in stored.body_html and 'href="https://arxiv.org/abs/1512.03385"' in stored.body_html

    read = await service.get(published.id, None)
    assert [(e.level, e.id, e.text) for e in read.toc] == [
        (1, "sec-deep-residual-learning", "Deep residual learning"), (2, "sec-method", "Method"),
        (2, "sec-results", "Results"),
    ]  # fmt: skip
    assert read.words == TOC_MIN_WORDS + 6 and read.reading_minutes == 7  # headings count; formulas do not
    listed = await service.list_for_paper(published.paper_id, sort="newest", viewer=None, page=1, size=10)
    assert listed.items[0].toc == read.toc and listed.items[0].words == read.words


async def test_a_short_summary_has_no_toc_but_a_reading_time(service) -> None:
    published = await service.publish(paper(), SummaryCreate(body="## Idea\n\nShort and sweet."), ADA)
    assert (published.toc, published.words, published.reading_minutes) == ([], 4, 1)


async def test_revising_the_body_renders_it_again(service) -> None:
    published = await service.publish(paper(), SummaryCreate(body="## Before"), ADA)
    revised = await service.revise(published.id, SummaryUpdate(body="## After\n\n```python\nx = 1\n```"), ADA)
    assert '<h2 id="sec-after">' in revised.body_html and '<pre class="highlight">' in revised.body_html
    assert (await service.store.get(published.id)).body_html == revised.body_html


async def test_html_from_an_older_renderer_is_rendered_afresh_on_read(service) -> None:
    published = await service.publish(paper(), SummaryCreate(body="## Old\n\ntext"), ADA)
    stored = await service.store.get(published.id)
    stale = replace(stored, body_html="<h2>Old</h2><p>text</p>", renderer_version="1")
    await service.store.save(stale, stored.version, [])
    read = await service.get(published.id, None)
    assert read.body_html == render_uncached("## Old\n\ntext").html  # not the stale copy
