"""Who is asking: bearer tokens (from login or personal API tokens) resolved to a user."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request

from backbone.errors import Unauthorized
from backbone.identity import Identity
from gateway.identity.service import IdentityService, identity_of
from gateway.identity.store import Token, User
from gateway.ratelimit import RateLimiter


@dataclass
class Session:
    user: User
    token: Token

    @property
    def identity(self) -> Identity:
        return identity_of(self.user)


@dataclass
class GatewayState:
    identity: IdentityService
    papers: object
    summaries: object
    search: object
    login_limiter: RateLimiter
    signup_limiter: RateLimiter
    write_limiter: RateLimiter
    social: object | None = None  # None when the gateway runs without the social service


def state(request: Request) -> GatewayState:
    return request.app.state.gateway


def _bearer(request: Request) -> str | None:
    header = request.headers.get("authorization")
    if header is None:
        return None
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "bearer" or not value.strip():
        raise Unauthorized("the Authorization header must be 'Bearer <token>'", field="authorization")
    return value.strip()


async def optional_session(request: Request) -> Session | None:
    secret = _bearer(request)
    if secret is None:
        return None
    found = await state(request).identity.authenticate(secret)
    if found is None:
        raise Unauthorized("the token is unknown, expired or revoked", field="authorization")
    return Session(*found)


async def _session(request: Request) -> Session:
    session = await optional_session(request)
    if session is None:
        raise Unauthorized("sign in first: send 'Authorization: Bearer <token>'", field="authorization")
    return session


async def _writer(request: Request) -> Session:
    """An authenticated user within their write rate limit."""
    session = await _session(request)
    state(request).write_limiter.hit(session.user.id, "writes")
    return session


OptionalSession = Annotated[Session | None, Depends(optional_session)]
CurrentSession = Annotated[Session, Depends(_session)]
Writer = Annotated[Session, Depends(_writer)]


def viewer_of(session: Session | None) -> Identity | None:
    return session.identity if session else None


def client_address(request: Request) -> str:
    return request.client.host if request.client else "unknown"
