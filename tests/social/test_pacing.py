"""Pacing: a burst of summaries queues under each channel's cap and drains as the trailing
window moves on (the test moves the service's clock)."""

from __future__ import annotations

import asyncio

from services.social.domain.pacing import DAY, HOUR
from tests.helpers import eventually
from tests.social.conftest import summary_state


async def _recorded(social, total: int, sent: int) -> bool:
    """The service holds `total` posts and has recorded `sent` of them as sent. A fake keeps
    a post when the request arrives, before it answers, so the fakes' lists run ahead of the
    service's records: a post counted there may still be `sending` here."""
    return len(await social.posts()) == total and len(await social.posts(status="sent")) == sent


async def test_a_burst_queues_under_the_caps_and_drains(start_social, fake_twitter, fake_facebook, clock):
    social = await start_social(twitter=fake_twitter, facebook=fake_facebook, clock=clock,
                                twitter_max_per_day=3, facebook_max_per_hour=2, send_concurrency=4)
    burst = [summary_state() for _ in range(5)]
    for summary in burst:
        await social.publish(summary)

    await eventually(lambda: len(fake_twitter.tweets) == 3 and len(fake_facebook.posts) == 2)
    # Every post of the burst is queued and the sends so far are recorded before the caps are checked.
    await eventually(lambda: _recorded(social, total=10, sent=5))
    await asyncio.sleep(0.3)  # several sender rounds: still nothing beyond the caps
    assert len(fake_twitter.tweets) == 3 and len(fake_facebook.posts) == 2
    # Oldest first: the summaries still waiting are the last ones published.
    waiting = await social.posts(channel="twitter", status="pending")
    assert {p.summary_id for p in waiting} == {s.summary_id for s in burst[3:]}
    waiting = await social.posts(channel="facebook", status="pending")
    assert {p.summary_id for p in waiting} == {s.summary_id for s in burst[2:]}
    first_tweet = min(t for t in await social.store.sends_since("twitter", 0))
    assert await social.service.send_due("twitter") == first_tweet + DAY

    clock.advance(HOUR + 1)
    await eventually(lambda: len(fake_facebook.posts) == 4)
    await eventually(lambda: _recorded(social, total=10, sent=7))
    assert len(fake_twitter.tweets) == 3

    clock.advance(DAY)
    await eventually(lambda: len(fake_twitter.tweets) == 5 and len(fake_facebook.posts) == 5)
    await eventually(lambda: _recorded(social, total=10, sent=10))
    assert len(fake_twitter.tweets) == 5 and len(fake_facebook.posts) == 5  # nothing went out twice


async def test_zero_turns_pacing_off(start_social, fake_twitter):
    social = await start_social(twitter=fake_twitter, twitter_max_per_day=0, send_concurrency=8)
    for _ in range(30):
        await social.publish(summary_state())
    await eventually(lambda: len(fake_twitter.tweets) == 30)
