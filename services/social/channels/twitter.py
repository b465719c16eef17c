"""X (Twitter) through tweepy: API v2 `create_tweet` with OAuth 1.0a user context.

tweepy fixes its host in code (`https://api.twitter.com`). Rather than fork it, the
client gets a `requests.Session` that sends tweepy's requests to `TWITTER_API_BASE_URL`;
the URL is rewritten before the OAuth signature is computed, so the signature covers the
URL actually requested. tweepy is synchronous, so each send runs in a worker thread.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any

import requests
import tweepy

from services.social.domain.outcomes import SendResult, Transient, twitter_result

TWEEPY_HOST = "https://api.twitter.com"


class HostSession(requests.Session):
    """A session that points tweepy's fixed host at `base_url` and never waits forever
    (tweepy sets no timeout of its own)."""

    def __init__(self, base_url: str, timeout: float) -> None:
        super().__init__()
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout

    def request(self, method, url, *args, **kwargs):  # type: ignore[override]
        if isinstance(url, str) and url.startswith(TWEEPY_HOST):
            url = self.base_url + url[len(TWEEPY_HOST):]
        kwargs.setdefault("timeout", self.timeout)
        return super().request(method, url, *args, **kwargs)


def _json(response: requests.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return None


class TwitterChannel:
    name = "twitter"
    live = True

    def __init__(
        self,
        *,
        consumer_key: str,
        consumer_secret: str,
        access_token: str,
        access_token_secret: str,
        base_url: str = TWEEPY_HOST,
        timeout: float = 20.0,
        default_wait: float = 900.0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._credentials = dict(consumer_key=consumer_key, consumer_secret=consumer_secret,
                                 access_token=access_token, access_token_secret=access_token_secret)
        self.base_url = base_url
        self.timeout = timeout
        self.default_wait = default_wait
        self.clock = clock
        self._client: tweepy.Client | None = None

    async def start(self) -> None:
        if self._client is None:
            # requests.Response as the return type: the rate-limit headers of a success matter too.
            client = tweepy.Client(**self._credentials, return_type=requests.Response)
            client.session = HostSession(self.base_url, self.timeout)
            self._client = client

    async def close(self) -> None:
        if self._client is not None:
            self._client.session.close()
            self._client = None

    def _create(self, text: str) -> tuple[int, Any, dict[str, str]]:
        assert self._client is not None, "channel not started"
        try:
            response = self._client.create_tweet(text=text, user_auth=True)
        except tweepy.errors.HTTPException as exc:
            response = exc.response
        return response.status_code, _json(response), dict(response.headers)

    async def send(self, text: str, link: str) -> SendResult:
        try:
            status, body, headers = await asyncio.to_thread(self._create, text)
        except (requests.RequestException, tweepy.errors.TweepyException) as exc:
            return Transient(f"network error: {exc.__class__.__name__}: {exc}")
        return twitter_result(status, body, headers, now=self.clock(), default_wait=self.default_wait)
