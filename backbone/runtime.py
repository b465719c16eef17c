"""A running service: its stores, its outbox relay, its consumer groups and its other
background workers, started and stopped together. Both the service's own HTTP app and
the all-in-one process use it."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

from backbone.consumer import ConsumerRunner
from backbone.eventlog.port import EventLog
from backbone.logs import get_logger
from backbone.outbox import OutboxRelay


@dataclass
class Runtime:
    name: str
    event_log: EventLog
    api: Any
    resources: Sequence[Any] = ()  # objects with async start()/close(), started in order
    relay_factory: Callable[[], OutboxRelay] | None = None
    consumers: list[ConsumerRunner] = field(default_factory=list)
    # Other long-running loops (objects with `name`, `async run()` and `stop()`), e.g. a
    # service's own senders; started after the consumers, stopped before the resources close.
    workers: list[Any] = field(default_factory=list)
    owns_event_log: bool = True
    relay: OutboxRelay | None = None
    _tasks: list[asyncio.Task] = field(default_factory=list)
    _on_start: list[Callable[[], Awaitable[None]]] = field(default_factory=list)

    async def start(self, *, background: bool = True) -> None:
        if self.owns_event_log:
            await self.event_log.start()
        for resource in self.resources:
            await resource.start()
        if self.relay_factory is not None:
            self.relay = self.relay_factory()
        for hook in self._on_start:
            await hook()
        if background:
            self.start_background()

    def start_background(self) -> None:
        logger = get_logger("runtime")
        if self.relay is not None:
            self._tasks.append(asyncio.create_task(self.relay.run(), name=f"{self.name}-relay"))
        for consumer in self.consumers:
            self._tasks.append(asyncio.create_task(consumer.run(), name=f"{consumer.group}-consumer"))
        for worker in self.workers:
            self._tasks.append(asyncio.create_task(worker.run(), name=f"{self.name}-{worker.name}"))
        logger.info("service_started", service=self.name, consumers=[c.group for c in self.consumers],
                    workers=[w.name for w in self.workers])

    def wake_relay(self) -> None:
        if self.relay is not None:
            self.relay.wake()

    async def stop(self) -> None:
        if self.relay is not None:
            self.relay.stop()
        for consumer in self.consumers:
            consumer.stop()
        for worker in self.workers:
            worker.stop()
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks.clear()
        if self.relay is not None:
            try:
                await self.relay.drain()  # leave nothing behind that could leave now
            except Exception:
                pass
        for resource in reversed(self.resources):
            await resource.close()
        if self.owns_event_log:
            await self.event_log.close()

    async def ready(self) -> bool:
        checks = [await self.event_log.ping()]
        for resource in self.resources:
            ping = getattr(resource, "ping", None)
            if ping is not None:
                checks.append(await ping())
        return all(checks)

    def lifespan(self):
        @asynccontextmanager
        async def _lifespan(app):
            await self.start()
            try:
                yield
            finally:
                await self.stop()

        return _lifespan


def make_event_log(settings) -> EventLog:
    if settings.events == "sqlite":
        from backbone.eventlog.sqlite import SqliteEventLog

        return SqliteEventLog(settings.event_log_path, poll_interval=settings.poll_interval)
    raise NotImplementedError(
        f"SHORTSCIENCE_EVENTS={settings.events}: the Kafka adapter is not built yet; use sqlite"
    )
