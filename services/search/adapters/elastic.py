"""The distributed search engine: the SearchIndex port on Elasticsearch or OpenSearch, one
adapter over two thin clients (elastic_clients.py), with every request body written once
(elastic_dsl.py).

- The index sits behind an alias, `search_index_name`. A rebuild fills a new index (which
  does not refresh while it is filled) and one `_aliases` request moves the alias onto it,
  so a reader sees the old content or the new one, never a mix or nothing.
- Writes are searchable at the next refresh (REFRESH_INTERVAL); `refresh="true"` or
  `"wait_for"` makes every write searchable before it returns (the contract tests). The
  adapter's own searches over what it wrote (a paper's summaries, reconcile's versions)
  refresh first; single documents are read in real time.
- Inside `bulk()` writes are held, the newest per document, and sent as bulk requests.
"""

from __future__ import annotations

import time
import uuid
from collections import OrderedDict
from contextlib import asynccontextmanager
from urllib.parse import urlsplit, urlunsplit

from backbone.contracts.search import Facets, SearchResult, Suggestion
from backbone.errors import EngineUnavailable, Unavailable
from backbone.events import PaperSnapshot
from services.search.adapters.elastic_clients import CLIENTS, Conflict, EngineClient, EngineError, Unreachable
from services.search.adapters.elastic_dsl import (
    SUMMARIES,
    VISIBLE,
    cas_body,
    doc_from_source,
    facets_from,
    hit_from,
    index_body,
    older_paper_copies,
    paper_doc_id,
    paper_source,
    search_body,
    suggest_body,
    summary_doc_id,
    summary_source,
    tombstone_source,
    with_paper,
)
from services.search.domain.document import SearchDoc
from services.search.domain.query import ParsedQuery

# How soon a write is searchable. Summaries are written at human rates and a refresh with
# nothing new costs nothing; the freshness budget (p99 <= 250 ms, write to searchable) also
# holds the event pipeline. Elasticsearch's default is 1s.
REFRESH_INTERVAL = "100ms"
SCAN_PAGE = 2_000
BULK_CHUNK = 500
REPAPER_ATTEMPTS = 5
SHADOW_PAPERS = 50_000  # papers a rebuild keeps at hand (it is the shadow's only writer)


