"""Posting through the real tweepy and httpx code paths against the fake platforms:
each public summary once per channel, whatever the event log redelivers; nothing for a
summary that stops being public first; nothing at all without credentials."""

from __future__ import annotations

from backbone.events import PostSent, SummaryDeleted, SummaryHidden, SummaryRevised, VoteCast
from services.social.domain.text import weighted_length
from tests.helpers import eventually
from tests.social.conftest import PUBLIC_URL, summary_state


async def _status(social, summary_id: str, channel: str, status: str):
    post = await social.post(summary_id, channel)
    return post if post is not None and post.status == status else None


async def test_a_public_summary_is_posted_once_to_each_channel(start_social, fake_twitter, fake_facebook):
    social = await start_social(twitter=fake_twitter, facebook=fake_facebook)
    summary = summary_state(title="Attention Is All You Need", venue="NeurIPS", year=2017,
                            body="Self-attention replaces recurrence entirely. The rest is detail.")
    await social.publish(summary)

    tweet_post = await eventually(lambda: _status(social, summary.summary_id, "twitter", "sent"))
    fb_post = await eventually(lambda: _status(social, summary.summary_id, "facebook", "sent"))
    link = f"{PUBLIC_URL}/summaries/{summary.summary_id}"

    [tweet] = fake_twitter.tweets
    assert tweet["text"] == tweet_post.text
    assert tweet["text"].startswith("Attention Is All You Need (NeurIPS 2017)")
    assert "Self-attention replaces recurrence entirely." in tweet["text"]
    assert "Summary by ada" in tweet["text"] and tweet["text"].endswith(link)
    # The fake verified the HMAC-SHA1 signature over the URL it was called on.
    assert tweet["oauth"]["oauth_consumer_key"] == fake_twitter.consumer_key
    assert tweet["oauth"]["oauth_token"] == fake_twitter.access_token
    assert fake_twitter.requests[0]["headers"]["content-type"] == "application/json"
    assert tweet_post.platform_post_id == tweet["id"]
    assert tweet_post.url == f"https://x.com/i/web/status/{tweet['id']}"

    [fb] = fake_facebook.posts
    [request] = fake_facebook.requests
    assert request["version"] == "v26.0" and request["page_id"] == fake_facebook.page_id
    assert request["form"]["access_token"] == fake_facebook.page_token
    assert "access_token" not in request["query"]  # the token stays out of URLs
    assert fb["link"] == link and fb["message"].startswith("New summary: Attention Is All You Need (NeurIPS 2017)")
    assert fb_post.platform_post_id == fb["id"]
    assert fb_post.url == f"https://www.facebook.com/{fake_facebook.page_id}/posts/{fb['id'].split('_')[1]}"

    async def both_events():
        events = [e for e in social.social_events() if e.type == "PostSent"]
        return events if len(events) == 2 else None

    events = await eventually(both_events)
    by_channel = {e.payload["channel"]: PostSent.model_validate(e.payload) for e in events}
    assert by_channel["twitter"].platform_post_id == tweet["id"]
    assert by_channel["facebook"].platform_post_id == fb["id"]
    assert all(e.payload["summary_id"] == summary.summary_id and e.topic == "social" for e in events)


async def test_redelivered_events_never_post_twice(start_social, fake_twitter, fake_facebook):
    social = await start_social(twitter=fake_twitter, facebook=fake_facebook)
    summary = summary_state()
    envelope = await social.publish(summary)
    await eventually(lambda: _status(social, summary.summary_id, "twitter", "sent"))
    await eventually(lambda: _status(social, summary.summary_id, "facebook", "sent"))

    for _ in range(3):  # the consumer runner hands the same record again after a crash before commit
        await social.service.handle(envelope)
    # ...and a restarted process whose group offset never moved replays the whole topic.
    await social.stop()
    consumer = social.log.consumer("social", ["summaries"])
    await consumer.seek_to_beginning()
    await consumer.close()
    restarted = await start_social(twitter=fake_twitter, facebook=fake_facebook)
    await eventually(lambda: restarted.runtime.consumers[0].handled >= 1)
    await restarted.runtime.relay.drain()

    assert len(fake_twitter.tweets) == 1 and len(fake_facebook.posts) == 1
    assert len(fake_twitter.requests) == 1 and len(fake_facebook.requests) == 1
    assert len(await restarted.posts()) == 2
    assert len([e for e in restarted.social_events() if e.type == "PostSent"]) == 2


async def test_without_credentials_posts_are_composed_but_not_sent(start_social, fake_twitter, fake_facebook):
    social = await start_social()  # no credentials for either channel
    assert social.runtime.workers == []
    summary = summary_state(title="Mastering the Game of Go without Human Knowledge")
    await social.publish(summary)

    tweet = await eventually(lambda: _status(social, summary.summary_id, "twitter", "dry_run"))
    fb = await eventually(lambda: _status(social, summary.summary_id, "facebook", "dry_run"))
    assert tweet.text.startswith("Mastering the Game of Go") and weighted_length(tweet.text) <= 280
    assert fb.link == f"{PUBLIC_URL}/summaries/{summary.summary_id}"
    assert tweet.attempts == 0 and tweet.next_attempt_at is None
    assert fake_twitter.requests == [] and fake_facebook.requests == []
    assert social.social_events() == []


