"""The operators' endpoints through the gateway (`/api/v1/social/...`): moderators and
admins only, in the all-in-one process and over HTTP in a split deployment; and the whole
platform posting to the fake platforms, anonymous authors unnamed."""

from __future__ import annotations

from contextlib import AsyncExitStack

import httpx
import pytest

from backbone.eventlog.sqlite import SqliteEventLog
from backbone.events import SummaryPublished
from gateway.bootstrap import create_http_gateway
from services.social.bootstrap import create_http_app as social_app
from services.social.config import SocialSettings
from tests.conftest import Platform, Server, make_settings, start_platform
from tests.helpers import eventually
from tests.social.conftest import summary_state
from tests.social.fakes import TWITTER_UNAUTHORIZED, FakeFacebook, FakeTwitter


def _paths(post_id: str = "01hzzzzzzzzzzzzzzzzzzzzzzz", summary_id: str = "01hyyyyyyyyyyyyyyyyyyyyyyy"):
    return [("GET", "/api/v1/social/posts"), ("GET", f"/api/v1/social/posts/{post_id}"),
            ("POST", f"/api/v1/social/posts/{post_id}/retry"), ("GET", f"/api/v1/social/preview/{summary_id}")]


def _problem(response: httpx.Response, status: int) -> dict:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    return response.json()


async def test_only_moderators_and_admins_reach_the_social_endpoints(platform):
    member = await platform.user()
    c = platform.client
    for method, path in _paths():
        _problem(await c.request(method, path), 401)
        problem = _problem(await c.request(method, path, headers=member["headers"]), 403)
        assert "moderators" in problem["detail"]
    for roles in ({"moderator"}, {"admin"}):
        operator = await platform.user(roles=roles)
        r = await c.get("/api/v1/social/posts", headers=operator["headers"])
        assert r.status_code == 200 and r.json()["total"] == 0


async def test_operators_see_dry_run_posts_and_previews(platform):
    author, moderator = await platform.user(), await platform.user(roles={"moderator"})
    paper = await platform.paper(author, title="Generative Adversarial Nets", venue="NeurIPS", year=2014)
    summary = await platform.summary(author, paper["id"], body="Two networks play a minimax game. Then more.")
    c, headers = platform.client, moderator["headers"]

    async def both_posts():
        r = await c.get("/api/v1/social/posts", headers=headers)
        return r.json() if r.json()["total"] == 2 else None

    page = await eventually(both_posts)
    assert {p["channel"] for p in page["items"]} == {"twitter", "facebook"}
    assert all(p["status"] == "dry_run" and p["summary_id"] == summary["id"] for p in page["items"])
    tweet = next(p for p in page["items"] if p["channel"] == "twitter")
    assert tweet["text"].startswith("Generative Adversarial Nets (NeurIPS 2014)")
    assert tweet["weighted_length"] <= 280 and tweet["link"].endswith(f"/summaries/{summary['id']}")

    r = await c.get("/api/v1/social/posts", params={"channel": "facebook", "status": "dry_run", "size": 1},
                    headers=headers)
    assert r.status_code == 200 and r.json()["total"] == 1 and r.json()["size"] == 1
    r = await c.get("/api/v1/social/posts", params={"status": "sent"}, headers=headers)
    assert r.json() == {"items": [], "total": 0, "page": 1, "size": 20}
    problem = _problem(await c.get("/api/v1/social/posts", params={"status": "posted"}, headers=headers), 422)
    assert problem["errors"][0]["field"] == "status"

    r = await c.get(f"/api/v1/social/posts/{tweet['id']}", headers=headers)
    assert r.status_code == 200 and r.json()["history"] == [] and r.json()["text"] == tweet["text"]
    _problem(await c.get("/api/v1/social/posts/01hzzzzzzzzzzzzzzzzzzzzzzz", headers=headers), 404)
    problem = _problem(await c.post(f"/api/v1/social/posts/{tweet['id']}/retry", headers=headers), 409)
    assert "dry_run" in problem["detail"]

    r = await c.get(f"/api/v1/social/preview/{summary['id']}", headers=headers)
    assert r.status_code == 200
    previews = {p["channel"]: p for p in r.json()["channels"]}
    assert previews["twitter"]["text"] == tweet["text"] and previews["twitter"]["max_weighted_length"] == 280
    assert previews["facebook"]["max_weighted_length"] is None and previews["twitter"]["live"] is False
    _problem(await c.get("/api/v1/social/preview/01hyyyyyyyyyyyyyyyyyyyyyyy", headers=headers), 404)


@pytest.fixture
async def live_platform(tmp_path, monkeypatch):
    """The whole platform with both channels pointed at the fakes."""
    async with FakeTwitter() as twitter, FakeFacebook() as facebook:
        env = {"TWITTER_API_BASE_URL": twitter.url, "TWITTER_CONSUMER_KEY": twitter.consumer_key,
               "TWITTER_CONSUMER_SECRET": twitter.consumer_secret, "TWITTER_ACCESS_TOKEN": twitter.access_token,
               "TWITTER_ACCESS_TOKEN_SECRET": twitter.access_token_secret,
               "FACEBOOK_GRAPH_BASE_URL": facebook.url, "FACEBOOK_PAGE_ID": facebook.page_id,
               "FACEBOOK_PAGE_TOKEN": facebook.page_token, "SOCIAL_IDLE_SECONDS": "0.05",
               "SOCIAL_RETRY_BASE_SECONDS": "0.05"}
        for name, value in env.items():
            monkeypatch.setenv(name, value)
        server, plat = await start_platform(tmp_path)
        try:
            yield plat, twitter, facebook
        finally:
            await plat.client.aclose()
            await server.__aexit__()


