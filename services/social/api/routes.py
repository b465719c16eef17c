"""The social service's internal HTTP API (reached only by the gateway): the operators'
view of the posts. The service checks the forwarded identity's role too."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request

from backbone.app import json_response
from backbone.contracts.social import ChannelName, PostStatus
from backbone.service_api import Actor
from services.social.handlers import SocialService

PageQ = Annotated[int, Query(ge=1, le=100_000)]
SizeQ = Annotated[int, Query(ge=1, le=100)]


def router() -> APIRouter:
    r = APIRouter(prefix="/social")

    def svc(request: Request) -> SocialService:
        return request.app.state.social

    @r.get("/posts")
    async def list_posts(request: Request, actor: Actor, status: Annotated[PostStatus | None, Query()] = None,
                         channel: Annotated[ChannelName | None, Query()] = None, page: PageQ = 1, size: SizeQ = 20):
        return json_response(await svc(request).list_posts(status=status, channel=channel, page=page, size=size,
                                                            actor=actor))

    @r.get("/posts/{post_id}")
    async def get_post(request: Request, post_id: str, actor: Actor):
        return json_response(await svc(request).get_post(post_id, actor))

    @r.post("/posts/{post_id}/retry")
    async def retry(request: Request, post_id: str, actor: Actor):
        return json_response(await svc(request).retry(post_id, actor))

    @r.get("/preview/{summary_id}")
    async def preview(request: Request, summary_id: str, actor: Actor):
        return json_response(await svc(request).preview(summary_id, actor))

    return r