async def test_one_channel_can_run_dry_while_the_other_posts(start_social, fake_twitter):
    social = await start_social(twitter=fake_twitter)
    summary = summary_state()
    await social.publish(summary)
    await eventually(lambda: _status(social, summary.summary_id, "twitter", "sent"))
    assert (await social.post(summary.summary_id, "facebook")).status == "dry_run"
    assert [w.name for w in social.runtime.workers] == ["twitter-sender"]


async def test_only_enabled_channels_get_posts(start_social, fake_twitter, fake_facebook):
    social = await start_social(twitter=fake_twitter, facebook=fake_facebook, channels="facebook")
    summary = summary_state()
    await social.publish(summary)
    await eventually(lambda: _status(social, summary.summary_id, "facebook", "sent"))
    assert await social.post(summary.summary_id, "twitter") is None
    assert fake_twitter.requests == []


async def test_summaries_that_stop_being_public_before_sending_are_cancelled(
    start_social, fake_twitter, fake_facebook, clock
):
    social = await start_social(twitter=fake_twitter, facebook=fake_facebook, clock=clock)
    now = clock()
    for channel in ("twitter", "facebook"):  # hold both channels so every post waits
        await social.store.pause(channel, now + 600, "test")
    deleted, private, hidden, kept = (summary_state() for _ in range(4))
    for s in (deleted, private, hidden, kept):
        await social.publish(s)
    await eventually(lambda: _status(social, kept.summary_id, "facebook", "pending"))

    await social.append(SummaryDeleted(summary=deleted.model_copy(update={"deleted": True})), deleted, 2)
    await social.append(SummaryRevised(summary=private.model_copy(update={"visibility": "private"}),
                                       changed=["visibility"]), private, 2)
    await social.append(SummaryHidden(summary=hidden.model_copy(update={"hidden": True})), hidden, 2)
    # A stale redelivery of the original event must not bring the deleted one back.
    await social.publish(deleted, version=1)

    for s, why in ((deleted, "deleted"), (private, "private"), (hidden, "hid")):
        for channel in ("twitter", "facebook"):
            post = await eventually(lambda s=s, channel=channel: _status(social, s.summary_id, channel, "cancelled"))
            assert why in post.last_error

    clock.advance(601)
    await eventually(lambda: _status(social, kept.summary_id, "twitter", "sent"))
    await eventually(lambda: _status(social, kept.summary_id, "facebook", "sent"))
    assert [t["text"] for t in fake_twitter.tweets] == [(await social.post(kept.summary_id, "twitter")).text]
    assert len(fake_facebook.posts) == 1


async def test_a_summary_made_public_later_is_posted_then(start_social, fake_twitter):
    social = await start_social(twitter=fake_twitter)
    summary = summary_state(visibility="private")
    await social.publish(summary)
    await social.append(VoteCast(summary_id=summary.summary_id, value=1, score=1, summary=summary), summary, 2)
    await eventually(lambda: social.runtime.consumers[0].handled >= 2)
    assert await social.post(summary.summary_id, "twitter") is None

    public = summary.model_copy(update={"visibility": "public"})
    await social.append(SummaryRevised(summary=public, changed=["visibility"]), summary, 3)
    await eventually(lambda: _status(social, summary.summary_id, "twitter", "sent"))
    assert len(fake_twitter.tweets) == 1


async def test_a_revision_before_sending_refreshes_the_text(start_social, fake_twitter, clock):
    social = await start_social(twitter=fake_twitter, clock=clock)
    await social.store.pause("twitter", clock() + 600, "test")
    summary = summary_state(body="The first version of the opening sentence. More.")
    await social.publish(summary)
    await eventually(lambda: _status(social, summary.summary_id, "twitter", "pending"))

    revised = summary.model_copy(update={"body": "A better opening sentence. More.", "revision": 2})
    await social.append(SummaryRevised(summary=revised, changed=["body"]), summary, 2)

    async def refreshed():
        post = await social.post(summary.summary_id, "twitter")
        return "A better opening sentence." in post.text

    await eventually(refreshed)
    clock.advance(601)
    await eventually(lambda: _status(social, summary.summary_id, "twitter", "sent"))
    assert "A better opening sentence." in fake_twitter.tweets[0]["text"]
    assert "first version" not in fake_twitter.tweets[0]["text"]


async def test_old_summaries_replayed_from_the_log_are_not_posted(start_social, fake_twitter):
    from datetime import UTC, datetime, timedelta

    social = await start_social(twitter=fake_twitter, max_age_hours=24)
    old = summary_state(created_at=datetime.now(UTC) - timedelta(days=3))
    fresh = summary_state()
    await social.publish(old)
    await social.publish(fresh)
    await eventually(lambda: _status(social, fresh.summary_id, "twitter", "sent"))
    assert await social.post(old.summary_id, "twitter") is None
    assert len(fake_twitter.tweets) == 1
