from __future__ import annotations

from datetime import datetime
from typing import Literal, Protocol

from pydantic import BaseModel

from backbone.contracts.common import Paginated
from backbone.identity import Identity

PostStatus = Literal["pending", "sending", "sent", "failed", "cancelled", "dry_run"]
ChannelName = Literal["twitter", "facebook"]


class AttemptRead(BaseModel):
    n: int
    started_at: datetime
    finished_at: datetime | None
    outcome: str | None  # sent | duplicate | rate_limited | transient | rejected | unknown; null while in flight
    detail: str | None


class PostRead(BaseModel):
    id: str
    summary_id: str
    channel: ChannelName
    status: PostStatus
    text: str
    link: str
    weighted_length: int
    attempts: int
    failures: int
    uncertain: bool
    next_attempt_at: datetime | None
    platform_post_id: str | None
    url: str | None
    duplicate: bool
    last_error: str | None
    created_at: datetime
    updated_at: datetime
    sent_at: datetime | None
    history: list[AttemptRead] | None = None  # the attempt log, on a single post


class PostPage(Paginated[PostRead]):
    pass


class ChannelPreview(BaseModel):
    channel: ChannelName
    live: bool  # False: the channel has no credentials and runs dry
    text: str
    link: str
    weighted_length: int
    max_weighted_length: int | None


class PreviewRead(BaseModel):
    summary_id: str
    channels: list[ChannelPreview]


class SocialAPI(Protocol):
    """The operators' view of the social service (moderators and admins only)."""

    async def list_posts(
        self, *, status: PostStatus | None, channel: ChannelName | None, page: int, size: int, actor: Identity
    ) -> PostPage: ...
    async def get_post(self, post_id: str, actor: Identity) -> PostRead: ...
    async def retry(self, post_id: str, actor: Identity) -> PostRead: ...
    async def preview(self, summary_id: str, actor: Identity) -> PreviewRead: ...
    async def ready(self) -> bool: ...
