"""One adapter per platform (`twitter`, `facebook`), and the dry-run stand-in used when a
channel has no credentials."""

from __future__ import annotations

import time
from collections.abc import Callable

from services.social.config import SocialSettings
from services.social.domain.outcomes import SendResult


class DryRunChannel:
    """A channel without credentials: its posts are stored as `dry_run` and never sent."""

    live = False

    def __init__(self, name: str) -> None:
        self.name = name

    async def start(self) -> None:
        pass

    async def close(self) -> None:
        pass

    async def send(self, text: str, link: str) -> SendResult:
        raise RuntimeError(f"the {self.name} channel is a dry run and sends nothing")


def make_channels(settings: SocialSettings, clock: Callable[[], float] = time.time) -> dict:
    """The enabled channels: live where credentials are set, dry-run otherwise."""
    channels: dict = {}
    for name in settings.enabled_channels:
        if not settings.live(name):
            channels[name] = DryRunChannel(name)
        elif name == "twitter":
            from services.social.channels.twitter import TwitterChannel

            channels[name] = TwitterChannel(
                consumer_key=settings.twitter_consumer_key.get_secret_value(),
                consumer_secret=settings.twitter_consumer_secret.get_secret_value(),
                access_token=settings.twitter_access_token.get_secret_value(),
                access_token_secret=settings.twitter_access_token_secret.get_secret_value(),
                base_url=settings.twitter_api_base_url,
                timeout=settings.http_timeout,
                default_wait=settings.throttle_backoff_seconds,
                clock=clock,
            )
        else:
            from services.social.channels.facebook import FacebookChannel

            channels[name] = FacebookChannel(
                page_id=settings.facebook_page_id,
                page_token=settings.facebook_page_token.get_secret_value(),
                version=settings.facebook_graph_version,
                base_url=settings.facebook_graph_base_url,
                timeout=settings.http_timeout,
                default_wait=settings.throttle_backoff_seconds,
                clock=clock,
            )
    return channels
