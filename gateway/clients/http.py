"""aiohttp clients for the services' internal HTTP APIs.

aiohttp rather than httpx on this hot path: measured on this machine, a gateway
forwarding with aiohttp.ClientSession reached several times httpx.AsyncClient's rate.
"""

from __future__ import annotations

from typing import Any

import aiohttp
import orjson
from pydantic import TypeAdapter

from backbone.contracts.papers import PaperCreate, PaperPage, PaperRead, PaperUpdate, VenueRead, VenueYearRead
from backbone.contracts.search import SearchRequest, SearchResult, SuggestResult
from backbone.contracts.social import PostPage, PostRead, PreviewRead
from backbone.contracts.summaries import (
    CommentCreate,
    CommentRead,
    PersonalExport,
    RenderedPreview,
    RevisionRead,
    StatesPage,
    SummaryCreate,
    SummaryPage,
    SummaryRead,
    SummaryUpdate,
    VoteResult,
)
from backbone.errors import Unavailable, from_problem
from backbone.events import PaperSnapshot
from backbone.identity import INTERNAL_SECRET_HEADER, REQUEST_ID_HEADER, Identity
from backbone.logs import current_correlation_id

_venues = TypeAdapter(list[VenueRead])
_years = TypeAdapter(list[VenueYearRead])
_revisions = TypeAdapter(list[RevisionRead])
_comments = TypeAdapter(list[CommentRead])


class ServiceHttpClient:
    def __init__(self, name: str, base_url: str, secret: str) -> None:
        self.name = name
        self.base_url = base_url.rstrip("/")
        self.secret = secret
        self._session: aiohttp.ClientSession | None = None

    async def start(self) -> None:
        if self._session is None:
            self._session = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(limit=256, keepalive_timeout=30),
                timeout=aiohttp.ClientTimeout(total=30, connect=5),
                json_serialize=lambda o: orjson.dumps(o).decode(),
            )

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def call(
        self, method: str, path: str, *, identity: Identity | None = None, params: dict | list | None = None,
        body: Any = None,
    ) -> bytes:
        assert self._session is not None, "client not started"
        headers = {INTERNAL_SECRET_HEADER: self.secret, REQUEST_ID_HEADER: current_correlation_id()}
        if identity is not None:
            headers.update(identity.headers())
        if isinstance(params, dict):
            params = {k: v for k, v in params.items() if v is not None}
        data = None
        if body is not None:
            data = body.model_dump_json(exclude_unset=True) if hasattr(body, "model_dump_json") else orjson.dumps(body)
            headers["content-type"] = "application/json"
        try:
            async with self._session.request(method, self.base_url + path, headers=headers, params=params,
                                             data=data) as resp:
                payload = await resp.read()
                if resp.status >= 400:
                    try:
                        problem = orjson.loads(payload)
                    except orjson.JSONDecodeError:
                        problem = {"detail": f"{self.name} answered {resp.status}"}
                    raise from_problem(resp.status, problem)
                return payload
        except aiohttp.ClientError as exc:
            raise Unavailable(f"the {self.name} service is unreachable: {exc.__class__.__name__}") from None

    async def ready(self) -> bool:
        try:
            await self.call("GET", "/readyz")
            return True
        except Exception:
            return False


class PapersHttpClient(ServiceHttpClient):
    def __init__(self, base_url: str, secret: str) -> None:
        super().__init__("papers", base_url, secret)

    async def register(self, data: PaperCreate, actor: Identity) -> PaperRead:
        return PaperRead.model_validate_json(await self.call("POST", "/papers", identity=actor, body=data))

    async def get(self, paper_id: str) -> PaperRead:
        return PaperRead.model_validate_json(await self.call("GET", f"/papers/{paper_id}"))

    async def list(self, *, venue: str | None, year: int | None, page: int, size: int) -> PaperPage:
        params = {"venue": venue, "year": year, "page": page, "size": size}
        return PaperPage.model_validate_json(await self.call("GET", "/papers", params=params))

    async def lookup(self, *, doi: str | None, arxiv: str | None, dblp: str | None) -> PaperRead:
        params = {"doi": doi, "arxiv": arxiv, "dblp": dblp}
        return PaperRead.model_validate_json(await self.call("GET", "/papers/lookup", params=params))

    async def update(self, paper_id: str, data: PaperUpdate, actor: Identity) -> PaperRead:
        return PaperRead.model_validate_json(
            await self.call("PATCH", f"/papers/{paper_id}", identity=actor, body=data)
        )

    async def venues(self) -> list[VenueRead]:
        return _venues.validate_json(await self.call("GET", "/venues"))

    async def venue_years(self, venue_key: str) -> list[VenueYearRead]:
        return _years.validate_json(await self.call("GET", f"/venues/{venue_key}/years"))


