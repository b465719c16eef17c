"""Export -> restore into a fresh data dir -> the API answers the same; the personal export
holds nothing of other users; the public dump leaves out private summaries and anonymous authors."""

from __future__ import annotations

import gzip

import orjson

from shortscience.portability import RestoreRefused, export_all, restore_all, write_dump
from tests.conftest import make_settings, start_platform

PASSWORD = "correct horse 1"


async def _seed(plat) -> dict:
    ada, bob, cy = await plat.user("ada"), await plat.user("bob"), await plat.user("cyd")
    p1 = await plat.paper(ada, title="Paper One", venue="ICLR", year=2020)
    p2 = await plat.paper(bob, title="Paper Two", venue="NeurIPS", year=2019)
    s1 = await plat.summary(ada, p1["id"], "First *version*.")
    await plat.client.patch(f"/api/v1/summaries/{s1['id']}", json={"body": "Second version with $x^2$."},
                            headers=ada["headers"])
    s2 = await plat.summary(bob, p1["id"], "Bob writes anonymously.", anonymous=True)
    s3 = await plat.summary(ada, p2["id"], "Ada's private notes.", visibility="private")
    s4 = await plat.summary(bob, p2["id"], "Bob on paper two.")
    for voter, summary, value in ((bob, s1, 1), (cy, s1, 1), (ada, s2, -1), (ada, s4, 1)):
        r = await plat.client.put(f"/api/v1/summaries/{summary['id']}/vote", json={"value": value},
                                  headers=voter["headers"])
        assert r.status_code == 200, r.text
    for author, summary, body in ((bob, s1, "Nice one, Ada."), (ada, s4, "Thanks Bob."), (cy, s1, "Agreed.")):
        r = await plat.client.post(f"/api/v1/summaries/{summary['id']}/comments", json={"body": body},
                                   headers=author["headers"])
        assert r.status_code == 201, r.text
    return {"users": (ada, bob, cy), "papers": (p1, p2), "summaries": (s1, s2, s3, s4)}


async def _listing(plat, users, summaries, papers) -> dict:
    """Everything a client can read, as each user sees it."""
    c = plat.client
    seen = {
        "papers": (await c.get("/api/v1/papers", params={"size": 100})).json(),
        "summaries": (await c.get("/api/v1/summaries", params={"size": 100})).json(),
        "venues": (await c.get("/api/v1/venues")).json(),
    }
    for user in users:
        h = user["headers"]
        for s in summaries:
            seen[f"{user['username']}:{s['id']}"] = (await c.get(f"/api/v1/summaries/{s['id']}", headers=h)).json()
            seen[f"{user['username']}:{s['id']}:rev"] = (
                await c.get(f"/api/v1/summaries/{s['id']}/revisions", headers=h)).json()
            seen[f"{user['username']}:{s['id']}:comments"] = (
                await c.get(f"/api/v1/summaries/{s['id']}/comments", headers=h)).json()
        for p in papers:
            seen[f"{user['username']}:{p['id']}:summaries"] = (
                await c.get(f"/api/v1/papers/{p['id']}/summaries", headers=h)).json()
    return seen


async def _login(plat, name: str) -> dict:
    r = await plat.client.post("/api/v1/auth/login", json={"username": name, "password": PASSWORD})
    assert r.status_code == 200, r.text
    me = (await plat.client.get("/api/v1/me", headers={"Authorization": f"Bearer {r.json()['access_token']}"}))
    return {**me.json(), "headers": {"Authorization": f"Bearer {r.json()['access_token']}"}}


