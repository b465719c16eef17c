"""FastAPI dependencies for internal service routes: the identity the gateway forwarded."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from backbone.errors import Unauthorized
from backbone.identity import Identity, identity_from_headers


# async on purpose: FastAPI runs a plain `def` dependency in a thread pool, which cost
# more than the whole rest of an internal read (measured in bench/).
async def _viewer(request: Request) -> Identity | None:
    return identity_from_headers(request.headers)


async def _actor(request: Request) -> Identity:
    identity = identity_from_headers(request.headers)
    if identity is None:
        raise Unauthorized("sign in first")
    return identity


Viewer = Annotated[Identity | None, Depends(_viewer)]
Actor = Annotated[Identity, Depends(_actor)]
