"""The search-index port. Each engine stores and queries `SearchDoc`s; the rules of what
goes in (the presenter, version checks by the caller's event order) live in handlers."""

from __future__ import annotations

from typing import Protocol

from backbone.contracts.search import SearchResult, Suggestion
from backbone.events import PaperSnapshot
from services.search.domain.document import SearchDoc
from services.search.domain.query import ParsedQuery


class SearchIndex(Protocol):
    async def start(self) -> None: ...
    async def close(self) -> None: ...
    async def ping(self) -> bool: ...

    async def upsert(self, doc: SearchDoc, *, force: bool = False) -> bool:
        """Index the doc unless the index holds this summary at the same or a newer version
        (`force`: write it regardless; only reconcile does, with the owner's truth)."""

    async def remove(self, summary_id: str, version: int, *, force: bool = False) -> bool:
        """Take the summary out (a tombstone that remembers `version`) unless newer is held."""

    async def get_paper(self, paper_id: str) -> PaperSnapshot | None: ...

    async def upsert_paper(self, paper: PaperSnapshot) -> bool:
        """Keep the newer copy of a paper and refresh every indexed summary of it."""

    async def search(
        self, query: ParsedQuery, *, venues: list[str], year_from: int | None, year_to: int | None,
        author: str | None, sort: str, offset: int, limit: int, facets: bool = True,
    ) -> SearchResult:
        """`facets=False`: the answer's facets are empty, which spares counting them."""

    async def suggest(self, words: list[str], limit: int) -> list[Suggestion]: ...

    async def versions(self) -> dict[str, tuple[int, bool]]:
        """summary id -> (version, visible) for every summary the index knows (reconcile)."""

    async def get_doc(self, summary_id: str) -> SearchDoc | None: ...

    def bulk(self):
        """An async context in which many writes commit together (rebuilds)."""

    async def shadow(self) -> "SearchIndex":
        """An empty index beside this one, to rebuild into and then `swap_in`."""

    async def swap_in(self, shadow: "SearchIndex") -> None:
        """Atomically make the shadow's content this index's content."""
