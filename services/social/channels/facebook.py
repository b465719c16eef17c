"""Facebook through the Graph API with httpx: `POST /{version}/{page-id}/feed` with a
`message`, a `link` and the page access token (sent in the form body, so it stays out of
URLs and access logs)."""

from __future__ import annotations

import time
from collections.abc import Callable

import httpx

from services.social.domain.outcomes import SendResult, Transient, facebook_result

GRAPH_HOST = "https://graph.facebook.com"


class FacebookChannel:
    name = "facebook"
    live = True

    def __init__(
        self,
        *,
        page_id: str,
        page_token: str,
        version: str,
        base_url: str = GRAPH_HOST,
        timeout: float = 20.0,
        default_wait: float = 900.0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.page_id = page_id
        self._token = page_token
        self.version = version
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self.default_wait = default_wait
        self.clock = clock
        self._client: httpx.AsyncClient | None = None

    async def start(self) -> None:
        if self._client is None:
            self._client = httpx.AsyncClient(base_url=self.base_url, timeout=self.timeout)

    async def close(self) -> None:
        if self._client is not None:
            await self._client.aclose()
            self._client = None

    async def send(self, text: str, link: str) -> SendResult:
        assert self._client is not None, "channel not started"
        try:
            response = await self._client.post(
                f"/{self.version}/{self.page_id}/feed",
                data={"message": text, "link": link, "access_token": self._token},
            )
        except httpx.TransportError as exc:
            return Transient(f"network error: {exc.__class__.__name__}: {exc}")
        try:
            body = response.json()
        except ValueError:
            body = None
        return facebook_result(response.status_code, body, response.headers, now=self.clock(),
                               default_wait=self.default_wait)
