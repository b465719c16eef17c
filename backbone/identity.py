"""The verified identity the gateway forwards to services, and the headers that carry it.

Services honour these headers only next to the shared internal secret, which only the
gateway knows; every request to a service without it is refused (see `backbone.app`).
"""

from __future__ import annotations

import hmac
from collections.abc import Mapping
from dataclasses import dataclass, field

INTERNAL_SECRET_HEADER = "x-shortscience-internal"
USER_ID_HEADER = "x-user-id"
USERNAME_HEADER = "x-user-name"
ROLES_HEADER = "x-user-roles"
REQUEST_ID_HEADER = "x-request-id"

ROLES = ("member", "moderator", "admin")


@dataclass(frozen=True, slots=True)
class Identity:
    user_id: str
    username: str
    roles: frozenset[str] = field(default_factory=lambda: frozenset({"member"}))

    @property
    def is_moderator(self) -> bool:
        return "moderator" in self.roles or "admin" in self.roles

    @property
    def is_admin(self) -> bool:
        return "admin" in self.roles

    def headers(self) -> dict[str, str]:
        return {
            USER_ID_HEADER: self.user_id,
            USERNAME_HEADER: self.username,
            ROLES_HEADER: ",".join(sorted(self.roles)),
        }


def secret_matches(presented: str | None, secret: str) -> bool:
    return presented is not None and hmac.compare_digest(presented.encode(), secret.encode())


def identity_from_headers(headers: Mapping[str, str]) -> Identity | None:
    """Read the forwarded identity; the caller has already checked the internal secret."""
    user_id = headers.get(USER_ID_HEADER)
    if not user_id:
        return None
    roles = frozenset(r for r in headers.get(ROLES_HEADER, "member").split(",") if r in ROLES)
    return Identity(user_id=user_id, username=headers.get(USERNAME_HEADER, ""), roles=roles or frozenset({"member"}))
