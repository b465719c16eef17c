"""Papers use cases. `PapersService` is the application layer: the HTTP routes call it,
and in the all-in-one process the gateway calls it directly (it satisfies
`backbone.contracts.papers.PapersAPI`)."""

from __future__ import annotations

from collections.abc import Callable

from backbone.contracts.papers import (
    IdentifiersRead,
    PaperCreate,
    PaperPage,
    PaperRead,
    PaperUpdate,
    VenueRead,
    VenueYearRead,
)
from backbone.errors import Conflict, Forbidden, Invalid, NotFound
from backbone.identity import Identity
from backbone.ids import new_id
from services.papers.domain.imports import ImportResult, missing_fields, title_key
from services.papers.domain.model import Identifiers, Paper, normalise_identifiers, normalise_venue
from services.papers.ports import IdentifierTaken, PapersStore, StaleWrite


def to_read(p: Paper) -> PaperRead:
    ids = p.identifiers
    return PaperRead(
        id=p.id,
        title=p.title,
        authors=p.authors,
        venue=p.venue,
        venue_key=p.venue_key,
        year=p.year,
        abstract=p.abstract,
        keywords=p.keywords,
        urls=p.urls,
        identifiers=IdentifiersRead(doi=ids.doi, arxiv=ids.arxiv, arxiv_version=ids.arxiv_version, dblp=ids.dblp),
        created_at=p.created_at,
        updated_at=p.updated_at,
        version=p.version,
    )


def _conflict(exc: IdentifierTaken) -> Conflict:
    return Conflict(
        f"a paper with {exc.kind} {exc.value} already exists",
        field=f"identifiers.{exc.kind}",
        existing_id=exc.paper_id,
    )