def redact(url: str) -> str:
    """The URL without its password, for logs and errors."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = f"{parts.username}:***@{parts.hostname}" + (f":{parts.port}" if parts.port else "")
    return urlunsplit(parts._replace(netloc=netloc))


class _Batch:
    """Writes held for one bulk request, the newest per document (what `bulk()` collects)."""

    def __init__(self) -> None:
        self.ops: dict[str, tuple[dict, bool]] = {}

    def put(self, doc_id: str, source: dict, force: bool) -> bool:
        held = self.ops.get(doc_id)
        if held is not None and not force and held[0]["version"] >= source["version"]:
            return False
        # A forced write stays forced when a newer one replaces it: it would have gone in.
        self.ops[doc_id] = (source, force or (held is not None and held[1]))
        return True

    def source(self, doc_id: str) -> dict | None:
        held = self.ops.get(doc_id)
        return held[0] if held else None


# -- the adapter -----------------------------------------------------------------------------


class ElasticIndex:
    """The SearchIndex port on Elasticsearch (`kind="elasticsearch"`) or OpenSearch
    (`kind="opensearch"`). `name` is the alias readers and writers use."""

    def __init__(self, kind: str, url: str, name: str, *, refresh: str = "false",
                 refresh_interval: str = REFRESH_INTERVAL, shards: int = 1, replicas: int | None = None) -> None:
        if kind not in CLIENTS:
            raise ValueError(f"unknown search engine {kind!r}; one of {', '.join(CLIENTS)}")
        if refresh not in ("false", "true", "wait_for"):
            raise ValueError("refresh is one of false, true, wait_for")
        self.kind, self.url, self.name = kind, url, name
        self.refresh, self.refresh_interval = refresh, refresh_interval
        self.shards, self.replicas = shards, replicas
        self.target = name  # the alias, or a shadow's own index
        self._engine: EngineClient | None = None
        self._owns_engine = True
        self._batch: _Batch | None = None
        self._papers: OrderedDict[str, PaperSnapshot] | None = None  # shadows only

    @property
    def engine(self) -> EngineClient:
        assert self._engine is not None, "index not started"
        return self._engine

    @property
    def product(self) -> str:
        return CLIENTS[self.kind].product

    # -- lifecycle --------------------------------------------------------------------------

    async def start(self) -> None:
        if self._engine is None:
            try:
                self._engine = CLIENTS[self.kind](self.url)
            except ValueError as exc:  # the client could not read the URL
                raise EngineUnavailable(self.product, redact(self.url), f"unusable URL: {exc}") from None
        try:
            await self._engine.info()
            await self._ensure_index()
        except EngineError as exc:
            await self.close()
            raise EngineUnavailable(self.product, redact(self.url), str(exc)[:300]) from None

    async def _ensure_index(self) -> None:
        """The alias and an index behind it. The first index has a fixed name, so replicas
        starting together create one index, not one each."""
        if await self.engine.indices(self.name):
            return
        await self.engine.create_index(f"{self.name}--initial", self._index_body(aliases={self.name: {}}))
        if not await self.engine.indices(self.name):
            raise EngineError(f"{self.name}--initial exists without the alias {self.name}: delete it, or point the"
                              " alias at the index to use")

    def _index_body(self, *, refresh_interval: str | None = None, aliases: dict | None = None) -> dict:
        return index_body(shards=self.shards, replicas=self.replicas,
                          refresh_interval=refresh_interval or self.refresh_interval, aliases=aliases)

    async def close(self) -> None:
        if self._engine is not None and self._owns_engine:
            await self._engine.close()
        self._engine = None

    async def ping(self) -> bool:
        return self._engine is not None and await self._engine.ping()

    async def drop(self) -> None:
        """Delete every index of this name, live and shadows (tests; uninstalling)."""
        await self.engine.delete_indices(sorted(await self.engine.indices(f"{self.name}--*")))

    async def refresh_now(self) -> None:
        """Make every acknowledged write searchable (flushing a pending batch first)."""
        if self._batch is not None and self._batch.ops:
            ops, self._batch.ops = self._batch.ops, {}
            await self._flush(ops)
        await self.engine.refresh(self.target)

    # -- writes -----------------------------------------------------------------------------

    async def _write(self, doc_id: str, source: dict, *, force: bool) -> bool:
        if self._batch is not None:
            return self._batch.put(doc_id, source, force)
        return await self.engine.update(self.target, doc_id, cas_body(source, force), self.refresh) != "noop"

    async def upsert(self, doc: SearchDoc, *, force: bool = False) -> bool:
        return await self._write(summary_doc_id(doc.summary_id), summary_source(doc), force=force)

    async def remove(self, summary_id: str, version: int, *, force: bool = False) -> bool:
        return await self._write(summary_doc_id(summary_id), tombstone_source(summary_id, version), force=force)

    async def get_paper(self, paper_id: str) -> PaperSnapshot | None:
        if self._batch is not None and (pending := self._batch.source(paper_doc_id(paper_id))) is not None:
            return PaperSnapshot.model_validate(pending["snapshot"])
        if self._papers is not None and paper_id in self._papers:
            self._papers.move_to_end(paper_id)
            return self._papers[paper_id]
        found = await self.engine.get(self.target, paper_doc_id(paper_id))
        return PaperSnapshot.model_validate(found["_source"]["snapshot"]) if found else None

    async def upsert_paper(self, paper: PaperSnapshot) -> bool:
        """Keep the newer copy, then bring every visible summary holding an older copy up to
        the newest one. That second step runs again when the event is redelivered, so a
        failure between the two is repaired by the consumer's retry."""
        held = await self.get_paper(paper.paper_id)
        changed = (held is None or held.version < paper.version) and \
            await self._write(paper_doc_id(paper.paper_id), paper_source(paper), force=False)
        newest = paper if changed else held
        if changed and self._papers is not None:
            self._papers[paper.paper_id] = paper
            if len(self._papers) > SHADOW_PAPERS:
                self._papers.popitem(last=False)
        if newest is not None and newest.version > 1:  # a first version has no older copies
            await self._repaper_summaries(newest)
        return changed

    async def _repaper_summaries(self, paper: PaperSnapshot) -> None:
        await self.refresh_now()
        async for hit in self._scan(older_paper_copies(paper), True, seq_no_primary_term=True):
            await self._repaper(hit, paper)

    async def _repaper(self, hit: dict, paper: PaperSnapshot) -> None:
        """Rewrite one summary with the newer paper, unless it changed since it was read
        (then read it again): a compare-and-set on its sequence number."""
        for _ in range(REPAPER_ATTEMPTS):
            src = hit["_source"]
            if not src.get("visible") or src["paper_version"] >= paper.version:
                return
            try:
                source = summary_source(with_paper(doc_from_source(src), paper))
                await self.engine.index(self.target, hit["_id"], source, self.refresh,
                                        if_seq_no=hit["_seq_no"], if_primary_term=hit["_primary_term"])
                return
            except Conflict:
                hit = await self.engine.get(self.target, hit["_id"])
                if hit is None:
                    return
        raise EngineError(f"summary {hit['_id']} kept changing while its paper was updated")

    # -- reads ------------------------------------------------------------------------------

    async def search(
        self, query: ParsedQuery, *, venues: list[str], year_from: int | None, year_to: int | None,
        author: str | None, sort: str, offset: int, limit: int, facets: bool = True,
    ) -> SearchResult:
        body = search_body(query, venues=venues, year_from=year_from, year_to=year_to, author=author, sort=sort,
                           offset=offset, limit=limit, facets=facets)
        answer = await self._read(body)
        return SearchResult(
            total=answer["hits"]["total"]["value"], page=offset // limit + 1, size=limit,
            hits=[hit_from(h) for h in answer["hits"]["hits"]],
            facets=facets_from(answer["aggregations"]) if facets else Facets(),
        )

    async def suggest(self, words: list[str], limit: int) -> list[Suggestion]:
        if not words:
            return []
        answer = await self._read(suggest_body(words, limit))
        return [Suggestion(paper_id=h["_source"]["paper_id"], title=h["_source"]["title"])
                for h in answer["hits"]["hits"]]

    async def _read(self, body: dict) -> dict:
        """A user's search: an engine out of reach or overloaded is a 503 that names no engine."""
        try:
            return await self.engine.search(self.target, body)
        except EngineError as exc:
            if isinstance(exc, Unreachable) or exc.status in (429, 502, 503, 504):
                raise Unavailable("search is unavailable; try again shortly") from None
            raise

    async def _scan(self, query: dict, source, **options):
        """Every matching document, in summary id order, a page at a time."""
        after = None
        while True:
            body = {"query": query, "size": SCAN_PAGE, "sort": [{"summary_id": "asc"}], "_source": source,
                    "track_total_hits": False, **options}
            if after is not None:
                body["search_after"] = after
            hits = (await self.engine.search(self.target, body))["hits"]["hits"]
            for hit in hits:
                yield hit
            if len(hits) < SCAN_PAGE:
                return
            after = hits[-1]["sort"]

    async def versions(self) -> dict[str, tuple[int, bool]]:
        await self.refresh_now()
        return {h["_source"]["summary_id"]: (h["_source"]["version"], bool(h["_source"]["visible"]))
                async for h in self._scan(SUMMARIES, ["summary_id", "version", "visible"])}

    async def get_doc(self, summary_id: str) -> SearchDoc | None:
        doc_id = summary_doc_id(summary_id)
        src = self._batch.source(doc_id) if self._batch is not None else None
        if src is None:
            found = await self.engine.get(self.target, doc_id)
            src = found["_source"] if found else None
        return doc_from_source(src) if src and src.get("visible") else None

    async def count(self) -> int:
        body = {"query": {"bool": {"filter": [SUMMARIES, VISIBLE]}}, "size": 0, "track_total_hits": True}
        return (await self.engine.search(self.target, body))["hits"]["total"]["value"]

    # -- rebuilds ---------------------------------------------------------------------------

    @asynccontextmanager
    async def bulk(self):
        """Writes collected and sent as bulk requests when the block ends; nothing is sent
        if it raises. Reads inside the block see its writes."""
        if self._batch is not None:
            yield
            return
        self._batch = batch = _Batch()
        try:
            yield
        except BaseException:
            if self._papers is not None:
                self._papers.clear()  # it may hold papers that were never sent
            raise
        finally:
            self._batch = None
        await self._flush(batch.ops)

    async def _flush(self, ops: dict[str, tuple[dict, bool]]) -> None:
        items = list(ops.items())
        for start in range(0, len(items), BULK_CHUNK):
            lines: list[dict] = []
            for doc_id, (source, force) in items[start:start + BULK_CHUNK]:
                lines.append({"update": {"_index": self.target, "_id": doc_id, "retry_on_conflict": 3}})
                lines.append(cas_body(source, force))
            answer = await self.engine.bulk(lines, self.refresh)
            if answer.get("errors"):
                failed = [item["update"] for item in answer["items"] if item["update"].get("error")]
                raise EngineError(f"{len(failed)} of {len(lines) // 2} bulk writes failed, the first: "
                                  f"{failed[0]['error']}")

    async def shadow(self) -> "ElasticIndex":
        """A new, empty index beside the live one (an abandoned earlier shadow is deleted).
        It does not refresh on its own while it is filled."""
        live = await self.engine.indices(self.name)
        leftovers = [n for n in await self.engine.indices(f"{self.name}--*") if n not in live]
        await self.engine.delete_indices(leftovers)
        target = f"{self.name}--{time.strftime('%Y%m%d%H%M%S', time.gmtime())}-{uuid.uuid4().hex[:6]}"
        await self.engine.create_index(target, self._index_body(refresh_interval="-1"))
        shadow = ElasticIndex(self.kind, self.url, self.name, refresh=self.refresh,
                              refresh_interval=self.refresh_interval, shards=self.shards, replicas=self.replicas)
        shadow._engine, shadow._owns_engine, shadow.target = self._engine, False, target
        shadow._papers = OrderedDict()
        return shadow

    async def swap_in(self, shadow: "ElasticIndex") -> None:
        """Make the shadow searchable, then move the alias onto it in one request, and
        delete what it pointed to before."""
        await self.engine.put_settings(shadow.target, {"refresh_interval": self.refresh_interval})
        await self.engine.refresh(shadow.target)
        old = [n for n in await self.engine.indices(self.name) if n != shadow.target]
        # An index that carries the alias's own name (made before aliases were used) goes too.
        actions = [{"remove_index": {"index": n}} if n == self.name else {"remove": {"index": n, "alias": self.name}}
                   for n in old]
        await self.engine.update_aliases([*actions, {"add": {"index": shadow.target, "alias": self.name}}])
        await self.engine.delete_indices([n for n in old if n != self.name])
        shadow._papers = None
