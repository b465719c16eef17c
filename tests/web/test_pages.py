"""Every page renders, for a reader and for a member, with what it must show."""

from __future__ import annotations

import json
import re

from tests.helpers import eventually
from tests.web.conftest import api_user_of


def jsonld_of(page: str) -> dict:
    found = re.search(r'<script type="application/ld\+json">(.*?)</script>', page, re.S)
    assert found, "no JSON-LD"
    return json.loads(found.group(1))


async def searchable(platform, q: str, total: int = 1) -> None:
    async def found():
        r = await platform.client.get("/api/v1/search", params={"q": q})
        return r.json()["total"] >= total

    await eventually(found)


async def test_home_lists_latest_and_top_with_venue_filter_and_pages(platform, web):
    ada, bob = await platform.user(), await platform.user()
    iclr = await platform.paper(ada, title="Gradient Noise Everywhere", venue="ICLR", year=2021)
    cvpr = await platform.paper(ada, title="Pixels All The Way", venue="CVPR", year=2019)
    low = await platform.summary(ada, iclr["id"], body="Low scorer with $\\alpha^2$.")
    top = await platform.summary(bob, cvpr["id"], body="Top scorer.")
    await platform.client.put(f"/api/v1/summaries/{top['id']}/vote", json={"value": 1}, headers=ada["headers"])
    reader = await web()

    latest = await reader.page("/")
    assert latest.index(f'id="summary-{top["id"]}"') < latest.index(f'id="summary-{low["id"]}"')
    assert "Gradient Noise Everywhere" in latest and "Ada Lovelace, Alan Turing" in latest
    assert "<math" in latest  # the rendered summary, with its math
    assert 'href="/venues/iclr"' in latest and "2021" in latest
    assert f'href="/papers/{iclr["id"]}"' in latest

    top_page = await reader.page("/?tab=top")
    assert top_page.index(f'id="summary-{top["id"]}"') < top_page.index(f'id="summary-{low["id"]}"')
    assert 'aria-current="page">Top rated' in top_page

    only_iclr = await reader.page("/?venue=iclr")
    assert low["id"] in only_iclr and top["id"] not in only_iclr
    assert '<option value="iclr" selected>' in only_iclr

    for n in range(11):  # more than a page (10 per page)
        paper = await platform.paper(ada, title=f"Filler {n}")
        await platform.summary(bob, paper["id"], body=f"Filler summary {n}.")
    first, second = await reader.page("/"), await reader.page("/?page=2")
    assert 'rel="next"' in first and 'href="/?page=2"' in first
    assert low["id"] in second and low["id"] not in first and 'rel="prev"' in second


async def test_paper_page_shows_header_identifiers_summaries_by_score_and_comments(platform, web):
    ada, bob, cy = await platform.user(), await platform.user(), await platform.user()
    paper = await platform.paper(ada, title="Attention Is All You Need", venue="NeurIPS", year=2017,
                                 abstract="We propose the Transformer.", keywords=["attention"],
                                 identifiers={"arxiv": "1706.03762", "doi": "10.5555/3295222.3295349",
                                              "dblp": "conf/nips/VaswaniSPUJGKP17"})
    first = await platform.summary(ada, paper["id"], body="First, scored low.")
    best = await platform.summary(bob, paper["id"], body="Best, scored high.")
    await platform.client.put(f"/api/v1/summaries/{best['id']}/vote", json={"value": 1}, headers=cy["headers"])
    await platform.client.post(f"/api/v1/summaries/{best['id']}/comments", json={"body": "Nice *point*."},
                               headers=cy["headers"])
    reader = await web()
    page = await reader.page(f"/papers/{paper['id']}")

    assert "<h1" in page and "Attention Is All You Need" in page
    assert 'href="https://arxiv.org/abs/1706.03762"' in page
    assert 'href="https://doi.org/10.5555/3295222.3295349"' in page
    assert 'href="https://dblp.org/rec/conf/nips/VaswaniSPUJGKP17"' in page
    assert "<details class=\"abstract\">" in page and "We propose the Transformer." in page
    assert page.index(f'id="summary-{best["id"]}"') < page.index(f'id="summary-{first["id"]}"')
    assert "<em>point</em>" in page  # the comment, rendered
    assert "Sign in to write a summary" in page and 'name="robots"' not in page

    article = jsonld_of(page)
    assert article["@type"] == "ScholarlyArticle" and article["name"] == "Attention Is All You Need"
    assert {"@type": "Person", "name": "Ada Lovelace"} in article["author"]
    assert "https://arxiv.org/abs/1706.03762" in article["sameAs"] and article["datePublished"] == "2017"
    assert len(article["review"]) == 2
    assert '<meta property="og:title" content="Attention Is All You Need">' in page
    assert '<meta property="og:type" content="article">' in page
    assert f'<link rel="canonical" href="{platform.settings.public_url}/papers/{paper["id"]}">' in page

    newest = await reader.page(f"/papers/{paper['id']}?sort=newest")
    assert newest.index(f'id="summary-{best["id"]}"') < newest.index(f'id="summary-{first["id"]}"')


