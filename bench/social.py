"""`python -m bench.social`: how fast a burst of summaries drains through the social
service to the fake X and Facebook servers, with pacing off.

Appends `--summaries` SummaryPublished events to a fresh event log at once and times the
social service (its real consumer group, senders, tweepy and httpx channels) until every
post is `sent`; the fakes (tests/social/fakes.py) run on loopback ports in the same event
loop, so their own work is counted against the service. Prints JSON with posts/s per
channel against the issue's target (100 posts/s per channel). Progress goes to stderr.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import tempfile
import time
from pathlib import Path

TARGET_POSTS_PER_SECOND = 100


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m bench.social", description=__doc__.splitlines()[0])
    p.add_argument("--summaries", type=int, default=1000, help="summaries in the burst (default 1000)")
    p.add_argument("--concurrency", type=int, default=1,
                   help="posts in flight per channel (default 1, the service's default)")
    p.add_argument("--timeout", type=float, default=300.0, help="give up after this many seconds (default 300)")
    opts = p.parse_args(argv)
    if opts.summaries < 1 or opts.concurrency < 1:
        p.error("--summaries and --concurrency must be positive")
    return opts


async def measure(opts: argparse.Namespace, data_dir: Path) -> dict:
    from backbone.eventlog.sqlite import SqliteEventLog
    from backbone.events import SummaryPublished
    from services.social.bootstrap import bootstrap
    from tests.social.conftest import social_settings, summary_state
    from tests.social.fakes import FakeFacebook, FakeTwitter

    async with FakeTwitter(daily_limit=10 * opts.summaries) as twitter, FakeFacebook() as facebook:
        log = SqliteEventLog(data_dir / "events.db", poll_interval=0.01)
        await log.start()
        settings = social_settings(data_dir, **twitter.settings(), **facebook.settings(), twitter_max_per_day=0,
                                   facebook_max_per_hour=0, send_concurrency=opts.concurrency, idle_seconds=0.05)
        runtime = bootstrap(settings, event_log=log)
        await runtime.start()
        store = runtime.api.store
        try:
            states = [summary_state(title=f"A Study of Things, Part {n}") for n in range(opts.summaries)]
            envelopes = [SummaryPublished(summary=s).envelope(aggregate_id=s.summary_id, aggregate_version=1,
                                                              producer="summaries") for s in states]
            started = time.perf_counter()
            await log.publish(envelopes)
            done_at: dict[str, float] = {}
            created_at = None
            deadline = started + opts.timeout
            while len(done_at) < 2 and time.perf_counter() < deadline:
                await asyncio.sleep(0.02)
                _, created = await store.list(status=None, channel=None, offset=0, limit=1)
                if created_at is None and created == 2 * opts.summaries:
                    created_at = time.perf_counter()
                for channel in ("twitter", "facebook"):
                    _, sent = await store.list(status="sent", channel=channel, offset=0, limit=1)
                    if channel not in done_at and sent == opts.summaries:
                        done_at[channel] = time.perf_counter()
                        print(f"{channel}: {sent} posts in {done_at[channel] - started:.2f} s", file=sys.stderr)
        finally:
            await runtime.stop()
            await log.close()
        delivered = {"twitter": len(twitter.tweets), "facebook": len(facebook.posts)}

    channels = {}
    for channel in ("twitter", "facebook"):
        seconds = done_at.get(channel)
        elapsed = None if seconds is None else seconds - started
        rate = None if elapsed is None else opts.summaries / elapsed
        channels[channel] = {
            "posts": delivered[channel],
            "seconds": None if elapsed is None else round(elapsed, 3),
            "posts_per_second": None if rate is None else round(rate, 1),
            "target_posts_per_second": TARGET_POSTS_PER_SECOND,
            "met": rate is not None and rate >= TARGET_POSTS_PER_SECOND and delivered[channel] == opts.summaries,
        }
    return {
        "benchmark": "social burst drain (pacing off, fake X and Facebook on loopback)",
        "summaries": opts.summaries,
        "concurrency_per_channel": opts.concurrency,
        "posts_composed_seconds": None if created_at is None else round(created_at - started, 3),
        "channels": channels,
    }


def main(argv: list[str] | None = None) -> None:
    opts = parse_args(argv)
    from backbone.logs import configure_logging

    configure_logging("WARNING", json=True)
    with tempfile.TemporaryDirectory(prefix="bench-social-") as tmp:
        result = asyncio.run(measure(opts, Path(tmp)))
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
