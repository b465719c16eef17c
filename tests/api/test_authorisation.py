"""Who may do what: authors own their summaries, moderators hide and delete, anonymous
authors stay hidden, private summaries stay private, and identity comes only from a token."""

from __future__ import annotations

from backbone.runtime import make_event_log

from tests.api.support import assert_problem
from tests.helpers import eventually


def auth(who):
    return who["headers"] if who else None


async def get(platform, path, who=None):
    return await platform.client.get(path, headers=auth(who))


async def test_another_user_cannot_edit_or_delete_a_summary(platform):
    ada, bob = await platform.user(), await platform.user()
    paper = await platform.paper(ada)
    s = await platform.summary(ada, paper["id"], body="Ada's words.")

    assert_problem(await platform.client.patch(f"/api/v1/summaries/{s['id']}", headers=bob["headers"],
                                               json={"body": "Bob's words."}), 403)
    assert_problem(await platform.client.delete(f"/api/v1/summaries/{s['id']}", headers=bob["headers"]), 403)
    assert_problem(await platform.client.patch(f"/api/v1/summaries/{s['id']}", json={"body": "Nobody's words."}), 401)
    assert_problem(await platform.client.delete(f"/api/v1/summaries/{s['id']}"), 401)

    after = (await get(platform, f"/api/v1/summaries/{s['id']}")).json()
    assert after["body"] == "Ada's words." and after["revision"] == 1
    assert len((await get(platform, f"/api/v1/summaries/{s['id']}/revisions")).json()) == 1


async def test_a_moderator_may_delete_but_not_rewrite(platform):
    ada = await platform.user()
    mod = await platform.user(roles={"moderator"})
    paper = await platform.paper(ada)
    s = await platform.summary(ada, paper["id"], body="Ada's words.")

    assert_problem(await platform.client.patch(f"/api/v1/summaries/{s['id']}", headers=mod["headers"],
                                               json={"body": "Moderated words."}), 403)
    assert (await get(platform, f"/api/v1/summaries/{s['id']}")).json()["body"] == "Ada's words."

    assert (await platform.client.delete(f"/api/v1/summaries/{s['id']}", headers=mod["headers"])).status_code == 204
    for who in (None, ada, mod):
        assert_problem(await get(platform, f"/api/v1/summaries/{s['id']}", who), 404)
    assert (await get(platform, f"/api/v1/papers/{paper['id']}/summaries", ada)).json()["total"] == 0


async def test_a_moderator_hides_a_summary_from_everyone_but_its_author(platform):
    ada, bob = await platform.user(), await platform.user()
    mod = await platform.user(roles={"moderator"})
    paper = await platform.paper(ada, venue="ICLR", year=2020)
    s = await platform.summary(ada, paper["id"])

    assert_problem(await platform.client.post(f"/api/v1/summaries/{s['id']}/hide", headers=bob["headers"]), 403)
    assert_problem(await platform.client.post(f"/api/v1/summaries/{s['id']}/hide", headers=ada["headers"]), 403)
    assert (await get(platform, f"/api/v1/summaries/{s['id']}", bob)).json()["hidden"] is False

    r = await platform.client.post(f"/api/v1/summaries/{s['id']}/hide", headers=mod["headers"])
    assert r.status_code == 200 and r.json()["hidden"] is True

    for who in (None, bob):
        assert_problem(await get(platform, f"/api/v1/summaries/{s['id']}", who), 404)
        assert (await get(platform, f"/api/v1/papers/{paper['id']}/summaries", who)).json()["total"] == 0
        assert (await get(platform, "/api/v1/summaries", who)).json()["total"] == 0
    for who in (ada, mod):
        seen = await get(platform, f"/api/v1/summaries/{s['id']}", who)
        assert seen.status_code == 200 and seen.json()["hidden"] is True
    assert (await get(platform, "/api/v1/venues")).json()[0]["summaries"] == 0