class PapersService:
    def __init__(self, store: PapersStore, on_commit: Callable[[], None] = lambda: None) -> None:
        self.store = store
        self.on_commit = on_commit

    async def ready(self) -> bool:
        return await self.store.ping()

    async def register(self, data: PaperCreate, actor: Identity) -> PaperRead:
        paper = self._new_paper(data)
        try:
            await self.store.add(paper, paper.registered())
        except IdentifierTaken as exc:
            raise _conflict(exc) from None
        self.on_commit()
        return to_read(paper)

    async def get(self, paper_id: str) -> PaperRead:
        return to_read(await self._load(paper_id))

    async def _load(self, paper_id: str) -> Paper:
        paper = await self.store.get(paper_id)
        if paper is None:
            raise NotFound(f"no paper with id {paper_id}", field="paper_id")
        return paper

    async def list(self, *, venue: str | None, year: int | None, page: int, size: int) -> PaperPage:
        venue_key = normalise_venue(venue)[1] if venue else None
        papers, total = await self.store.list(venue_key=venue_key, year=year, offset=(page - 1) * size, limit=size)
        return PaperPage(items=[to_read(p) for p in papers], total=total, page=page, size=size)

    async def lookup(self, *, doi: str | None, arxiv: str | None, dblp: str | None) -> PaperRead:
        given = [(k, v) for k, v in (("doi", doi), ("arxiv", arxiv), ("dblp", dblp)) if v]
        if len(given) != 1:
            raise Invalid("give exactly one of doi, arxiv, dblp", field="doi")
        kind, raw = given[0]
        try:
            value = getattr(normalise_identifiers(**{"doi": None, "arxiv": None, "dblp": None, kind: raw}), kind)
        except Invalid as exc:  # name the query parameter the caller sent, not the paper's field
            raise Invalid(exc.detail, field=kind) from None
        paper = await self.store.find_by_identifier(kind, value)
        if paper is None:
            raise NotFound(f"no paper with {kind} {value}", field=kind)
        return to_read(paper)

    async def update(self, paper_id: str, data: PaperUpdate, actor: Identity) -> PaperRead:
        if not actor.is_moderator:
            raise Forbidden("only moderators may correct papers")
        paper = await self._load(paper_id)
        changes = data.model_dump(exclude_unset=True)
        if changes.get("title", "") is None or changes.get("authors", []) is None:
            raise Invalid("title and authors cannot be removed", field="title" if "title" in changes else "authors")
        if "venue" in changes:
            changes["venue"], changes["venue_key"] = normalise_venue(changes["venue"])
        if "urls" in changes:
            changes["urls"] = [str(u) for u in data.urls or []]
        if "abstract" in changes:
            changes["abstract"] = (changes["abstract"] or "").strip()
        if "identifiers" in changes:
            if data.identifiers is None:
                del changes["identifiers"]
            else:
                # Partial like the rest of PATCH: identifiers not mentioned are kept, an explicit null removes one.
                current = paper.identifiers
                arxiv = f"{current.arxiv}v{current.arxiv_version}" if current.arxiv_version else current.arxiv
                given = {"doi": current.doi, "arxiv": arxiv, "dblp": current.dblp,
                         **data.identifiers.model_dump(exclude_unset=True)}
                changes["identifiers"] = normalise_identifiers(**given)
        updated, event = paper.with_changes(changes)
        if event is None:
            return to_read(paper)
        try:
            await self.store.save(updated, paper.version, event)
        except IdentifierTaken as exc:
            raise _conflict(exc) from None
        except StaleWrite:
            raise Conflict("the paper changed meanwhile; read it again and retry", field="paper_id") from None
        self.on_commit()
        return to_read(updated)

    # -- imports, export and restore (operator tools; no HTTP route) -------------------

    def batch(self):
        """Group many imports or restores into one commit; events still leave through the outbox."""
        return self.store.batch()

    def _new_paper(self, data: PaperCreate) -> Paper:
        ids = data.identifiers
        venue, venue_key = normalise_venue(data.venue)
        return Paper(
            id=new_id(),
            title=data.title,
            authors=list(data.authors),
            venue=venue,
            venue_key=venue_key,
            year=data.year,
            abstract=data.abstract.strip(),
            keywords=list(dict.fromkeys(data.keywords)),
            urls=list(dict.fromkeys(str(u) for u in data.urls)),
            identifiers=normalise_identifiers(ids.doi, ids.arxiv, ids.dblp),
        )

    async def import_paper(self, data: PaperCreate, *, source: str, key: str | None = None) -> ImportResult:
        """Register an imported record, or enrich the paper it matches, or report it as a possible duplicate.

        Matching: any identifier, else the record's `key` within `source` (so records without
        identifiers are found again on a re-run), else normalised title + year (duplicate).
        Raises Invalid for a malformed identifier or venue."""
        incoming = self._new_paper(data)
        origin = (source, key) if key else None
        matches: dict[str, Paper] = {}
        for kind, value in incoming.identifiers.pairs():
            found = await self.store.find_by_identifier(kind, value)
            if found is not None:
                matches.setdefault(found.id, found)
        if not matches and origin is not None:
            found = await self.store.find_by_source(*origin)
            if found is not None:
                matches[found.id] = found
        if len(matches) > 1:
            ids = ", ".join(sorted(matches))
            return ImportResult("possible_duplicate", min(matches),
                                detail=f"its identifiers belong to different papers: {ids}")
        if matches:
            existing = next(iter(matches.values()))
            updated, event = existing.with_changes(missing_fields(existing, incoming))
            try:
                await self.store.save(updated, existing.version, event, source=origin)
            except IdentifierTaken as exc:
                raise _conflict(exc) from None
            except StaleWrite:
                raise Conflict("the paper changed meanwhile; run the import again", field="paper_id") from None
            if event is None:
                return ImportResult("unchanged", existing.id)
            self.on_commit()
            return ImportResult("enriched", existing.id, tuple(event.changed))
        key_of_title = title_key(incoming.title)
        if key_of_title is not None:
            twin = await self.store.find_by_title(key_of_title, incoming.year)
            if twin is not None:
                return ImportResult("possible_duplicate", twin.id,
                                    detail=f"same title and year as paper {twin.id}")
        try:
            await self.store.add(incoming, incoming.registered(), source=origin)
        except IdentifierTaken as exc:
            raise _conflict(exc) from None
        self.on_commit()
        return ImportResult("new", incoming.id)

    async def export(self, *, after: str | None, limit: int) -> list[PaperRead]:
        """Every paper in id order after `after`: what `restore_paper` takes back."""
        return [to_read(p) for p in await self.store.after(after, limit)]

    async def restore_paper(self, record: PaperRead) -> bool:
        """Put an exported paper back with its id, timestamps and version; emits PaperRegistered
        so derived services rebuild. False when a paper with that id is already there."""
        if await self.store.get(record.id) is not None:
            return False
        ids = record.identifiers
        paper = Paper(
            id=record.id, title=record.title, authors=list(record.authors), venue=record.venue,
            venue_key=record.venue_key, year=record.year, abstract=record.abstract, keywords=list(record.keywords),
            urls=list(record.urls),
            identifiers=Identifiers(doi=ids.doi, arxiv=ids.arxiv, arxiv_version=ids.arxiv_version, dblp=ids.dblp),
            created_at=record.created_at, updated_at=record.updated_at, version=record.version,
        )
        try:
            await self.store.add(paper, paper.registered())
        except IdentifierTaken as exc:
            raise _conflict(exc) from None
        self.on_commit()
        return True

    async def venues(self) -> list[VenueRead]:
        return [VenueRead(key=k, name=n, papers=c) for k, n, c in await self.store.venues()]

    async def venue_years(self, venue_key: str) -> list[VenueYearRead]:
        years = await self.store.venue_years(venue_key)
        if not years:
            raise NotFound(f"no venue {venue_key}", field="key")
        return [VenueYearRead(year=y, papers=c) for y, c in years]