async def test_paper_page_for_members_offers_writing_voting_and_editing(platform, web):
    ada = await platform.user()
    paper = await platform.paper(ada)
    theirs = await platform.summary(ada, paper["id"], body="Someone else's.")
    member = await web(signed_up=True)
    page = await member.page(f"/papers/{paper['id']}")
    assert f'href="/papers/{paper["id"]}/summaries/new"' in page and "Write a summary" in page
    assert f'action="/summaries/{theirs["id"]}/vote"' in page and 'aria-label="Upvote"' in page
    assert f'action="/summaries/{theirs["id"]}/comments"' in page
    assert f'href="/summaries/{theirs["id"]}/edit"' not in page  # not theirs to edit

    me = await api_user_of(platform, member)
    mine = await platform.summary(me, paper["id"], body="Mine.")
    page = await member.page(f"/papers/{paper['id']}")
    assert "Write a summary" not in page and "Edit your summary" in page
    assert f'href="/summaries/{mine["id"]}/edit"' in page and f'href="/summaries/{mine["id"]}/delete"' in page
    assert f'action="/summaries/{mine["id"]}/vote"' not in page  # no vote on one's own


async def test_paper_without_a_public_summary_is_not_indexed(platform, web):
    ada = await platform.user()
    paper = await platform.paper(ada)
    reader = await web()
    assert '<meta name="robots" content="noindex">' in await reader.page(f"/papers/{paper['id']}")
    await platform.summary(ada, paper["id"], body="Private note.", visibility="private")
    assert '<meta name="robots" content="noindex">' in await reader.page(f"/papers/{paper['id']}")
    await platform.summary(await platform.user(), paper["id"], body="Public one.")
    assert 'name="robots"' not in await reader.page(f"/papers/{paper['id']}")


async def test_summary_page_and_revisions_with_a_diff(platform, web):
    ada = await platform.user()
    paper = await platform.paper(ada)
    s = await platform.summary(ada, paper["id"], body="The model is small and fast.")
    r = await platform.client.patch(f"/api/v1/summaries/{s['id']}", json={"body": "The model is large and fast."},
                                    headers=ada["headers"])
    assert r.status_code == 200
    reader = await web()
    page = await reader.page(f"/summaries/{s['id']}")
    assert "The model is large and fast." in page and "revised 1×" in page
    revisions = await reader.page(f"/summaries/{s['id']}/revisions")
    assert "Revision 2" in revisions and "Revision 1" in revisions
    assert "<del>small</del>" in revisions and "<ins>large</ins>" in revisions
    same = await reader.page(f"/summaries/{s['id']}/revisions?a=2&b=1")
    assert "<del>large</del>" in same and "<ins>small</ins>" in same


async def test_venues_and_venue_page_with_year_tabs_and_top_summary_per_paper(platform, web):
    ada, bob = await platform.user(), await platform.user()
    old = await platform.paper(ada, title="Old Paper", venue="ICML", year=2015)
    new = await platform.paper(ada, title="New Paper", venue="ICML", year=2020)
    bare = await platform.paper(ada, title="Bare Paper", venue="ICML", year=2020)
    await platform.summary(ada, new["id"], body="Weaker summary.")
    strong = await platform.summary(bob, new["id"], body="Stronger summary.")
    await platform.client.put(f"/api/v1/summaries/{strong['id']}/vote", json={"value": 1}, headers=ada["headers"])
    await platform.summary(ada, old["id"], body="Old summary.")
    reader = await web()

    venues = await reader.page("/venues")
    assert 'href="/venues/icml"' in venues and re.search(r"ICML</a></th>\s*<td class=\"num\">3</td>\s*"
                                                           r"<td class=\"num\">3</td>", venues)
    page = await reader.page("/venues/icml")
    assert 'href="/venues/icml?year=2020" aria-current="page"' in page and 'href="/venues/icml?year=2015"' in page
    assert "New Paper" in page and "Bare Paper" in page and "Old Paper" not in page
    assert "Stronger summary." in page and "Weaker summary." not in page  # the top one only
    assert "No summary yet." in page
    assert "Old Paper" in await reader.page("/venues/icml?year=2015")
    every = await reader.page("/venues/icml?year=all")
    assert "Old Paper" in every and "New Paper" in every
    assert (await reader.get("/venues/nowhere")).status_code == 404
    assert (await reader.get("/venues/icml?year=1999")).status_code == 404
    assert bare["id"] in page


