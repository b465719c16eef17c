"""Backends for the port contract suites. The embedded adapters always run; a real-engine
adapter runs when its engine is reachable (see tests/engines.py) and is otherwise reported
as skipped with the reason."""

from __future__ import annotations

import pytest

from tests.engines import unique_prefix

EVENT_LOG_BACKENDS = ["sqlite", pytest.param("kafka", marks=pytest.mark.engine("kafka"))]

# Groups form and rebalance in well under a second on a local broker with these. The
# session timeout cannot go below the broker's group.min.session.timeout.ms (6 s by default).
FAST_KAFKA_GROUPS = dict(session_timeout=6.0, heartbeat_interval=0.1, rebalance_timeout=5.0, handover_timeout=3.0)


@pytest.fixture(params=EVENT_LOG_BACKENDS)
async def event_log_factory(request, tmp_path):
    """Returns make(**options) -> started EventLog over one shared location, so a test can
    open a second handle on the same log (a restarted process).

    Option understood by every backend: `member_timeout` (seconds), how long a member of a
    group may go without polling before the group hands its work to another member."""
    opened = []
    if request.param == "sqlite":
        from backbone.eventlog.sqlite import SqliteEventLog

        async def make(*, member_timeout: float | None = None):
            options = {} if member_timeout is None else {"lease_seconds": member_timeout}
            log = SqliteEventLog(tmp_path / "events.db", poll_interval=0.01, **options)
            await log.start()
            opened.append(log)
            return log
    else:
        from backbone.eventlog.kafka import KafkaEventLog

        servers = request.getfixturevalue("kafka_bootstrap")
        prefix = unique_prefix("events")

        async def make(*, member_timeout: float | None = None):
            options = {} if member_timeout is None else {"max_poll_interval": member_timeout}
            log = KafkaEventLog(servers, prefix=prefix, partitions=3, replication_factor=1,
                                **FAST_KAFKA_GROUPS, **options)
            await log.start()
            opened.append(log)
            return log
    yield make
    for log in opened:
        await log.close()
    if request.param == "kafka":
        await drop_topics(servers, prefix)


async def drop_topics(servers: str, prefix: str) -> None:
    """Delete a test's topics so a long-lived development broker does not fill up."""
    from aiokafka.admin import AIOKafkaAdminClient

    admin = AIOKafkaAdminClient(bootstrap_servers=servers, request_timeout_ms=10_000)
    await admin.start()
    try:
        names = [t for t in await admin.list_topics() if t.startswith(prefix)]
        if names:
            await admin.delete_topics(names)
    finally:
        await admin.close()
