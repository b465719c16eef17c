"""Votes and comments on summaries through the gateway."""

from __future__ import annotations

from tests.api.support import assert_problem


async def vote(platform, who, summary_id, value):
    return await platform.client.put(f"/api/v1/summaries/{summary_id}/vote", json={"value": value},
                                     headers=who["headers"])


async def score_of(platform, summary_id) -> int:
    return (await platform.client.get(f"/api/v1/summaries/{summary_id}")).json()["score"]


async def comment(platform, who, summary_id, body):
    return await platform.client.post(f"/api/v1/summaries/{summary_id}/comments", json={"body": body},
                                      headers=who["headers"])


async def comment_bodies(platform, summary_id, who=None) -> list[str]:
    r = await platform.client.get(f"/api/v1/summaries/{summary_id}/comments",
                                  headers=who["headers"] if who else None)
    assert r.status_code == 200, r.text
    return [c["body"] for c in r.json()]


async def test_score_is_the_sum_of_votes_across_users(platform):
    ada, bob, cat, dan = [await platform.user() for _ in range(4)]
    paper = await platform.paper(ada)
    s = await platform.summary(ada, paper["id"])

    r = await vote(platform, bob, s["id"], 1)
    assert r.status_code == 200 and r.json() == {"score": 1, "my_vote": 1}
    assert (await vote(platform, cat, s["id"], 1)).json() == {"score": 2, "my_vote": 1}
    assert (await vote(platform, dan, s["id"], -1)).json() == {"score": 1, "my_vote": -1}
    assert await score_of(platform, s["id"]) == 1


async def test_changing_repeating_and_retracting_a_vote(platform):
    ada, bob, cat = [await platform.user() for _ in range(3)]
    paper = await platform.paper(ada)
    s = await platform.summary(ada, paper["id"])
    await vote(platform, cat, s["id"], 1)

    assert (await vote(platform, bob, s["id"], 1)).json() == {"score": 2, "my_vote": 1}
    assert (await vote(platform, bob, s["id"], 1)).json() == {"score": 2, "my_vote": 1}  # idempotent
    assert (await vote(platform, bob, s["id"], -1)).json() == {"score": 0, "my_vote": -1}  # changed, not added
    assert (await vote(platform, bob, s["id"], 0)).json() == {"score": 1, "my_vote": 0}  # retracted
    assert (await vote(platform, bob, s["id"], 0)).json() == {"score": 1, "my_vote": 0}
    assert await score_of(platform, s["id"]) == 1


async def test_my_vote_is_shown_to_the_voter_only(platform):
    ada, bob, cat = [await platform.user() for _ in range(3)]
    paper = await platform.paper(ada)
    s = await platform.summary(ada, paper["id"])
    await vote(platform, bob, s["id"], -1)

    async def my_vote(who):
        got = await platform.client.get(f"/api/v1/summaries/{s['id']}", headers=who["headers"] if who else None)
        listed = await platform.client.get(f"/api/v1/papers/{paper['id']}/summaries",
                                           headers=who["headers"] if who else None)
        everywhere = await platform.client.get("/api/v1/summaries", headers=who["headers"] if who else None)
        values = {got.json()["my_vote"], listed.json()["items"][0]["my_vote"], everywhere.json()["items"][0]["my_vote"]}
        assert len(values) == 1, values
        return values.pop()

    assert await my_vote(bob) == -1
    assert await my_vote(cat) == 0
    assert await my_vote(ada) == 0
    assert await my_vote(None) is None


async def test_voting_on_ones_own_summary_is_403(platform):
    ada = await platform.user()
    paper = await platform.paper(ada)
    s = await platform.summary(ada, paper["id"])
    assert_problem(await vote(platform, ada, s["id"], 1), 403)
    assert await score_of(platform, s["id"]) == 0


async def test_voting_needs_a_user_and_a_visible_summary(platform):
    ada, bob = await platform.user(), await platform.user()
    paper = await platform.paper(ada)
    s = await platform.summary(ada, paper["id"])
    private = await platform.summary(bob, paper["id"], visibility="private")
    r = await platform.client.put(f"/api/v1/summaries/{s['id']}/vote", json={"value": 1})
    assert_problem(r, 401, "authorization")
    assert_problem(await vote(platform, bob, "no-such-summary", 1), 404, "summary_id")
    assert_problem(await vote(platform, ada, private["id"], 1), 404, "summary_id")
    assert await score_of(platform, s["id"]) == 0
    assert (await platform.client.get(f"/api/v1/summaries/{private['id']}", headers=bob["headers"])).json()["score"] == 0


