"""MongoDB stores: one database per service, PyMongo's `AsyncMongoClient`, no multi-document
transactions.

The outbox without transactions: every write changes one document, and the events it
causes travel inside that same document, in its `_outbox` array, pushed by the very update
that changes the state (MongoDB updates one document atomically; for FerretDB see below).
`_outbox_at` marks documents that carry events, so the relay finds them through a sparse
index; it publishes them in array order and then pulls exactly those entries out again. A
crash between the publish and the pull publishes them again, which the log and the
consumers absorb (unique event ids, aggregate versions), as with the SQLite outbox.

Works unchanged on MongoDB and on FerretDB (which `make engines` runs here): only CRUD,
single-document updates, unique and ordinary indexes, `$push/$pullAll/$set/$unset/$inc`, and
simple aggregations. FerretDB 1.24 (SQLite handler) does NOT enforce unique indexes on array
fields (multikey), has no partial indexes and no `$pull` by condition: use compound unique
indexes on scalar fields, or claim documents whose `_id` is the unique value.

FerretDB 1.24's updates and deletes are not atomic either: it reads the matching document,
applies the operators, then rewrites it by `_id`, so two concurrent updates of one document
lose one of them, and a filter such as `{"version": 3}` is no compare-and-set (only inserts,
with unique `_id`s and unique scalar indexes, are atomic there). Hence `MongoStore.write_lock`:
every write to a document carrying an outbox, and every read-check-write sequence, holds it,
and the relay holds it while it pulls published entries out of a document. A service and its
relay share one store object, so within a process FerretDB behaves; across processes only
the engine's own per-document atomicity protects, which real MongoDB has.
"""

from __future__ import annotations

import asyncio
import contextlib
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

    def __init__(self, db, collections: Iterable[str], lock: asyncio.Lock | None = None) -> None:
        self.db = db
        self.collections = list(collections)
        # The store's write lock: pulling entries out rewrites the document (see the module doc).
        self.lock = lock or asyncio.Lock()

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
            async with self.lock:
                # `$pullAll` of the exact entries (FerretDB has no `$pull` by condition).
                await self.db[name].update_one({"_id": doc_id}, {"$pullAll": {OUTBOX_FIELD: entries}})
                await self._unmark_locked(name, doc_id)

    async def _unmark(self, name: str, doc_id: Any) -> None:
        async with self.lock:
            await self._unmark_locked(name, doc_id)

    async def _unmark_locked(self, name: str, doc_id: Any) -> None:
        # Only when nothing new was queued meanwhile (on MongoDB the filter makes it a
        # compare-and-set; on FerretDB the lock does).
        nothing_queued = {"$or": [{OUTBOX_FIELD: {"$size": 0}}, {OUTBOX_FIELD: {"$exists": False}}]}
        await self.db[name].update_one({"_id": doc_id, **nothing_queued}, {"$unset": {OUTBOX_MARK: ""}})

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
        self._atomic: bool | None = None
        # Held by every write to a document carrying an outbox and by the relay's removals
        # (see the module doc: FerretDB's updates are not atomic).
        self.write_lock = asyncio.Lock()

    async def start(self) -> None:
        if self._db is not None:
            return
        from pymongo import AsyncMongoClient
        from pymongo.errors import PyMongoError

        options: dict[str, Any] = {"tz_aware": True, "appname": "shortscience"}
        # A timeout written in the URL wins (keyword arguments would override it).
        timeout_ms = _url_options(self.url).get("serverselectiontimeoutms")
        if timeout_ms is None:
            options["serverSelectionTimeoutMS"] = timeout_ms = self.SERVER_SELECTION_TIMEOUT_MS
        try:
            client = AsyncMongoClient(self.url, **options)
        except (PyMongoError, ValueError) as exc:  # a malformed URL or option
            raise EngineUnavailable("MongoDB", redact(self.url), _short(exc)) from None
        # An engine that is down is told apart before the client's monitors start: closing a
        # client whose monitor is in the middle of a refused connect leaks that socket
        # (PyMongo 4.20 does not close it when the connect is cancelled).
        unreachable = await _unreachable(client, float(timeout_ms) / 1000)
        if unreachable is not None:
            await client.close()
            raise EngineUnavailable("MongoDB", redact(self.url), unreachable)
        try:
            await client.admin.command("ping")
            self._client, self._db = client, client[self.database]
            for name in self.OUTBOX_COLLECTIONS:
                await self._db[name].create_index(OUTBOX_MARK, sparse=True, name="outbox_pending")
            await self.create_indexes()
        except BaseException as exc:
            await client.close()
            self._client = self._db = None
            if isinstance(exc, PyMongoError):
                raise EngineUnavailable("MongoDB", redact(self.url), _short(exc)) from None
            raise
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
        return MongoOutbox(self.db, self.OUTBOX_COLLECTIONS, self.write_lock)

    async def insert_with_outbox(self, collection: str, document: dict[str, Any], envelopes: Sequence[Envelope]):
        """Insert a document carrying these events, under the write lock."""
        async with self.write_lock:
            return await self.db[collection].insert_one(with_outbox(document, envelopes))

    async def update_with_outbox(self, collection: str, query: dict[str, Any], envelopes: Sequence[Envelope],
                                 update: dict[str, Any] | None = None):
        """`update_one(query, update)` that also queues these events in the document, under
        the write lock (so a version in `query` is a real compare-and-set within the process)."""
        async with self.write_lock:
            return await self.db[collection].update_one(query, outbox_update(envelopes, update))

    async def engine_atomic(self) -> bool:
        """Whether the server updates single documents atomically (MongoDB), so that two
        processes may write one document at once. False on FerretDB, which reports itself
        in buildInfo (`ferretdbVersion`)."""
        if self._atomic is None:
            info = await self.db.client.admin.command("buildInfo")
            self._atomic = not any(key.lower().startswith("ferretdb") for key in info)
        return self._atomic

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


def _url_options(url: str) -> dict[str, str]:
    """The options in a MongoDB URL's query string, by lower-cased name."""
    query = url.split("?", 1)[1] if "?" in url else ""
    pairs = (part.split("=", 1) for part in query.replace(";", "&").split("&") if part)
    return {pair[0].strip().lower(): (pair[1] if len(pair) > 1 else "") for pair in pairs}


async def _unreachable(client, timeout: float) -> str | None:
    """Why none of the client's seed hosts accepts a TCP connection, or None when one does
    (or when the seeds are not plain host:port pairs, e.g. SRV records or a Unix socket)."""
    seeds = list(client.topology_description.server_descriptions())
    if not seeds or any(not isinstance(port, int) or host.endswith(".sock") for host, port in seeds):
        return None
    reasons = []
    for host, port in seeds:
        try:
            _, writer = await asyncio.wait_for(asyncio.open_connection(host, port), timeout)
        except (OSError, TimeoutError) as exc:
            reasons.append(f"{host}:{port}: {exc or type(exc).__name__}")
            continue
        writer.close()
        with contextlib.suppress(OSError):
            await writer.wait_closed()
        return None
    return "cannot connect to " + "; ".join(reasons)


def _short(exc: Exception) -> str:
    text = str(exc).split(", Timeout:")[0]
    return text[:300]