async def test_anonymous_summaries_are_posted_without_their_author(live_platform):
    plat, twitter, facebook = live_platform
    hidden_author, named_author = await plat.user("zelda_hidden"), await plat.user("yuri_named")
    paper = await plat.paper(hidden_author, title="Neural Machine Translation by Jointly Learning to Align")
    await plat.summary(hidden_author, paper["id"], body="Attention aligns source and target words. More.",
                       anonymous=True)
    await plat.summary(named_author, paper["id"], body="A soft search over source positions. More.")

    await eventually(lambda: len(twitter.tweets) == 2 and len(facebook.posts) == 2)
    texts = [t["text"] for t in twitter.tweets] + [p["message"] for p in facebook.posts]
    anonymous = [t for t in texts if "Attention aligns" in t]
    assert len(anonymous) == 2 and all("zelda" not in t and "Summary by" not in t for t in anonymous)
    assert not any("zelda" in t for t in texts)
    assert all("Summary by yuri_named" in t for t in texts if "soft search" in t)


async def test_an_operator_retries_a_failed_post(live_platform):
    plat, twitter, _ = live_platform
    author, moderator = await plat.user(), await plat.user(roles={"admin"})
    twitter.queue(401, TWITTER_UNAUTHORIZED)
    paper = await plat.paper(author)
    summary = await plat.summary(author, paper["id"], body="Worth a retry. More.")
    c, headers = plat.client, moderator["headers"]

    async def failed():
        r = await c.get("/api/v1/social/posts", params={"channel": "twitter", "status": "failed"}, headers=headers)
        return r.json()["items"] if r.json()["total"] == 1 else None

    [post] = await eventually(failed)
    assert post["summary_id"] == summary["id"] and "401" in post["last_error"]
    _problem(await c.post(f"/api/v1/social/posts/{post['id']}/retry", headers=author["headers"]), 403)
    r = await c.post(f"/api/v1/social/posts/{post['id']}/retry", headers=headers)
    assert r.status_code == 200 and r.json()["status"] == "pending" and r.json()["failures"] == 0

    async def sent():
        r = await c.get(f"/api/v1/social/posts/{post['id']}", headers=headers)
        return r.json() if r.json()["status"] == "sent" else None

    done = await eventually(sent)
    assert [a["outcome"] for a in done["history"]] == ["rejected", "sent"]
    assert done["platform_post_id"] == twitter.tweets[0]["id"] and len(twitter.tweets) == 1
    _problem(await c.post(f"/api/v1/social/posts/{post['id']}/retry", headers=headers), 409)


async def test_the_operator_endpoints_work_over_http_in_a_split_deployment(tmp_path):
    secret = "split-social-secret"
    common = dict(data_dir=tmp_path, environment="test", poll_interval=0.01, internal_secret=secret,
                  consumer_retry_base=0.01, log_level="WARNING")
    async with AsyncExitStack() as stack:
        social = await stack.enter_async_context(Server(social_app(SocialSettings(**common))))
        settings = make_settings(tmp_path, internal_secret=secret, social_url=social.url)
        gateway = await stack.enter_async_context(Server(create_http_gateway(settings)))
        client = await stack.enter_async_context(httpx.AsyncClient(base_url=gateway.url, timeout=10))
        plat = Platform(client, gateway.app, settings, gateway.url)
        moderator, member = await plat.user(roles={"moderator"}), await plat.user()

        log = SqliteEventLog(tmp_path / "events.db", poll_interval=0.01)  # as the summaries process would
        await log.start()
        stack.push_async_callback(log.close)
        state = summary_state(title="Playing Atari with Deep Reinforcement Learning")
        await log.publish([SummaryPublished(summary=state).envelope(aggregate_id=state.summary_id,
                                                                    aggregate_version=1, producer="summaries")])

        async def listed():
            r = await client.get("/api/v1/social/posts", headers=moderator["headers"])
            return r.json()["items"] if r.status_code == 200 and r.json()["total"] == 2 else None

        items = await eventually(listed)
        assert {i["status"] for i in items} == {"dry_run"}
        r = await client.get(f"/api/v1/social/posts/{items[0]['id']}", headers=moderator["headers"])
        assert r.status_code == 200 and r.json()["id"] == items[0]["id"]
        r = await client.get(f"/api/v1/social/preview/{state.summary_id}", headers=moderator["headers"])
        assert r.status_code == 200 and "Playing Atari" in r.json()["channels"][0]["text"]
        _problem(await client.post(f"/api/v1/social/posts/{items[0]['id']}/retry", headers=moderator["headers"]),
                 409)
        _problem(await client.get("/api/v1/social/posts", headers=member["headers"]), 403)
        # The service refuses a caller without the internal secret, whatever the headers claim.
        async with httpx.AsyncClient() as raw:
            r = await raw.get(f"{social.url}/social/posts", headers={"x-user-id": "u", "x-user-roles": "admin"})
        assert r.status_code == 403