async def test_comments_are_added_and_listed_in_order(platform):
    ada, bob = await platform.user(), await platform.user()
    paper = await platform.paper(ada)
    s = await platform.summary(ada, paper["id"])

    r = await comment(platform, bob, s["id"], "Is the *shortcut* needed? $x$")
    assert r.status_code == 201
    c = r.json()
    assert c["id"] and c["summary_id"] == s["id"] and c["hidden"] is False
    assert c["author"] == {"id": bob["id"], "username": bob["username"]}
    assert "<em>shortcut</em>" in c["body_html"] and "<math" in c["body_html"]
    assert (await comment(platform, ada, s["id"], "Yes, see section 4.")).status_code == 201

    assert await comment_bodies(platform, s["id"]) == ["Is the *shortcut* needed? $x$", "Yes, see section 4."]
    assert (await platform.client.get(f"/api/v1/summaries/{s['id']}")).json()["comments"] == 2


async def test_commenting_needs_a_user_a_body_and_a_visible_summary(platform):
    ada, bob = await platform.user(), await platform.user()
    paper = await platform.paper(ada)
    s = await platform.summary(ada, paper["id"])
    private = await platform.summary(bob, paper["id"], visibility="private")
    r = await platform.client.post(f"/api/v1/summaries/{s['id']}/comments", json={"body": "anonymous?"})
    assert_problem(r, 401)
    assert_problem(await comment(platform, bob, s["id"], ""), 422, "body")
    assert_problem(await comment(platform, bob, s["id"], "   \n "), 422, "body")
    assert_problem(await comment(platform, bob, "no-such-summary", "hello"), 404, "summary_id")
    assert_problem(await comment(platform, ada, private["id"], "peek"), 404, "summary_id")
    assert await comment_bodies(platform, s["id"]) == []
    assert await comment_bodies(platform, private["id"], bob) == []


async def test_a_comment_hidden_by_its_author_is_not_listed_for_others(platform):
    ada, bob, cat = [await platform.user() for _ in range(3)]
    mod = await platform.user(roles={"moderator"})
    paper = await platform.paper(ada)
    s = await platform.summary(ada, paper["id"])
    regretted = (await comment(platform, bob, s["id"], "Regretted remark")).json()
    await comment(platform, cat, s["id"], "Fine remark")

    r = await platform.client.post(f"/api/v1/comments/{regretted['id']}/hide", headers=bob["headers"])
    assert r.status_code == 200 and r.json()["hidden"] is True

    assert await comment_bodies(platform, s["id"]) == ["Fine remark"]
    assert await comment_bodies(platform, s["id"], ada) == ["Fine remark"]
    assert await comment_bodies(platform, s["id"], cat) == ["Fine remark"]
    assert await comment_bodies(platform, s["id"], bob) == ["Regretted remark", "Fine remark"]
    assert await comment_bodies(platform, s["id"], mod) == ["Regretted remark", "Fine remark"]
    assert (await platform.client.get(f"/api/v1/summaries/{s['id']}")).json()["comments"] == 1


async def test_a_moderator_hides_any_comment_and_others_cannot(platform):
    ada, bob = await platform.user(), await platform.user()
    mod = await platform.user(roles={"moderator"})
    paper = await platform.paper(ada)
    s = await platform.summary(ada, paper["id"])
    rude = (await comment(platform, bob, s["id"], "Rude remark")).json()

    # neither the summary's author nor an anonymous visitor may hide someone else's comment
    assert_problem(await platform.client.post(f"/api/v1/comments/{rude['id']}/hide", headers=ada["headers"]), 403)
    assert_problem(await platform.client.post(f"/api/v1/comments/{rude['id']}/hide"), 401)
    assert await comment_bodies(platform, s["id"]) == ["Rude remark"]

    r = await platform.client.post(f"/api/v1/comments/{rude['id']}/hide", headers=mod["headers"])
    assert r.status_code == 200 and r.json()["hidden"] is True
    assert await comment_bodies(platform, s["id"]) == []
    assert await comment_bodies(platform, s["id"], ada) == []
    hidden = (await platform.client.get(f"/api/v1/summaries/{s['id']}/comments", headers=mod["headers"])).json()
    assert [(c["body"], c["hidden"]) for c in hidden] == [("Rude remark", True)]
    # hiding twice changes nothing
    again = await platform.client.post(f"/api/v1/comments/{rude['id']}/hide", headers=mod["headers"])
    assert again.status_code == 200 and again.json()["hidden"] is True
    assert (await platform.client.get(f"/api/v1/summaries/{s['id']}")).json()["comments"] == 0
    assert_problem(await platform.client.post("/api/v1/comments/no-such-comment/hide", headers=mod["headers"]),
                   404, "comment_id")