async def test_export_then_restore_into_a_fresh_data_dir_gives_the_same_answers(tmp_path):
    old_dir, new_dir, out = tmp_path / "old", tmp_path / "new", tmp_path / "export"
    server, plat = await start_platform(old_dir)
    try:
        seeded = await _seed(plat)
        before = await _listing(plat, seeded["users"], seeded["summaries"], seeded["papers"])
    finally:
        await plat.client.aclose()
        await server.__aexit__()

    manifest = await export_all(make_settings(old_dir), out)
    assert manifest["counts"] == {"users": 3, "papers": 2, "summaries": 4, "votes": 4, "comments": 3}
    users_file = (out / "users.jsonl").read_bytes()
    assert b"argon2" not in users_file and b"password" not in users_file
    assert (out / "credentials.jsonl").read_bytes().count(b"$argon2") == 3

    counts = await restore_all(make_settings(new_dir), out)
    assert counts == manifest["counts"]

    server, plat = await start_platform(new_dir)
    try:
        # Old passwords work (hashes restored); the old tokens do not (never exported).
        old_token = seeded["users"][0]["headers"]
        assert (await plat.client.get("/api/v1/me", headers=old_token)).status_code == 401
        users = [await _login(plat, u["username"]) for u in seeded["users"]]
        assert [u["id"] for u in users] == [u["id"] for u in seeded["users"]]
        for user, old in zip(users, seeded["users"]):
            user["username"] = old["username"]
        after = await _listing(plat, users, seeded["summaries"], seeded["papers"])
        assert after == before
        # The summary's score and votes are back: bob's vote on s1 is still his.
        s1 = seeded["summaries"][0]["id"]
        bob_view = (await plat.client.get(f"/api/v1/summaries/{s1}", headers=users[1]["headers"])).json()
        assert (bob_view["score"], bob_view["my_vote"]) == (2, 1)
    finally:
        await plat.client.aclose()
        await server.__aexit__()

    try:
        await restore_all(make_settings(new_dir), out)
    except RestoreRefused as exc:
        assert "already holds data" in str(exc)
    else:
        raise AssertionError("a second restore into a non-empty installation must be refused")


async def test_the_personal_export_holds_the_users_own_data_only(tmp_path):
    server, plat = await start_platform(tmp_path)
    try:
        seeded = await _seed(plat)
        ada, bob, _ = seeded["users"]
        s1, s2, s3, s4 = seeded["summaries"]
        r = await plat.client.get("/api/v1/me/export", headers=bob["headers"])
        assert r.status_code == 200
        mine = r.json()
        assert mine["user"]["id"] == bob["id"] and "password_hash" not in mine["user"]
        # Bob's summaries, the anonymous one included; none of Ada's.
        assert {s["id"] for s in mine["summaries"]} == {s2["id"], s4["id"]}
        assert all(s["author_id"] == bob["id"] for s in mine["summaries"])
        assert [v["summary_id"] for v in mine["votes"]] == [s1["id"]]
        assert [c["body"] for c in mine["comments"]] == ["Nice one, Ada."]
        text = r.text
        for foreign in ("Ada's private notes.", "Thanks Bob.", "Second version", ada["id"]):
            assert foreign not in text
        assert (await plat.client.get("/api/v1/me/export")).status_code == 401
    finally:
        await plat.client.aclose()
        await server.__aexit__()


async def test_the_public_dump_has_public_summaries_and_no_anonymous_author(tmp_path):
    server, plat = await start_platform(tmp_path)
    try:
        missing = await plat.client.get("/api/v1/dumps/latest")
        assert missing.status_code == 404
        assert missing.headers["content-type"].startswith("application/problem+json")
        seeded = await _seed(plat)
        path, counts = await write_dump(plat.settings)
        assert counts == {"papers": 2, "summaries": 3}
        r = await plat.client.get("/api/v1/dumps/latest")
        assert r.status_code == 200
        lines = [orjson.loads(x) for x in gzip.decompress(r.content).splitlines()]
    finally:
        await plat.client.aclose()
        await server.__aexit__()
    assert lines[0]["kind"] == "header"
    summaries = {s["id"]: s for s in lines if s["kind"] == "summary"}
    s1, s2, s3, s4 = seeded["summaries"]
    assert set(summaries) == {s1["id"], s2["id"], s4["id"]}  # s3 is private
    assert summaries[s2["id"]]["author"] is None and summaries[s2["id"]]["anonymous"] is True
    assert summaries[s1["id"]]["author"]["username"] == "ada"
