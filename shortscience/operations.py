"""Long operator tasks (reindex, reconcile, dead-letter replay), with progress bars.

They run in their own process on the machine that holds the embedded data files,
building the services they need with the same `bootstrap` functions the servers use
(without starting their background consumers), so they work while the platform runs."""

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


def _owners(settings: GatewaySettings) -> dict:
    """Each consumer group, and how to build the service that owns it."""
    from services.social.bootstrap import bootstrap as social_bootstrap
    from services.social.config import SocialSettings

    shared = common_values(settings)
    return {
        "summaries": lambda log: summaries_bootstrap(SummariesSettings(**shared), event_log=log),
        "search": lambda log: search_bootstrap(SearchSettings(**shared), event_log=log),
        "social": lambda log: social_bootstrap(SocialSettings(**shared), event_log=log),
    }


async def dead_letters(settings: GatewaySettings, group: str | None):
    log = make_event_log(settings)
    await log.start()
    try:
        return await log.dead_letters(group)
    finally:
        await log.close()


async def replay_dead_letters(settings: GatewaySettings, group: str) -> tuple[int, int]:
    """Run the group's dead letters through its handler again: (replayed, still failing)."""
    owners = _owners(settings)
    if group not in owners:
        raise ValueError(f"unknown consumer group {group!r}; one of {', '.join(owners)}")
    log = make_event_log(settings)
    await log.start()
    runtime = owners[group](log)
    await runtime.start(background=False)
    try:
        [runner] = [c for c in runtime.consumers if c.group == group]
        return await runner.replay_dead_letters()
    finally:
        await runtime.stop()
        await log.close()