class SummariesHttpClient(ServiceHttpClient):
    def __init__(self, base_url: str, secret: str) -> None:
        super().__init__("summaries", base_url, secret)

    async def publish(self, paper: PaperSnapshot, data: SummaryCreate, actor: Identity) -> SummaryRead:
        body = {"paper": paper.model_dump(mode="json"), "summary": data.model_dump(mode="json")}
        return SummaryRead.model_validate_json(await self.call("POST", "/summaries", identity=actor, body=body))

    async def get(self, summary_id: str, viewer: Identity | None) -> SummaryRead:
        return SummaryRead.model_validate_json(await self.call("GET", f"/summaries/{summary_id}", identity=viewer))

    async def revise(self, summary_id: str, data: SummaryUpdate, actor: Identity) -> SummaryRead:
        return SummaryRead.model_validate_json(
            await self.call("PATCH", f"/summaries/{summary_id}", identity=actor, body=data)
        )

    async def revisions(self, summary_id: str, viewer: Identity | None) -> list[RevisionRead]:
        return _revisions.validate_json(await self.call("GET", f"/summaries/{summary_id}/revisions", identity=viewer))

    async def delete(self, summary_id: str, actor: Identity) -> None:
        await self.call("DELETE", f"/summaries/{summary_id}", identity=actor)

    async def hide(self, summary_id: str, actor: Identity) -> SummaryRead:
        return SummaryRead.model_validate_json(await self.call("POST", f"/summaries/{summary_id}/hide",
                                                               identity=actor))

    async def list_for_paper(
        self, paper_id: str, *, sort: str, viewer: Identity | None, page: int, size: int
    ) -> SummaryPage:
        params = {"sort": sort, "page": page, "size": size}
        return SummaryPage.model_validate_json(
            await self.call("GET", f"/papers/{paper_id}/summaries", identity=viewer, params=params)
        )

    async def list(
        self, *, sort: str, venue: str | None, year: int | None, viewer: Identity | None, page: int, size: int
    ) -> SummaryPage:
        params = {"sort": sort, "venue": venue, "year": year, "page": page, "size": size}
        return SummaryPage.model_validate_json(await self.call("GET", "/summaries", identity=viewer, params=params))

    async def citing(self, paper_id: str, *, viewer: Identity | None, page: int, size: int) -> SummaryPage:
        return SummaryPage.model_validate_json(await self.call(
            "GET", f"/papers/{paper_id}/citing-summaries", identity=viewer, params={"page": page, "size": size}))

    async def vote(self, summary_id: str, value: int, actor: Identity) -> VoteResult:
        return VoteResult.model_validate_json(
            await self.call("PUT", f"/summaries/{summary_id}/vote", identity=actor, body={"value": value})
        )

    async def comment(self, summary_id: str, data: CommentCreate, actor: Identity) -> CommentRead:
        return CommentRead.model_validate_json(
            await self.call("POST", f"/summaries/{summary_id}/comments", identity=actor, body=data)
        )

    async def comments(self, summary_id: str, viewer: Identity | None) -> list[CommentRead]:
        return _comments.validate_json(await self.call("GET", f"/summaries/{summary_id}/comments", identity=viewer))

    async def hide_comment(self, comment_id: str, actor: Identity) -> CommentRead:
        return CommentRead.model_validate_json(await self.call("POST", f"/comments/{comment_id}/hide",
                                                               identity=actor))

    async def states(self, *, after: str | None, limit: int) -> StatesPage:
        return StatesPage.model_validate_json(await self.call("GET", "/summaries/states",
                                                              params={"after": after, "limit": limit}))

    async def export_for_user(self, user_id: str) -> PersonalExport:
        identity = Identity(user_id=user_id, username="")
        return PersonalExport.model_validate_json(await self.call("GET", f"/users/{user_id}/export",
                                                                  identity=identity))

    async def preview(self, body: str) -> RenderedPreview:
        return RenderedPreview.model_validate_json(await self.call("POST", "/summaries/preview", body={"body": body}))

    async def counts_by_venue(self) -> dict[str, int]:
        return orjson.loads(await self.call("GET", "/summaries/counts/venues"))

    async def counts_by_year(self, venue_key: str) -> dict[int | None, int]:
        pairs = orjson.loads(await self.call("GET", f"/summaries/counts/venues/{venue_key}/years"))
        return {year: n for year, n in pairs}


class SearchHttpClient(ServiceHttpClient):
    def __init__(self, base_url: str, secret: str) -> None:
        super().__init__("search", base_url, secret)

    async def search(self, request: SearchRequest) -> SearchResult:
        params = request.model_dump(exclude_defaults=True, exclude={"venue"})
        # aiohttp takes str, int and float query values only: a bool (facets=false) is spelled out.
        flat = [*((k, str(v).lower() if isinstance(v, bool) else v) for k, v in params.items()),
                *(("venue", v) for v in request.venue)]
        return SearchResult.model_validate_json(await self.call("GET", "/search", params=flat))

    async def suggest(self, q: str, limit: int = 10) -> SuggestResult:
        return SuggestResult.model_validate_json(await self.call("GET", "/search/suggest",
                                                                 params={"q": q, "limit": limit}))


class SocialHttpClient(ServiceHttpClient):
    def __init__(self, base_url: str, secret: str) -> None:
        super().__init__("social", base_url, secret)

    async def list_posts(self, *, status: str | None, channel: str | None, page: int, size: int,
                         actor: Identity) -> PostPage:
        params = {"status": status, "channel": channel, "page": page, "size": size}
        return PostPage.model_validate_json(await self.call("GET", "/social/posts", identity=actor, params=params))

    async def get_post(self, post_id: str, actor: Identity) -> PostRead:
        return PostRead.model_validate_json(await self.call("GET", f"/social/posts/{post_id}", identity=actor))

    async def retry(self, post_id: str, actor: Identity) -> PostRead:
        return PostRead.model_validate_json(await self.call("POST", f"/social/posts/{post_id}/retry",
                                                            identity=actor))

    async def preview(self, summary_id: str, actor: Identity) -> PreviewRead:
        return PreviewRead.model_validate_json(await self.call("GET", f"/social/preview/{summary_id}",
                                                               identity=actor))
