"""Identity use cases: sign-up, login, tokens. Passwords are hashed with argon2id off the
event loop; tokens are random and stored only as SHA-256 hashes."""

from __future__ import annotations

import asyncio
import dataclasses
import secrets
import time
from typing import Annotated

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from pydantic import Field, StringConstraints

from backbone.contracts.common import Strict
from backbone.errors import Conflict, Invalid, NotFound, Unauthorized
from backbone.events import UserRegistered
from backbone.identity import Identity
from backbone.ids import new_id
from gateway.identity.store import EmailTaken, IdentityStore, Token, User, UsernameTaken

Username = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_][A-Za-z0-9_.-]{2,31}$")]
Email = Annotated[str, StringConstraints(strip_whitespace=True, max_length=254,
                                         pattern=r"^[^@\s<>\"']+@[^@\s<>\"']+\.[^@\s<>\"']+$")]
Password = Annotated[str, Field(min_length=8, max_length=256)]
DisplayName = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]


class SignupIn(Strict):
    username: Username
    email: Email
    password: Password
    display_name: DisplayName | None = None


class ProfileIn(Strict):
    display_name: DisplayName


class LoginIn(Strict):
    username: Annotated[str, Field(min_length=1, max_length=64)]
    password: Annotated[str, Field(min_length=1, max_length=256)]


class TokenIn(Strict):
    name: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]


class IdentityService:
    def __init__(self, store: IdentityStore, *, session_days: int, time_cost: int, memory_kib: int,
                 on_commit=lambda: None) -> None:
        self.store = store
        self.session_seconds = session_days * 86400
        self.hasher = PasswordHasher(time_cost=time_cost, memory_cost=memory_kib)
        self.on_commit = on_commit
        # A real hash to verify against when the user does not exist, so a login for an
        # unknown name costs as much as one with a wrong password (no user enumeration).
        self._decoy = self.hasher.hash(secrets.token_hex(8))

    async def signup(self, data: SignupIn, roles: frozenset[str] = frozenset({"member"})) -> User:
        if data.password.casefold() == data.username.casefold():
            raise Invalid("the password must differ from the username", field="password")
        password_hash = await asyncio.to_thread(self.hasher.hash, data.password)
        user = User(
            id=new_id(),
            username=data.username,
            email=data.email,
            display_name=data.display_name or data.username,
            password_hash=password_hash,
            roles=roles,
            created_at=time.time(),
        )
        event = UserRegistered(user_id=user.id, username=user.username, display_name=user.display_name)
        try:
            await self.store.add_user(user, event)
        except UsernameTaken:
            raise Conflict(f"the username {data.username} is taken", field="username") from None
        except EmailTaken:
            raise Conflict("an account with this email exists", field="email") from None
        self.on_commit()
        return user

    async def verify_password(self, username: str, password: str) -> User:
        user = await self.store.user_by_username(username)
        stored = user.password_hash if user else self._decoy
        try:
            await asyncio.to_thread(self.hasher.verify, stored, password)
        except (VerificationError, InvalidHashError):
            user = None
        if user is None:
            raise Unauthorized("wrong username or password", field="password")
        if self.hasher.check_needs_rehash(user.password_hash):
            await self.store.set_password_hash(user.id, await asyncio.to_thread(self.hasher.hash, password))
        return user

    async def change_password(self, user: User, new_password: str, *, keep_session: str | None = None) -> int:
        """Set a new password and sign the user out everywhere else: every other login
        session is revoked (a stolen session must not outlive the password that opened it).
        Personal API tokens stay; the user revokes them on the settings page. Returns the
        number of sessions revoked."""
        password_hash = await asyncio.to_thread(self.hasher.hash, new_password)
        await self.store.set_password_hash(user.id, password_hash)
        return await self.store.revoke_sessions(user.id, keep=keep_session)

    async def change_display_name(self, user: User, data: ProfileIn) -> User:
        """The name shown beside the username. Only the gateway shows it (summaries carry the
        username), so no other service needs to hear of the change."""
        await self.store.set_display_name(user.id, data.display_name)
        return dataclasses.replace(user, display_name=data.display_name)

    async def login(self, data: LoginIn) -> str:
        user = await self.verify_password(data.username, data.password)
        secret, _ = await self._issue(user.id, "session", "login", expires_in=self.session_seconds)
        return secret

    async def _issue(self, user_id: str, kind: str, name: str, *, expires_in: float | None) -> tuple[str, Token]:
        prefix = "sss_" if kind == "session" else "ssp_"
        secret = prefix + secrets.token_urlsafe(32)
        now = time.time()
        token = Token(new_id(), user_id, kind, name, now, now + expires_in if expires_in else None, None)
        await self.store.add_token(token, secret)
        return secret, token

    async def authenticate(self, secret: str) -> tuple[User, Token] | None:
        if not secret or len(secret) > 200:
            return None
        return await self.store.user_for_token(secret)

    async def logout(self, user: User, token: Token) -> None:
        await self.store.revoke_token(user.id, token.id)

    async def create_api_token(self, user: User, data: TokenIn) -> tuple[str, Token]:
        return await self._issue(user.id, "api", data.name, expires_in=None)

    async def list_api_tokens(self, user: User) -> list[Token]:
        return await self.store.tokens_of(user.id)

    async def revoke_api_token(self, user: User, token_id: str) -> None:
        if not await self.store.revoke_token(user.id, token_id):
            raise NotFound(f"no token with id {token_id}", field="token_id")

    # -- export and restore (operator tools) ----------------------------------------------

    async def export_users(self, *, after: str | None, limit: int) -> list[User]:
        """Users in id order, with their password hashes: the caller decides what leaves."""
        return await self.store.users_after(after, limit)

    async def restore_user(self, user: User) -> bool:
        """Put an exported user back with id, roles and creation time. Without a password
        hash (an export made with --no-credentials) the account cannot log in until an
        operator sets a password. Tokens are never exported: everyone logs in again.
        Emits UserRegistered. False when the id is already there."""
        if await self.store.user_by_id(user.id) is not None:
            return False
        event = UserRegistered(user_id=user.id, username=user.username, display_name=user.display_name)
        try:
            await self.store.add_user(user, event)
        except (UsernameTaken, EmailTaken) as exc:
            raise Conflict(f"user {user.username}: {type(exc).__name__}", field="username") from None
        self.on_commit()
        return True

    async def grant(self, username: str, role: str) -> User:
        user = await self.store.user_by_username(username)
        if user is None:
            raise NotFound(f"no user {username}", field="username")
        await self.store.set_roles(user.id, user.roles | {role})
        return await self.store.user_by_id(user.id)  # type: ignore[return-value]


# Stored instead of a hash for users restored without credentials: argon2 refuses it as a
# hash (InvalidHashError), so no password matches it.
NO_PASSWORD = "!no-password-restored-without-credentials"


def identity_of(user: User) -> Identity:
    return Identity(user_id=user.id, username=user.username, roles=user.roles)