async def test_an_anonymous_summary_hides_its_author_from_everyone_else(platform):
    ada, bob = await platform.user(), await platform.user()
    mod = await platform.user(roles={"moderator"})
    paper = await platform.paper(bob)
    r = await platform.client.post(f"/api/v1/papers/{paper['id']}/summaries", headers=ada["headers"],
                                   json={"body": "Said without my name.", "anonymous": True})
    assert r.status_code == 201
    s = r.json()
    assert s["anonymous"] is True and s["author"] == {"id": ada["id"], "username": ada["username"]}
    await platform.client.put(f"/api/v1/summaries/{s['id']}/vote", json={"value": 1}, headers=bob["headers"])

    for who in (None, bob):
        responses = [
            await get(platform, f"/api/v1/summaries/{s['id']}", who),
            await get(platform, f"/api/v1/papers/{paper['id']}/summaries", who),
            await get(platform, "/api/v1/summaries", who),
            await get(platform, "/api/v1/summaries?sort=score", who),
            await get(platform, f"/api/v1/summaries/{s['id']}/revisions", who),
        ]
        assert responses[0].json()["author"] is None and responses[0].json()["anonymous"] is True
        assert [i["author"] for i in responses[1].json()["items"]] == [None]
        assert [i["author"] for i in responses[2].json()["items"]] == [None]
        for response in responses:
            assert response.status_code == 200
            assert ada["id"] not in response.text and ada["username"] not in response.text

    for who in (ada, mod):
        expected = {"id": ada["id"], "username": ada["username"]}
        assert (await get(platform, f"/api/v1/summaries/{s['id']}", who)).json()["author"] == expected
        listed = (await get(platform, f"/api/v1/papers/{paper['id']}/summaries", who)).json()
        assert [i["author"] for i in listed["items"]] == [expected]
        assert [i["author"] for i in (await get(platform, "/api/v1/summaries", who)).json()["items"]] == [expected]

    revised = await platform.client.patch(f"/api/v1/summaries/{s['id']}", headers=ada["headers"],
                                          json={"body": "Still without my name."})
    assert revised.status_code == 200
    assert (await get(platform, f"/api/v1/summaries/{s['id']}", bob)).json()["author"] is None


async def test_an_anonymous_summary_leaves_no_author_in_events(platform):
    ada, bob = await platform.user(), await platform.user()
    paper = await platform.paper(bob)
    s = await platform.summary(ada, paper["id"], body="Nameless.", anonymous=True)
    await platform.client.patch(f"/api/v1/summaries/{s['id']}", headers=ada["headers"], json={"body": "Nameless 2."})
    await platform.client.put(f"/api/v1/summaries/{s['id']}/vote", json={"value": 1}, headers=bob["headers"])
    log = make_event_log(platform.settings)  # the platform's own log, whichever engine it is
    await log.start()
    reader = log.consumer(f"test-reader-{s['id']}", ["summaries"])
    seen: list[str] = []

    async def summary_events() -> list[str]:
        for record in await reader.poll(100, timeout=0.2):
            if record.key == s["id"]:
                seen.append(record.envelope.model_dump_json())
        return seen if len(seen) >= 3 else []

    events = await eventually(summary_events)
    assert any("SummaryPublished" in e for e in events) and any("SummaryRevised" in e for e in events)
    for envelope in events:
        assert ada["id"] not in envelope and ada["username"] not in envelope
    await reader.close()
    await log.close()


