"""Pacing: a burst of summaries queues under each channel's cap and drains as the trailing
window moves on (the test moves the service's clock)."""

from __future__ import annotations

import asyncio

from services.social.domain.pacing import DAY, HOUR
from tests.helpers import eventually
from tests.social.conftest import summary_state


async def test_a_burst_queues_under_the_caps_and_drains(start_social, fake_twitter, fake_facebook, clock):
    social = await start_social(twitter=fake_twitter, facebook=fake_facebook, clock=clock,
                                twitter_max_per_day=3, facebook_max_per_hour=2, send_concurrency=4)
    burst = [summary_state() for _ in range(5)]
    for summary in burst:
        await social.publish(summary)

    await eventually(lambda: len(fake_twitter.tweets) == 3 and len(fake_facebook.posts) == 2)
    await asyncio.sleep(0.3)  # several sender rounds: still nothing beyond the caps
    assert len(fake_twitter.tweets) == 3 and len(fake_facebook.posts) == 2
    # Oldest first: the summaries still waiting are the last ones published.
    waiting = await social.posts(channel="twitter", status="pending")
    assert {p.summary_id for p in waiting} == {s.summary_id for s in burst[3:]}
    first_tweet = min(t for t in await social.store.sends_since("twitter", 0))
    assert await social.service.send_due("twitter") == first_tweet + DAY

    clock.advance(HOUR + 1)
    await eventually(lambda: len(fake_facebook.posts) == 4)
    assert len(fake_twitter.tweets) == 3

    clock.advance(DAY)
    await eventually(lambda: len(fake_twitter.tweets) == 5 and len(fake_facebook.posts) == 5)
    assert len(await social.posts(status="sent")) == 10


async def test_zero_turns_pacing_off(start_social, fake_twitter):
    social = await start_social(twitter=fake_twitter, twitter_max_per_day=0, send_concurrency=8)
    for _ in range(30):
        await social.publish(summary_state())
    await eventually(lambda: len(fake_twitter.tweets) == 30)
