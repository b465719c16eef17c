"""Test-data factories for the search tests (import as `from tests.search.factories import ...`):
paper snapshots, summary states, the index documents the presenter makes of them, and
the envelopes the search service consumes."""

from __future__ import annotations

import itertools
from dataclasses import replace
from datetime import UTC, datetime, timedelta

from backbone.events import (
    Envelope,
    PaperRegistered,
    PaperSnapshot,
    PaperUpdated,
    SummaryDeleted,
    SummaryHidden,
    SummaryPublished,
    SummaryRevised,
    SummaryState,
    VoteCast,
)
from services.search.domain.document import SearchDoc, to_search_doc

_serial = itertools.count(1)
EPOCH = datetime(2024, 1, 1, 12, 0, tzinfo=UTC)


def make_paper(**overrides) -> PaperSnapshot:
    n = next(_serial)
    values = dict(
        paper_id=f"paper-{n}", title=f"A Study of Things {n}", authors=["Ada Lovelace", "Alan Turing"],
        venue="ICLR", venue_key="iclr", year=2020, abstract="", keywords=[], version=1,
    )
    values.update(overrides)
    return PaperSnapshot(**values)


def make_state(paper: PaperSnapshot | None = None, **overrides) -> SummaryState:
    """A public summary; `minutes` places created_at that many minutes after EPOCH."""
    n = next(_serial)
    created = EPOCH + timedelta(minutes=overrides.pop("minutes", n))
    values = dict(
        summary_id=f"summary-{n}", paper=paper or make_paper(), author_id=f"user-{n}",
        author_username=f"writer{n}", body="A fine summary.", visibility="public", anonymous=False,
        hidden=False, deleted=False, score=0, revision=1, created_at=created, updated_at=created,
    )
    values.update(overrides)
    return SummaryState(**values)


def make_doc(version: int = 1, paper: PaperSnapshot | None = None, **state_overrides) -> SearchDoc:
    """The index document of a fresh summary state (through the one presenter)."""
    return to_search_doc(make_state(paper, **state_overrides), version)


def with_body(doc: SearchDoc, body: str) -> SearchDoc:
    """The same document with a raw body, bypassing the presenter's markup stripping."""
    return replace(doc, body=body)


def paper_envelope(paper: PaperSnapshot) -> Envelope:
    event = PaperRegistered(paper=paper) if paper.version == 1 else PaperUpdated(paper=paper, changed=["title"])
    return event.envelope(aggregate_id=paper.paper_id, aggregate_version=paper.version, producer="test")


def summary_envelope(state: SummaryState, version: int, kind: str = "published") -> Envelope:
    """An envelope of one summary event carrying `state` at aggregate version `version`."""
    event = {
        "published": lambda: SummaryPublished(summary=state),
        "revised": lambda: SummaryRevised(summary=state, changed=["body"]),
        "deleted": lambda: SummaryDeleted(summary=state),
        "hidden": lambda: SummaryHidden(summary=state),
        "vote": lambda: VoteCast(summary_id=state.summary_id, value=1, score=state.score, summary=state),
    }[kind]()
    return event.envelope(aggregate_id=state.summary_id, aggregate_version=version, producer="test")
