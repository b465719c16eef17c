"""Search use cases: apply events to the index, answer queries, rebuild, reconcile.

The index is derived: it is fed only by events, every event is applied by version (a
stale or repeated event changes nothing), and it can always be rebuilt from the log or
repaired against the summaries service's own state.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field, replace

from backbone.contracts.search import SearchRequest, SearchResult, SuggestResult
from backbone.errors import Invalid
from backbone.events import (
    PAPERS,
    SUMMARIES,
    Envelope,
    PaperRegistered,
    PaperUpdated,
    SummaryState,
    parse_event,
)
from backbone.ids import new_id
from backbone.venues import venue_filter
from services.search.domain.document import to_search_doc
from services.search.domain.query import MAX_QUERY_CHARS, parse_query
from services.search.ports import SearchIndex

GROUP = "search"
TOPICS = (PAPERS, SUMMARIES)
MAX_PAGE_SIZE = 50
MAX_SUGGEST_CHARS = 100
REBUILD_STALL_SECONDS = 30.0


async def apply_summary_state(index: SearchIndex, state: SummaryState, version: int) -> bool:
    if state.is_public:
        return await index.upsert(to_search_doc(state, version, await index.get_paper(state.paper.paper_id)))
    return await index.remove(state.summary_id, version)


async def apply_event(index: SearchIndex, envelope: Envelope) -> bool:
    """Apply one event; True if it changed the index."""
    event = parse_event(envelope)
    if isinstance(event, (PaperRegistered, PaperUpdated)):
        return await index.upsert_paper(event.paper)
    state = getattr(event, "summary", None)
    if isinstance(state, SummaryState):
        return await apply_summary_state(index, state, envelope.aggregate_version)
    return False  # comments and other events do not change the index


@dataclass
class ReconcileReport:
    checked: int = 0
    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)

    @property
    def fixed(self) -> int:
        return len(self.added) + len(self.updated) + len(self.removed)


class SearchService:
    def __init__(self, index: SearchIndex) -> None:
        self.index = index

    async def ready(self) -> bool:
        return await self.index.ping()

    async def handle(self, envelope: Envelope) -> None:
        await apply_event(self.index, envelope)

    async def search(self, request: SearchRequest) -> SearchResult:
        if len(request.q) > MAX_QUERY_CHARS:
            raise Invalid(f"the query is longer than {MAX_QUERY_CHARS} characters", field="q")
        if not 1 <= request.size <= MAX_PAGE_SIZE:
            raise Invalid(f"size must be between 1 and {MAX_PAGE_SIZE}", field="size")
        if request.page < 1:
            raise Invalid("page starts at 1", field="page")
        if request.year_from is not None and request.year_to is not None and request.year_from > request.year_to:
            raise Invalid("year_from is after year_to", field="year_from")
        return await self.index.search(
            parse_query(request.q),
            venues=[venue_filter(v) for v in request.venue],
            year_from=request.year_from,
            year_to=request.year_to,
            author=request.author,
            sort=request.sort,
            offset=(request.page - 1) * request.size,
            limit=request.size,
            facets=request.facets,
        )

    async def suggest(self, q: str, limit: int = 10) -> SuggestResult:
        if len(q) > MAX_SUGGEST_CHARS:
            raise Invalid(f"the prefix is longer than {MAX_SUGGEST_CHARS} characters", field="q")
        words = [c.words[0] for c in parse_query(q).must if len(c.words) == 1] if q.strip() else []
        return SuggestResult(suggestions=await self.index.suggest(words, min(max(limit, 1), 10)))

    async def rebuild(self, log, progress: Callable[[int, int], None] = lambda done, total: None) -> int:
        """Rebuild the index from the beginning of the log into a shadow, swap it in, then
        catch up on what arrived meanwhile (applied by version, so overlaps are harmless).
        Positions are kept per (topic, partition): offsets are per partition on Kafka."""
        shadow = await self.index.shadow()
        end = await log.partition_end_offsets(TOPICS)
        consumer = log.consumer(f"{GROUP}-rebuild-{new_id()}", TOPICS)
        applied = 0
        try:
            await consumer.seek_to_beginning()
            position = dict.fromkeys(end, 0)  # the next offset to read, per (topic, partition)
            idle = 0.0
            while any(position[p] < end[p] for p in end):
                records = await consumer.poll(1000, 0.5)
                if not records:
                    idle += 0.5
                    if idle >= REBUILD_STALL_SECONDS:  # never swap in a partial index
                        raise RuntimeError("the event log stopped answering before the rebuild reached its end;"
                                           " the live index was left as it was")
                    continue
                idle = 0.0
                async with shadow.bulk():  # one commit per batch, not per event
                    for record in records:
                        await apply_event(shadow, record.envelope)
                        where = (record.topic, record.partition)
                        position[where] = max(position.get(where, 0), record.offset + 1)
                        applied += 1
                # Positions against the end, so a finished rebuild shows full.
                progress(sum(min(position[p], end[p]) for p in end), sum(end.values()))
            await self.index.swap_in(shadow)
            for (topic, partition), offset in end.items():
                await consumer.seek(topic, offset, partition)
            while records := await consumer.poll(1000, 0.2):
                for record in records:
                    await apply_event(self.index, record.envelope)
                    applied += 1
        finally:
            await consumer.close()
        return applied

    async def reconcile(
        self, states: AsyncIterator[tuple[SummaryState, int]], progress: Callable[[int], None] = lambda n: None
    ) -> ReconcileReport:
        """Compare the index with the summaries' true states and repair every difference."""
        report = ReconcileReport()
        known = await self.index.versions()
        seen: set[str] = set()
        async for state, version in states:
            report.checked += 1
            seen.add(state.summary_id)
            held = known.get(state.summary_id)
            if state.is_public:
                expected = to_search_doc(state, version, await self.index.get_paper(state.paper.paper_id))
                doc = await self.index.get_doc(state.summary_id)
                # The index may lag the owner's version (comments bump it and change nothing
                # here), but never lead it, and must hold the same content.
                if doc is None or doc.version > version or replace(doc, version=version) != expected:
                    await self.index.upsert(expected, force=True)
                    (report.added if doc is None else report.updated).append(state.summary_id)
            elif held is not None and (held[1] or held[0] != version):
                await self.index.remove(state.summary_id, version, force=True)
                if held[1]:
                    report.removed.append(state.summary_id)
            progress(report.checked)
        for summary_id, (version, visible) in known.items():
            if visible and summary_id not in seen:  # in the index, unknown to the owner
                await self.index.remove(summary_id, version, force=True)
                report.removed.append(summary_id)
        return report
