"""The paper aggregate and its rules: identifiers normalised, one paper per identifier."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import UTC, datetime

from backbone.errors import Invalid
from backbone.events import PaperRegistered, PaperSnapshot, PaperUpdated
from services.papers.domain.identifiers import InvalidIdentifier, normalize_dblp, normalize_doi, parse_arxiv, venue_key

IDENTIFIER_KINDS = ("doi", "arxiv", "dblp")


@dataclass(frozen=True)
class Identifiers:
    doi: str | None = None
    arxiv: str | None = None
    arxiv_version: int | None = None
    dblp: str | None = None

    def pairs(self) -> list[tuple[str, str]]:
        """(kind, value) pairs that must each belong to one paper only."""
        return [(kind, value) for kind in IDENTIFIER_KINDS if (value := getattr(self, kind))]

    def as_dict(self) -> dict[str, str]:
        return dict(self.pairs())


def normalise_identifiers(doi: str | None, arxiv: str | None, dblp: str | None) -> Identifiers:
    try:
        arxiv_id = parse_arxiv(arxiv) if arxiv else None
        return Identifiers(
            doi=normalize_doi(doi) if doi else None,
            arxiv=arxiv_id.base if arxiv_id else None,
            arxiv_version=arxiv_id.version if arxiv_id else None,
            dblp=normalize_dblp(dblp) if dblp else None,
        )
    except InvalidIdentifier as exc:
        raise Invalid(exc.message, field=exc.field) from None


def normalise_venue(name: str | None) -> tuple[str | None, str | None]:
    if name is None:
        return None, None
    try:
        return name, venue_key(name)
    except InvalidIdentifier as exc:
        raise Invalid(exc.message, field="venue") from None


@dataclass(frozen=True)
class Paper:
    id: str
    title: str
    authors: list[str]
    venue: str | None
    venue_key: str | None
    year: int | None
    abstract: str = ""
    keywords: list[str] = field(default_factory=list)
    urls: list[str] = field(default_factory=list)
    identifiers: Identifiers = field(default_factory=Identifiers)
    created_at: datetime = field(default_factory=lambda: datetime.now(UTC))
    updated_at: datetime = field(default_factory=lambda: datetime.now(UTC))
    version: int = 1

    def snapshot(self) -> PaperSnapshot:
        return PaperSnapshot(
            paper_id=self.id,
            title=self.title,
            authors=list(self.authors),
            venue=self.venue,
            venue_key=self.venue_key,
            year=self.year,
            abstract=self.abstract,
            keywords=list(self.keywords),
            identifiers=self.identifiers.as_dict(),
            version=self.version,
        )

    def registered(self) -> PaperRegistered:
        return PaperRegistered(paper=self.snapshot())

    def with_changes(self, changes: dict) -> tuple["Paper", PaperUpdated | None]:
        """Apply a partial update; returns the new paper and its event (None if nothing changed)."""
        changed = sorted(k for k, v in changes.items() if getattr(self, k) != v)
        if not changed:
            return self, None
        updated = replace(self, **changes, version=self.version + 1, updated_at=datetime.now(UTC))
        return updated, PaperUpdated(paper=updated.snapshot(), changed=changed)
