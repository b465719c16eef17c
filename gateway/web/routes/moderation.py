"""Moderators' page: the social posts queue with retries. Hiding summaries and comments
happens where they are shown (the Hide buttons on paper and summary pages)."""

from __future__ import annotations

from fastapi import APIRouter, Request

from backbone.app import choice_param, int_param
from backbone.errors import Forbidden
from gateway.api.deps import state
from gateway.web.forms import text
from gateway.web.render import page
from gateway.web.routes.base import Pager, WebRoute, redirect, with_notice
from gateway.web.security import safe_next
from gateway.web.visitor import checked_form, visitor

STATUSES = ("pending", "sending", "sent", "failed", "cancelled", "dry_run")
CHANNELS = ("twitter", "facebook")
SIZE = 20


async def _moderator(request: Request):
    who = await visitor(request)
    session = who.require_user()
    if not session.identity.is_moderator:
        raise Forbidden("this page is for moderators")
    return who, session


def router() -> APIRouter:
    r = APIRouter(route_class=WebRoute, include_in_schema=False)

    @r.get("/moderation")
    async def moderation(request: Request):
        who, session = await _moderator(request)
        q = request.query_params
        status = choice_param(q, "status", "", ("", *STATUSES)) or None
        channel = choice_param(q, "channel", "", ("", *CHANNELS)) or None
        page_n = int_param(q, "page", 1, 1, 100_000)
        social = state(request).social
        posts = None
        if social is not None:
            posts = await social.list_posts(status=status, channel=channel, page=page_n, size=SIZE,
                                            actor=session.identity)
        return page(request, who, "moderation.html", posts=posts, post_status=status, channel=channel,
                    statuses=STATUSES, channels=CHANNELS, social=social is not None,
                    pager=Pager(page_n, SIZE, posts.total if posts else 0), noindex=True)

    @r.post("/moderation/posts/{post_id}/retry")
    async def retry(request: Request, post_id: str):
        who, session = await _moderator(request)
        form = await checked_form(request, who)
        gw = state(request)
        if gw.social is None:
            raise Forbidden("this gateway runs without the social service")
        gw.write_limiter.hit(session.user.id, "writes")
        await gw.social.retry(post_id, session.identity)
        return redirect(with_notice(safe_next(text(form, "next"), "/moderation"), "retried"))

    return r
