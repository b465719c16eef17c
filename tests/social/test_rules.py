"""The social service's pure rules: the post status machine, pacing and backoff, what each
platform answer means, and the settings' public names."""

from __future__ import annotations

import json

import pytest
from pydantic import ValidationError

from services.social.config import SocialSettings
from services.social.domain.model import InvalidTransition, Post
from services.social.domain.outcomes import (
    Duplicate,
    RateLimited,
    Rejected,
    Sent,
    Transient,
    facebook_result,
    facebook_usage,
    twitter_result,
)
from services.social.domain.pacing import HOUR, Pace, retry_delay
from services.social.handlers import plan_posts
from tests.social.conftest import summary_state

NOW = 1_800_000_000.0


def _post(**changes) -> Post:
    post = Post.new(id="p1", summary_id="s1", channel="twitter", text="hello", link="https://x.org/s/1", live=True,
                    now=NOW)
    return Post(**{**post.__dict__, **changes})


# -- the status machine ------------------------------------------------------------------


def test_a_post_is_claimed_before_it_is_sent_and_then_recorded():
    claimed = _post().claim(NOW, 60)
    assert (claimed.status, claimed.attempts, claimed.sending_until, claimed.version) == ("sending", 1, NOW + 60, 2)
    sent = claimed.mark_sent(NOW + 1, "123", "https://x.com/i/web/status/123")
    assert sent.status == "sent" and sent.sending_until is None and sent.sent_at == NOW + 1
    for move in (lambda p: p.cancel(NOW, "x"), lambda p: p.claim(NOW + 999, 1), lambda p: p.requeue(NOW)):
        with pytest.raises(InvalidTransition):
            move(sent)


def test_only_a_due_post_is_claimed_and_an_expired_lease_makes_it_uncertain():
    later = _post(next_attempt_at=NOW + 10)
    with pytest.raises(InvalidTransition):
        later.claim(NOW, 60)
    sending = _post().claim(NOW, 60)
    with pytest.raises(InvalidTransition):
        sending.claim(NOW + 59, 60)  # its sender is still alive
    retaken = sending.claim(NOW + 61, 60)
    assert retaken.uncertain and retaken.attempts == 2


def test_transient_failures_count_towards_the_limit_but_rate_limits_do_not():
    post = _post().claim(NOW, 60)
    waiting = post.retry_at(NOW, NOW + 900, "429", counts=False, max_failures=2)
    assert (waiting.status, waiting.failures, waiting.next_attempt_at) == ("pending", 0, NOW + 900)
    once = post.retry_at(NOW, NOW + 5, "503", counts=True, max_failures=2)
    assert (once.status, once.failures) == ("pending", 1)
    twice = once.claim(NOW + 5, 60).retry_at(NOW + 6, NOW + 20, "503", counts=True, max_failures=2)
    assert twice.status == "failed" and "gave up after 2 failed attempts; last error: 503" in twice.last_error


def test_an_operator_retry_starts_a_failed_post_over():
    failed = _post().claim(NOW, 60).fail(NOW, "401")
    again = failed.requeue(NOW + 5)
    assert (again.status, again.failures, again.next_attempt_at) == ("pending", 0, NOW + 5)
    with pytest.raises(InvalidTransition):
        _post(status="dry_run").requeue(NOW)


def test_text_sent_once_is_never_recomposed():
    fresh = _post()
    assert fresh.recompose(NOW, "new text", fresh.link).text == "new text"
    attempted = fresh.claim(NOW, 60).retry_at(NOW, NOW + 5, "503", counts=True, max_failures=5)
    assert attempted.recompose(NOW, "new text", fresh.link) is attempted
    cancelled = attempted.cancel(NOW, "made private")
    assert cancelled.revive(NOW, "new text").text == "hello"


def test_planning_cancels_only_what_has_not_started_sending():
    summary = summary_state(deleted=True)
    posts = [_post(id="a", channel="twitter"), _post(id="b", channel="facebook").claim(NOW, 60)]
    written = plan_posts(summary, posts, channels={"twitter": True, "facebook": True},
                         compose=lambda c: ("t", "l"), fresh=True, now=NOW)
    assert [(p.id, p.status) for p in written] == [("a", "cancelled")]
    assert "deleted" in written[0].last_error


def test_planning_creates_one_post_per_channel_live_or_dry():
    summary = summary_state()
    written = plan_posts(summary, [], channels={"twitter": True, "facebook": False},
                         compose=lambda c: (f"text for {c}", "link"), fresh=True, now=NOW)
    assert sorted((p.channel, p.status, p.text) for p in written) == [
        ("facebook", "dry_run", "text for facebook"), ("twitter", "pending", "text for twitter")]
    assert plan_posts(summary, [], channels={"twitter": True}, compose=lambda c: ("t", "l"), fresh=False,
                      now=NOW) == []


# -- pacing and backoff ------------------------------------------------------------------


def test_pace_allows_a_burst_up_to_the_cap_then_waits_for_the_window():
    pace = Pace(limit=3, window=HOUR)
    assert pace.room([], NOW) == 3 and pace.next_slot([], NOW) == NOW
    sends = [NOW - 3000, NOW - 100, NOW - 50]
    assert pace.room(sends, NOW) == 0
    assert pace.next_slot(sends, NOW) == NOW - 3000 + HOUR
    assert pace.room([NOW - HOUR - 1, NOW - 10], NOW) == 2  # outside the window: forgotten
    assert Pace(limit=0, window=HOUR).room(sends * 100, NOW) is None


