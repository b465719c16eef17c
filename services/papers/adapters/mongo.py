"""Papers on MongoDB (or FerretDB): one `papers` document per paper, carrying its events.

No multi-document transactions, so "one paper per identifier" is kept with claim documents:
`identifiers` holds one document per identifier, `_id` "kind:value", naming the paper that
owns it. A write claims its identifiers first (the `_id` makes the engine refuse a second
claim; unique indexes on array fields would not do, FerretDB does not enforce them), then
writes the paper with a compare-and-set on `version`: that single-document update, which
also queues the event in the paper's outbox, is the commit point. Claims the paper dropped
are released after the commit.

A claim is *held* when its paper lists the identifier. A claim stamped with a version the
paper has already reached, on a paper that does not list it, is *stale* (its writer failed
or dropped it and crashed before releasing) and is taken over with a compare-and-set. A
claim stamped with a version the paper has not reached belongs to a write in progress: the
first claimer wins, so a concurrent writer gets `IdentifierTaken` naming it. Only when such
a claim is older than `CLAIM_LEASE_SECONDS` (its writer presumably died) is it taken over,
after *fencing* the old write: its attempt id is pushed into the paper's `_fenced` list (or
a placeholder document when the paper was never written), and a commit refuses to happen
when its attempt is fenced. So even a writer that wakes up late cannot commit an identifier
somebody else now owns; the lease only decides how long a crashed write blocks its
identifiers, never correctness. Claims are taken in sorted order, so two writes needing
the same identifiers cannot block each other.

`sources` remembers where imported records came from, `_id` "source:key"; like the SQLite
`INSERT OR IGNORE`, the first paper to claim a record keeps it.

Every write runs under the store's `write_lock`: FerretDB's updates are not atomic (see
backbone.mongo), so within a process the lock is what makes the version compare-and-set,
the claim take-overs and the relay's outbox removals safe; between processes the same
filters are atomic on MongoDB.
"""

from __future__ import annotations

import contextlib
import time
import uuid
from datetime import datetime
from typing import Any

from pymongo.errors import DuplicateKeyError

from backbone.events import Event
from backbone.mongo import MongoStore, outbox_update, with_outbox
from services.papers.domain.imports import title_key
from services.papers.domain.model import IDENTIFIER_KINDS, Identifiers, Paper
from services.papers.ports import IdentifierTaken, StaleWrite

PRODUCER = "papers"
PAPERS = "papers"
IDENTIFIERS = "identifiers"
SOURCES = "sources"
# Placeholder documents (fences for writes that never committed) have no `version`.
WRITTEN = {"version": {"$exists": True}}


def _fields(p: Paper) -> dict[str, Any]:
    """The stored document of a paper, without `_id`. Times are ISO strings: BSON dates
    keep milliseconds only, and an exported paper must come back exactly."""
    ids = p.identifiers
    return {
        "title": p.title,
        "authors": list(p.authors),
        "venue": p.venue,
        "venue_key": p.venue_key,
        "year": p.year,
        "abstract": p.abstract,
        "keywords": list(p.keywords),
        "urls": list(p.urls),
        "identifiers": {"doi": ids.doi, "arxiv": ids.arxiv, "arxiv_version": ids.arxiv_version, "dblp": ids.dblp},
        "created_at": p.created_at.isoformat(),
        "updated_at": p.updated_at.isoformat(),
        "version": p.version,
        "title_key": title_key(p.title),
    }


def _paper(doc: dict[str, Any]) -> Paper:
    ids = doc.get("identifiers") or {}
    return Paper(
        id=doc["_id"],
        title=doc["title"],
        authors=list(doc["authors"]),
        venue=doc.get("venue"),
        venue_key=doc.get("venue_key"),
        year=doc.get("year"),
        abstract=doc.get("abstract", ""),
        keywords=list(doc.get("keywords") or []),
        urls=list(doc.get("urls") or []),
        identifiers=Identifiers(doi=ids.get("doi"), arxiv=ids.get("arxiv"), arxiv_version=ids.get("arxiv_version"),
                                dblp=ids.get("dblp")),
        created_at=datetime.fromisoformat(doc["created_at"]),
        updated_at=datetime.fromisoformat(doc["updated_at"]),
        version=doc["version"],
    )


def _claim_key(kind: str, value: str) -> str:
    return f"{kind}:{value}"


