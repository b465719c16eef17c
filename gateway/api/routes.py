"""Public API v1. Thin: authenticate, rate-limit, call a service client, answer."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.responses import FileResponse

from backbone.app import choice_param, int_param, json_response
from backbone.contracts.papers import PaperCreate, PaperUpdate
from backbone.contracts.search import SearchRequest, search_params
from backbone.contracts.summaries import CommentCreate, SummaryCreate, SummaryUpdate, VoteIn
from backbone.dumps import latest_dump as find_latest_dump
from backbone.errors import Forbidden, NotFound
from gateway.api.deps import (
    CurrentSession,
    OptionalSession,
    Writer,
    client_address,
    optional_session,
    state,
    viewer_of,
)
from gateway.identity.service import LoginIn, ProfileIn, SignupIn, TokenIn
from gateway.identity.store import User

PageQ = Annotated[int, Query(ge=1, le=100_000)]
SizeQ = Annotated[int, Query(ge=1, le=100)]
SortQ = Annotated[Literal["newest", "score"], Query()]
VenueQ = Annotated[str | None, Query(min_length=1, max_length=200)]
YearQ = Annotated[int | None, Query(ge=1600, le=2100)]


def _user_json(user: User) -> dict:
    return {
        "id": user.id,
        "username": user.username,
        "email": user.email,
        "display_name": user.display_name,
        "roles": sorted(user.roles),
        "created_at": datetime.fromtimestamp(user.created_at, UTC).isoformat(),
    }


# The most frequent reads, written as plain handlers (Request and path parameters in, a
# Response out): the session is resolved by a direct call and the query read by hand,
# because FastAPI's routing and dependency injection cost more than the rest of such a
# read (see bench/). The gateway serves them through FastReads and documents them below.


async def get_summary(request: Request, summary_id: str) -> Response:
    viewer = viewer_of(await optional_session(request))
    return json_response(await state(request).summaries.get(summary_id, viewer))


async def paper_summaries(request: Request, paper_id: str) -> Response:
    query = request.query_params  # the same rules as SortQ, PageQ and SizeQ
    sort = choice_param(query, "sort", "score", ("score", "newest"))
    page, size = int_param(query, "page", 1, 1, 100_000), int_param(query, "size", 20, 1, 100)
    gw = state(request)
    viewer = viewer_of(await optional_session(request))
    result = await gw.summaries.list_for_paper(paper_id, sort=sort, viewer=viewer, page=page, size=size)
    if result.total == 0:
        await gw.papers.get(paper_id)  # an unknown paper is a 404, not an empty list
    return json_response(result)


HOT_READS = (
    ("/api/v1/summaries/{summary_id}", get_summary),
    ("/api/v1/papers/{paper_id}/summaries", paper_summaries),
)


def router() -> APIRouter:
    r = APIRouter(prefix="/api/v1")

    # -- hot reads: also served by backbone.app.FastReads (see HOT_READS) --------------

    r.add_api_route("/summaries/{summary_id}", get_summary, methods=["GET"])
    r.add_api_route("/papers/{paper_id}/summaries", paper_summaries, methods=["GET"], openapi_extra={"parameters": [
        {"name": "sort", "in": "query", "schema": {"enum": ["score", "newest"], "default": "score"}},
        {"name": "page", "in": "query", "schema": {"type": "integer", "minimum": 1, "default": 1}},
        {"name": "size", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": 100, "default": 20}},
    ]})

    @r.get("/summaries")
    async def list_summaries(request: Request, session: OptionalSession, sort: SortQ = "newest",
                             venue: VenueQ = None, year: YearQ = None, page: PageQ = 1, size: SizeQ = 20):
        return json_response(await state(request).summaries.list(
            sort=sort, venue=venue, year=year, viewer=viewer_of(session), page=page, size=size))

    # -- identity ---------------------------------------------------------------------

    @r.post("/auth/signup", status_code=201)
    async def signup(request: Request, data: SignupIn):
        gw = state(request)
        gw.signup_limiter.hit(client_address(request), "sign-ups")
        return json_response(_user_json(await gw.identity.signup(data)), 201)

    @r.post("/auth/login")
    async def login(request: Request, data: LoginIn):
        gw = state(request)
        gw.login_limiter.hit(client_address(request), "login attempts")
        gw.login_limiter.hit("user:" + data.username.casefold(), "login attempts")
        token = await gw.identity.login(data)
        return json_response({"access_token": token, "token_type": "bearer",
                              "expires_in": gw.identity.session_seconds})

    @r.post("/auth/logout", status_code=204)
    async def logout(request: Request, session: CurrentSession):
        await state(request).identity.logout(session.user, session.token)
        return Response(status_code=204)

    @r.get("/me")
    async def me(session: CurrentSession):
        return json_response(_user_json(session.user))

    @r.patch("/me")
    async def update_me(request: Request, data: ProfileIn, session: Writer):
        """Change your display name (the username stays)."""
        return json_response(_user_json(await state(request).identity.change_display_name(session.user, data)))

    @r.post("/me/tokens", status_code=201)
    async def create_token(request: Request, data: TokenIn, session: Writer):
        secret, token = await state(request).identity.create_api_token(session.user, data)
        return json_response({"id": token.id, "name": token.name, "token": secret,
                              "created_at": datetime.fromtimestamp(token.created_at, UTC).isoformat()}, 201)

    @r.get("/me/tokens")
    async def list_tokens(request: Request, session: CurrentSession):
        tokens = await state(request).identity.list_api_tokens(session.user)
        return json_response([{"id": t.id, "name": t.name,
                               "created_at": datetime.fromtimestamp(t.created_at, UTC).isoformat()} for t in tokens])

    @r.delete("/me/tokens/{token_id}", status_code=204)
    async def revoke_token(request: Request, token_id: str, session: CurrentSession):
        await state(request).identity.revoke_api_token(session.user, token_id)
        return Response(status_code=204)

    @r.get("/me/export")
    async def my_export(request: Request, session: CurrentSession):
        """The user's own data: profile (no secrets), summaries with revisions, votes, comments."""
        mine = await state(request).summaries.export_for_user(session.user.id)
        return json_response({"exported_at": datetime.now(UTC).isoformat(), "user": _user_json(session.user),
                              **mine.model_dump(mode="json")})

    @r.get("/dumps/latest")
    async def latest_dump(request: Request):
        path = find_latest_dump(request.app.state.settings)
        if path is None:
            raise NotFound("no public dump yet; an operator runs `shortscience dump`", field="dump")
        return FileResponse(path, media_type="application/gzip", filename=path.name)

    # -- papers -----------------------------------------------------------------------

    @r.post("/papers", status_code=201)
    async def register_paper(request: Request, data: PaperCreate, session: Writer):
        return json_response(await state(request).papers.register(data, session.identity), 201)

    @r.get("/papers")
    async def list_papers(request: Request, venue: VenueQ = None, year: YearQ = None, page: PageQ = 1,
                          size: SizeQ = 20):
        return json_response(await state(request).papers.list(venue=venue, year=year, page=page, size=size))

    @r.get("/papers/lookup")
    async def lookup_paper(
        request: Request,
        doi: Annotated[str | None, Query(max_length=300)] = None,
        arxiv: Annotated[str | None, Query(max_length=300)] = None,
        dblp: Annotated[str | None, Query(max_length=300)] = None,
    ):
        return json_response(await state(request).papers.lookup(doi=doi, arxiv=arxiv, dblp=dblp))

    @r.get("/papers/{paper_id}")
    async def get_paper(request: Request, paper_id: str):
        return json_response(await state(request).papers.get(paper_id))

    @r.patch("/papers/{paper_id}")
    async def update_paper(request: Request, paper_id: str, data: PaperUpdate, session: Writer):
        if not session.identity.is_moderator:
            raise Forbidden("only moderators may correct papers")
        return json_response(await state(request).papers.update(paper_id, data, session.identity))

    @r.get("/venues")
    async def venues(request: Request):
        gw = state(request)
        counts = await gw.summaries.counts_by_venue()
        items = await gw.papers.venues()
        return json_response([{**v.model_dump(), "summaries": counts.get(v.key, 0)} for v in items])

    @r.get("/venues/{key}/years")
    async def venue_years(request: Request, key: str):
        gw = state(request)
        years = await gw.papers.venue_years(key)
        counts = await gw.summaries.counts_by_year(key)
        return json_response([{**y.model_dump(), "summaries": counts.get(y.year, 0)} for y in years])

    # -- summaries --------------------------------------------------------------------

    @r.post("/papers/{paper_id}/summaries", status_code=201)
    async def publish(request: Request, paper_id: str, data: SummaryCreate, session: Writer):
        gw = state(request)
        paper = await gw.papers.get(paper_id)
        return json_response(await gw.summaries.publish(paper.snapshot(), data, session.identity), 201)

    @r.get("/papers/{paper_id}/citing-summaries")
    async def citing_summaries(request: Request, paper_id: str, session: OptionalSession, page: PageQ = 1,
                               size: SizeQ = 20):
        """Public summaries that cite this paper (`\\cite{arXiv:...}`, `doi:`, `dblp:` or `paper:<id>`)."""
        gw = state(request)
        result = await gw.summaries.citing(paper_id, viewer=viewer_of(session), page=page, size=size)
        if result.total == 0:
            await gw.papers.get(paper_id)  # an unknown paper is a 404, not an empty list
        return json_response(result)

    @r.patch("/summaries/{summary_id}")
    async def revise(request: Request, summary_id: str, data: SummaryUpdate, session: Writer):
        return json_response(await state(request).summaries.revise(summary_id, data, session.identity))

    @r.get("/summaries/{summary_id}/revisions")
    async def revisions(request: Request, summary_id: str, session: OptionalSession):
        items = await state(request).summaries.revisions(summary_id, viewer_of(session))
        return json_response([i.model_dump(mode="json") for i in items])

    @r.delete("/summaries/{summary_id}", status_code=204)
    async def delete(request: Request, summary_id: str, session: Writer):
        await state(request).summaries.delete(summary_id, session.identity)
        return Response(status_code=204)

    @r.post("/summaries/{summary_id}/hide")
    async def hide(request: Request, summary_id: str, session: Writer):
        return json_response(await state(request).summaries.hide(summary_id, session.identity))

    @r.put("/summaries/{summary_id}/vote")
    async def vote(request: Request, summary_id: str, data: VoteIn, session: Writer):
        return json_response(await state(request).summaries.vote(summary_id, data.value, session.identity))

    @r.post("/summaries/{summary_id}/comments", status_code=201)
    async def comment(request: Request, summary_id: str, data: CommentCreate, session: Writer):
        return json_response(await state(request).summaries.comment(summary_id, data, session.identity), 201)

    @r.get("/summaries/{summary_id}/comments")
    async def comments(request: Request, summary_id: str, session: OptionalSession):
        items = await state(request).summaries.comments(summary_id, viewer_of(session))
        return json_response([c.model_dump(mode="json") for c in items])

    @r.post("/comments/{comment_id}/hide")
    async def hide_comment(request: Request, comment_id: str, session: Writer):
        return json_response(await state(request).summaries.hide_comment(comment_id, session.identity))

    # -- search -----------------------------------------------------------------------

    @r.get("/search")
    async def search(request: Request, params: Annotated[SearchRequest, Depends(search_params)]):
        return json_response(await state(request).search.search(params))

    @r.get("/search/suggest")
    async def suggest(request: Request, q: Annotated[str, Query(max_length=100)] = "",
                      limit: Annotated[int, Query(ge=1, le=10)] = 10):
        return json_response(await state(request).search.suggest(q, limit))

    return r

