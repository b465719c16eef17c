"""The website's routes, by area. Order matters where paths overlap (`/papers/new`
before `/papers/{paper_id}`)."""

from __future__ import annotations

from fastapi import APIRouter


def routers() -> list[APIRouter]:
    from gateway.web.routes import account, feeds, moderation, reading, writing

    return [account.router(), writing.router(), moderation.router(), feeds.router(), reading.router()]
