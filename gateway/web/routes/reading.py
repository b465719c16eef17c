"""Pages for reading: home, papers, summaries and their revisions, venues, search, users."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from fastapi import APIRouter, Request

from backbone.app import choice_param, int_param
from backbone.contracts.search import SearchRequest
from backbone.contracts.summaries import CommentRead, SummaryRead
from backbone.errors import Invalid, NotFound
from backbone.identity import Identity
from gateway.api.deps import state
from gateway.web.diff import counts, word_diff
from gateway.web.metadata import description, identifier_links, is_public, open_graph, scholarly_article
from gateway.web.render import page, query_url
from gateway.web.routes.base import Pager, WebRoute
from gateway.web.visitor import Visitor, visitor

HOME_SIZE = 10
PAPER_SIZE = 20
CITING_SIZE = 20  # summaries citing a paper, newest first, on its page
VENUE_SIZE = 20
SEARCH_SIZE = 10
VENUES_TTL = 30.0


@dataclass
class Card:
    """A summary as a page shows it, with what the visitor may do to it."""

    summary: SummaryRead
    comments: list[CommentRead]
    mine: bool
    can_vote: bool
    can_delete: bool
    can_hide: bool
    moderator: bool
    viewer_id: str | None

    @property
    def public(self) -> bool:
        return is_public(self.summary)

    def can_hide_comment(self, comment: CommentRead) -> bool:
        return not comment.hidden and (self.moderator or comment.author.id == self.viewer_id)


def card(s: SummaryRead, who: Visitor, comments: list[CommentRead] | None = None) -> Card:
    me = who.identity
    mine = me is not None and s.author is not None and s.author.id == me.user_id
    return Card(summary=s, comments=comments or [], mine=mine, can_vote=me is not None and not mine,
                can_delete=mine or who.is_moderator, can_hide=who.is_moderator and not s.hidden,
                moderator=who.is_moderator, viewer_id=me.user_id if me else None)


async def comments_of(request: Request, summaries: list[SummaryRead], viewer: Identity | None) -> list[list]:
    gw = state(request)

    async def one(s: SummaryRead) -> list[CommentRead]:
        if s.comments == 0 and viewer is None:
            return []  # nothing visible to an anonymous reader: spare the call
        return await gw.summaries.comments(s.id, viewer)

    return list(await asyncio.gather(*(one(s) for s in summaries)))


async def venue_list(request: Request) -> list:
    gw = state(request)
    web = request.app.state.web

    async def load():
        venues, counts_ = await asyncio.gather(gw.papers.venues(), gw.summaries.counts_by_venue())
        return [{"key": v.key, "name": v.name, "papers": v.papers, "summaries": counts_.get(v.key, 0)}
                for v in venues]

    return await web.cached("venues", VENUES_TTL, load)


def router() -> APIRouter:
    r = APIRouter(route_class=WebRoute, include_in_schema=False)

    @r.get("/")
    async def home(request: Request):
        who = await visitor(request)
        q = request.query_params
        tab = choice_param(q, "tab", "latest", ("latest", "top"))
        venue = q.get("venue") or None
        if venue is not None and len(venue) > 200:
            raise Invalid("the venue is too long", field="venue")
        page_n = int_param(q, "page", 1, 1, 100_000)
        result, venues = await asyncio.gather(
            state(request).summaries.list(sort="score" if tab == "top" else "newest", venue=venue, year=None,
                                          viewer=who.identity, page=page_n, size=HOME_SIZE),
            venue_list(request),
        )
        return page(request, who, "home.html", tab=tab, venue=venue, venues=venues,
                    cards=[card(s, who) for s in result.items],
                    pager=Pager(page_n, HOME_SIZE, result.total), noindex=page_n > 1 or result.total == 0)

    @r.get("/papers/{paper_id}")
    async def paper_page(request: Request, paper_id: str):
        who = await visitor(request)
        gw = state(request)
        q = request.query_params
        sort = choice_param(q, "sort", "score", ("score", "newest"))
        page_n = int_param(q, "page", 1, 1, 100_000)
        paper, result, citing = await asyncio.gather(
            gw.papers.get(paper_id),
            gw.summaries.list_for_paper(paper_id, sort=sort, viewer=who.identity, page=page_n, size=PAPER_SIZE),
            gw.summaries.citing(paper_id, viewer=who.identity, page=1, size=CITING_SIZE),
        )
        comments = await comments_of(request, result.items, who.identity)
        cards = [card(s, who, c) for s, c in zip(result.items, comments)]
        public = [c.summary for c in cards if c.public]
        mine = next((c.summary for c in cards if c.mine), None)
        url = f"{request.app.state.web.public_url}/papers/{paper.id}"
        text = description(paper, public[0] if public else None)
        return page(request, who, "paper.html", paper=paper, cards=cards, sort=sort, mine=mine,
                    links=identifier_links(paper), pager=Pager(page_n, PAPER_SIZE, result.total), citing=citing,
                    noindex=not public, canonical=url, meta=open_graph(paper, url, text), description=text,
                    jsonld=scholarly_article(paper, url, public))

    @r.get("/summaries/{summary_id}")
    async def summary_page(request: Request, summary_id: str):
        who = await visitor(request)
        gw = state(request)
        s = await gw.summaries.get(summary_id, who.identity)
        comments = (await comments_of(request, [s], who.identity))[0]
        c = card(s, who, comments)
        url = f"{request.app.state.web.public_url}/summaries/{s.id}"
        return page(request, who, "summary.html", c=c, paper=s.paper, noindex=not c.public, canonical=url)

    @r.get("/summaries/{summary_id}/revisions")
    async def revisions_page(request: Request, summary_id: str):
        who = await visitor(request)
        gw = state(request)
        s, revisions = await asyncio.gather(gw.summaries.get(summary_id, who.identity),
                                            gw.summaries.revisions(summary_id, who.identity))
        context = revision_context(request, revisions)
        return page(request, who, "revisions.html", s=s, c=card(s, who), noindex=True, **context)

    @r.get("/venues")
    async def venues_page(request: Request):
        who = await visitor(request)
        venues = await venue_list(request)
        return page(request, who, "venues.html", venues=venues, noindex=not any(v["summaries"] for v in venues))

    @r.get("/venues/{key}")
    async def venue_page(request: Request, key: str):
        who = await visitor(request)
        gw = state(request)
        venue = next((v for v in await venue_list(request) if v["key"] == key), None)
        years_read = await gw.papers.venue_years(key)  # NotFound for an unknown venue
        if venue is None:  # a venue newer than the cached list
            venue = {"key": key, "name": key, "papers": sum(y.papers for y in years_read), "summaries": 0}
        year_counts = await gw.summaries.counts_by_year(key)
        years = sorted((y.year for y in years_read if y.year is not None), reverse=True)
        q = request.query_params
        raw_year = q.get("year")
        if raw_year in (None, ""):
            year = years[0] if years else None
        elif raw_year == "all":
            year = None
        else:
            year = int_param(q, "year", 0, 1600, 2100)
            if year not in years:
                raise NotFound(f"no papers of {venue['name']} in {year}", field="year")
        page_n = int_param(q, "page", 1, 1, 100_000)
        papers = await gw.papers.list(venue=key, year=year, page=page_n, size=VENUE_SIZE)
        tops = await asyncio.gather(*(gw.summaries.list_for_paper(p.id, sort="score", viewer=None, page=1, size=1)
                                      for p in papers.items))
        rows = [{"paper": p, "top": t.items[0] if t.items else None, "count": t.total}
                for p, t in zip(papers.items, tops)]
        tabs = [{"year": y, "summaries": year_counts.get(y, 0)} for y in years]
        return page(request, who, "venue.html", venue=venue, tabs=tabs, year=year, rows=rows,
                    pager=Pager(page_n, VENUE_SIZE, papers.total),
                    noindex=not any(row["top"] for row in rows))

    @r.get("/search")
    async def search_page(request: Request):
        who = await visitor(request)
        q = request.query_params
        text = q.get("q", "")
        venues = [v for v in q.getlist("venue") if v][:20]
        sort = choice_param(q, "sort", "relevance", ("relevance", "newest", "score"))
        year_from = int_param(q, "year_from", 0, 1600, 2100) if q.get("year_from") else None
        year_to = int_param(q, "year_to", 0, 1600, 2100) if q.get("year_to") else None
        page_n = int_param(q, "page", 1, 1, 10_000)
        params = {"q": text, "venue": venues, "year_from": year_from, "year_to": year_to, "sort": sort}
        result, error = None, None
        if text.strip() or venues or year_from or year_to:
            try:
                result = await state(request).search.search(SearchRequest(
                    q=text, venue=venues, year_from=year_from, year_to=year_to, sort=sort, page=page_n,
                    size=SEARCH_SIZE))
            except Invalid as exc:
                error = exc.detail
        return page(request, who, "search.html", params=params, result=result, error=error,
                    pager=Pager(page_n, SEARCH_SIZE, result.total if result else 0),
                    links=SearchLinks(params), noindex=True, status=422 if error else 200)

    @r.get("/users/{username}")
    async def user_page(request: Request, username: str):
        who = await visitor(request)
        gw = state(request)
        user = await gw.identity.store.user_by_username(username) if len(username) <= 64 else None
        if user is None:
            raise NotFound(f"no user {username}", field="username")
        page_n = int_param(request.query_params, "page", 1, 1, 10_000)
        # The search index holds public summaries only, and anonymous ones without their
        # author, so this lists exactly what everyone may attribute to the user.
        result = await gw.search.search(SearchRequest(author=user.username, sort="newest", page=page_n,
                                                      size=SEARCH_SIZE, facets=False))
        return page(request, who, "user.html", user=user, result=result,
                    pager=Pager(page_n, SEARCH_SIZE, result.total), noindex=result.total == 0)

    return r


class SearchLinks:
    """URLs of the search page with one thing changed (a facet, the sort, the page)."""

    def __init__(self, params: dict) -> None:
        self.params = params

    def _url(self, **changes) -> str:
        p = {**self.params, **changes}
        items = [("q", p["q"]), *(("venue", v) for v in p["venue"]), ("year_from", p["year_from"]),
                 ("year_to", p["year_to"]), ("sort", None if p["sort"] == "relevance" else p["sort"]),
                 ("page", p.get("page") if p.get("page", 1) != 1 else None)]
        return query_url("/search", items)

    def toggle_venue(self, key: str) -> str:
        venues = self.params["venue"]
        return self._url(venue=[v for v in venues if v != key] if key in venues else [*venues, key])

    def year(self, value: int | None) -> str:
        return self._url(year_from=value, year_to=value)

    def without_years(self) -> str:
        return self._url(year_from=None, year_to=None)

    def sorted_by(self, sort: str) -> str:
        return self._url(sort=sort)

    def page(self, n: int) -> str:
        return self._url(page=n)


def revision_context(request: Request, revisions: list) -> dict:
    """The revision list and the diff between two of them (`a` and `b` in the query;
    by default the last one against the one before it)."""
    revisions = sorted(revisions, key=lambda r: r.revision)
    numbers = [r.revision for r in revisions]
    by_number = {r.revision: r for r in revisions}
    q = request.query_params
    latest = numbers[-1] if numbers else 0
    b = int_param(q, "b", latest, 1, 1_000_000) if numbers else 0
    a = int_param(q, "a", max(b - 1, 1), 1, 1_000_000) if numbers else 0
    diff = None
    if b in by_number and a in by_number and a != b:
        segments = word_diff(by_number[a].body, by_number[b].body)
        diff = {"a": a, "b": b, "segments": segments, "counts": counts(segments)}
    return {"revisions": list(reversed(revisions)), "diff": diff, "a": a, "b": b}
