"""The papers service's internal HTTP API (reached only by the gateway)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request

from backbone.app import json_response
from backbone.contracts.papers import PaperCreate, PaperUpdate
from backbone.service_api import Actor
from services.papers.handlers import PapersService


def router() -> APIRouter:
    r = APIRouter()

    def svc(request: Request) -> PapersService:
        return request.app.state.papers

    @r.post("/papers", status_code=201)
    async def register(request: Request, data: PaperCreate, actor: Actor):
        return json_response(await svc(request).register(data, actor), 201)

    @r.get("/papers")
    async def list_papers(
        request: Request,
        venue: Annotated[str | None, Query(max_length=200)] = None,
        year: Annotated[int | None, Query(ge=1600, le=2100)] = None,
        page: Annotated[int, Query(ge=1, le=100_000)] = 1,
        size: Annotated[int, Query(ge=1, le=100)] = 20,
    ):
        return json_response(await svc(request).list(venue=venue, year=year, page=page, size=size))

    @r.get("/papers/lookup")
    async def lookup(
        request: Request,
        doi: Annotated[str | None, Query(max_length=300)] = None,
        arxiv: Annotated[str | None, Query(max_length=300)] = None,
        dblp: Annotated[str | None, Query(max_length=300)] = None,
    ):
        return json_response(await svc(request).lookup(doi=doi, arxiv=arxiv, dblp=dblp))

    @r.get("/papers/{paper_id}")
    async def get(request: Request, paper_id: str):
        return json_response(await svc(request).get(paper_id))

    @r.patch("/papers/{paper_id}")
    async def update(request: Request, paper_id: str, data: PaperUpdate, actor: Actor):
        return json_response(await svc(request).update(paper_id, data, actor))

    @r.get("/venues")
    async def venues(request: Request):
        return json_response([v.model_dump(mode="json") for v in await svc(request).venues()])

    @r.get("/venues/{key}/years")
    async def venue_years(request: Request, key: str):
        return json_response([v.model_dump(mode="json") for v in await svc(request).venue_years(key)])

    return r
