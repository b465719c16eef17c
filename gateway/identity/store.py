"""Users and tokens in the gateway's own SQLite file (with its outbox for UserRegistered)."""

from __future__ import annotations

import hashlib
import sqlite3
import time
from dataclasses import dataclass

from backbone.events import Event
from backbone.outbox import SqliteOutbox
from backbone.sqlite import OUTBOX_TABLE, SqliteStore, transaction

MIGRATIONS = [
    """
    CREATE TABLE users (
        id TEXT PRIMARY KEY,
        username TEXT NOT NULL,
        username_key TEXT NOT NULL UNIQUE,
        email TEXT NOT NULL,
        email_key TEXT NOT NULL UNIQUE,
        display_name TEXT NOT NULL,
        password_hash TEXT NOT NULL,
        roles TEXT NOT NULL,
        created_at REAL NOT NULL
    );
    CREATE TABLE tokens (
        id TEXT PRIMARY KEY,
        user_id TEXT NOT NULL REFERENCES users(id),
        kind TEXT NOT NULL,
        name TEXT NOT NULL,
        token_hash TEXT NOT NULL UNIQUE,
        created_at REAL NOT NULL,
        expires_at REAL,
        revoked_at REAL
    );
    CREATE INDEX tokens_user ON tokens(user_id);
    """
    + OUTBOX_TABLE
]


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True)
class User:
    id: str
    username: str
    email: str
    display_name: str
    password_hash: str
    roles: frozenset[str]
    created_at: float


@dataclass(frozen=True)
class Token:
    id: str
    user_id: str
    kind: str  # "session" (from login) or "api" (personal, until revoked)
    name: str
    created_at: float
    expires_at: float | None
    revoked_at: float | None


def _user(row: sqlite3.Row) -> User:
    return User(
        id=row["id"],
        username=row["username"],
        email=row["email"],
        display_name=row["display_name"],
        password_hash=row["password_hash"],
        roles=frozenset(row["roles"].split(",")),
        created_at=row["created_at"],
    )


def _token(row: sqlite3.Row) -> Token:
    return Token(row["id"], row["user_id"], row["kind"], row["name"], row["created_at"], row["expires_at"],
                 row["revoked_at"])


class UsernameTaken(Exception):
    pass


class EmailTaken(Exception):
    pass


class IdentityStore(SqliteStore):
    MIGRATIONS = MIGRATIONS

    async def add_user(self, user: User, event: Event) -> None:
        try:
            with transaction(self.conn):
                self.conn.execute(
                    "INSERT INTO users(id, username, username_key, email, email_key, display_name, password_hash,"
                    " roles, created_at) VALUES (?,?,?,?,?,?,?,?,?)",
                    (user.id, user.username, user.username.casefold(), user.email, user.email.casefold(),
                     user.display_name, user.password_hash, ",".join(sorted(user.roles)), user.created_at),
                )
                SqliteOutbox.add(self.conn, [event.envelope(aggregate_id=user.id, aggregate_version=1,
                                                            producer="gateway")])
        except sqlite3.IntegrityError as exc:
            if "username_key" in str(exc):
                raise UsernameTaken(user.username) from None
            if "email_key" in str(exc):
                raise EmailTaken(user.email) from None
            raise

    async def user_by_username(self, username: str) -> User | None:
        row = self.conn.execute("SELECT * FROM users WHERE username_key=?", (username.casefold(),)).fetchone()
        return _user(row) if row else None

    async def user_by_id(self, user_id: str) -> User | None:
        row = self.conn.execute("SELECT * FROM users WHERE id=?", (user_id,)).fetchone()
        return _user(row) if row else None

    async def users_after(self, user_id: str | None, limit: int) -> list[User]:
        rows = self.conn.execute("SELECT * FROM users WHERE id > ? ORDER BY id LIMIT ?",
                                 (user_id or "", limit)).fetchall()
        return [_user(r) for r in rows]

    async def set_roles(self, user_id: str, roles: frozenset[str]) -> None:
        with transaction(self.conn):
            self.conn.execute("UPDATE users SET roles=? WHERE id=?", (",".join(sorted(roles)), user_id))

    async def set_display_name(self, user_id: str, display_name: str) -> None:
        with transaction(self.conn):
            self.conn.execute("UPDATE users SET display_name=? WHERE id=?", (display_name, user_id))

    async def set_password_hash(self, user_id: str, password_hash: str) -> None:
        with transaction(self.conn):
            self.conn.execute("UPDATE users SET password_hash=? WHERE id=?", (password_hash, user_id))

    async def add_token(self, token: Token, secret: str) -> None:
        with transaction(self.conn):
            self.conn.execute(
                "INSERT INTO tokens(id, user_id, kind, name, token_hash, created_at, expires_at) VALUES (?,?,?,?,?,?,?)",
                (token.id, token.user_id, token.kind, token.name, token_hash(secret), token.created_at,
                 token.expires_at),
            )

    async def user_for_token(self, secret: str) -> tuple[User, Token] | None:
        """The live token's user; expired and revoked tokens find nobody."""
        row = self.conn.execute(
            "SELECT u.*, t.id AS t_id, t.kind AS t_kind, t.name AS t_name, t.created_at AS t_created,"
            " t.expires_at AS t_expires FROM tokens t JOIN users u ON u.id = t.user_id"
            " WHERE t.token_hash=? AND t.revoked_at IS NULL AND (t.expires_at IS NULL OR t.expires_at > ?)",
            (token_hash(secret), time.time()),
        ).fetchone()
        if row is None:
            return None
        token = Token(row["t_id"], row["id"], row["t_kind"], row["t_name"], row["t_created"], row["t_expires"], None)
        return _user(row), token

    async def tokens_of(self, user_id: str) -> list[Token]:
        rows = self.conn.execute(
            "SELECT * FROM tokens WHERE user_id=? AND kind='api' AND revoked_at IS NULL ORDER BY created_at",
            (user_id,),
        ).fetchall()
        return [_token(r) for r in rows]

    async def revoke_token(self, user_id: str, token_id: str) -> bool:
        with transaction(self.conn):
            cur = self.conn.execute(
                "UPDATE tokens SET revoked_at=? WHERE id=? AND user_id=? AND revoked_at IS NULL",
                (time.time(), token_id, user_id),
            )
        return cur.rowcount == 1

    async def revoke_sessions(self, user_id: str, *, keep: str | None = None) -> int:
        """Revoke every live login session of the user but `keep`; personal tokens stay."""
        with transaction(self.conn):
            cur = self.conn.execute(
                "UPDATE tokens SET revoked_at=? WHERE user_id=? AND kind='session' AND revoked_at IS NULL"
                " AND id IS NOT ?",
                (time.time(), user_id, keep),
            )
        return cur.rowcount
