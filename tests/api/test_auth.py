"""Identity through the gateway: sign-up, login, logout, /me and personal API tokens."""

from __future__ import annotations

from tests.api.support import assert_problem

PASSWORD = "correct horse 1"


async def signup(client, name: str, email: str | None = None, password: str = PASSWORD):
    return await client.post("/api/v1/auth/signup",
                              json={"username": name, "email": email or f"{name}@example.org", "password": password})


async def login(client, name: str, password: str = PASSWORD):
    return await client.post("/api/v1/auth/login", json={"username": name, "password": password})


def bearer(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


async def test_signup_creates_a_member_and_never_returns_the_password(platform):
    r = await signup(platform.client, "grace", password="a long secret 42")
    assert r.status_code == 201
    user = r.json()
    assert user["username"] == "grace"
    assert user["email"] == "grace@example.org"
    assert user["roles"] == ["member"]
    assert user["id"]
    assert "a long secret 42" not in r.text and "password" not in r.text


async def test_signup_refuses_a_taken_username_or_email(platform):
    assert (await signup(platform.client, "grace")).status_code == 201
    assert_problem(await signup(platform.client, "GRACE", email="other@example.org"), 409, "username")
    assert_problem(await signup(platform.client, "hopper", email="Grace@example.org"), 409, "email")
    # the refused sign-ups created nobody
    assert_problem(await login(platform.client, "hopper"), 401)


async def test_login_returns_a_bearer_token_that_identifies_the_user(platform):
    assert (await signup(platform.client, "grace")).status_code == 201
    r = await login(platform.client, "grace")
    assert r.status_code == 200
    body = r.json()
    assert body["token_type"] == "bearer"
    me = await platform.client.get("/api/v1/me", headers=bearer(body["access_token"]))
    assert me.status_code == 200
    assert me.json()["username"] == "grace"
    assert me.json()["roles"] == ["member"]


async def test_login_with_a_wrong_password_or_unknown_user_is_401(platform):
    assert (await signup(platform.client, "grace")).status_code == 201
    wrong = assert_problem(await login(platform.client, "grace", "not the password"), 401, "password")
    unknown = assert_problem(await login(platform.client, "nobody", PASSWORD), 401, "password")
    # the same answer either way: no way to tell which user names exist
    assert wrong["detail"] == unknown["detail"]


async def test_me_without_a_token_is_401(platform):
    assert_problem(await platform.client.get("/api/v1/me"), 401, "authorization")


async def test_me_shows_granted_roles(platform):
    mod = await platform.user(roles={"moderator"})
    me = await platform.client.get("/api/v1/me", headers=mod["headers"])
    assert me.status_code == 200
    assert me.json()["id"] == mod["id"]
    assert set(me.json()["roles"]) == {"member", "moderator"}


async def test_logout_revokes_the_session_token_only(platform):
    ada = await platform.user()
    second = await login(platform.client, ada["username"])
    other_session = bearer(second.json()["access_token"])

    r = await platform.client.post("/api/v1/auth/logout", headers=ada["headers"])
    assert r.status_code == 204
    assert_problem(await platform.client.get("/api/v1/me", headers=ada["headers"]), 401, "authorization")
    assert_problem(await platform.client.post("/api/v1/auth/logout", headers=ada["headers"]), 401)
    # another session of the same user is untouched
    assert (await platform.client.get("/api/v1/me", headers=other_session)).status_code == 200


async def test_api_token_lifecycle_create_list_use_revoke(platform):
    ada = await platform.user()
    created = await platform.client.post("/api/v1/me/tokens", json={"name": "my script"}, headers=ada["headers"])
    assert created.status_code == 201
    token = created.json()
    assert token["name"] == "my script" and token["id"] and token["token"]

    listed = await platform.client.get("/api/v1/me/tokens", headers=ada["headers"])
    assert listed.status_code == 200
    assert [(t["id"], t["name"]) for t in listed.json()] == [(token["id"], "my script")]
    assert token["token"] not in listed.text  # the secret is shown once, at creation

    me = await platform.client.get("/api/v1/me", headers=bearer(token["token"]))
    assert me.status_code == 200 and me.json()["id"] == ada["id"]
    paper = await platform.client.post("/api/v1/papers", headers=bearer(token["token"]),
                                       json={"title": "Written with a token", "authors": ["A. Author"]})
    assert paper.status_code == 201

    revoked = await platform.client.delete(f"/api/v1/me/tokens/{token['id']}", headers=ada["headers"])
    assert revoked.status_code == 204
    assert_problem(await platform.client.get("/api/v1/me", headers=bearer(token["token"])), 401, "authorization")
    assert_problem(await platform.client.post("/api/v1/papers", headers=bearer(token["token"]),
                                              json={"title": "After revocation", "authors": ["A. Author"]}), 401)
    assert (await platform.client.get("/api/v1/me/tokens", headers=ada["headers"])).json() == []
    assert_problem(await platform.client.delete(f"/api/v1/me/tokens/{token['id']}", headers=ada["headers"]),
                   404, "token_id")
    # the login session that created the token still works
    assert (await platform.client.get("/api/v1/me", headers=ada["headers"])).status_code == 200


async def test_a_user_cannot_see_or_revoke_another_users_token(platform):
    ada, bob = await platform.user(), await platform.user()
    token = (await platform.client.post("/api/v1/me/tokens", json={"name": "ci"}, headers=ada["headers"])).json()

    assert (await platform.client.get("/api/v1/me/tokens", headers=bob["headers"])).json() == []
    assert_problem(await platform.client.delete(f"/api/v1/me/tokens/{token['id']}", headers=bob["headers"]), 404)
    me = await platform.client.get("/api/v1/me", headers=bearer(token["token"]))
    assert me.status_code == 200 and me.json()["id"] == ada["id"]


async def test_token_routes_need_a_signed_in_user(platform):
    assert_problem(await platform.client.get("/api/v1/me/tokens"), 401)
    assert_problem(await platform.client.post("/api/v1/me/tokens", json={"name": "x"}), 401)
    assert_problem(await platform.client.delete("/api/v1/me/tokens/whatever"), 401)
    assert_problem(await platform.client.post("/api/v1/auth/logout"), 401)


async def test_a_user_changes_their_display_name_and_only_theirs(platform):
    ada, bob = await platform.user(), await platform.user()
    r = await platform.client.patch("/api/v1/me", json={"display_name": "  Ada L.  "}, headers=ada["headers"])
    assert r.status_code == 200 and r.json()["display_name"] == "Ada L."  # trimmed
    assert (await platform.client.get("/api/v1/me", headers=ada["headers"])).json()["display_name"] == "Ada L."
    assert (await platform.client.get("/api/v1/me", headers=bob["headers"])).json()["display_name"] != "Ada L."

    for bad in ("", "   ", "x" * 101):
        r = await platform.client.patch("/api/v1/me", json={"display_name": bad}, headers=ada["headers"])
        assert_problem(r, 422, "display_name")
    r = await platform.client.patch("/api/v1/me", json={"display_name": "Ada", "username": "eve"},
                                    headers=ada["headers"])
    assert_problem(r, 422, "username")  # the username cannot be changed here
    assert (await platform.client.get("/api/v1/me", headers=ada["headers"])).json()["display_name"] == "Ada L."
    r = await platform.client.patch("/api/v1/me", json={"display_name": "Nobody"})
    assert r.status_code == 401
