from __future__ import annotations

from datetime import datetime
from typing import Annotated, Protocol

from pydantic import AnyHttpUrl, BaseModel, Field, StringConstraints, field_validator

from backbone.contracts.common import Paginated, ShortText, Strict
from backbone.events import PaperSnapshot
from backbone.identity import Identity

AuthorName = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
Keyword = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]
Year = Annotated[int, Field(ge=1600, le=2100)]


class IdentifiersIn(Strict):
    doi: str | None = Field(default=None, max_length=300)
    arxiv: str | None = Field(default=None, max_length=300)
    dblp: str | None = Field(default=None, max_length=300)


class PaperCreate(Strict):
    title: ShortText
    authors: list[AuthorName] = Field(min_length=1, max_length=500)
    venue: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)] | None = None
    year: Year | None = None
    abstract: str = Field(default="", max_length=20_000)
    keywords: list[Keyword] = Field(default_factory=list, max_length=50)
    urls: list[AnyHttpUrl] = Field(default_factory=list, max_length=20)
    identifiers: IdentifiersIn = Field(default_factory=IdentifiersIn)

    @field_validator("urls")
    @classmethod
    def _http_only(cls, urls: list[AnyHttpUrl]) -> list[AnyHttpUrl]:
        return urls


class PaperUpdate(Strict):
    title: ShortText | None = None
    authors: list[AuthorName] | None = Field(default=None, min_length=1, max_length=500)
    venue: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)] | None = None
    year: Year | None = None
    abstract: str | None = Field(default=None, max_length=20_000)
    keywords: list[Keyword] | None = Field(default=None, max_length=50)
    urls: list[AnyHttpUrl] | None = Field(default=None, max_length=20)
    identifiers: IdentifiersIn | None = None


class IdentifiersRead(BaseModel):
    doi: str | None = None
    arxiv: str | None = None
    arxiv_version: int | None = None
    dblp: str | None = None


class PaperRead(BaseModel):
    id: str
    title: str
    authors: list[str]
    venue: str | None
    venue_key: str | None
    year: int | None
    abstract: str
    keywords: list[str]
    urls: list[str]
    identifiers: IdentifiersRead
    created_at: datetime
    updated_at: datetime
    version: int

    def snapshot(self) -> PaperSnapshot:
        """The copy of this paper that summaries keep and carry in their events."""
        ids = {k: v for k, v in self.identifiers.model_dump().items() if v and k != "arxiv_version"}
        return PaperSnapshot(
            paper_id=self.id, title=self.title, authors=self.authors, venue=self.venue, venue_key=self.venue_key,
            year=self.year, abstract=self.abstract, keywords=self.keywords, identifiers=ids, version=self.version,
        )


class PaperPage(Paginated[PaperRead]):
    pass


class VenueRead(BaseModel):
    key: str
    name: str
    papers: int
    summaries: int = 0


class VenueYearRead(BaseModel):
    year: int | None
    papers: int
    summaries: int = 0


class PapersAPI(Protocol):
    async def register(self, data: PaperCreate, actor: Identity) -> PaperRead: ...
    async def get(self, paper_id: str) -> PaperRead: ...
    async def list(self, *, venue: str | None, year: int | None, page: int, size: int) -> PaperPage: ...
    async def lookup(self, *, doi: str | None, arxiv: str | None, dblp: str | None) -> PaperRead: ...
    async def update(self, paper_id: str, data: PaperUpdate, actor: Identity) -> PaperRead: ...
    async def venues(self) -> list[VenueRead]: ...
    async def venue_years(self, venue_key: str) -> list[VenueYearRead]: ...
    async def ready(self) -> bool: ...
