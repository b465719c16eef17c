"""The summaries service's internal HTTP API (reached only by the gateway)."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request, Response

from backbone.app import choice_param, int_param, json_response
from backbone.contracts.summaries import CommentCreate, PreviewIn, SummaryCreate, SummaryUpdate, VoteIn
from backbone.contracts.common import Strict
from backbone.events import PaperSnapshot
from backbone.errors import Forbidden
from backbone.identity import identity_from_headers
from backbone.service_api import Actor, Viewer
from services.summaries.handlers import SummariesService

PageQ = Annotated[int, Query(ge=1, le=100_000)]
SizeQ = Annotated[int, Query(ge=1, le=100)]
SortQ = Annotated[Literal["newest", "score"], Query()]


class PublishRequest(Strict):
    paper: PaperSnapshot
    summary: SummaryCreate


def svc(request: Request) -> SummariesService:
    return request.app.state.summaries


# The gateway's most frequent reads, as plain handlers served by backbone.app.FastReads
# (and registered below as ordinary routes too): see gateway/api/routes.py for why.


async def get_summary(request: Request, summary_id: str) -> Response:
    viewer = identity_from_headers(request.headers)
    return json_response(await svc(request).get(summary_id, viewer))


async def for_paper(request: Request, paper_id: str) -> Response:
    query = request.query_params
    sort = choice_param(query, "sort", "score", ("score", "newest"))
    page, size = int_param(query, "page", 1, 1, 100_000), int_param(query, "size", 20, 1, 100)
    viewer = identity_from_headers(request.headers)
    return json_response(await svc(request).list_for_paper(paper_id, sort=sort, viewer=viewer, page=page, size=size))


HOT_READS = (("/summaries/{summary_id}", get_summary), ("/papers/{paper_id}/summaries", for_paper))


def router() -> APIRouter:
    r = APIRouter()

    @r.post("/summaries", status_code=201)
    async def publish(request: Request, data: PublishRequest, actor: Actor):
        return json_response(await svc(request).publish(data.paper, data.summary, actor), 201)

    @r.get("/summaries")
    async def list_summaries(
        request: Request, viewer: Viewer, sort: SortQ = "newest",
        venue: Annotated[str | None, Query(max_length=200)] = None,
        year: Annotated[int | None, Query(ge=1600, le=2100)] = None, page: PageQ = 1, size: SizeQ = 20,
    ):
        return json_response(
            await svc(request).list(sort=sort, venue=venue, year=year, viewer=viewer, page=page, size=size)
        )

    @r.post("/summaries/preview")
    async def preview(request: Request, data: PreviewIn):
        return json_response(await svc(request).preview(data.body))

    @r.get("/summaries/states")
    async def states(request: Request, after: Annotated[str | None, Query(max_length=64)] = None,
                     limit: Annotated[int, Query(ge=1, le=1000)] = 500):
        return json_response(await svc(request).states(after=after, limit=limit))

    @r.get("/summaries/counts/venues")
    async def counts_by_venue(request: Request):
        return json_response(await svc(request).counts_by_venue())

    @r.get("/summaries/counts/venues/{key}/years")
    async def counts_by_year(request: Request, key: str):
        counts = await svc(request).counts_by_year(key)
        return json_response([[year, n] for year, n in counts.items()])

    r.add_api_route("/summaries/{summary_id}", get_summary, methods=["GET"])

    @r.patch("/summaries/{summary_id}")
    async def revise(request: Request, summary_id: str, data: SummaryUpdate, actor: Actor):
        return json_response(await svc(request).revise(summary_id, data, actor))

    @r.delete("/summaries/{summary_id}", status_code=204)
    async def delete(request: Request, summary_id: str, actor: Actor):
        await svc(request).delete(summary_id, actor)
        return Response(status_code=204)

    @r.post("/summaries/{summary_id}/hide")
    async def hide(request: Request, summary_id: str, actor: Actor):
        return json_response(await svc(request).hide(summary_id, actor))

    @r.get("/summaries/{summary_id}/revisions")
    async def revisions(request: Request, summary_id: str, viewer: Viewer):
        return json_response([r.model_dump(mode="json") for r in await svc(request).revisions(summary_id, viewer)])

    @r.put("/summaries/{summary_id}/vote")
    async def vote(request: Request, summary_id: str, data: VoteIn, actor: Actor):
        return json_response(await svc(request).vote(summary_id, data.value, actor))

    @r.post("/summaries/{summary_id}/comments", status_code=201)
    async def comment(request: Request, summary_id: str, data: CommentCreate, actor: Actor):
        return json_response(await svc(request).comment(summary_id, data, actor), 201)

    @r.get("/summaries/{summary_id}/comments")
    async def comments(request: Request, summary_id: str, viewer: Viewer):
        return json_response([c.model_dump(mode="json") for c in await svc(request).comments(summary_id, viewer)])

    @r.get("/users/{user_id}/export")
    async def export_for_user(request: Request, user_id: str, actor: Actor):
        if actor.user_id != user_id:
            raise Forbidden("a personal export is its owner's only")
        return json_response(await svc(request).export_for_user(user_id))

    @r.post("/comments/{comment_id}/hide")
    async def hide_comment(request: Request, comment_id: str, actor: Actor):
        return json_response(await svc(request).hide_comment(comment_id, actor))

    r.add_api_route("/papers/{paper_id}/summaries", for_paper, methods=["GET"])

    @r.get("/papers/{paper_id}/citing-summaries")
    async def citing(request: Request, paper_id: str, viewer: Viewer, page: PageQ = 1, size: SizeQ = 20):
        return json_response(await svc(request).citing(paper_id, viewer=viewer, page=page, size=size))

    return r