def _source_key(source: str, key: str) -> str:
    # Escaped so that no two (source, key) pairs share an `_id`.
    return f"{source.replace('%', '%25').replace(':', '%3A')}:{key}"


class _Attempt:
    """One write attempt: its id (what a fence names), the version it would create, and
    the claims it made or took over, released again if it fails."""

    def __init__(self, paper_id: str, version: int) -> None:
        self.id = uuid.uuid4().hex
        self.paper_id = paper_id
        self.version = version
        self.claimed: list[tuple[str, str]] = []  # (collection, _id)

    def claim_document(self, **extra: Any) -> dict[str, Any]:
        return {"paper_id": self.paper_id, "version": self.version, "attempt": self.id, "at": time.time(), **extra}


class MongoPapersStore(MongoStore):
    OUTBOX_COLLECTIONS = (PAPERS,)
    # How long a claim of a write in progress is respected before its writer counts as dead.
    CLAIM_LEASE_SECONDS = 60.0

    async def create_indexes(self) -> None:
        papers = self.db[PAPERS]
        await papers.create_index([("year", -1), ("_id", -1)], name="list_order")
        await papers.create_index([("venue_key", 1), ("year", -1), ("_id", -1)], name="venue_year")
        await papers.create_index([("title_key", 1), ("year", 1)], name="title_year")
        for kind in IDENTIFIER_KINDS:
            await papers.create_index(f"identifiers.{kind}", name=f"identifier_{kind}")

    def batch(self):
        """Each write commits on its own here (no transactions); kept for the port."""
        return contextlib.nullcontext()

    # -- reads ----------------------------------------------------------------------------

    async def get(self, paper_id: str) -> Paper | None:
        doc = await self.db[PAPERS].find_one({"_id": paper_id, **WRITTEN})
        return _paper(doc) if doc else None

    async def find_by_identifier(self, kind: str, value: str) -> Paper | None:
        if kind not in IDENTIFIER_KINDS:
            return None
        # The claims keep this unique; the paper itself is the committed truth.
        doc = await self.db[PAPERS].find_one({f"identifiers.{kind}": value, **WRITTEN})
        return _paper(doc) if doc else None

    async def find_by_source(self, source: str, key: str) -> Paper | None:
        claim = await self.db[SOURCES].find_one({"_id": _source_key(source, key)})
        return await self.get(claim["paper_id"]) if claim else None

    async def find_by_title(self, key: str, year: int | None) -> Paper | None:
        cursor = self.db[PAPERS].find({"title_key": key, "year": year, **WRITTEN}).sort("_id", 1).limit(1)
        async for doc in cursor:
            return _paper(doc)
        return None

    async def after(self, paper_id: str | None, limit: int) -> list[Paper]:
        if limit <= 0:  # MongoDB reads limit 0 as "no limit"
            return []
        cursor = self.db[PAPERS].find({"_id": {"$gt": paper_id or ""}, **WRITTEN}).sort("_id", 1).limit(limit)
        return [_paper(doc) async for doc in cursor]

    async def count(self) -> int:
        return await self.db[PAPERS].count_documents(WRITTEN)

    async def list(
        self, *, venue_key: str | None, year: int | None, offset: int, limit: int
    ) -> tuple[list[Paper], int]:
        query: dict[str, Any] = dict(WRITTEN)
        if venue_key is not None:
            query["venue_key"] = venue_key
        if year is not None:
            query["year"] = year
        total = await self.db[PAPERS].count_documents(query)
        if limit <= 0:
            return [], total
        # Year descending puts papers without a year last, as in SQLite (null sorts lowest).
        cursor = self.db[PAPERS].find(query).sort([("year", -1), ("_id", -1)]).skip(offset).limit(limit)
        return [_paper(doc) async for doc in cursor], total

    async def venues(self) -> list[tuple[str, str, int]]:
        # FerretDB's $group knows $sum only: group by (key, name), pick the name here.
        cursor = await self.db[PAPERS].aggregate([
            {"$match": {"venue_key": {"$ne": None}, **WRITTEN}},
            {"$group": {"_id": {"key": "$venue_key", "name": "$venue"}, "n": {"$sum": 1}}},
        ])
        counts: dict[str, int] = {}
        names: dict[str, str] = {}
        async for row in cursor:
            key, name = row["_id"]["key"], row["_id"].get("name")
            counts[key] = counts.get(key, 0) + row["n"]
            if name is not None and (key not in names or name > names[key]):
                names[key] = name
        return sorted(((k, names.get(k), n) for k, n in counts.items()), key=lambda v: (-v[2], v[0]))

    async def venue_years(self, venue_key: str) -> list[tuple[int | None, int]]:
        cursor = await self.db[PAPERS].aggregate([
            {"$match": {"venue_key": venue_key, **WRITTEN}},
            {"$group": {"_id": "$year", "n": {"$sum": 1}}},
        ])
        rows = [(row["_id"], row["n"]) async for row in cursor]
        return sorted(rows, key=lambda r: (r[0] is None, -(r[0] or 0)))

    # -- writes ---------------------------------------------------------------------------

    async def add(self, paper: Paper, event: Event, *, source: tuple[str, str] | None = None) -> None:
        async with self.write_lock:
            await self._add(paper, event, source)

    async def save(self, paper: Paper, expected_version: int, event: Event | None, *,
                   source: tuple[str, str] | None = None) -> None:
        """`event` None: nothing the paper shows changed, only the import provenance is recorded."""
        async with self.write_lock:
            await self._save(paper, expected_version, event, source)

    async def _add(self, paper: Paper, event: Event, source: tuple[str, str] | None) -> None:
        attempt = _Attempt(paper.id, paper.version)
        envelope = event.envelope(aggregate_id=paper.id, aggregate_version=paper.version, producer=PRODUCER)
        try:
            await self._claim_identifiers(paper, attempt, current=None)
            await self._claim_source(source, attempt)
        except (IdentifierTaken, StaleWrite):
            await self._release(attempt)
            raise
        if not await self._insert(paper, attempt, envelope):
            await self._release(attempt)
            raise StaleWrite(paper.id)

    async def _save(self, paper: Paper, expected_version: int, event: Event | None,
                    source: tuple[str, str] | None) -> None:
        attempt = _Attempt(paper.id, expected_version + 1)
        if event is None:
            await self._claim_source(source, attempt)
            return
        current = await self.db[PAPERS].find_one({"_id": paper.id, **WRITTEN})
        if current is None or current["version"] != expected_version:
            raise StaleWrite(paper.id)
        envelope = event.envelope(aggregate_id=paper.id, aggregate_version=paper.version, producer=PRODUCER)
        try:
            await self._claim_identifiers(paper, attempt, current=current)
            await self._claim_source(source, attempt)
        except (IdentifierTaken, StaleWrite):
            await self._release(attempt)
            raise
        fields = _fields(paper)
        result = await self.db[PAPERS].update_one(
            {"_id": paper.id, "version": expected_version, "_fenced": {"$ne": attempt.id}},
            outbox_update([envelope], {"$set": fields, "$unset": {"_fenced": ""}}),
        )
        if result.matched_count != 1:
            await self._release(attempt)
            raise StaleWrite(paper.id)
        # Committed: give up the identifiers the paper no longer has. A claim stamped with a
        # later version belongs to a later write that wants it back, so it stays.
        dropped = set(_pairs(current)) - set(paper.identifiers.pairs())
        for kind, value in dropped:
            await self.db[IDENTIFIERS].delete_one(
                {"_id": _claim_key(kind, value), "paper_id": paper.id, "version": {"$lte": paper.version}}
            )

    async def _insert(self, paper: Paper, attempt: _Attempt, envelope) -> bool:
        """The commit point of `add`; False when a paper with this id exists or this attempt
        was fenced."""
        fields = _fields(paper)
        try:
            await self.db[PAPERS].insert_one(with_outbox({"_id": paper.id, **fields}, [envelope]))
            return True
        except DuplicateKeyError:
            pass
        # A placeholder (a fence left for some other write) may be turned into the paper,
        # unless it fences this very attempt.
        result = await self.db[PAPERS].update_one(
            {"_id": paper.id, "version": {"$exists": False}, "_fenced": {"$ne": attempt.id}},
            outbox_update([envelope], {"$set": fields, "$unset": {"_fenced": ""}}),
        )
        return result.matched_count == 1

    # -- claims ---------------------------------------------------------------------------

    async def _claim_identifiers(self, paper: Paper, attempt: _Attempt, *, current: dict | None) -> None:
        held_now = set(_pairs(current)) if current else set()
        for kind, value in sorted(paper.identifiers.pairs(), key=lambda p: _claim_key(*p)):
            await self._claim_identifier(kind, value, attempt, already_listed=(kind, value) in held_now)

    async def _claim_identifier(self, kind: str, value: str, attempt: _Attempt, *, already_listed: bool) -> None:
        claims = self.db[IDENTIFIERS]
        key = _claim_key(kind, value)
        while True:
            try:
                await claims.insert_one({"_id": key, **attempt.claim_document(kind=kind, value=value)})
                attempt.claimed.append((IDENTIFIERS, key))
                return
            except DuplicateKeyError:
                pass
            claim = await claims.find_one({"_id": key})
            if claim is None:  # released meanwhile: try again
                continue
            owner_id = claim["paper_id"]
            if owner_id == attempt.paper_id and already_listed:
                return  # the paper holds it and keeps it
            owner = await self.db[PAPERS].find_one({"_id": owner_id}, {"identifiers": 1, "version": 1})
            owner_version = owner.get("version") if owner else None
            if owner_version is not None and (owner.get("identifiers") or {}).get(kind) == value:
                if owner_id == attempt.paper_id:
                    return
                raise IdentifierTaken(kind, value, owner_id)
            if owner_version is None or owner_version < claim["version"]:
                # The claim's write has not committed: in progress, or its writer died.
                if time.time() - claim.get("at", 0) < self.CLAIM_LEASE_SECONDS:
                    if owner_id == attempt.paper_id:
                        raise StaleWrite(owner_id)  # another write of this paper is under way
                    raise IdentifierTaken(kind, value, owner_id)
                if not await self._fence(owner_id, owner_version, claim["attempt"]):
                    continue  # the paper moved meanwhile: judge the claim again
            if await self._take_over(IDENTIFIERS, claim, attempt, kind=kind, value=value):
                return

    async def _fence(self, paper_id: str, seen_version: int | None, attempt_id: str) -> bool:
        """Make sure the write `attempt_id` can never commit; False if the paper is no
        longer at `seen_version` (None: not written)."""
        papers = self.db[PAPERS]
        if seen_version is None:
            try:
                await papers.update_one({"_id": paper_id, "version": {"$exists": False}},
                                        {"$push": {"_fenced": attempt_id}}, upsert=True)
                return True
            except DuplicateKeyError:  # the paper was written meanwhile
                return False
        result = await papers.update_one({"_id": paper_id, "version": seen_version},
                                         {"$push": {"_fenced": attempt_id}})
        return result.matched_count == 1

    async def _take_over(self, collection: str, claim: dict, attempt: _Attempt, **extra: Any) -> bool:
        result = await self.db[collection].update_one(
            {"_id": claim["_id"], "attempt": claim["attempt"]}, {"$set": attempt.claim_document(**extra)}
        )
        if result.modified_count == 1:
            attempt.claimed.append((collection, claim["_id"]))
            return True
        return False

    async def _claim_source(self, source: tuple[str, str] | None, attempt: _Attempt) -> None:
        """Remember where a record came from; the first paper to claim it keeps it."""
        if source is None:
            return
        claims = self.db[SOURCES]
        key = _source_key(*source)
        while True:
            try:
                await claims.insert_one({"_id": key, **attempt.claim_document(source=source[0], key=source[1])})
                attempt.claimed.append((SOURCES, key))
                return
            except DuplicateKeyError:
                pass
            claim = await claims.find_one({"_id": key})
            if claim is None:
                continue
            if claim["paper_id"] == attempt.paper_id or await self.get(claim["paper_id"]) is not None:
                return
            if time.time() - claim.get("at", 0) < self.CLAIM_LEASE_SECONDS:
                return  # another import of this record is under way
            # Its paper was never written: a pointer only, no fence needed.
            if await self._take_over(SOURCES, claim, attempt, source=source[0], key=source[1]):
                return

    async def _release(self, attempt: _Attempt) -> None:
        """Undo the claims of an attempt that did not commit (those still its own)."""
        for collection, key in attempt.claimed:
            await self.db[collection].delete_one({"_id": key, "attempt": attempt.id})
        attempt.claimed.clear()


def _pairs(doc: dict[str, Any]) -> list[tuple[str, str]]:
    ids = doc.get("identifiers") or {}
    return [(kind, ids[kind]) for kind in IDENTIFIER_KINDS if ids.get(kind)]
