"""Atom feeds and the sitemap, parsed as XML and checked against their specifications'
required elements (RFC 4287; sitemaps.org protocol 0.9)."""

from __future__ import annotations

from datetime import datetime
from urllib.parse import urlparse
from xml.etree import ElementTree

import gateway.web.routes.feeds as feeds

A = "{http://www.w3.org/2005/Atom}"
SM = "{http://www.sitemaps.org/schemas/sitemap/0.9}"


def rfc3339(value: str) -> datetime:
    assert value.endswith("Z") or value[-6] in "+-", value
    parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    assert parsed.tzinfo is not None
    return parsed


def one(parent, tag: str):
    found = parent.findall(tag)
    assert len(found) == 1, f"{len(found)} x {tag}"
    return found[0]


def validate_atom(body: bytes) -> ElementTree.Element:
    """The RFC 4287 rules a feed reader depends on."""
    assert body.startswith(b'<?xml version="1.0" encoding="utf-8"?>')
    feed = ElementTree.fromstring(body)
    assert feed.tag == A + "feed"
    assert urlparse(one(feed, A + "id").text).scheme in ("http", "https")
    assert one(feed, A + "title").text
    rfc3339(one(feed, A + "updated").text)
    links = {link.get("rel", "alternate"): link.get("href") for link in feed.findall(A + "link")}
    assert links["self"].endswith(".atom") and links["alternate"]
    feed_author = feed.find(A + "author")
    ids = set()
    for entry in feed.findall(A + "entry"):
        entry_id = one(entry, A + "id").text
        assert entry_id not in ids
        ids.add(entry_id)
        assert one(entry, A + "title").text
        rfc3339(one(entry, A + "updated").text)
        rfc3339(one(entry, A + "published").text)
        author = entry.find(A + "author")
        assert author is not None or feed_author is not None  # atom:author is required, inherited from the feed
        if author is not None:
            assert one(author, A + "name").text
        content = one(entry, A + "content")
        assert content.get("type") == "html" and content.text
        assert any(link.get("rel") == "alternate" for link in entry.findall(A + "link"))
    return feed


async def test_summaries_feed_is_valid_atom_with_the_latest_fifty_public_summaries(platform, web):
    ada, bob = await platform.user(), await platform.user()
    first = None
    for n in range(52):
        paper = await platform.paper(ada, title=f"Feed paper {n}", venue="ICLR" if n % 2 else "CVPR")
        s = await platform.summary(bob, paper["id"], body=f"Summary {n} with $x_{n}$.")
        first = first or s
    private_paper = await platform.paper(ada, title="Private one")
    await platform.summary(bob, private_paper["id"], body="Not for feeds.", visibility="private")
    reader = await web()
    r = await reader.get("/feeds/summaries.atom")
    assert r.status_code == 200 and r.headers["content-type"] == "application/atom+xml; charset=utf-8"
    feed = validate_atom(r.content)
    entries = feed.findall(A + "entry")
    assert len(entries) == 50
    assert "Summary 51" in entries[0].find(A + "content").text and "<math" in entries[0].find(A + "content").text
    assert first["id"] not in r.text and "Not for feeds." not in r.text  # the oldest fell off; private never in
    assert entries[0].find(A + "author/" + A + "name").text == bob["username"]
    assert entries[0].find(A + "title").text == "Summary of Feed paper 51"

    r = await reader.get("/feeds/venues/iclr.atom")
    venue = validate_atom(r.content)
    assert len(venue.findall(A + "entry")) == 26
    assert all(e.find(A + "category").get("term") == "iclr" for e in venue.findall(A + "entry"))
    assert (await reader.get("/feeds/venues/no-such-venue.atom")).status_code == 404


async def test_an_empty_feed_is_still_valid(platform, web):
    r = await (await web()).get("/feeds/summaries.atom")
    assert validate_atom(r.content).findall(A + "entry") == []


async def test_anonymous_entries_carry_no_author_but_the_feed_does(platform, web):
    ada = await platform.user("namedperson")
    paper = await platform.paper(ada)
    await platform.summary(ada, paper["id"], body="Anonymous in the feed.", anonymous=True)
    r = await (await web()).get("/feeds/summaries.atom")
    feed = validate_atom(r.content)
    entry = one(feed, A + "entry")
    assert entry.find(A + "author") is None and "namedperson" not in r.text
    assert one(one(feed, A + "author"), A + "name").text == "ShortScience"


def validate_urlset(body: bytes) -> list[tuple[str, str | None]]:
    root = ElementTree.fromstring(body)
    assert root.tag == SM + "urlset"
    urls = []
    for url in root.findall(SM + "url"):
        loc = one(url, SM + "loc").text
        assert urlparse(loc).scheme in ("http", "https") and len(loc) < 2048
        lastmod = url.find(SM + "lastmod")
        if lastmod is not None:
            rfc3339(lastmod.text)
        urls.append((loc, lastmod.text if lastmod is not None else None))
    assert len(urls) <= 50_000
    return urls


async def test_sitemap_lists_venue_pages_and_papers_with_a_public_summary(platform, web):
    ada = await platform.user()
    summarised = await platform.paper(ada, venue="ICLR")
    bare = await platform.paper(ada, venue="ICLR")
    private = await platform.paper(ada, venue="ICLR")
    await platform.summary(ada, summarised["id"])
    await platform.summary(ada, private["id"], visibility="private")
    r = await (await web()).get("/sitemap.xml")
    assert r.status_code == 200 and r.headers["content-type"].startswith("application/xml")
    locs = [loc for loc, _ in validate_urlset(r.content)]
    base = platform.settings.public_url
    assert f"{base}/" in locs and f"{base}/venues" in locs and f"{base}/venues/iclr" in locs
    assert f"{base}/papers/{summarised['id']}" in locs
    assert f"{base}/papers/{bare['id']}" not in locs and f"{base}/papers/{private['id']}" not in locs
    robots = await (await web()).get("/robots.txt")
    assert f"Sitemap: {base}/sitemap.xml" in robots.text


async def test_a_large_site_gets_a_sitemap_index(platform, web, monkeypatch):
    monkeypatch.setattr(feeds, "SITEMAP_CHUNK", 2)
    monkeypatch.setattr(feeds, "LIST_PAGE", 1)
    ada = await platform.user()
    papers = []
    for _ in range(5):
        paper = await platform.paper(ada)
        await platform.summary(ada, paper["id"])
        papers.append(paper["id"])
    reader = await web()
    root = ElementTree.fromstring((await reader.get("/sitemap.xml")).content)
    assert root.tag == SM + "sitemapindex"
    locations = [one(s, SM + "loc").text for s in root.findall(SM + "sitemap")]
    base = platform.settings.public_url
    assert locations == [f"{base}/sitemaps/site.xml", *(f"{base}/sitemaps/papers-{n}.xml" for n in (1, 2, 3))]
    listed = set()
    for loc in locations:
        r = await reader.get(urlparse(loc).path)
        listed |= {loc for loc, _ in validate_urlset(r.content)}
    assert {f"{base}/papers/{p}" for p in papers} <= listed
    assert (await reader.get("/sitemaps/papers-9.xml")).status_code == 404
