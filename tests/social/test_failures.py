"""Each class of platform answer, end to end against the fakes: rate limits reschedule
(and never hold the other channel up), transient failures retry with backoff until the
attempt limit, duplicates count as posted, refusals fail at once with a clear error."""

from __future__ import annotations

import json
import socket
import time

import pytest

from backbone.events import PostFailed
from tests.helpers import eventually
from tests.social.fakes import (
    TWITTER_DUPLICATE,
    TWITTER_NOT_PERMITTED,
    TWITTER_TOO_MANY,
    graph_error,
    twitter_problem,
)
from tests.social.conftest import summary_state


async def _settled(social, summary_id: str, channel: str, *statuses: str):
    post = await social.post(summary_id, channel)
    return post if post is not None and post.status in statuses else None


async def _history(social, post) -> list[str]:
    return [a.outcome for a in await social.store.attempts(post.id)]


def _failed_events(social) -> list[PostFailed]:
    return [PostFailed.model_validate(e.payload) for e in social.social_events() if e.type == "PostFailed"]


# -- X -----------------------------------------------------------------------------------


async def test_x_429_reschedules_at_the_reset_and_facebook_keeps_posting(
    start_social, fake_twitter, fake_facebook, clock
):
    social = await start_social(twitter=fake_twitter, facebook=fake_facebook, clock=clock)
    reset = int(time.time()) + 900
    fake_twitter.queue(429, TWITTER_TOO_MANY, {"x-rate-limit-limit": "100", "x-rate-limit-remaining": "0",
                                               "x-rate-limit-reset": str(reset)})
    first, second = summary_state(), summary_state()
    await social.publish(first)

    waiting = await eventually(lambda: _settled(social, first.summary_id, "twitter", "pending")
                               if fake_twitter.requests else None)
    assert waiting.next_attempt_at == reset and waiting.failures == 0
    assert "429" in waiting.last_error
    assert (await social.store.paused_until("twitter"))[0] == reset

    # While X is paused, Facebook posts both summaries and X sends nothing.
    await social.publish(second)
    await eventually(lambda: _settled(social, second.summary_id, "facebook", "sent"))
    assert (await _settled(social, first.summary_id, "facebook", "sent")) is not None
    assert len(fake_twitter.requests) == 1

    clock.advance(reset - time.time() + 1)  # the reset time comes
    sent = await eventually(lambda: _settled(social, first.summary_id, "twitter", "sent"))
    await eventually(lambda: _settled(social, second.summary_id, "twitter", "sent"))
    assert len(fake_twitter.requests) == 3
    assert await _history(social, sent) == ["rate_limited", "sent"]


async def test_x_24_hour_quota_reschedules_to_its_reset(start_social, fake_twitter):
    social = await start_social(twitter=fake_twitter)
    day_reset = int(time.time()) + 86_400
    fake_twitter.queue(429, TWITTER_TOO_MANY, {
        "x-rate-limit-limit": "100", "x-rate-limit-remaining": "57", "x-rate-limit-reset": str(int(time.time()) + 60),
        "x-user-limit-24hour-limit": "17", "x-user-limit-24hour-remaining": "0",
        "x-user-limit-24hour-reset": str(day_reset),
        "x-app-limit-24hour-limit": "10000", "x-app-limit-24hour-remaining": "9000",
        "x-app-limit-24hour-reset": str(day_reset - 100),
    })
    first, second = summary_state(), summary_state()
    await social.publish(first)
    post = await eventually(lambda: _settled(social, first.summary_id, "twitter", "pending")
                            if fake_twitter.requests else None)
    assert post.next_attempt_at == day_reset
    await social.publish(second)
    await eventually(lambda: _settled(social, second.summary_id, "twitter", "pending"))
    await social.service.send_due("twitter")  # paused: nothing goes out before the reset
    assert len(fake_twitter.requests) == 1


async def test_an_exhausted_daily_quota_on_success_pauses_the_channel(start_social, fake_twitter):
    fake_twitter.daily_limit = 1
    social = await start_social(twitter=fake_twitter)
    first, second = summary_state(), summary_state()
    await social.publish(first)
    await eventually(lambda: _settled(social, first.summary_id, "twitter", "sent"))
    paused = await social.store.paused_until("twitter")
    assert paused is not None and paused[0] > time.time() + 86_000
    await social.publish(second)
    await eventually(lambda: _settled(social, second.summary_id, "twitter", "pending"))
    await social.service.send_due("twitter")
    assert len(fake_twitter.requests) == 1  # the 429 it would have earned was never provoked


