"""The search service's internal HTTP API (reached only by the gateway)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request

from backbone.app import json_response
from backbone.contracts.search import SearchRequest, search_params
from services.search.handlers import SearchService


def router() -> APIRouter:
    r = APIRouter()

    def svc(request: Request) -> SearchService:
        return request.app.state.search

    @r.get("/search")
    async def search(request: Request, params: Annotated[SearchRequest, Depends(search_params)]):
        return json_response(await svc(request).search(params))

    @r.get("/search/suggest")
    async def suggest(request: Request, q: Annotated[str, Query(max_length=100)] = "",
                      limit: Annotated[int, Query(ge=1, le=10)] = 10):
        return json_response(await svc(request).suggest(q, limit))

    return r
