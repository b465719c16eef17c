"""Long operator tasks (reindex, reconcile, dead-letter replay), with progress bars.

They run against the embedded stores directly when the platform is on one machine, or
against the services' internal HTTP APIs when SHORTSCIENCE_SUMMARIES_URL points at a
split deployment."""

from __future__ import annotations

from collections.abc import AsyncIterator

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from backbone.events import SummaryState
from backbone.runtime import make_event_log
from gateway.config import GatewaySettings
from services.search.bootstrap import bootstrap as search_bootstrap
from services.search.config import SearchSettings
from services.summaries.bootstrap import bootstrap as summaries_bootstrap
from services.summaries.config import SummariesSettings
from shortscience.allinone import common_values

console = Console(stderr=True)


def _progress() -> Progress:
    return Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                    console=console, transient=False)


async def reindex(settings: GatewaySettings) -> int:
    log = make_event_log(settings)
    await log.start()
    search = search_bootstrap(SearchSettings(**common_values(settings)), event_log=log)
    await search.start(background=False)
    try:
        with _progress() as progress:
            task = progress.add_task("rebuilding the search index from the event log", total=None)

            def report(done: int, total: int) -> None:
                progress.update(task, completed=done, total=total)

            applied = await search.api.rebuild(log, report)
        return applied
    finally:
        await search.stop()
        await log.close()


async def _states(summaries_api, batch: int = 500) -> AsyncIterator[tuple[SummaryState, int]]:
    after = None
    while True:
        page = await summaries_api.states(after=after, limit=batch)
        for item in page.items:
            yield item.state, item.version
        if page.next_after is None:
            return
        after = page.next_after


async def reconcile(settings: GatewaySettings):
    log = make_event_log(settings)
    await log.start()
    shared = common_values(settings)
    search = search_bootstrap(SearchSettings(**shared), event_log=log)
    summaries = summaries_bootstrap(SummariesSettings(**shared), event_log=log)
    await search.start(background=False)
    await summaries.start(background=False)
    try:
        with _progress() as progress:
            task = progress.add_task("comparing the index with the summaries", total=None)
            return await search.api.reconcile(_states(summaries.api), lambda n: progress.update(task, completed=n))
    finally:
        await summaries.stop()
        await search.stop()
        await log.close()