async def test_search_page_highlights_facets_sorts_and_pages(platform, web):
    ada, bob = await platform.user(), await platform.user()
    for n, (venue, year) in enumerate([("ICLR", 2020), ("ICLR", 2021), ("CVPR", 2021)] * 4):
        paper = await platform.paper(ada, title=f"Transformers part {n}", venue=venue, year=year)
        await platform.summary(bob, paper["id"], body=f"Attention heads everywhere, number {n}.")
    await searchable(platform, "heads", 12)
    reader = await web()

    page = await reader.page("/search?q=heads")
    assert "12 results" in page and "<mark>heads</mark>" in page
    assert 'href="/search?q=heads&amp;venue=iclr"' in page and 'href="/search?q=heads&amp;year_from=2021&amp;year_to=2021"' in page
    assert 'rel="next"' in page and 'href="/search?q=heads&amp;page=2"' in page
    narrowed = await reader.page("/search?q=heads&venue=iclr")
    assert "8 results" in narrowed and 'aria-current="true" class="active">ICLR' in narrowed
    assert "Remove the venue filter iclr" in narrowed
    both = await reader.page("/search?q=heads&venue=iclr&year_from=2021&year_to=2021")
    assert "4 results" in both
    by_score = await reader.page("/search?q=heads&sort=score")
    assert '<option value="score" selected>' in by_score
    assert "Nothing matches" in await reader.page("/search?q=zebra")
    empty = await reader.page("/search")
    assert "results" not in empty.split("<main", 1)[1].split("</main>")[0]
    r = await reader.get("/search?q=" + "x" * 1001)
    assert r.status_code == 422 and 'role="alert"' in r.text


async def test_user_page_lists_public_summaries_but_never_anonymous_or_private_ones(platform, web):
    ada = await platform.user("adalove")
    signed = await platform.summary(ada, (await platform.paper(ada, title="Signed Paper"))["id"], body="Signed.")
    hidden_name = await platform.summary(ada, (await platform.paper(ada, title="Anon Paper"))["id"],
                                         body="Anonymous words.", anonymous=True)
    await platform.summary(ada, (await platform.paper(ada, title="Private Paper"))["id"], body="Private words.",
                           visibility="private")
    await searchable(platform, "signed")
    await searchable(platform, "anonymous")
    reader = await web()
    page = await reader.page("/users/adalove")
    assert "Public summaries" in page and "(1)" in page and "Signed Paper" in page
    assert "Anon Paper" not in page and hidden_name["id"] not in page and "Private Paper" not in page
    assert signed["summary_id" if "summary_id" in signed else "id"] in page
    assert (await reader.get("/users/nobody-here")).status_code == 404


async def test_account_pages_render(platform, web):
    reader = await web()
    assert 'action="/login"' in await reader.page("/login")
    signup = await reader.page("/signup")
    assert 'for="username"' in signup and 'for="password_again"' in signup
    for path in ("/settings", "/papers/new", "/moderation"):
        r = await reader.get(path)
        assert r.status_code == 303 and r.headers["location"] == f"/login?next={path}"
    member = await web(signed_up=True)
    settings = await member.page("/settings")
    assert "Change your password" in settings and "API tokens" in settings and member.username in settings
    assert 'action="/papers/new"' in await member.page("/papers/new")
    assert (await member.get("/moderation")).status_code == 403
    assert (await member.get("/login")).headers["location"] == "/"


async def test_pages_use_landmarks_labels_and_escape_the_query(platform, web):
    reader = await web()
    page = await reader.page('/search?q="><b>bold</b>')
    for landmark in ("<header", "<main", "<footer", '<nav class="main-nav" aria-label="Main"'):
        assert landmark in page
    assert 'class="skip-link" href="#main"' in page and '<html lang="en">' in page
    assert "<b>bold</b>" not in page and "&lt;b&gt;bold&lt;/b&gt;" in page and '"><b' not in page
    # every input, select and textarea of a form has a label
    for control in re.finditer(r'<(input|select|textarea)\b([^>]*)>', page):
        attrs = control.group(2)
        if 'type="hidden"' in attrs or 'type="submit"' in attrs:
            continue
        found = re.search(r'id="([^"]+)"', attrs)
        assert found and f'for="{found.group(1)}"' in page, control.group(0)
