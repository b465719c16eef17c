"""The crash window: the process dies after the platform accepted a post but before the
service recorded it. The attempt was recorded before sending, so the restarted service
knows the outcome is unknown; it sends again, and the platform's duplicate-content answer
counts as success. The platform ends up with exactly one post."""

from __future__ import annotations

import pytest

from backbone.events import PostSent
from tests.helpers import eventually
from tests.social.conftest import summary_state


def _fake(channel: str, fake_twitter, fake_facebook):
    return fake_twitter if channel == "twitter" else fake_facebook


def _created(fake) -> list[dict]:
    return fake.tweets if hasattr(fake, "tweets") else fake.posts


@pytest.mark.parametrize("channel", ["twitter", "facebook"])
async def test_a_post_whose_answer_was_lost_is_not_posted_twice(start_social, fake_twitter, fake_facebook, channel):
    fake = _fake(channel, fake_twitter, fake_facebook)
    options = {"twitter": fake_twitter} if channel == "twitter" else {"facebook": fake_facebook}
    social = await start_social(**options, send_lease_seconds=0.5)
    fake.hold()  # the platform creates the post, and its answer never comes back
    summary = summary_state()
    await social.publish(summary)
    await eventually(lambda: len(_created(fake)) == 1)
    in_flight = await social.post(summary.summary_id, channel)
    assert in_flight.status == "sending" and in_flight.attempts == 1
    [open_attempt] = await social.store.attempts(in_flight.id)
    assert open_attempt.outcome is None  # recorded before the request went out

    await social.stop()  # the process dies mid-send
    restarted = await start_social(**options, send_lease_seconds=0.5)

    async def settled():
        post = await restarted.post(summary.summary_id, channel)
        return post if post.status in ("sent", "failed") else None

    post = await eventually(settled)
    assert post.status == "sent" and post.duplicate and post.uncertain
    assert [a.outcome for a in await restarted.store.attempts(post.id)] == ["unknown", "duplicate"]
    assert len(_created(fake)) == 1 and len(fake.requests) == 2

    async def sent_event():
        return [PostSent.model_validate(e.payload) for e in restarted.social_events() if e.type == "PostSent"]

    [event] = await eventually(sent_event)
    assert event.duplicate and event.post_id == post.id


async def test_a_claim_that_never_reached_the_platform_is_sent_once(start_social, fake_twitter, clock):
    social = await start_social(twitter=fake_twitter, clock=clock, send_lease_seconds=0.5)
    await social.store.pause("twitter", clock() + 600, "test")
    summary = summary_state()
    await social.publish(summary)
    pending = await eventually(lambda: social.post(summary.summary_id, "twitter"))
    await social.stop()
    # The process claimed the post (attempt recorded) and died before the request left.
    claimed = pending.claim(clock(), 0.5)
    await social.store.start()
    await social.store.claim(claimed, pending.version)
    await social.store.close()

    clock.advance(601)
    restarted = await start_social(twitter=fake_twitter, clock=clock, send_lease_seconds=0.5)

    async def sent():
        post = await restarted.post(summary.summary_id, "twitter")
        return post if post.status == "sent" else None

    post = await eventually(sent)
    assert not post.duplicate and post.uncertain and post.platform_post_id == fake_twitter.tweets[0]["id"]
    assert [a.outcome for a in await restarted.store.attempts(post.id)] == ["unknown", "sent"]
    assert len(fake_twitter.tweets) == 1


async def test_a_live_lease_is_not_taken_over(start_social, fake_twitter):
    social = await start_social(twitter=fake_twitter, send_lease_seconds=60)
    release = fake_twitter.hold()
    summary = summary_state()
    await social.publish(summary)
    await eventually(lambda: len(fake_twitter.tweets) == 1)
    # A second sender (another process) looking now finds nothing to send.
    assert await social.store.due("twitter", social.service.clock(), 10) == []
    release.set()

    async def sent():
        post = await social.post(summary.summary_id, "twitter")
        return post if post.status == "sent" else None

    post = await eventually(sent)
    assert not post.uncertain and post.attempts == 1
    assert len(fake_twitter.requests) == 1
