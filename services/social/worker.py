"""One sender per live channel: a loop that asks the service to send what is due and then
sleeps until the next post falls due, the channel's pause or pacing slot ends, or new
work wakes it. Channels never wait on each other: a rate limit on one leaves the other
sending."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

from backbone.logs import get_logger
from services.social.handlers import SocialService


class ChannelSender:
    def __init__(self, service: SocialService, channel: str, *, idle: float = 1.0,
                 clock: Callable[[], float] = time.time) -> None:
        self.service = service
        self.channel = channel
        self.name = f"{channel}-sender"
        self.idle = idle
        self.clock = clock
        self._wake = asyncio.Event()
        self._stopping = False
        self._logger = get_logger("social").bind(channel=channel)

    def wake(self) -> None:
        self._wake.set()

    def stop(self) -> None:
        self._stopping = True
        self._wake.set()

    async def run(self) -> None:
        while not self._stopping:
            try:
                next_at = await self.service.send_due(self.channel)
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # the store hiccupped: nothing was lost, look again soon
                self._logger.warning("social_sender_failed", error=repr(exc))
                next_at = None
            # Never sleep past `idle`: an operator's retry or another process may change things.
            delay = self.idle if next_at is None else min(max(next_at - self.clock(), 0.0), self.idle)
            if delay <= 0:
                await asyncio.sleep(0)
                continue
            try:
                await asyncio.wait_for(self._wake.wait(), delay)
            except TimeoutError:
                pass
            self._wake.clear()