async def test_a_private_summary_is_visible_to_its_author_only(platform):
    ada, bob = await platform.user(), await platform.user()
    mod = await platform.user(roles={"moderator"})
    paper = await platform.paper(bob, venue="ICLR", year=2020)
    s = await platform.summary(ada, paper["id"], body="Notes to self.", visibility="private")
    assert s["visibility"] == "private"

    mine = await get(platform, f"/api/v1/summaries/{s['id']}", ada)
    assert mine.status_code == 200 and mine.json()["body"] == "Notes to self."
    assert [i["id"] for i in (await get(platform, f"/api/v1/papers/{paper['id']}/summaries", ada)).json()["items"]] \
        == [s["id"]]
    assert (await get(platform, f"/api/v1/summaries/{s['id']}/revisions", ada)).status_code == 200

    for who in (None, bob, mod):
        assert_problem(await get(platform, f"/api/v1/summaries/{s['id']}", who), 404, "summary_id")
        assert_problem(await get(platform, f"/api/v1/summaries/{s['id']}/revisions", who), 404)
        assert_problem(await get(platform, f"/api/v1/summaries/{s['id']}/comments", who), 404)
        listed = await get(platform, f"/api/v1/papers/{paper['id']}/summaries", who)
        assert listed.status_code == 200 and listed.json()["total"] == 0
        assert (await get(platform, "/api/v1/summaries", who)).json()["total"] == 0
        assert (await get(platform, "/api/v1/summaries?venue=iclr&year=2020", who)).json()["total"] == 0
        assert "Notes to self." not in listed.text
    # others get the same 404 as for a summary that does not exist, even when writing
    assert_problem(await platform.client.patch(f"/api/v1/summaries/{s['id']}", headers=bob["headers"],
                                               json={"body": "x"}), 404)
    assert_problem(await platform.client.delete(f"/api/v1/summaries/{s['id']}", headers=mod["headers"]), 404)
    assert (await get(platform, "/api/v1/venues")).json() == [{"key": "iclr", "name": "ICLR", "papers": 1,
                                                                "summaries": 0}]
    assert (await get(platform, "/api/v1/venues/iclr/years")).json() == [{"year": 2020, "papers": 1,
                                                                           "summaries": 0}]
    # still the author's, untouched
    assert (await get(platform, f"/api/v1/summaries/{s['id']}", ada)).json()["body"] == "Notes to self."

    # made public, it shows everywhere
    r = await platform.client.patch(f"/api/v1/summaries/{s['id']}", headers=ada["headers"],
                                    json={"visibility": "public"})
    assert r.status_code == 200
    assert (await get(platform, f"/api/v1/summaries/{s['id']}", bob)).status_code == 200
    assert (await get(platform, "/api/v1/venues")).json()[0]["summaries"] == 1


async def test_identity_headers_from_a_client_grant_nothing(platform):
    ada = await platform.user(roles={"moderator", "admin"})
    bob = await platform.user()
    paper = await platform.paper(ada)
    private = await platform.summary(ada, paper["id"], body="Ada's private notes.", visibility="private")
    anonymous = await platform.summary(bob, paper["id"], body="Bob, unnamed.", anonymous=True)
    forged = {"x-user-id": ada["id"], "x-user-name": ada["username"], "x-user-roles": "admin,moderator,member",
              "x-shortscience-internal": platform.settings.internal_secret}

    r = await platform.client.post("/api/v1/papers", headers=forged, json={"title": "Forged", "authors": ["X"]})
    assert_problem(r, 401, "authorization")
    assert_problem(await platform.client.get("/api/v1/me", headers=forged), 401)
    assert_problem(await platform.client.get(f"/api/v1/summaries/{private['id']}", headers=forged), 404)
    assert (await platform.client.get(f"/api/v1/summaries/{anonymous['id']}", headers=forged)).json()["author"] is None
    assert_problem(await platform.client.delete(f"/api/v1/summaries/{anonymous['id']}", headers=forged), 401)

    # next to a real member's token, forged headers do not raise the member's rights
    as_bob = {**forged, **bob["headers"]}
    assert_problem(await platform.client.patch(f"/api/v1/papers/{paper['id']}", headers=as_bob,
                                               json={"title": "Forged title"}), 403)
    assert_problem(await platform.client.get(f"/api/v1/summaries/{private['id']}", headers=as_bob), 404)
    me = (await platform.client.get("/api/v1/me", headers=as_bob)).json()
    assert me["id"] == bob["id"] and me["roles"] == ["member"]

    assert (await platform.client.get(f"/api/v1/papers/{paper['id']}")).json()["title"] == paper["title"]
    assert (await platform.client.get("/api/v1/papers")).json()["total"] == 1
