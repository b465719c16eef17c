"""Summaries, revisions, votes, comments and the outbox in the service's own MongoDB database.

No multi-document transactions: every write of the port changes one summary document, in
one update that compares-and-sets its `version` and carries the write's events in the
same document (`backbone.mongo.outbox_update`). That update is the commit point, and
everything a reader trusts hangs off the summary document:

- votes live inside it (`votes: {user: value}`, with `voters` as an index for "my votes");
- revisions and comments are immutable documents of their own, written *before* the
  commit point under an id that no other attempt can use; the summary document lists
  the ones that were committed (`revision_ids`, `comment_ids`, `hidden_comment_ids`), and
  reads only ever show listed ones, so a write that lost its compare-and-set (or a
  process that died before it) leaves an orphan nobody reads, never a half write;
- one summary per user per paper is a unique index on (author_id, paper_id, tomb) where
  `tomb` is "" for a live summary and the summary's own id once it is deleted, so a user
  can summarise a paper again after deleting their summary, as on SQLite.

The copy of the paper is only ever changed by `apply_paper` (and set by `add`), never by
the compare-and-set writes, so a write that read the summary before a paper update does
not put the old paper back.

Every update of a summary document holds the store's `write_lock`, as does the relay when
it pulls published events out of one: FerretDB rewrites a whole document per update, so
only the lock makes the version filter a compare-and-set there (within one process; real
MongoDB's per-document atomicity covers several). Inserts need no lock: unique indexes
are enforced atomically on both engines.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Sequence
from contextlib import nullcontext
from datetime import datetime
from typing import Any

from pymongo import ASCENDING, DESCENDING, UpdateOne
from pymongo.errors import DuplicateKeyError

from backbone.events import Event, PaperSnapshot
from backbone.ids import new_id
from backbone.mongo import MongoStore, outbox_update, with_outbox
from services.summaries.domain.citations import CitedPaper
from services.summaries.domain.model import Comment, Summary
from services.summaries.domain.outline import TocEntry
from services.summaries.domain.references import KnownPaper
from services.summaries.ports import DuplicateSummary, StaleWrite

PRODUCER = "summaries"
PAPERS_CONSUMER = "summaries-papers"

SUMMARIES = "summaries"
REVISIONS = "revisions"
COMMENTS = "comments"
PROCESSED = "processed_events"
KNOWN_PAPERS = "known_papers"  # {_id: paper id, title, version, keys: [...]}: the papers citations may name

# What a `Summary` is read from (the bookkeeping lists and the outbox stay on the server).
_SUMMARY_FIELDS = (
    "paper", "author_id", "author_username", "body", "body_html", "renderer_version", "visibility", "anonymous",
    "hidden", "deleted", "score", "revision", "comment_count", "created_at", "updated_at", "version",
    "toc", "words", "reading_minutes", "citations", "cited",
)
_SUMMARY_PROJECTION = {name: 1 for name in _SUMMARY_FIELDS}
_COMMENT_FIELDS = ("summary_id", "author_id", "author_username", "body", "body_html", "created_at")
_LIVE = ""  # `tomb` of a summary that is not deleted
# Writes that certainly did not happen: what they wrote ahead may be removed again. (After
# any other error, e.g. a lost connection, the write may have happened: leave it be.)
_REFUSED = (StaleWrite, DuplicateSummary, DuplicateKeyError)
_DUPLICATE_RETRIES = 3


def _state_fields(s: Summary) -> dict[str, Any]:
    """The fields a compare-and-set write may change."""
    return {
        "author_username": s.author_username,
        "body": s.body,
        "body_html": s.body_html,
        "renderer_version": s.renderer_version,
        "visibility": s.visibility,
        "anonymous": s.anonymous,
        "hidden": s.hidden,
        "deleted": s.deleted,
        "public": s.is_public,
        "tomb": s.id if s.deleted else _LIVE,
        "score": s.score,
        "revision": s.revision,
        "comment_count": s.comment_count,
        "updated_at": s.updated_at.isoformat(),
        "version": s.version,
        # What rendering the body found; `citations` is indexed for "summaries citing a paper".
        "toc": [{"level": e.level, "id": e.id, "text": e.text} for e in s.toc],
        "words": s.words,
        "reading_minutes": s.reading_minutes,
        "citations": list(s.citations),
        "cited": [{"key": k, "paper_id": p, "title": t} for k, p, t in s.cited],
    }


def _paper_fields(paper: PaperSnapshot) -> dict[str, Any]:
    return {
        "paper": paper.model_dump(mode="json"),
        "paper_id": paper.paper_id,
        "paper_version": paper.version,
        "venue_key": paper.venue_key,
        "year": paper.year,
    }


def _document(s: Summary, revision_ids: list[str]) -> dict[str, Any]:
    # Timestamps as ISO strings, as on SQLite: exact to the microsecond (BSON dates keep
    # milliseconds) and, all being UTC, they sort as text in time order.
    return {
        "_id": s.id,
        **_paper_fields(s.paper),
        "author_id": s.author_id,
        "created_at": s.created_at.isoformat(),
        **_state_fields(s),
        "revision_ids": revision_ids,
        "votes": {},
        "voters": [],
        "comment_ids": [],
        "hidden_comment_ids": [],
    }


def _summary(doc: dict[str, Any]) -> Summary:
    return Summary(
        id=doc["_id"],
        paper=PaperSnapshot.model_validate(doc["paper"]),
        author_id=doc["author_id"],
        author_username=doc["author_username"],
        body=doc["body"],
        body_html=doc["body_html"],
        renderer_version=doc["renderer_version"],
        visibility=doc["visibility"],
        anonymous=doc["anonymous"],
        hidden=doc["hidden"],
        deleted=doc["deleted"],
        score=doc["score"],
        revision=doc["revision"],
        comment_count=doc["comment_count"],
        created_at=datetime.fromisoformat(doc["created_at"]),
        updated_at=datetime.fromisoformat(doc["updated_at"]),
        version=doc["version"],
        # Absent from documents written before outlines and citations were stored.
        toc=tuple(TocEntry(e["level"], e["id"], e["text"]) for e in doc.get("toc") or ()),
        words=doc.get("words"),
        reading_minutes=doc.get("reading_minutes") or 0,
        citations=tuple(doc.get("citations") or ()),
        cited=tuple((c["key"], c["paper_id"], c["title"]) for c in doc.get("cited") or ()),
    )


def _comment_document(c: Comment) -> dict[str, Any]:
    return {
        "_id": c.id,
        "summary_id": c.summary_id,
        "author_id": c.author_id,
        "author_username": c.author_username,
        "body": c.body,
        "body_html": c.body_html,
        "created_at": c.created_at.isoformat(),
    }


def _comment(doc: dict[str, Any], hidden: bool) -> Comment:
    return Comment(
        id=doc["_id"],
        summary_id=doc["summary_id"],
        author_id=doc["author_id"],
        author_username=doc["author_username"],
        body=doc["body"],
        body_html=doc["body_html"],
        hidden=hidden,
        created_at=datetime.fromisoformat(doc["created_at"]),
    )


def vote_key(user_id: str) -> str:
    """A user id as a field name inside `votes` ('.' and a leading '$' are not allowed there)."""
    return user_id.replace("%", "%25").replace(".", "%2E").replace("$", "%24")


def _user_of(key: str) -> str:
    return key.replace("%24", "$").replace("%2E", ".").replace("%25", "%")


class MongoSummariesStore(MongoStore):
    OUTBOX_COLLECTIONS = (SUMMARIES,)

    async def create_indexes(self) -> None:
        summaries = self.db[SUMMARIES]
        await summaries.create_index(
            [("author_id", ASCENDING), ("paper_id", ASCENDING), ("tomb", ASCENDING)],
            unique=True, name="one_live_summary_per_author_and_paper",
        )
        await summaries.create_index([("paper_id", ASCENDING), ("score", DESCENDING), ("created_at", DESCENDING)],
                                     name="paper_by_score")
        await summaries.create_index([("paper_id", ASCENDING), ("paper_version", ASCENDING)], name="paper_version")
        await summaries.create_index(
            [("public", ASCENDING), ("score", DESCENDING), ("created_at", DESCENDING), ("_id", DESCENDING)],
            name="public_by_score",
        )
        await summaries.create_index([("public", ASCENDING), ("created_at", DESCENDING), ("_id", DESCENDING)],
                                     name="public_newest")
        await summaries.create_index([("public", ASCENDING), ("venue_key", ASCENDING), ("year", ASCENDING)],
                                     name="public_by_venue")
        await summaries.create_index("voters", name="voters")
        await summaries.create_index([("citations", ASCENDING), ("created_at", DESCENDING)], name="citations")
        await self.db[KNOWN_PAPERS].create_index("keys", name="keys")
        await self.db[REVISIONS].create_index("summary_id", name="by_summary")
        await self.db[COMMENTS].create_index([("summary_id", ASCENDING), ("created_at", ASCENDING)],
                                             name="by_summary")
        await self.db[COMMENTS].create_index([("author_id", ASCENDING), ("created_at", ASCENDING)],
                                             name="by_author")

    # -- helpers ----------------------------------------------------------------------

    @staticmethod
    def _envelopes(summary: Summary, events: Sequence[Event]):
        return [e.envelope(aggregate_id=summary.id, aggregate_version=summary.version, producer=PRODUCER)
                for e in events]

    async def _commit(self, summary: Summary, expected_version: int, events: Sequence[Event],
                      update: dict[str, Any]) -> None:
        """The commit point of every change: one compare-and-set update of the summary
        document, carrying the write's events."""
        update.setdefault("$set", {}).update(_state_fields(summary))
        async with self.write_lock:
            result = await self.db[SUMMARIES].update_one(
                {"_id": summary.id, "version": expected_version},
                outbox_update(self._envelopes(summary, events), update),
            )
        if result.matched_count != 1:
            raise StaleWrite(summary.id)

    async def _write_revision(self, summary_id: str, revision: int, body: str, created_at: str) -> str:
        """An immutable revision document under a fresh id; it counts once a summary lists it."""
        revision_id = new_id()
        await self.db[REVISIONS].insert_one(
            {"_id": revision_id, "summary_id": summary_id, "revision": revision, "body": body,
             "created_at": created_at}
        )
        return revision_id

    async def _forget(self, collection: str, ids: Iterable[str]) -> None:
        """Remove documents a failed write left unlisted (best effort: orphans are never read)."""
        ids = list(ids)
        if ids:
            await self.db[collection].delete_many({"_id": {"$in": ids}})

    async def _live_id(self, author_id: str, paper_id: str) -> str | None:
        doc = await self.db[SUMMARIES].find_one({"author_id": author_id, "paper_id": paper_id, "tomb": _LIVE},
                                                {"_id": 1})
        return doc["_id"] if doc else None

    async def _insert(self, document: dict[str, Any], summary: Summary) -> None:
        """Insert a new summary document: DuplicateSummary if the author already has a live
        summary of the paper (DuplicateKeyError as such if the id itself exists)."""
        for _ in range(_DUPLICATE_RETRIES):
            try:
                await self.db[SUMMARIES].insert_one(document)
                return
            except DuplicateKeyError:
                if await self.db[SUMMARIES].find_one({"_id": summary.id}, {"_id": 1}):
                    raise
                existing = await self._live_id(summary.author_id, summary.paper.paper_id)
                if existing is not None:
                    raise DuplicateSummary(existing) from None
                # The clashing summary was deleted meanwhile: try again.
        raise StaleWrite(summary.id)

    # -- writes -----------------------------------------------------------------------

    async def add(self, summary: Summary, events: Sequence[Event]) -> None:
        revision_id = await self._write_revision(summary.id, summary.revision, summary.body,
                                                 summary.updated_at.isoformat())
        document = with_outbox(_document(summary, [revision_id]), self._envelopes(summary, events))
        try:
            await self._insert(document, summary)
        except _REFUSED:
            await self._forget(REVISIONS, [revision_id])
            raise

    async def save(
        self, summary: Summary, expected_version: int, events: Sequence[Event], *, new_revision: bool = False
    ) -> None:
        update: dict[str, Any] = {}
        revision_id = None
        if new_revision:
            revision_id = await self._write_revision(summary.id, summary.revision, summary.body,
                                                     summary.updated_at.isoformat())
            update["$push"] = {"revision_ids": revision_id}
        try:
            await self._commit(summary, expected_version, events, update)
        except _REFUSED:
            if revision_id is not None:
                await self._forget(REVISIONS, [revision_id])
            raise

    async def save_vote(
        self, summary: Summary, expected_version: int, user_id: str, value: int, events: Sequence[Event]
    ) -> None:
        key = f"votes.{vote_key(user_id)}"
        if value == 0:
            update = {"$unset": {key: ""}, "$pullAll": {"voters": [user_id]}}
        else:
            update = {"$set": {key: value}, "$addToSet": {"voters": user_id}}
        await self._commit(summary, expected_version, events, update)

    async def add_comment(
        self, summary: Summary, expected_version: int, comment: Comment, events: Sequence[Event]
    ) -> None:
        # Idempotent by comment id: a retried attempt writes the same document again.
        await self.db[COMMENTS].replace_one({"_id": comment.id}, _comment_document(comment), upsert=True)
        update: dict[str, Any] = {"$addToSet": {"comment_ids": comment.id}}
        if comment.hidden:
            update["$addToSet"]["hidden_comment_ids"] = comment.id
        await self._commit(summary, expected_version, events, update)

    async def save_comment(
        self, summary: Summary, expected_version: int, comment: Comment, events: Sequence[Event]
    ) -> None:
        if comment.hidden:
            update: dict[str, Any] = {"$addToSet": {"hidden_comment_ids": comment.id}}
        else:
            update = {"$pullAll": {"hidden_comment_ids": [comment.id]}}
        await self._commit(summary, expected_version, events, update)

    # -- reads ------------------------------------------------------------------------

    async def get(self, summary_id: str) -> Summary | None:
        doc = await self.db[SUMMARIES].find_one({"_id": summary_id}, _SUMMARY_PROJECTION)
        return _summary(doc) if doc else None

    async def vote_of(self, summary_id: str, user_id: str) -> int:
        key = vote_key(user_id)
        doc = await self.db[SUMMARIES].find_one({"_id": summary_id}, {f"votes.{key}": 1})
        return ((doc or {}).get("votes") or {}).get(key, 0)

    async def votes_of(self, summary_ids: Sequence[str], user_id: str) -> dict[str, int]:
        if not summary_ids:
            return {}
        key = vote_key(user_id)
        cursor = self.db[SUMMARIES].find({"_id": {"$in": list(summary_ids)}, "voters": user_id}, {f"votes.{key}": 1})
        found = {}
        async for doc in cursor:
            value = (doc.get("votes") or {}).get(key)
            if value:
                found[doc["_id"]] = value
        return found

    async def revisions(self, summary_id: str) -> list[tuple[int, str, str]]:
        doc = await self.db[SUMMARIES].find_one({"_id": summary_id}, {"revision_ids": 1})
        if not doc or not doc.get("revision_ids"):
            return []
        cursor = self.db[REVISIONS].find({"_id": {"$in": doc["revision_ids"]}}).sort("revision", DESCENDING)
        return [(r["revision"], r["body"], r["created_at"]) async for r in cursor]

    async def _committed(self, docs: list[dict[str, Any]]) -> list[Comment]:
        """The comments among `docs` that their summary lists, with their hidden flag."""
        summary_ids = list({d["summary_id"] for d in docs})
        if not summary_ids:
            return []
        listed: dict[str, tuple[set[str], set[str]]] = {}
        cursor = self.db[SUMMARIES].find({"_id": {"$in": summary_ids}}, {"comment_ids": 1, "hidden_comment_ids": 1})
        async for s in cursor:
            listed[s["_id"]] = (set(s.get("comment_ids") or ()), set(s.get("hidden_comment_ids") or ()))
        comments = []
        for d in docs:
            ids, hidden = listed.get(d["summary_id"], (set(), set()))
            if d["_id"] in ids:
                comments.append(_comment(d, d["_id"] in hidden))
        return comments

    async def get_comment(self, comment_id: str) -> Comment | None:
        doc = await self.db[COMMENTS].find_one({"_id": comment_id})
        found = await self._committed([doc]) if doc else []
        return found[0] if found else None

    async def comments(self, summary_id: str) -> list[Comment]:
        cursor = (self.db[COMMENTS].find({"summary_id": summary_id})
                  .sort([("created_at", ASCENDING), ("_id", ASCENDING)]))
        return await self._committed(await cursor.to_list())

    async def list(
        self,
        *,
        paper_id: str | None,
        venue_key: str | None,
        year: int | None,
        sort: str,
        viewer_id: str | None,
        offset: int,
        limit: int,
    ) -> tuple[list[Summary], int]:
        query: dict[str, Any] = {}
        if paper_id is not None:
            query["paper_id"] = paper_id
            if viewer_id is not None:  # on a paper's page the author also sees their own private summary
                query["$or"] = [{"public": True}, {"author_id": viewer_id, "deleted": False}]
            else:
                query["public"] = True
        else:
            query["public"] = True
        if venue_key is not None:
            query["venue_key"] = venue_key
        if year is not None:
            query["year"] = year
        order = ([("score", DESCENDING), ("created_at", DESCENDING), ("_id", DESCENDING)] if sort == "score"
                 else [("created_at", DESCENDING), ("_id", DESCENDING)])
        collection = self.db[SUMMARIES]
        total = await collection.count_documents(query)
        if limit <= 0 or offset >= total:
            return [], total
        cursor = collection.find(query, _SUMMARY_PROJECTION).sort(order).skip(offset).limit(limit)
        return [_summary(d) async for d in cursor], total

    async def after(self, summary_id: str | None, limit: int) -> list[Summary]:
        cursor = (self.db[SUMMARIES].find({"_id": {"$gt": summary_id or ""}}, _SUMMARY_PROJECTION)
                  .sort("_id", ASCENDING).limit(limit))
        return [_summary(d) async for d in cursor]

    async def _counts(self, match: dict[str, Any], key: str) -> dict:
        # Only $match/$group/$sum: what FerretDB runs as well as MongoDB.
        cursor = await self.db[SUMMARIES].aggregate(
            [{"$match": match}, {"$group": {"_id": f"${key}", "n": {"$sum": 1}}}]
        )
        return {row["_id"]: row["n"] async for row in cursor}

    async def counts_by_venue(self) -> dict[str, int]:
        counts = await self._counts({"public": True, "venue_key": {"$ne": None}}, "venue_key")
        return {k: v for k, v in counts.items() if k is not None}

    async def counts_by_year(self, venue_key: str) -> dict[int | None, int]:
        return await self._counts({"public": True, "venue_key": venue_key}, "year")

    # -- the papers replica -----------------------------------------------------------

    async def apply_paper(self, event_id: str, paper: PaperSnapshot) -> bool:
        # Idempotent by version: only summaries holding an older copy change, so a
        # redelivery (or a crash before the event id below is recorded) does no harm.
        async with self.write_lock:
            await self.db[SUMMARIES].update_many(
                {"paper_id": paper.paper_id, "paper_version": {"$lt": paper.version}},
                {"$set": _paper_fields(paper)},
            )
        await self._know(KnownPaper.of(paper))
        try:
            await self.db[PROCESSED].insert_one(
                {"_id": event_id, "consumer": PAPERS_CONSUMER, "applied_at": time.time()}
            )
        except DuplicateKeyError:
            return False
        return True

    async def _know(self, paper: KnownPaper) -> None:
        """One document per paper, replaced by newer versions only: an upsert filtered on
        an older version either updates it or, when the stored one is as new or newer,
        collides on the id and changes nothing."""
        document = {"title": paper.title, "version": paper.version, "keys": list(paper.keys)}
        try:
            async with self.write_lock:
                await self.db[KNOWN_PAPERS].update_one(
                    {"_id": paper.paper_id, "version": {"$lt": paper.version}}, {"$set": document}, upsert=True
                )
        except DuplicateKeyError:
            pass

    async def known_papers(self, keys: Sequence[str]) -> dict[str, CitedPaper]:
        keys = list(dict.fromkeys(keys))
        if not keys:
            return {}
        found: dict[str, CitedPaper] = {}
        # Two papers claim one key only while events of both are on their way (the papers
        # service gives each identifier to one paper): the lower id answers meanwhile.
        cursor = self.db[KNOWN_PAPERS].find({"keys": {"$in": keys}}).sort("_id", ASCENDING)
        async for doc in cursor:
            for key in doc["keys"]:
                if key in keys:
                    found.setdefault(key, CitedPaper(paper_id=doc["_id"], short_title=doc["title"]))
        return found

    async def citing(self, paper_id: str, *, offset: int, limit: int) -> tuple[list[Summary], int]:
        """Public summaries citing the paper by any of its keys (those the replica knows,
        and `paper:<id>`), newest first."""
        known = await self.db[KNOWN_PAPERS].find_one({"_id": paper_id}, {"keys": 1})
        keys = list(dict.fromkeys([*(known or {}).get("keys", ()), f"paper:{paper_id}"]))
        query = {"citations": {"$in": keys}, "public": True}
        collection = self.db[SUMMARIES]
        total = await collection.count_documents(query)
        if limit <= 0 or offset >= total:
            return [], total
        cursor = (collection.find(query, _SUMMARY_PROJECTION).sort([("created_at", DESCENDING), ("_id", DESCENDING)])
                  .skip(offset).limit(limit))
        return [_summary(d) async for d in cursor], total

    # -- export and restore -----------------------------------------------------------

    def batch(self):
        """SQLite groups a restore's writes in one commit; here each write stands alone."""
        return nullcontext()

    async def votes_after(self, after: tuple[str, str] | None, limit: int) -> list[tuple[str, str, int]]:
        start = after or ("", "")
        found: list[tuple[str, str, int]] = []
        cursor = self.db[SUMMARIES].find(
            {"_id": {"$gte": start[0]}, "voters.0": {"$exists": True}}, {"votes": 1}
        ).sort("_id", ASCENDING).batch_size(max(limit, 1))
        try:
            async for doc in cursor:
                for user_id, value in sorted((_user_of(k), v) for k, v in (doc.get("votes") or {}).items()):
                    if (doc["_id"], user_id) > start:
                        found.append((doc["_id"], user_id, value))
                if len(found) >= limit:
                    break
        finally:
            await cursor.close()
        return found[:limit]

    async def comments_after(self, after: str | None, limit: int) -> list[Comment]:
        found: list[Comment] = []
        cursor_id = after or ""
        while len(found) < limit:
            docs = await (self.db[COMMENTS].find({"_id": {"$gt": cursor_id}}).sort("_id", ASCENDING)
                          .limit(limit).to_list())
            found += await self._committed(docs)
            if len(docs) < limit:
                break
            cursor_id = docs[-1]["_id"]
        return found[:limit]

    async def by_author(self, user_id: str) -> list[Summary]:
        cursor = (self.db[SUMMARIES].find({"author_id": user_id}, _SUMMARY_PROJECTION)
                  .sort([("created_at", ASCENDING), ("_id", ASCENDING)]))
        return [_summary(d) async for d in cursor]

    async def votes_by(self, user_id: str) -> list[tuple[str, int]]:
        key = vote_key(user_id)
        cursor = self.db[SUMMARIES].find({"voters": user_id}, {f"votes.{key}": 1}).sort("_id", ASCENDING)
        votes = []
        async for doc in cursor:
            value = (doc.get("votes") or {}).get(key)
            if value:
                votes.append((doc["_id"], value))
        return votes

    async def comments_by(self, user_id: str) -> list[Comment]:
        cursor = self.db[COMMENTS].find({"author_id": user_id}).sort([("created_at", ASCENDING), ("_id", ASCENDING)])
        return await self._committed(await cursor.to_list())

    async def restore(self, summary: Summary, revisions: Sequence[tuple[int, str, str]],
                      events: Sequence[Event]) -> bool:
        """Insert an exported summary with its revisions as it was; False if its id exists."""
        if await self.db[SUMMARIES].find_one({"_id": summary.id}, {"_id": 1}):
            return False
        revision_ids, seen = [], set()
        for revision, body, created_at in revisions:
            if revision not in seen:  # the first of a number wins, as INSERT OR IGNORE on SQLite
                seen.add(revision)
                revision_ids.append(await self._write_revision(summary.id, revision, body, created_at))
        document = with_outbox(_document(summary, revision_ids), self._envelopes(summary, events))
        try:
            await self._insert(document, summary)
        except DuplicateKeyError:  # restored meanwhile by someone else
            await self._forget(REVISIONS, revision_ids)
            return False
        except _REFUSED:
            await self._forget(REVISIONS, revision_ids)
            raise
        return True

    async def restore_votes(self, votes: Sequence[tuple[str, str, int]]) -> int:
        """Votes only: each summary's score was restored with it, and VoteCast names no voter."""
        if not votes:
            return 0
        async with self.write_lock:
            result = await self.db[SUMMARIES].bulk_write([
                UpdateOne({"_id": summary_id, f"votes.{vote_key(user_id)}": {"$exists": False}},
                          {"$set": {f"votes.{vote_key(user_id)}": value}, "$addToSet": {"voters": user_id}})
                for summary_id, user_id, value in votes
            ], ordered=False)
        return result.modified_count

    async def restore_comment(self, comment: Comment, summary: Summary, events: Sequence[Event]) -> bool:
        await self.db[COMMENTS].replace_one({"_id": comment.id}, _comment_document(comment), upsert=True)
        update: dict[str, Any] = {"$addToSet": {"comment_ids": comment.id}}
        if comment.hidden:
            update["$addToSet"]["hidden_comment_ids"] = comment.id
        # Listing the comment is the commit point; the filter makes a second restore a no-op.
        async with self.write_lock:
            result = await self.db[SUMMARIES].update_one(
                {"_id": summary.id, "comment_ids": {"$ne": comment.id}},
                outbox_update(self._envelopes(summary, events), update),
            )
        return result.modified_count == 1
