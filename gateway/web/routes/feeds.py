"""Atom feeds, the sitemap and robots.txt."""

from __future__ import annotations

import asyncio
from datetime import datetime

from fastapi import APIRouter, Request
from starlette.responses import PlainTextResponse, RedirectResponse, Response

from backbone.app import int_param
from backbone.errors import NotFound
from gateway.api.deps import state
from gateway.web.routes.base import WebRoute
from gateway.web.routes.reading import venue_list
from gateway.web.xmlout import atom_feed, sitemap_index, urlset

FEED_SIZE = 50
# A sitemap file covers the papers of this many public summaries (newest first); a site
# with more gets a sitemap index at /sitemap.xml pointing at one file per chunk.
SITEMAP_CHUNK = 1_000
LIST_PAGE = 100
ATOM_TYPE = "application/atom+xml; charset=utf-8"
XML_TYPE = "application/xml; charset=utf-8"
CACHE = {"cache-control": "public, max-age=300"}


async def _papers_of_chunk(request: Request, chunk: int) -> list[tuple[str, datetime]]:
    """(paper id, newest change) of the papers of the chunk's public summaries."""
    summaries = state(request).summaries
    per_chunk = SITEMAP_CHUNK // LIST_PAGE
    first = (chunk - 1) * per_chunk + 1
    pages = await asyncio.gather(*(summaries.list(sort="newest", venue=None, year=None, viewer=None, page=n,
                                                  size=LIST_PAGE) for n in range(first, first + per_chunk)))
    newest: dict[str, datetime] = {}
    for result in pages:
        for s in result.items:
            if s.paper_id not in newest or s.updated_at > newest[s.paper_id]:
                newest[s.paper_id] = s.updated_at
    return list(newest.items())


async def _site_urls(request: Request) -> list[tuple[str, datetime | None]]:
    base = request.app.state.web.public_url
    venues = await venue_list(request)
    return [(base + "/", None), (base + "/venues", None),
            *((f"{base}/venues/{v['key']}", None) for v in venues if v["summaries"])]


def router() -> APIRouter:
    r = APIRouter(route_class=WebRoute, include_in_schema=False)

    @r.get("/feeds/summaries.atom")
    async def summaries_feed(request: Request):
        result = await state(request).summaries.list(sort="newest", venue=None, year=None, viewer=None, page=1,
                                                     size=FEED_SIZE)
        body = atom_feed(public_url=request.app.state.web.public_url, path="/feeds/summaries.atom",
                         title="ShortScience: latest summaries", alternate="/", summaries=result.items)
        return Response(body, media_type=ATOM_TYPE, headers=CACHE)

    @r.get("/feeds/venues/{key}.atom")
    async def venue_feed(request: Request, key: str):
        gw = state(request)
        venue = next((v for v in await venue_list(request) if v["key"] == key), None)
        if venue is None:
            await gw.papers.venue_years(key)  # NotFound for an unknown venue
            venue = {"key": key, "name": key}
        result = await gw.summaries.list(sort="newest", venue=key, year=None, viewer=None, page=1, size=FEED_SIZE)
        body = atom_feed(public_url=request.app.state.web.public_url, path=f"/feeds/venues/{key}.atom",
                         title=f"ShortScience: latest summaries of {venue['name']} papers",
                         alternate=f"/venues/{key}", summaries=result.items)
        return Response(body, media_type=ATOM_TYPE, headers=CACHE)

    @r.get("/sitemap.xml")
    async def sitemap(request: Request):
        base = request.app.state.web.public_url
        total = (await state(request).summaries.list(sort="newest", venue=None, year=None, viewer=None, page=1,
                                                     size=1)).total
        if total <= SITEMAP_CHUNK:
            papers = await _papers_of_chunk(request, 1)
            urls = [*await _site_urls(request), *((f"{base}/papers/{p}", at) for p, at in papers)]
            return Response(urlset(urls), media_type=XML_TYPE, headers=CACHE)
        chunks = -(-total // SITEMAP_CHUNK)
        locations = [f"{base}/sitemaps/site.xml", *(f"{base}/sitemaps/papers-{n}.xml" for n in range(1, chunks + 1))]
        return Response(sitemap_index(locations), media_type=XML_TYPE, headers=CACHE)

    @r.get("/sitemaps/site.xml")
    async def site_sitemap(request: Request):
        return Response(urlset(await _site_urls(request)), media_type=XML_TYPE, headers=CACHE)

    @r.get("/sitemaps/papers-{chunk}.xml")
    async def papers_sitemap(request: Request, chunk: str):
        if not chunk.isdigit():
            raise NotFound("no such sitemap")
        n = int_param({"chunk": chunk}, "chunk", 1, 1, 100_000)
        base = request.app.state.web.public_url
        papers = await _papers_of_chunk(request, n)
        if not papers and n > 1:
            raise NotFound("no such sitemap")
        return Response(urlset((f"{base}/papers/{p}", at) for p, at in papers), media_type=XML_TYPE, headers=CACHE)

    @r.get("/favicon.ico")
    async def favicon(request: Request):
        # Asked for by browsers on documents without a <link rel="icon"> (feeds shown as XML).
        return RedirectResponse("/static/favicon.svg", status_code=301)

    @r.get("/robots.txt")
    async def robots(request: Request):
        base = request.app.state.web.public_url
        lines = ["User-agent: *", *(f"Disallow: {p}" for p in
                                    ("/api/", "/login", "/signup", "/settings", "/moderation", "/search")),
                 f"Sitemap: {base}/sitemap.xml", ""]
        return PlainTextResponse("\n".join(lines), headers=CACHE)

    return r
