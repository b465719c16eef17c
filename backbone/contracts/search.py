from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal, Protocol

from fastapi import Query
from pydantic import BaseModel

SearchSort = Literal["relevance", "newest", "score"]


class SearchRequest(BaseModel):
    q: str = ""
    venue: list[str] = []
    year_from: int | None = None
    year_to: int | None = None
    author: str | None = None
    sort: SearchSort = "relevance"
    page: int = 1
    size: int = 10
    facets: bool = True  # False: no facet counts (an API client that shows none spares the work)


class SearchHit(BaseModel):
    summary_id: str
    paper_id: str
    title: str
    authors: list[str]
    venue: str | None
    year: int | None
    score: int
    created_at: datetime
    snippet: str


class VenueFacet(BaseModel):
    key: str
    name: str
    count: int


class YearFacet(BaseModel):
    value: int
    count: int


class Facets(BaseModel):
    venue: list[VenueFacet] = []
    year: list[YearFacet] = []


class SearchResult(BaseModel):
    total: int
    page: int
    size: int
    hits: list[SearchHit]
    facets: Facets


class Suggestion(BaseModel):
    paper_id: str
    title: str


class SuggestResult(BaseModel):
    suggestions: list[Suggestion]


async def search_params(
    q: Annotated[str, Query()] = "",
    venue: Annotated[list[str] | None, Query(max_length=20)] = None,
    year_from: Annotated[int | None, Query(ge=1600, le=2100)] = None,
    year_to: Annotated[int | None, Query(ge=1600, le=2100)] = None,
    author: Annotated[str | None, Query(max_length=64)] = None,
    sort: Annotated[Literal["relevance", "newest", "score"], Query()] = "relevance",
    page: Annotated[int, Query(ge=1, le=10_000)] = 1,
    size: Annotated[int, Query(ge=1, le=50)] = 10,
    facets: Annotated[bool, Query()] = True,
) -> SearchRequest:
    """Query parameters of a search (a FastAPI dependency): the gateway and the search
    service validate with this one function."""
    return SearchRequest(q=q, venue=venue or [], year_from=year_from, year_to=year_to, author=author, sort=sort,
                         page=page, size=size, facets=facets)


class SearchAPI(Protocol):
    async def search(self, request: SearchRequest) -> SearchResult: ...
    async def suggest(self, q: str, limit: int = 10) -> SuggestResult: ...
    async def ready(self) -> bool: ...
