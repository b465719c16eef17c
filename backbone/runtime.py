"""A running service: its stores, its outbox relay, its consumer groups and its other
background workers, started and stopped together. Both the service's own HTTP app and
the all-in-one process use it."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

from backbone.app import StartGate
from backbone.consumer import ConsumerRunner
from backbone.errors import EngineUnavailable
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
    # Waits between attempts to reach an unreachable engine (doubling up to the max).
    retry_base: float = 0.5
    retry_max: float = 15.0
    started: bool = False
    gate: StartGate = field(default_factory=lambda: StartGate(open=False))
    _tasks: list[asyncio.Task] = field(default_factory=list)
    _on_start: list[Callable[[], Awaitable[None]]] = field(default_factory=list)

    async def start(self, *, background: bool = True) -> None:
        """Connect the event log and the resources, then start the background work.
        Raises `EngineUnavailable` (having closed what it opened) when an engine is out of reach."""
        await self._open()
        if self.relay_factory is not None:
            self.relay = self.relay_factory()
        for hook in self._on_start:
            await hook()
        if background:
            self.start_background()
        self.started = True
        self.gate.open = True

    async def _open(self) -> None:
        opened = []
        try:
            if self.owns_event_log:
                await self.event_log.start()
                opened.append(self.event_log)
            for resource in self.resources:
                await resource.start()
                opened.append(resource)
        except BaseException:
            for thing in reversed(opened):
                try:
                    await thing.close()
                except Exception:
                    pass
            raise

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
        if not self.started:
            return
        self.started = False
        self.gate.open = False
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
        if not self.started:
            return False
        checks = [await self.event_log.ping()]
        for resource in self.resources:
            ping = getattr(resource, "ping", None)
            if ping is not None:
                checks.append(await ping())
        return all(checks)

    def lifespan(self):
        @asynccontextmanager
        async def _lifespan(app):
            async with start_or_keep_trying(self.name, self.start, self.stop, gate=self.gate,
                                            retry_base=self.retry_base, retry_max=self.retry_max):
                yield

        return _lifespan


@asynccontextmanager
async def start_or_keep_trying(name: str, start: Callable[[], Awaitable[None]], stop: Callable[[], Awaitable[None]],
                               *, gate: StartGate, retry_base: float = 0.5, retry_max: float = 15.0):
    """A process's lifespan around `start`: when every engine answers, start before serving;
    when one does not, serve anyway (health yes, readiness no, other requests 503), log one
    line naming the engine and its address per attempt, and keep trying with backoff."""
    logger = get_logger("runtime")
    retry: asyncio.Task | None = None

    def unavailable(exc: EngineUnavailable, delay: float) -> None:
        gate.waiting_for = f"{exc.engine} at {exc.url}"
        logger.error("engine_unavailable", service=name, engine=exc.engine, url=exc.url, reason=exc.reason,
                     retry_in=round(delay, 2))

    async def keep_trying(delay: float) -> None:
        while True:
            await asyncio.sleep(delay)
            delay = min(delay * 2, retry_max)
            try:
                await start()
            except EngineUnavailable as exc:
                unavailable(exc, delay)
                continue
            gate.waiting_for = ""
            logger.info("engines_connected", service=name)
            return

    try:
        await start()
    except EngineUnavailable as exc:
        unavailable(exc, retry_base)
        retry = asyncio.create_task(keep_trying(retry_base), name=f"{name}-connect")
    try:
        yield
    finally:
        if retry is not None and not retry.done():
            retry.cancel()
            await asyncio.gather(retry, return_exceptions=True)
        await stop()


def make_event_log(settings) -> EventLog:
    if settings.events == "sqlite":
        from backbone.eventlog.sqlite import SqliteEventLog

        return SqliteEventLog(settings.event_log_path, poll_interval=settings.poll_interval)
    if settings.events == "kafka":
        from backbone.eventlog.kafka import KafkaEventLog

        return KafkaEventLog(
            settings.kafka_bootstrap_servers,
            prefix=settings.kafka_prefix,
            partitions=settings.kafka_partitions,
            replication_factor=settings.kafka_replication_factor,
        )
    raise ValueError(f"SHORTSCIENCE_EVENTS={settings.events}: choose sqlite or kafka")
