"""Runs an import in-process on the embedded default, like the other operator commands:
the papers service is bootstrapped here and every record goes through its use case
`import_paper`, so each new or enriched paper leaves its event through the outbox and
search and summaries follow. Records are committed in batches (one commit per batch, one
savepoint per record) and the outbox is drained after each batch."""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from backbone.errors import DomainError
from backbone.runtime import make_event_log
from gateway.config import GatewaySettings
from services.papers.bootstrap import bootstrap as papers_bootstrap
from services.papers.config import PapersSettings
from shortscience.allinone import common_values
from shortscience.imports.records import ImportRecord

OUTCOMES = ("new", "enriched", "unchanged", "possible_duplicate", "error")
BATCH = 500


@dataclass
class ImportReport:
    counts: Counter = field(default_factory=Counter)
    issues: list[tuple[str, str, str]] = field(default_factory=list)  # (outcome, where, message)
    seconds: float = 0.0

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    def line(self) -> str:
        c = self.counts
        return (f"{c['new']} new, {c['enriched']} enriched, {c['unchanged']} unchanged, "
                f"{c['possible_duplicate']} possible duplicates, {c['error']} errors")


async def import_records(
    papers, records: Iterable[ImportRecord], *, source: str, on_progress: Callable[[int], None] = lambda n: None,
    on_batch: Callable[[], object] | None = None,
) -> ImportReport:
    """Feed records to a PapersService-like `papers` (with import_paper and batch)."""
    report = ImportReport()
    started = time.perf_counter()
    pending: list[ImportRecord] = []

    async def flush() -> None:
        with papers.batch():
            for rec in pending:
                await _one(papers, rec, source, report)
        pending.clear()
        if on_batch is not None:
            await on_batch()
        on_progress(report.total)

    for rec in records:
        pending.append(rec)
        if len(pending) >= BATCH:
            await flush()
    if pending:
        await flush()
    report.seconds = time.perf_counter() - started
    return report


async def _one(papers, rec: ImportRecord, source: str, report: ImportReport) -> None:
    if rec.data is None:
        report.counts["error"] += 1
        report.issues.append(("error", rec.where, rec.error or "unreadable"))
        return
    try:
        result = await papers.import_paper(rec.data, source=source, key=rec.key)
    except DomainError as exc:
        report.counts["error"] += 1
        report.issues.append(("error", rec.where, f"{exc.field + ': ' if exc.field else ''}{exc.detail}"))
        return
    report.counts[result.outcome] += 1
    if result.outcome == "possible_duplicate":
        report.issues.append(("possible_duplicate", rec.where, result.detail or result.paper_id))


async def run_import(settings: GatewaySettings, records: Iterable[ImportRecord], *, source: str,
                     on_progress: Callable[[int], None] = lambda n: None) -> ImportReport:
    log = make_event_log(settings)
    await log.start()
    papers = papers_bootstrap(PapersSettings(**common_values(settings)), event_log=log)
    await papers.start(background=False)
    try:
        return await import_records(papers.api, records, source=source, on_progress=on_progress,
                                    on_batch=papers.relay.drain)
    finally:
        await papers.stop()
        await log.close()
