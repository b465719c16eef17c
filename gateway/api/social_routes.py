"""The operators' view of the social service: posts, their attempts, retries, and a
preview of what each channel would post. Moderators and admins only."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request

from backbone.app import json_response
from backbone.contracts.social import ChannelName, PostStatus
from backbone.errors import Forbidden, Unavailable
from gateway.api.deps import CurrentSession, Session, state

PageQ = Annotated[int, Query(ge=1, le=100_000)]
SizeQ = Annotated[int, Query(ge=1, le=100)]


async def _operator(session: CurrentSession) -> Session:
    if not session.identity.is_moderator:
        raise Forbidden("only moderators and admins may see and retry social posts")
    return session


Operator = Annotated[Session, Depends(_operator)]


def _social(request: Request):
    social = state(request).social
    if social is None:
        raise Unavailable("this gateway runs without the social service")
    return social


def router() -> APIRouter:
    r = APIRouter(prefix="/api/v1/social")

    @r.get("/posts")
    async def list_posts(request: Request, session: Operator, status: Annotated[PostStatus | None, Query()] = None,
                         channel: Annotated[ChannelName | None, Query()] = None, page: PageQ = 1, size: SizeQ = 20):
        return json_response(await _social(request).list_posts(status=status, channel=channel, page=page, size=size,
                                                               actor=session.identity))

    @r.get("/posts/{post_id}")
    async def get_post(request: Request, post_id: str, session: Operator):
        return json_response(await _social(request).get_post(post_id, session.identity))

    @r.post("/posts/{post_id}/retry")
    async def retry(request: Request, post_id: str, session: Operator):
        state(request).write_limiter.hit(session.user.id, "writes")
        return json_response(await _social(request).retry(post_id, session.identity))

    @r.get("/preview/{summary_id}")
    async def preview(request: Request, summary_id: str, session: Operator):
        return json_response(await _social(request).preview(summary_id, session.identity))

    return r