def test_retry_delay_grows_exponentially_with_jitter_and_a_cap():
    assert retry_delay(1, base=10, cap=1000, rand=lambda: 0.0) == 5
    assert retry_delay(1, base=10, cap=1000, rand=lambda: 1.0) == 10
    assert retry_delay(4, base=10, cap=1000, rand=lambda: 1.0) == 80
    assert retry_delay(30, base=10, cap=1000, rand=lambda: 1.0) == 1000


# -- what the platforms' answers mean ----------------------------------------------------


def test_x_answers():
    ok = twitter_result(201, {"data": {"id": "42", "text": "t"}}, {}, now=NOW, default_wait=900)
    assert ok == Sent("42", "https://x.com/i/web/status/42", None)
    spent = twitter_result(201, {"data": {"id": "42"}}, {"x-user-limit-24hour-remaining": "0",
                                                          "x-user-limit-24hour-reset": str(int(NOW) + 500)},
                           now=NOW, default_wait=900)
    assert spent.pause_until == NOW + 500
    assert twitter_result(429, None, {}, now=NOW, default_wait=900) == RateLimited(NOW + 900, "429 (no error body)")
    legacy = {"errors": [{"code": 187, "message": "Status is a duplicate."}]}
    assert isinstance(twitter_result(403, legacy, {}, now=NOW, default_wait=900), Duplicate)
    assert isinstance(twitter_result(400, {"title": "Invalid Request"}, {}, now=NOW, default_wait=900), Rejected)
    assert isinstance(twitter_result(502, None, {}, now=NOW, default_wait=900), Transient)
    assert isinstance(twitter_result(200, {"errors": []}, {}, now=NOW, default_wait=900), Transient)


def test_graph_answers():
    buc = {"x-business-use-case-usage": json.dumps({"1": [{"type": "pages", "call_count": 96, "total_cputime": 3,
                                                          "total_time": 4, "estimated_time_to_regain_access": 0}]})}
    assert facebook_usage(buc) == (96.0, 0.0)
    nearly = facebook_result(200, {"id": "1_2"}, buc, now=NOW, default_wait=600)
    assert nearly == Sent("1_2", "https://www.facebook.com/1/posts/2", NOW + 600)
    assert facebook_result(200, {"id": "1_2"}, {}, now=NOW, default_wait=600).pause_until is None
    unknown = {"error": {"message": "Please reduce the amount of data", "type": "OAuthException", "code": 1,
                         "is_transient": True}}
    assert isinstance(facebook_result(500, unknown, {}, now=NOW, default_wait=600), Transient)
    transient_flag = {"error": {"message": "Temporary", "code": 9999, "is_transient": True}}
    assert isinstance(facebook_result(400, transient_flag, {}, now=NOW, default_wait=600), Transient)
    permission = {"error": {"message": "(#200) Permissions error", "type": "OAuthException", "code": 200}}
    assert isinstance(facebook_result(403, permission, {}, now=NOW, default_wait=600), Rejected)
    assert isinstance(facebook_result(400, None, {}, now=NOW, default_wait=600), Rejected)


# -- settings ----------------------------------------------------------------------------


def test_settings_read_the_public_names(monkeypatch, tmp_path):
    monkeypatch.setenv("SOCIAL_TWITTER_MAX_PER_DAY", "5")
    monkeypatch.setenv("SHORTSCIENCE_SOCIAL_FACEBOOK_MAX_PER_HOUR", "7")
    monkeypatch.setenv("TWITTER_API_BASE_URL", "http://127.0.0.1:9")
    monkeypatch.setenv("FACEBOOK_GRAPH_BASE_URL", "http://127.0.0.1:10")
    monkeypatch.setenv("SHORTSCIENCE_PUBLIC_URL", "https://shortscience.org")
    for name in ("TWITTER_CONSUMER_KEY", "TWITTER_CONSUMER_SECRET", "TWITTER_ACCESS_TOKEN",
                 "TWITTER_ACCESS_TOKEN_SECRET"):
        monkeypatch.setenv(name, "x")
    settings = SocialSettings(data_dir=tmp_path)
    assert (settings.twitter_max_per_day, settings.facebook_max_per_hour) == (5, 7)
    assert settings.twitter_api_base_url == "http://127.0.0.1:9"
    assert settings.facebook_graph_base_url == "http://127.0.0.1:10"
    assert settings.public_url == "https://shortscience.org"
    assert settings.facebook_graph_version == "v26.0"
    assert settings.live("twitter") and not settings.live("facebook")
    assert "x" not in repr(settings.twitter_consumer_key)  # secrets never print


def test_settings_refuse_half_configured_credentials_and_bad_values(monkeypatch, tmp_path):
    monkeypatch.setenv("FACEBOOK_PAGE_TOKEN", "token-without-a-page")
    with pytest.raises(ValidationError, match="FACEBOOK_PAGE_ID"):
        SocialSettings(data_dir=tmp_path)
    monkeypatch.delenv("FACEBOOK_PAGE_TOKEN")
    with pytest.raises(ValidationError, match="unknown channel"):
        SocialSettings(data_dir=tmp_path, channels="twitter,myspace")
    with pytest.raises(ValidationError, match="link"):
        SocialSettings(data_dir=tmp_path, twitter_template="{title}")
    with pytest.raises(ValidationError):
        SocialSettings(data_dir=tmp_path, facebook_graph_version="26")
    assert SocialSettings(data_dir=tmp_path).enabled_channels == ("twitter", "facebook")
