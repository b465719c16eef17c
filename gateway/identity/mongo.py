"""Users and tokens on MongoDB (or FerretDB), with UserRegistered in the user's document.

Same methods and meaning as the SQLite `IdentityStore`. Usernames and emails are unique
case-insensitively through unique indexes on the scalar fields `username_key` and
`email_key` (FerretDB enforces unique indexes on scalar fields); tokens are found by the
SHA-256 hash of their secret, also a unique index. A sign-up is one `insert_one` of the
user document carrying its event in the outbox (`backbone.mongo.with_outbox`), so the
event exists if and only if the user does. Updates hold the store's `write_lock` (FerretDB's
updates are not atomic; see backbone.mongo).
"""

from __future__ import annotations

import time
from typing import Any

from pymongo.errors import DuplicateKeyError

from backbone.events import Event
from backbone.mongo import MongoStore
from gateway.identity.store import EmailTaken, Token, User, UsernameTaken, token_hash

USERS = "users"
TOKENS = "tokens"


def _user(doc: dict[str, Any]) -> User:
    return User(
        id=doc["_id"],
        username=doc["username"],
        email=doc["email"],
        display_name=doc["display_name"],
        password_hash=doc["password_hash"],
        roles=frozenset(doc["roles"]),
        created_at=doc["created_at"],
    )


def _token(doc: dict[str, Any]) -> Token:
    return Token(doc["_id"], doc["user_id"], doc["kind"], doc["name"], doc["created_at"], doc.get("expires_at"),
                 doc.get("revoked_at"))


class MongoIdentityStore(MongoStore):
    OUTBOX_COLLECTIONS = (USERS,)

    async def create_indexes(self) -> None:
        await self.db[USERS].create_index("username_key", unique=True, name="username_unique")
        await self.db[USERS].create_index("email_key", unique=True, name="email_unique")
        await self.db[TOKENS].create_index("token_hash", unique=True, name="token_hash_unique")
        await self.db[TOKENS].create_index([("user_id", 1), ("kind", 1), ("created_at", 1)], name="tokens_of_user")

    async def add_user(self, user: User, event: Event) -> None:
        document = {
            "_id": user.id,
            "username": user.username,
            "username_key": user.username.casefold(),
            "email": user.email,
            "email_key": user.email.casefold(),
            "display_name": user.display_name,
            "password_hash": user.password_hash,
            "roles": sorted(user.roles),
            "created_at": user.created_at,
        }
        envelope = event.envelope(aggregate_id=user.id, aggregate_version=1, producer="gateway")
        try:
            await self.insert_with_outbox(USERS, document, [envelope])
        except DuplicateKeyError:
            # FerretDB does not say which index refused the insert: look.
            if await self.db[USERS].find_one({"username_key": document["username_key"]}, {"_id": 1}):
                raise UsernameTaken(user.username) from None
            if await self.db[USERS].find_one({"email_key": document["email_key"]}, {"_id": 1}):
                raise EmailTaken(user.email) from None
            raise

    async def user_by_username(self, username: str) -> User | None:
        doc = await self.db[USERS].find_one({"username_key": username.casefold()})
        return _user(doc) if doc else None

    async def user_by_id(self, user_id: str) -> User | None:
        doc = await self.db[USERS].find_one({"_id": user_id})
        return _user(doc) if doc else None

    async def users_after(self, user_id: str | None, limit: int) -> list[User]:
        if limit <= 0:  # MongoDB reads limit 0 as "no limit"
            return []
        cursor = self.db[USERS].find({"_id": {"$gt": user_id or ""}}).sort("_id", 1).limit(limit)
        return [_user(doc) async for doc in cursor]

    async def set_roles(self, user_id: str, roles: frozenset[str]) -> None:
        async with self.write_lock:  # the document carries the outbox the relay rewrites
            await self.db[USERS].update_one({"_id": user_id}, {"$set": {"roles": sorted(roles)}})

    async def set_display_name(self, user_id: str, display_name: str) -> None:
        async with self.write_lock:
            await self.db[USERS].update_one({"_id": user_id}, {"$set": {"display_name": display_name}})

    async def set_password_hash(self, user_id: str, password_hash: str) -> None:
        async with self.write_lock:
            await self.db[USERS].update_one({"_id": user_id}, {"$set": {"password_hash": password_hash}})

    async def add_token(self, token: Token, secret: str) -> None:
        await self.db[TOKENS].insert_one({
            "_id": token.id,
            "user_id": token.user_id,
            "kind": token.kind,
            "name": token.name,
            "token_hash": token_hash(secret),
            "created_at": token.created_at,
            "expires_at": token.expires_at,
            "revoked_at": None,
        })

    async def user_for_token(self, secret: str) -> tuple[User, Token] | None:
        """The live token's user; expired and revoked tokens find nobody."""
        doc = await self.db[TOKENS].find_one({
            "token_hash": token_hash(secret),
            "revoked_at": None,
            "$or": [{"expires_at": None}, {"expires_at": {"$gt": time.time()}}],
        })
        if doc is None:
            return None
        user = await self.user_by_id(doc["user_id"])
        if user is None:
            return None
        return user, _token(doc)

    async def tokens_of(self, user_id: str) -> list[Token]:
        cursor = self.db[TOKENS].find({"user_id": user_id, "kind": "api", "revoked_at": None}).sort(
            [("created_at", 1), ("_id", 1)]
        )
        return [_token(doc) async for doc in cursor]

    async def revoke_token(self, user_id: str, token_id: str) -> bool:
        async with self.write_lock:  # so that only one of two concurrent revocations reports True
            result = await self.db[TOKENS].update_one(
                {"_id": token_id, "user_id": user_id, "revoked_at": None}, {"$set": {"revoked_at": time.time()}}
            )
        return result.modified_count == 1

    async def revoke_sessions(self, user_id: str, *, keep: str | None = None) -> int:
        async with self.write_lock:
            result = await self.db[TOKENS].update_many(
                {"user_id": user_id, "kind": "session", "revoked_at": None, "_id": {"$ne": keep}},
                {"$set": {"revoked_at": time.time()}},
            )
        return result.modified_count
