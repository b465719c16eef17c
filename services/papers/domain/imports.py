"""Rules for bringing outside metadata into the catalogue (pure, no I/O).

An imported record matches an existing paper by any identifier (or by the record's key
in the same source, for records without identifiers): the paper is then *enriched*, its
missing fields filled and nothing it already has overwritten. A record that matches no
identifier but whose normalised title and year match a paper is a *possible duplicate*:
reported with that paper's id, never merged silently and never created.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from services.papers.domain.identifiers import InvalidIdentifier, normalize_title
from services.papers.domain.model import IDENTIFIER_KINDS, Identifiers, Paper

Outcome = Literal["new", "enriched", "unchanged", "possible_duplicate"]


@dataclass(frozen=True)
class ImportResult:
    outcome: Outcome
    paper_id: str
    changed: tuple[str, ...] = ()
    detail: str | None = None


def title_key(title: str) -> str | None:
    """The duplicate-spotting key of a title, or None for a title without letters or digits."""
    try:
        return normalize_title(title)
    except InvalidIdentifier:
        return None


def missing_fields(existing: Paper, incoming: Paper) -> dict:
    """The fields `incoming` can fill in `existing`: only those `existing` lacks."""
    changes: dict = {}
    if existing.venue is None and incoming.venue is not None:
        changes["venue"], changes["venue_key"] = incoming.venue, incoming.venue_key
    if existing.year is None and incoming.year is not None:
        changes["year"] = incoming.year
    if not existing.abstract and incoming.abstract:
        changes["abstract"] = incoming.abstract
    if not existing.keywords and incoming.keywords:
        changes["keywords"] = list(incoming.keywords)
    new_urls = [u for u in incoming.urls if u not in existing.urls]
    if new_urls:
        changes["urls"] = [*existing.urls, *new_urls]
    ids = existing.identifiers
    filled = {k: getattr(ids, k) or getattr(incoming.identifiers, k) for k in IDENTIFIER_KINDS}
    if ids.arxiv is None and incoming.identifiers.arxiv is not None:
        filled["arxiv_version"] = incoming.identifiers.arxiv_version
    else:
        filled["arxiv_version"] = ids.arxiv_version
    merged = Identifiers(**filled)
    if merged != ids:
        changes["identifiers"] = merged
    return changes
