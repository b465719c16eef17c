"""Rich summaries on the pages: the renderer's stylesheet served as a static file, the table
of contents and reading time, "summaries that cite this paper", and a policy (CSP) that lets
through what the renderer emits."""

from __future__ import annotations

import re

from gateway.web.render import STATIC
from gateway.web.security import CONTENT_SECURITY_POLICY
from services.summaries.domain import styles
from services.summaries.domain.outline import TOC_MIN_WORDS
from services.summaries.domain.render import render_uncached
from tests.helpers import eventually

ARXIV = "1512.03385"


def test_the_static_summary_stylesheet_is_the_renderers():
    # After a renderer style change:
    #   python -m services.summaries.domain.styles > gateway/web/static/summary.css
    assert (STATIC / "summary.css").read_text() == styles.stylesheet()


def test_the_content_security_policy_allows_what_rendered_summaries_need():
    directives = dict(d.split(" ", 1) for d in CONTENT_SECURITY_POLICY.split("; "))
    html = render_uncached("![a](http://example.org/a.png)\n\n![b](https://example.org/b.png)\n\n"
                           "| x |\n|:-:|\n| 1 |\n").html
    for scheme in re.findall(r'<img [^>]*src="(\w+):', html):
        assert f"{scheme}:" in directives["img-src"].split(), scheme
    assert 'style="text-align' in html and "'unsafe-inline'" in directives["style-src-attr"]
    assert "'unsafe-inline'" not in directives["style-src"]  # no <style> in summaries, none allowed


async def test_pages_show_contents_reading_time_and_summaries_citing_a_paper(platform, web):
    ada = await platform.user()
    paper = await platform.paper(ada, title="Some Follow-up Work")
    long_body = ("## Method\n\n" + "word " * (TOC_MIN_WORDS // 2) + "\n\n## Results\n\n"
                 + "word " * (TOC_MIN_WORDS // 2) + f"\\cite{{arXiv:{ARXIV}}}\n")
    summary = await platform.summary(ada, paper["id"], body=long_body)
    cited = await platform.paper(ada, title="Deep Residual Learning for Image Recognition",
                                 identifiers={"arxiv": ARXIV})
    reader = await web()

    page = await reader.page(f"/summaries/{summary['id']}")
    assert '<link rel="stylesheet" href="/static/summary.css?v=' in page
    assert re.search(r'<nav class="toc"[^>]*>\s*<ol><li class="toc-2"><a href="#sec-method">Method</a>', page)
    assert f'{summary["reading_minutes"]} min read' in page and summary["reading_minutes"] >= 7
    css = await reader.get("/static/summary.css")
    assert css.status_code == 200 and ".highlight .k" in css.text

    async def citing_section():
        text = await reader.page(f"/papers/{cited['id']}")
        return text if "Summaries that cite this paper" in text else None

    paper_page = await eventually(citing_section, timeout=30)
    assert f'href="/summaries/{summary["id"]}">Some Follow-up Work</a>' in paper_page
    assert "Summaries that cite this paper" not in await reader.page(f"/papers/{paper['id']}")
    # The summary now links to the cited paper's page, titled.
    assert f'href="/papers/{cited["id"]}"' in await reader.page(f"/summaries/{summary['id']}")
