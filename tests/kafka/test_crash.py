"""A consumer process killed in the middle of a batch: its uncommitted records go to the
member that takes over, and the idempotent handler applies each event exactly once."""

from __future__ import annotations

import asyncio
import signal
import sys
from pathlib import Path

import pytest

from backbone.consumer import ConsumerRunner
from tests.contracts.test_eventlog_contract import paper_event
from tests.helpers import eventually
from tests.kafka.crash_worker import amount, apply_once, open_ledger

pytestmark = pytest.mark.engine("kafka")

REPO = Path(__file__).resolve().parents[2]


async def test_a_consumer_killed_mid_batch_redelivers_and_nothing_is_applied_twice(kafka_log, tmp_path):
    log = await kafka_log(partitions=3)
    sent = [paper_event(f"k{k}", v) for v in range(1, 4) for k in range(10)]
    await log.publish(sent)
    ledger = tmp_path / "ledger.db"
    conn = open_ledger(ledger)

    with (tmp_path / "worker.log").open("wb") as worker_log:
        worker = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "tests.kafka.crash_worker", kafka_log.servers, kafka_log.prefix, "g", str(ledger),
            "--freeze-after", "15", cwd=REPO, stdout=asyncio.subprocess.PIPE, stderr=worker_log,
        )
        try:
            line = await asyncio.wait_for(worker.stdout.readline(), 30)
        finally:
            worker.send_signal(signal.SIGKILL)  # no goodbye to the group, no commit of the batch
            await worker.wait()
    assert line.strip() == b"frozen", (tmp_path / "worker.log").read_text()[-2000:]
    applied_by_killed = conn.execute("SELECT COUNT(*) FROM applied").fetchone()[0]
    assert applied_by_killed == 15

    # The survivor joins the same group; the group gives it the dead member's partitions once
    # that member's session times out, from the last committed offsets.
    survivor = ConsumerRunner(log, "g", ["papers"], lambda env: _apply(conn, env), batch=10, poll_timeout=0.2)
    task = asyncio.create_task(survivor.run())
    await eventually(lambda: conn.execute("SELECT COUNT(*) FROM applied").fetchone()[0] == len(sent), timeout=40)
    survivor.stop()
    await task

    total = conn.execute("SELECT value FROM total").fetchone()[0]
    assert total == sum(amount(e) for e in sent)  # each event's effect exactly once
    by_member = {
        member: [row[0] for row in conn.execute("SELECT event_id FROM deliveries WHERE member=?", (member,))]
        for member in ("killed", "survivor")
    }
    redelivered = set(by_member["killed"]) & set(by_member["survivor"])
    assert redelivered, "the records handled in the killed batch were not delivered again"
    assert len(by_member["survivor"]) == len(set(by_member["survivor"]))
    assert set(by_member["killed"]) | set(by_member["survivor"]) == {e.event_id for e in sent}


async def _apply(conn, envelope) -> None:
    apply_once(conn, envelope, "survivor")
