"""A consumer process for the crash test: a real ConsumerRunner whose idempotent handler
applies each event once to a SQLite ledger; after applying `--freeze-after` events it stops
in the middle of its batch (before the runner commits) and says so, waiting to be killed.

    python -m tests.kafka.crash_worker SERVERS PREFIX GROUP LEDGER --freeze-after N
"""

from __future__ import annotations

import argparse
import asyncio
import sqlite3
import sys
from pathlib import Path

from backbone.consumer import ConsumerRunner
from backbone.eventlog.kafka import KafkaEventLog
from backbone.events import Envelope
from backbone.logs import configure_logging

LEDGER_SCHEMA = """
CREATE TABLE IF NOT EXISTS applied (event_id TEXT PRIMARY KEY);
CREATE TABLE IF NOT EXISTS deliveries (event_id TEXT NOT NULL, member TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS total (id INTEGER PRIMARY KEY CHECK (id = 1), value INTEGER NOT NULL);
INSERT OR IGNORE INTO total(id, value) VALUES (1, 0);
"""


def open_ledger(path: Path) -> sqlite3.Connection:
    conn = sqlite3.connect(path, isolation_level=None, timeout=10)
    conn.executescript(LEDGER_SCHEMA)
    return conn


def apply_once(conn: sqlite3.Connection, envelope: Envelope, member: str) -> bool:
    """The effect (adding the event's amount to the total) and the processed-id mark commit
    together, so a redelivered event changes nothing. Every delivery is noted too."""
    conn.execute("INSERT INTO deliveries(event_id, member) VALUES (?, ?)", (envelope.event_id, member))
    conn.execute("BEGIN IMMEDIATE")
    try:
        new = conn.execute("INSERT OR IGNORE INTO applied(event_id) VALUES (?)", (envelope.event_id,)).rowcount
        if new:
            conn.execute("UPDATE total SET value = value + ? WHERE id = 1", (amount(envelope),))
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")
    return bool(new)


def amount(envelope: Envelope) -> int:
    return envelope.aggregate_version


async def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("servers")
    parser.add_argument("prefix")
    parser.add_argument("group")
    parser.add_argument("ledger", type=Path)
    parser.add_argument("--freeze-after", type=int, required=True)
    args = parser.parse_args(argv)
    configure_logging("INFO")  # to stderr: stdout carries only the "frozen" line
    conn = open_ledger(args.ledger)
    log = KafkaEventLog(args.servers, prefix=args.prefix, partitions=3, session_timeout=6.0,
                        heartbeat_interval=0.1, rebalance_timeout=5.0)
    await log.start()
    handled = 0

    async def handle(envelope: Envelope) -> None:
        nonlocal handled
        apply_once(conn, envelope, "killed")
        handled += 1
        if handled == args.freeze_after:
            print("frozen", flush=True)  # mid-batch: this batch is applied in part, not committed
            await asyncio.Event().wait()

    await ConsumerRunner(log, args.group, ["papers"], handle, batch=10, poll_timeout=0.2).run()


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1:]))
