"""Citations between papers through the public API: an unknown arXiv id links out; once the
paper is registered (its event reaching the summaries service) the summary links to the
paper's page with its title, and the paper lists the summaries citing it."""

from __future__ import annotations

import re

from tests.api.support import assert_problem
from tests.helpers import eventually

ARXIV = "1512.03385"
LINK = re.compile(r'<a [^>]*href="(/papers/[^"]+|https://arxiv\.org/abs/[^"]+)"[^>]*>([^<]*)</a>')


async def test_a_citation_resolves_once_the_cited_paper_is_registered(platform):
    ada = await platform.user()
    paper = await platform.paper(ada)
    body = f"Builds on residual learning \\cite{{arXiv:{ARXIV}}}.\n"
    summary = await platform.summary(ada, paper["id"], body=body)
    assert LINK.findall(summary["body_html"]) == [(f"https://arxiv.org/abs/{ARXIV}", f"arXiv:{ARXIV}")]
    assert summary["citations"] == [{"key": f"arxiv:{ARXIV}", "paper_id": None, "title": None}]

    cited = await platform.paper(ada, title="Deep Residual Learning for Image Recognition",
                                 identifiers={"arxiv": f"{ARXIV}v1"})
    assert (await platform.client.get(f"/api/v1/papers/{cited['id']}/citing-summaries")).status_code == 200

    async def linked():
        r = await platform.client.get(f"/api/v1/summaries/{summary['id']}")
        return r.json() if LINK.findall(r.json()["body_html"])[0][0].startswith("/papers/") else None

    read = await eventually(linked, timeout=30)
    title = "Deep Residual Learning for Image Recognition"
    assert LINK.findall(read["body_html"]) == [(f"/papers/{cited['id']}", title)]
    assert read["citations"] == [{"key": f"arxiv:{ARXIV}", "paper_id": cited["id"],
                                  "title": "Deep Residual Learning for Image Recognition"}]

    r = await platform.client.get(f"/api/v1/papers/{cited['id']}/citing-summaries")
    assert r.status_code == 200
    assert [s["id"] for s in r.json()["items"]] == [summary["id"]] and r.json()["total"] == 1
    # The summarised paper itself is not cited; an unknown paper is a 404.
    assert (await platform.client.get(f"/api/v1/papers/{paper['id']}/citing-summaries")).json()["total"] == 0
    assert_problem(await platform.client.get("/api/v1/papers/nope/citing-summaries"), 404)
