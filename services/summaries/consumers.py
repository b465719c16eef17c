"""The summaries service keeps its copy of each paper fresh from the `papers` topic, so a
corrected title shows in its summaries without ever reading the papers database."""

from __future__ import annotations

from backbone.events import PAPERS, Envelope, PaperRegistered, PaperUpdated, parse_event
from services.summaries.ports import SummariesStore

GROUP = "summaries"
TOPICS = (PAPERS,)


def make_handler(store: SummariesStore):
    async def handle(envelope: Envelope) -> None:
        event = parse_event(envelope)
        if isinstance(event, (PaperRegistered, PaperUpdated)):
            await store.apply_paper(envelope.event_id, event.paper)

    return handle
