"""Backends for the port contract suites. The embedded adapters always run; a real-engine
adapter runs when its engine is reachable (see tests/engines.py) and is otherwise reported
as skipped with the reason."""

from __future__ import annotations

import os

import pytest

# The Kafka adapter joins this list when it is built (the engines issue).
EVENT_LOG_BACKENDS = ["sqlite"]


@pytest.fixture(params=EVENT_LOG_BACKENDS)
async def event_log_factory(request, tmp_path):
    """Returns make(**options) -> started EventLog over one shared location, so a test can
    open a second handle on the same log (a restarted process)."""
    opened = []
    if request.param == "sqlite":
        from backbone.eventlog.sqlite import SqliteEventLog

        async def make(**options):
            log = SqliteEventLog(tmp_path / "events.db", poll_interval=0.01, **options)
            await log.start()
            opened.append(log)
            return log
    else:
        if not os.environ.get("KAFKA_BOOTSTRAP_SERVERS"):
            pytest.skip("Kafka: KAFKA_BOOTSTRAP_SERVERS is not set (run `make engines`)")
        raise NotImplementedError(request.param)
    yield make
    for log in opened:
        await log.close()
