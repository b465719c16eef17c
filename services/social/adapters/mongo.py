"""Posts, their attempt log, channel pauses, the summaries' latest state and the outbox in
the social service's own MongoDB database.

No multi-document transactions. A post is one document, and every change to it is one
update that compares-and-sets its `version` and carries the change's events
(`backbone.mongo.outbox_update`). Its attempt log lives inside it (`log`, one entry per
claim, so `log[i]` is attempt i+1): claiming a post and opening its attempt, or recording
a send and closing the attempt, is therefore one atomic write too.

Applying a summary state touches the summary's record and up to one post per channel, so
it is ordered to survive a crash at any point: the state is recorded first (compare-and-set
on its version), then the posts are written, then the record notes that this version's
posts are written (`planned`). A redelivered event whose posts were not all written runs
the plan again on the posts as they are (the plan is idempotent: it never creates a
second post for a channel, and a unique index on (summary_id, channel) would refuse one).
Recording the state first means a sender never sees a fresh post whose summary it does
not know to be public.

Every write holds the store's `write_lock` (the relay holds it too while it pulls published
events out of a post): FerretDB rewrites a whole document per update, so only the lock
makes a version filter a compare-and-set there, within one process; across processes it
takes real MongoDB's per-document atomicity.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, fields
from typing import Any

from pymongo import ASCENDING, DESCENDING
from pymongo.errors import DuplicateKeyError

from backbone.events import Event, SummaryState
from backbone.mongo import MongoStore, outbox_update
from services.social.domain.model import Attempt, Post
from services.social.ports import PostPlan, StaleWrite

PRODUCER = "social"

SUMMARIES = "summaries"
POSTS = "posts"
PAUSES = "channel_pauses"

_POST_FIELDS = [f.name for f in fields(Post) if f.name != "id"]
_POST_PROJECTION = {name: 1 for name in _POST_FIELDS}


def _document(post: Post) -> dict[str, Any]:
    values = asdict(post)
    return {"_id": values.pop("id"), **values}


def _post(doc: dict[str, Any]) -> Post:
    return Post(id=doc["_id"], **{name: doc.get(name) for name in _POST_FIELDS})


def _attempt(post_id: str, channel: str, entry: dict[str, Any]) -> Attempt:
    return Attempt(post_id=post_id, n=entry["n"], channel=channel, started_at=entry["started_at"],
                   finished_at=entry.get("finished_at"), outcome=entry.get("outcome"), detail=entry.get("detail"))


def _closed(log: list[dict[str, Any]], outcome: str, detail: str | None, at: float) -> list[dict[str, Any]]:
    """The log with every attempt still open closed as `outcome`."""
    return [entry if entry.get("outcome") is not None
            else {**entry, "outcome": outcome, "detail": detail, "finished_at": at} for entry in log]


class MongoSocialStore(MongoStore):
    OUTBOX_COLLECTIONS = (POSTS,)

    async def create_indexes(self) -> None:
        posts = self.db[POSTS]
        await posts.create_index([("summary_id", ASCENDING), ("channel", ASCENDING)], unique=True,
                                 name="one_post_per_summary_and_channel")
        await posts.create_index(
            [("channel", ASCENDING), ("status", ASCENDING), ("next_attempt_at", ASCENDING), ("created_at", ASCENDING)],
            name="due_pending",
        )
        await posts.create_index(
            [("channel", ASCENDING), ("status", ASCENDING), ("sending_until", ASCENDING), ("created_at", ASCENDING)],
            name="due_sending",
        )
        await posts.create_index([("status", ASCENDING), ("channel", ASCENDING), ("created_at", DESCENDING)],
                                 name="by_status")
        await posts.create_index([("created_at", DESCENDING), ("_id", DESCENDING)], name="newest")
        await posts.create_index([("channel", ASCENDING), ("log.started_at", ASCENDING)], name="sends_by_channel")

    # -- helpers ----------------------------------------------------------------------

    @staticmethod
    def _envelopes(post: Post, events: Sequence[Event]):
        return [e.envelope(aggregate_id=post.id, aggregate_version=post.version, producer=PRODUCER) for e in events]

    async def _commit(self, post: Post, expected_version: int, events: Sequence[Event] = (),
                      extra: dict[str, Any] | None = None) -> None:
        """The one write of a post: compare-and-set on its version, with its events (the
        caller holds the write lock)."""
        values = _document(post)
        del values["_id"]
        result = await self.db[POSTS].update_one(
            {"_id": post.id, "version": expected_version},
            outbox_update(self._envelopes(post, events), {"$set": {**values, **(extra or {})}}),
        )
        if result.matched_count != 1:
            raise StaleWrite(post.id)

    async def _log_at(self, post: Post, expected_version: int) -> list[dict[str, Any]]:
        """The post's attempt log as of `expected_version` (StaleWrite if it moved on): a
        write that sets the log back compares-and-sets that same version, so it cannot lose
        an entry."""
        doc = await self.db[POSTS].find_one({"_id": post.id, "version": expected_version}, {"log": 1})
        if doc is None:
            raise StaleWrite(post.id)
        return list(doc.get("log") or [])

    # -- the summaries' side --------------------------------------------------------------

    async def apply_summary(self, state: SummaryState, version: int, plan: PostPlan) -> list[Post] | None:
        async with self.write_lock:
            return await self._apply_summary(state, version, plan)

    async def _apply_summary(self, state: SummaryState, version: int, plan: PostPlan) -> list[Post] | None:
        summaries = self.db[SUMMARIES]
        held = await summaries.find_one({"_id": state.summary_id}, {"version": 1, "planned": 1})
        if held is not None and (held["version"] > version
                                 or (held["version"] == version and held.get("planned", 0) >= version)):
            return None
        if held is None or held["version"] < version:
            try:
                await summaries.update_one(
                    {"_id": state.summary_id, "version": {"$lt": version}},
                    {"$set": {"version": version, "public": state.is_public,
                              "state": state.model_dump(mode="json")}},
                    upsert=True,
                )
            except DuplicateKeyError:  # a newer state was recorded meanwhile
                return None
        existing = {p.id: p for p in await self._posts_of(state.summary_id)}
        written = plan(list(existing.values()))
        for post in written:
            if post.id in existing:
                await self._commit(post, existing[post.id].version)
            else:
                try:
                    await self.db[POSTS].insert_one(_document(post))
                except DuplicateKeyError:  # another consumer wrote this channel's post: look again
                    raise StaleWrite(post.id) from None
        await summaries.update_one({"_id": state.summary_id, "version": version}, {"$set": {"planned": version}})
        return written

    async def _posts_of(self, summary_id: str) -> list[Post]:
        return [_post(d) async for d in self.db[POSTS].find({"summary_id": summary_id}, _POST_PROJECTION)]

    async def summary(self, summary_id: str) -> tuple[SummaryState, int] | None:
        doc = await self.db[SUMMARIES].find_one({"_id": summary_id}, {"state": 1, "version": 1})
        return (SummaryState.model_validate(doc["state"]), doc["version"]) if doc else None

    # -- reads ------------------------------------------------------------------------------

    async def get(self, post_id: str) -> Post | None:
        doc = await self.db[POSTS].find_one({"_id": post_id}, _POST_PROJECTION)
        return _post(doc) if doc else None

    async def list(self, *, status: str | None, channel: str | None, offset: int, limit: int) -> tuple[list[Post], int]:
        query = {name: value for name, value in (("status", status), ("channel", channel)) if value is not None}
        total = await self.db[POSTS].count_documents(query)
        if limit <= 0 or offset >= total:
            return [], total
        cursor = (self.db[POSTS].find(query, _POST_PROJECTION)
                  .sort([("created_at", DESCENDING), ("_id", DESCENDING)]).skip(offset).limit(limit))
        return [_post(d) async for d in cursor], total

    async def attempts(self, post_id: str) -> list[Attempt]:
        doc = await self.db[POSTS].find_one({"_id": post_id}, {"log": 1, "channel": 1})
        if doc is None:
            return []
        log = sorted(doc.get("log") or [], key=lambda entry: entry["n"])
        return [_attempt(post_id, doc["channel"], entry) for entry in log]

    # -- the sender's side --------------------------------------------------------------------

    async def due(self, channel: str, now: float, limit: int) -> list[tuple[Post, bool]]:
        if limit <= 0:
            return []
        posts = self.db[POSTS]
        pending = posts.find(
            {"channel": channel, "status": "pending", "next_attempt_at": {"$lte": now}}, _POST_PROJECTION
        ).sort([("next_attempt_at", ASCENDING), ("created_at", ASCENDING)]).limit(limit)
        lapsed = posts.find(
            {"channel": channel, "status": "sending", "sending_until": {"$lte": now}}, _POST_PROJECTION
        ).sort([("next_attempt_at", ASCENDING), ("sending_until", ASCENDING), ("created_at", ASCENDING)]).limit(limit)
        found = [_post(d) async for d in pending] + [_post(d) async for d in lapsed]
        # The order SQLite gives: by when each became due, then the oldest post first.
        found.sort(key=lambda p: (p.next_attempt_at if p.next_attempt_at is not None else p.sending_until,
                                  p.created_at))
        found = found[:limit]
        public = {}
        if found:
            cursor = self.db[SUMMARIES].find({"_id": {"$in": list({p.summary_id for p in found})}}, {"public": 1})
            public = {d["_id"]: bool(d.get("public")) async for d in cursor}
        return [(p, public.get(p.summary_id, False)) for p in found]

    async def next_due(self, channel: str) -> float | None:
        posts = self.db[POSTS]
        times = []
        for status, field in (("pending", "next_attempt_at"), ("sending", "sending_until")):
            doc = await posts.find_one({"channel": channel, "status": status, field: {"$ne": None}},
                                       {field: 1}, sort=[(field, ASCENDING)])
            if doc is not None:
                times.append(doc[field])
        return min(times) if times else None

    async def claim(self, post: Post, expected_version: int) -> None:
        async with self.write_lock:
            log = _closed(await self._log_at(post, expected_version), "unknown", None, post.updated_at)
            log.append({"n": post.attempts, "started_at": post.updated_at, "finished_at": None, "outcome": None,
                        "detail": None})
            await self._commit(post, expected_version, extra={"log": log})

    async def finish(self, post: Post, expected_version: int, outcome: str, detail: str | None,
                     events: Sequence[Event]) -> None:
        async with self.write_lock:
            log = _closed(await self._log_at(post, expected_version), outcome, detail, post.updated_at)
            await self._commit(post, expected_version, events, extra={"log": log})

    async def save(self, post: Post, expected_version: int, events: Sequence[Event] = ()) -> None:
        async with self.write_lock:
            await self._commit(post, expected_version, events)

    async def sends_since(self, channel: str, since: float) -> list[float]:
        cursor = self.db[POSTS].find({"channel": channel, "log.started_at": {"$gt": since}}, {"log": 1})
        starts = [entry["started_at"] async for doc in cursor for entry in doc.get("log") or []
                  if entry["started_at"] > since]
        return sorted(starts)

    async def pause(self, channel: str, until: float, reason: str) -> None:
        try:
            async with self.write_lock:
                await self.db[PAUSES].update_one(
                    {"_id": channel, "until": {"$lt": until}}, {"$set": {"until": until, "reason": reason}},
                    upsert=True,
                )
        except DuplicateKeyError:  # a pause as long or longer holds already: never shorten it
            pass

    async def paused_until(self, channel: str) -> tuple[float, str] | None:
        doc = await self.db[PAUSES].find_one({"_id": channel})
        return (doc["until"], doc["reason"]) if doc else None
