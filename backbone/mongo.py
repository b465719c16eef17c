"""MongoDB stores: one database per service, PyMongo's `AsyncMongoClient`, no multi-document
transactions.

The outbox without transactions: every write changes one document, and the events it
causes travel inside that same document, in its `_outbox` array, pushed by the very update
that changes the state (single-document updates are atomic). `_outbox_at` marks documents
that carry events, so the relay finds them through a sparse index; it publishes them in
array order and then pulls exactly those entries out again. A crash between the publish
and the pull publishes them again, which the log and the consumers absorb (unique event
ids, aggregate versions), as with the SQLite outbox.

Works unchanged on MongoDB and on FerretDB (which `make engines` runs here): only CRUD,
single-document updates, unique and ordinary indexes, `$push/$pullAll/$set/$unset/$inc`, and
simple aggregations. FerretDB 1.24 (SQLite handler) does NOT enforce unique indexes on array
fields (multikey), has no partial indexes and no `$pull` by condition: use compound unique
indexes on scalar fields, or claim documents whose `_id` is the unique value.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Sequence
from typing import Any

from backbone.errors import EngineUnavailable
from backbone.events import Envelope
from backbone.logs import get_logger

OUTBOX_FIELD = "_outbox"
OUTBOX_MARK = "_outbox_at"


def outbox_update(envelopes: Sequence[Envelope], update: dict[str, Any] | None = None) -> dict[str, Any]:
    """Merge 'queue these envelopes in this document' into an update document.

    `update` is the caller's own update (`{"$set": ..., "$inc": ...}`); it must not touch
    the outbox fields itself."""
    update = {op: dict(fields) for op, fields in (update or {}).items()}
    if envelopes:
        update.setdefault("$push", {})[OUTBOX_FIELD] = {"$each": [outbox_entry(e) for e in envelopes]}
        update.setdefault("$set", {})[OUTBOX_MARK] = time.time()
    return update


def outbox_entry(envelope: Envelope) -> dict[str, str]:
    return {"id": envelope.event_id, "json": envelope.model_dump_json()}


def with_outbox(document: dict[str, Any], envelopes: Sequence[Envelope]) -> dict[str, Any]:
    """A new document (for insert_one/replace_one) carrying these envelopes."""
    document = dict(document)
    if envelopes:
        document[OUTBOX_FIELD] = [outbox_entry(e) for e in envelopes]
        document[OUTBOX_MARK] = time.time()
    return document


class MongoOutbox:
    """The relay's view of a service's outbox: documents of `collections` carrying events."""

    def __init__(self, db, collections: Iterable[str]) -> None:
        self.db = db
        self.collections = list(collections)

    async def pending(self, limit: int) -> list[tuple[object, Envelope]]:
        found: list[tuple[object, Envelope]] = []
        for name in self.collections:
            if len(found) >= limit:
                break
            cursor = self.db[name].find(
                {OUTBOX_MARK: {"$exists": True}}, {OUTBOX_FIELD: 1, OUTBOX_MARK: 1}
            ).sort(OUTBOX_MARK, 1).limit(limit - len(found))
            async for doc in cursor:
                for entry in doc.get(OUTBOX_FIELD) or []:
                    found.append(((name, doc["_id"], entry), Envelope.model_validate_json(entry["json"])))
                if not doc.get(OUTBOX_FIELD):  # an emptied document whose mark was left behind
                    await self._unmark(name, doc["_id"])
        return found

    async def remove(self, markers: Sequence[object]) -> None:
        by_doc: dict[tuple[str, Any], list[dict]] = {}
        for name, doc_id, entry in markers:  # type: ignore[misc]
            by_doc.setdefault((name, doc_id), []).append(entry)
        for (name, doc_id), entries in by_doc.items():
            # `$pullAll` of the exact entries (FerretDB has no `$pull` by condition).
            await self.db[name].update_one({"_id": doc_id}, {"$pullAll": {OUTBOX_FIELD: entries}})
            await self._unmark(name, doc_id)

    async def _unmark(self, name: str, doc_id: Any) -> None:
        # Only when nothing new was queued meanwhile (the filter makes it a compare-and-set).
        await self.db[name].update_one(
            {"_id": doc_id, OUTBOX_FIELD: {"$size": 0}}, {"$unset": {OUTBOX_MARK: ""}}
        )

    async def count(self) -> int:
        total = 0
        for name in self.collections:
            total += await self.db[name].count_documents({OUTBOX_MARK: {"$exists": True}})
        return total


class MongoStore:
    """Base of a service's MongoDB store: connects at start, creates its indexes, pings.

    Subclasses set OUTBOX_COLLECTIONS (collections whose documents carry events) and
    implement `create_indexes()`; they use `self.db`."""

    OUTBOX_COLLECTIONS: Sequence[str] = ()
    SERVER_SELECTION_TIMEOUT_MS = 5000

    def __init__(self, url: str, database: str) -> None:
        self.url = url
        self.database = database
        self._client = None
        self._db = None

    async def start(self) -> None:
        if self._db is not None:
            return
        from pymongo import AsyncMongoClient
        from pymongo.errors import PyMongoError

        client = AsyncMongoClient(
            self.url, serverSelectionTimeoutMS=self.SERVER_SELECTION_TIMEOUT_MS, tz_aware=True, appname="shortscience"
        )
        try:
            await client.admin.command("ping")
            self._client, self._db = client, client[self.database]
            for name in self.OUTBOX_COLLECTIONS:
                await self._db[name].create_index(OUTBOX_MARK, sparse=True, name="outbox_pending")
            await self.create_indexes()
        except PyMongoError as exc:
            await client.close()
            self._client = self._db = None
            raise EngineUnavailable("MongoDB", redact(self.url), _short(exc)) from None
        get_logger("mongo").info("mongo_connected", database=self.database, url=redact(self.url))

    async def create_indexes(self) -> None:
        """Create the store's indexes (idempotent; runs at every start)."""

    async def close(self) -> None:
        if self._client is not None:
            await self._client.close()
        self._client = self._db = None

    @property
    def db(self):
        assert self._db is not None, f"{type(self).__name__} not started"
        return self._db

    async def ping(self) -> bool:
        if self._client is None:
            return False
        try:
            await self._client.admin.command("ping")
            return True
        except Exception:
            return False

    def outbox(self) -> MongoOutbox:
        return MongoOutbox(self.db, self.OUTBOX_COLLECTIONS)

    async def drop(self) -> None:
        """Remove the whole database (tests)."""
        if self._client is not None:
            await self._client.drop_database(self.database)


def redact(url: str) -> str:
    """The URL without its password, for logs and errors."""
    if "@" not in url or "://" not in url:
        return url
    scheme, rest = url.split("://", 1)
    credentials, host = rest.rsplit("@", 1)
    user = credentials.split(":", 1)[0]
    return f"{scheme}://{user}:***@{host}"


def _short(exc: Exception) -> str:
    text = str(exc).split(", Timeout:")[0]
    return text[:300]