async def test_x_server_errors_retry_with_backoff_then_succeed(start_social, fake_twitter):
    social = await start_social(twitter=fake_twitter)
    fake_twitter.queue(503, twitter_problem(503, "Service Unavailable", "Service Unavailable"), times=2)
    summary = summary_state()
    await social.publish(summary)
    post = await eventually(lambda: _settled(social, summary.summary_id, "twitter", "sent"))
    assert await _history(social, post) == ["transient", "transient", "sent"]
    assert post.attempts == 3 and len(fake_twitter.tweets) == 1
    gaps = [b["at"] - a["at"] for a, b in zip(fake_twitter.requests, fake_twitter.requests[1:])]
    assert all(gap >= 0.025 for gap in gaps)  # base 0.05 s, drawn from the upper half


async def test_x_server_errors_fail_after_the_attempt_limit(start_social, fake_twitter):
    social = await start_social(twitter=fake_twitter, max_attempts=3)
    fake_twitter.queue(500, twitter_problem(500, "Internal Server Error", "Internal Server Error"), times=10)
    summary = summary_state()
    await social.publish(summary)
    post = await eventually(lambda: _settled(social, summary.summary_id, "twitter", "failed"))
    assert len(fake_twitter.requests) == 3 and post.failures == 3
    assert "gave up after 3 failed attempts" in post.last_error and "500" in post.last_error
    [event] = await eventually(lambda: _failed_events(social))
    assert event.post_id == post.id and event.channel == "twitter" and event.attempts == 3


async def test_network_errors_are_transient(start_social):
    with socket.socket() as sock:  # a port where nothing listens
        sock.bind(("127.0.0.1", 0))
        dead = f"http://127.0.0.1:{sock.getsockname()[1]}"
    social = await start_social(max_attempts=2, twitter_api_base_url=dead, twitter_consumer_key="k",
                                twitter_consumer_secret="s", twitter_access_token="t",
                                twitter_access_token_secret="ts")
    summary = summary_state()
    await social.publish(summary)
    post = await eventually(lambda: _settled(social, summary.summary_id, "twitter", "failed"))
    assert "network error" in post.last_error and post.failures == 2
    assert await _history(social, post) == ["transient", "transient"]


async def test_x_duplicate_content_counts_as_posted(start_social, fake_twitter):
    social = await start_social(twitter=fake_twitter)
    fake_twitter.queue(403, TWITTER_DUPLICATE)
    summary = summary_state()
    await social.publish(summary)
    post = await eventually(lambda: _settled(social, summary.summary_id, "twitter", "sent", "failed"))
    assert post.status == "sent" and post.duplicate and post.platform_post_id is None
    assert len(fake_twitter.requests) == 1
    assert await _history(social, post) == ["duplicate"]
    [attempt] = await social.store.attempts(post.id)
    assert "duplicate content" in attempt.detail


async def test_x_refused_credentials_fail_without_retry(start_social, fake_twitter):
    # The fake checks the OAuth 1.0a signature: a wrong consumer secret cannot sign right.
    social = await start_social(twitter=fake_twitter, twitter_consumer_secret="not-the-secret")
    summary = summary_state()
    await social.publish(summary)
    post = await eventually(lambda: _settled(social, summary.summary_id, "twitter", "failed"))
    assert post.last_error.startswith("the credentials were refused: 401")
    assert len(fake_twitter.requests) == 1 and fake_twitter.tweets == []
    [event] = await eventually(lambda: _failed_events(social))
    assert event.error == post.last_error


async def test_x_forbidden_fails_without_retry(start_social, fake_twitter):
    social = await start_social(twitter=fake_twitter)
    fake_twitter.queue(403, TWITTER_NOT_PERMITTED)
    summary = summary_state()
    await social.publish(summary)
    post = await eventually(lambda: _settled(social, summary.summary_id, "twitter", "failed"))
    assert "X refused the post" in post.last_error and "not permitted" in post.last_error
    assert len(fake_twitter.requests) == 1


# -- Facebook ----------------------------------------------------------------------------


@pytest.mark.parametrize("code", [4, 17, 32, 613, 341])
async def test_graph_throttling_backs_off_by_the_usage_headers(start_social, fake_twitter, fake_facebook, code):
    social = await start_social(twitter=fake_twitter, facebook=fake_facebook)
    usage = {fake_facebook.page_id: [{"type": "pages", "call_count": 100, "total_cputime": 40, "total_time": 60,
                                      "estimated_time_to_regain_access": 7}]}
    fake_facebook.queue(400, graph_error(code, f"(#{code}) Application request limit reached", transient=True),
                        {"x-business-use-case-usage": json.dumps(usage)})
    summary = summary_state()
    before = time.time()
    await social.publish(summary)
    post = await eventually(lambda: _settled(social, summary.summary_id, "facebook", "pending")
                            if fake_facebook.requests else None)
    assert before + 420 <= post.next_attempt_at <= time.time() + 420
    assert f"code {code}" in post.last_error and "fbtrace_id" in post.last_error and post.failures == 0
    assert (await social.store.paused_until("facebook"))[0] == post.next_attempt_at
    await eventually(lambda: _settled(social, summary.summary_id, "twitter", "sent"))  # X is not held up


@pytest.mark.parametrize(("headers", "wait"), [
    ({"x-app-usage": json.dumps({"call_count": 100, "total_cputime": 12, "total_time": 30})}, 3600),
    ({}, 60),  # no usage headers: the configured default
])
async def test_graph_throttling_without_an_estimate(start_social, fake_facebook, headers, wait):
    social = await start_social(facebook=fake_facebook)
    fake_facebook.queue(403, graph_error(4, "(#4) Application request limit reached"), headers)
    summary = summary_state()
    before = time.time()
    await social.publish(summary)
    post = await eventually(lambda: _settled(social, summary.summary_id, "facebook", "pending")
                            if fake_facebook.requests else None)
    assert before + wait <= post.next_attempt_at <= time.time() + wait


@pytest.mark.parametrize("code", [1, 2])
async def test_graph_transient_codes_retry(start_social, fake_facebook, code):
    social = await start_social(facebook=fake_facebook)
    fake_facebook.queue(500, graph_error(code, "An unexpected error has occurred. Please retry your request later.",
                                         transient=True))
    summary = summary_state()
    await social.publish(summary)
    post = await eventually(lambda: _settled(social, summary.summary_id, "facebook", "sent"))
    assert await _history(social, post) == ["transient", "sent"]
    assert len(fake_facebook.posts) == 1


async def test_graph_gateway_error_page_is_transient(start_social, fake_facebook):
    social = await start_social(facebook=fake_facebook)
    fake_facebook.queue(502, raw=b"<html><body>502 Bad Gateway</body></html>")
    summary = summary_state()
    await social.publish(summary)
    post = await eventually(lambda: _settled(social, summary.summary_id, "facebook", "sent"))
    assert await _history(social, post) == ["transient", "sent"]


async def test_graph_expired_token_fails_without_retry(start_social, fake_facebook):
    social = await start_social(facebook=fake_facebook, facebook_page_token="EAAB-expired")
    summary = summary_state()
    await social.publish(summary)
    post = await eventually(lambda: _settled(social, summary.summary_id, "facebook", "failed"))
    assert post.last_error.startswith("the page access token is invalid or expired")
    assert "code 190" in post.last_error
    assert len(fake_facebook.requests) == 1 and fake_facebook.posts == []
    assert [e.channel for e in await eventually(lambda: _failed_events(social))] == ["facebook"]


async def test_graph_duplicate_counts_as_posted(start_social, fake_facebook):
    social = await start_social(facebook=fake_facebook)
    fake_facebook.queue(400, graph_error(506, "(#506) Duplicate status message"))
    summary = summary_state()
    await social.publish(summary)
    post = await eventually(lambda: _settled(social, summary.summary_id, "facebook", "sent", "failed"))
    assert post.status == "sent" and post.duplicate
    assert len(fake_facebook.requests) == 1


async def test_graph_other_errors_fail_with_the_message(start_social, fake_facebook):
    social = await start_social(facebook=fake_facebook, facebook_page_id="999")  # not the fake's page
    summary = summary_state()
    await social.publish(summary)
    post = await eventually(lambda: _settled(social, summary.summary_id, "facebook", "failed"))
    assert "code 100/33 GraphMethodException: (#100) Unsupported post request." in post.last_error
    assert len(fake_facebook.requests) == 1
