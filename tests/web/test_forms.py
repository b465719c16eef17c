"""Forms, posted as a browser without JavaScript would: sign up, in and out, register a
paper, write, preview, edit, vote, comment, delete, settings, moderation; CSRF refusals."""

from __future__ import annotations

import re

import pytest

from tests.web.conftest import PASSWORD, WebClient, api_user_of


def location(r) -> str:
    assert r.status_code == 303, f"{r.status_code}: {r.text[:800]}"
    return r.headers["location"]


async def test_sign_up_log_out_log_in_with_a_session_cookie(platform, web):
    browser = await web()
    r = await browser.post("/signup", {"username": "newcomer", "email": "new@example.org", "password": PASSWORD,
                                       "password_again": PASSWORD, "display_name": "New Comer"}, from_page="/signup")
    assert location(r) == "/?done=welcome"
    cookie = next(v for k, v in r.headers.multi_items() if k == "set-cookie" and v.startswith("ss_session="))
    assert "HttpOnly" in cookie and "SameSite=lax" in cookie and "Path=/" in cookie and "Secure" not in cookie
    home = await browser.page("/?done=welcome")
    assert "Welcome!" in home and 'href="/users/newcomer"' in home and "Sign out" in home

    r = await browser.post("/logout", {})
    assert location(r) == "/?done=signed-out"
    assert "Sign in" in await browser.page("/")
    r = await browser.log_in("newcomer", "wrong password")
    assert r.status_code == 401 and "Wrong username or password." in r.text
    r = await browser.post("/login", {"username": "newcomer", "password": PASSWORD, "next": "/venues"},
                           from_page="/login")
    assert location(r) == "/venues?done=signed-in"
    assert 'href="/users/newcomer"' in await browser.page("/venues")
    assert (await browser.get("/login")).headers["location"] == "/"  # already signed in
    elsewhere = await web()
    r = await elsewhere.post("/login", {"username": "newcomer", "password": PASSWORD, "next": "//evil.example/"},
                             from_page="/login?next=//evil.example/")
    assert location(r) == "/?done=signed-in"  # never to another site
    # The session cookie is the identity service's login token: the API knows it too.
    token = browser.http.cookies["ss_session"]
    r = await platform.client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"})
    assert r.json()["username"] == "newcomer" and r.json()["display_name"] == "New Comer"


async def test_sign_up_errors_are_shown_on_the_form(platform, web):
    browser = await web()
    await (await web()).sign_up("taken")
    r = await browser.post("/signup", {"username": "taken", "email": "x@example.org", "password": PASSWORD,
                                       "password_again": PASSWORD}, from_page="/signup")
    assert r.status_code == 422 and "is taken" in r.text and 'value="taken"' in r.text
    r = await browser.post("/signup", {"username": "fresh", "email": "f@example.org", "password": PASSWORD,
                                       "password_again": "other password"}, from_page="/signup")
    assert r.status_code == 422 and "The two passwords differ." in r.text
    r = await browser.post("/signup", {"username": "a!", "email": "not-an-email", "password": "short",
                                       "password_again": "short"}, from_page="/signup")
    assert r.status_code == 422 and 'aria-invalid="true"' in r.text and 'id="email-error"' in r.text


async def test_login_and_signup_are_rate_limited(platform_with, tmp_path):
    plat = await platform_with(login_limit=2, signup_limit=1)
    browser = WebClient(plat.url)
    try:
        await browser.sign_up("limited")
        other = WebClient(plat.url)
        r = await other.post("/signup", {"username": "second", "email": "s@example.org", "password": PASSWORD,
                                         "password_again": PASSWORD}, from_page="/signup")
        await other.aclose()
        assert r.status_code == 429 and "Retry-After" in r.headers and "too many sign-ups" in r.text
        await browser.post("/logout", {})
        statuses = [(await browser.log_in("limited", "wrong password")).status_code for _ in range(3)]
        assert statuses == [401, 401, 429]
    finally:
        await browser.aclose()


@pytest.mark.parametrize("token", ["", "forged-token-value"])
async def test_forms_without_a_valid_csrf_token_are_refused(platform, web, token):
    ada = await platform.user()
    paper = await platform.paper(ada)
    s = await platform.summary(ada, paper["id"])
    member = await web(signed_up=True)
    for path, data in [
        ("/login", {"username": "x", "password": "y"}),
        ("/signup", {"username": "someone", "email": "s@example.org", "password": PASSWORD,
                     "password_again": PASSWORD}),
        (f"/summaries/{s['id']}/vote", {"value": "1"}),
        (f"/summaries/{s['id']}/comments", {"body": "sneaky"}),
        (f"/papers/{paper['id']}/summaries/new", {"body": "sneaky"}),
        ("/papers/new", {"title": "Sneaky", "authors": "A"}),
        ("/settings/tokens", {"name": "sneaky"}),
        ("/summaries/preview", {"body": "$x$"}),
        ("/logout", {}),
    ]:
        r = await member.post(path, data, token=token)
        assert r.status_code == 403, path
        assert r.headers["content-type"].startswith("text/html") and "did not come from this site" in r.text
    r = await platform.client.get(f"/api/v1/summaries/{s['id']}")
    assert r.json()["score"] == 0 and r.json()["comments"] == 0
    assert 'href="/users/' + member.username in await member.page("/")  # still signed in


async def test_a_token_from_before_signing_in_stops_working(platform, web):
    browser = await web()
    anonymous_token = await browser.csrf("/login")
    await browser.sign_up()
    r = await browser.post("/logout", {}, token=anonymous_token)
    assert r.status_code == 403
    other = await web(signed_up=True)
    r = await browser.post("/logout", {}, token=await other.csrf("/"))  # another browser's token
    assert r.status_code == 403


async def test_register_a_paper_then_write_preview_edit_and_delete_a_summary(platform, web):
    member = await web(signed_up=True)
    r = await member.post("/papers/new", {"arxiv": "1512.03385", "title": "Deep Residual Learning",
                                          "authors": "Kaiming He\nXiangyu Zhang\n", "venue": "CVPR", "year": "2016",
                                          "abstract": "Residual nets.", "keywords": "resnet, vision",
                                          "urls": "https://example.org/resnet"}, from_page="/papers/new")
    paper_path = location(r).split("?")[0]
    paper = await member.page(paper_path)
    assert "Deep Residual Learning" in paper and "Kaiming He, Xiangyu Zhang" in paper
    assert 'href="https://arxiv.org/abs/1512.03385"' in paper and "resnet" in paper

    again = await member.post("/papers/new", {"arxiv": "1512.03385", "title": "Copy", "authors": "X"},
                              from_page="/papers/new")
    assert again.status_code == 409 and f'href="{paper_path}"' in again.text
    bad = await member.post("/papers/new", {"title": "", "authors": "", "year": "soon"}, from_page="/papers/new")
    assert bad.status_code == 422 and "a year is a number" in bad.text

    editor = f"{paper_path}/summaries/new"
    assert 'name="body"' in await member.page(editor)
    preview = await member.post(editor, {"body": "Residual: $y = F(x) + x$", "action": "preview"}, from_page=editor)
    assert preview.status_code == 200 and "<math" in preview.text and "Residual: $y = F(x) + x$" in preview.text
    live = await member.post("/summaries/preview", {"body": "**bold** $\\alpha$ <script>x()</script>"},
                             from_page=editor)
    assert live.status_code == 200 and live.headers["content-type"].startswith("text/html")
    assert "<strong>bold</strong>" in live.text and "<math" in live.text and "<script>" not in live.text
    anonymous = await (await web()).post("/summaries/preview", {"body": "$x$"}, from_page="/")
    assert anonymous.status_code == 401 and anonymous.text == ""

    r = await member.post(editor, {"body": "Residual: $y = F(x) + x$ is easy.", "visibility": "public",
                                   "action": "save"}, from_page=editor)
    target = location(r)
    summary_id = re.search(r"#summary-(\w+)", target).group(1)
    page = await member.page(target.split("#")[0])
    assert "Your summary is published." in page and "<math" in page and "Edit your summary" in page

    second = await member.post(editor, {"body": "Another one.", "action": "save"}, from_page=editor)
    assert location(second) == f"/summaries/{summary_id}/edit?done=exists"  # one per paper: edit instead

    edit = f"/summaries/{summary_id}/edit"
    form = await member.page(edit)
    assert "Residual: $y = F(x) + x$ is easy." in form and "Revision 1" in form
    r = await member.post(edit, {"body": "Residual: $y = F(x) + x$ is very easy.", "visibility": "public",
                                 "action": "save"}, from_page=edit)
    assert location(r).startswith(paper_path + "?done=saved")
    form = await member.page(edit)
    assert "Revision 2" in form and "<ins>very" in form

    empty = await member.post(edit, {"body": "   ", "action": "save"}, from_page=edit)
    assert empty.status_code == 422 and 'role="alert"' in empty.text

    stranger = await web(signed_up=True)
    assert (await stranger.get(edit)).status_code == 403

    assert "Delete this summary?" in await member.page(f"/summaries/{summary_id}/delete")
    r = await member.post(f"/summaries/{summary_id}/delete", {}, from_page=f"/summaries/{summary_id}/delete")
    assert location(r) == paper_path + "?done=deleted"
    assert (await member.get(f"/summaries/{summary_id}")).status_code == 404


async def test_vote_and_comment_without_javascript_and_vote_as_json(platform, web):
    ada = await platform.user()
    paper = await platform.paper(ada)
    s = await platform.summary(ada, paper["id"], body="Vote on me.")
    voter = await web(signed_up=True)
    page_path = f"/papers/{paper['id']}"
    r = await voter.post(f"/summaries/{s['id']}/vote", {"value": "1", "next": page_path + f"#summary-{s['id']}"},
                         from_page=page_path)
    assert location(r) == f"{page_path}#summary-{s['id']}"
    page = await voter.page(page_path)
    assert 'aria-pressed="true" aria-label="Upvote (undo)"' in page
    assert re.search(r'<output class="score"[^>]*>1</output>', page)

    r = await voter.post(f"/summaries/{s['id']}/vote", {"value": "-1"}, from_page=page_path,
                         headers={"accept": "application/json"})
    assert r.status_code == 200 and r.json() == {"score": -1, "my_vote": -1}
    r = await voter.post(f"/summaries/{s['id']}/vote", {"value": "7"}, from_page=page_path)
    assert r.status_code == 422

    r = await voter.post(f"/summaries/{s['id']}/comments", {"body": "Good *catch*.", "next": page_path},
                         from_page=page_path)
    target = location(r)
    assert target.startswith(page_path + "?done=commented#comment-")
    assert "<em>catch</em>" in await voter.page(target.split("#")[0])
    r = await voter.post(f"/summaries/{s['id']}/comments", {"body": ""}, from_page=page_path)
    assert r.status_code == 422

    own = await web()
    await own.log_in(ada["username"], "correct horse 1")
    r = await own.post(f"/summaries/{s['id']}/vote", {"value": "1"}, from_page=page_path)
    assert r.status_code == 403 and "your own summary" in r.text


async def test_settings_change_password_and_api_tokens(platform, web):
    member = await web(signed_up=True)
    r = await member.post("/settings/password", {"current_password": "not it", "new_password": "a new secret 1",
                                                 "new_password_again": "a new secret 1"}, from_page="/settings")
    assert r.status_code == 422 and "This is not your current password." in r.text
    r = await member.post("/settings/password", {"current_password": PASSWORD, "new_password": "a new secret 1",
                                                 "new_password_again": "different"}, from_page="/settings")
    assert r.status_code == 422 and "differ" in r.text
    r = await member.post("/settings/password", {"current_password": PASSWORD, "new_password": "a new secret 1",
                                                 "new_password_again": "a new secret 1"}, from_page="/settings")
    assert location(r) == "/settings?done=password"
    other = await web()
    assert (await other.log_in(member.username)).status_code == 401
    assert (await other.log_in(member.username, "a new secret 1")).status_code == 303

    r = await member.post("/settings/profile", {"display_name": ""}, from_page="/settings")
    assert r.status_code == 422 and "1 to 100 characters" in r.text
    r = await member.post("/settings/profile", {"display_name": "Renamed <b>Member</b>"}, from_page="/settings")
    assert location(r) == "/settings?done=profile"
    settings = await member.page("/settings")
    assert 'value="Renamed &lt;b&gt;Member&lt;/b&gt;"' in settings and "<b>Member</b>" not in settings

    r = await member.post("/settings/tokens", {"name": "my script"}, from_page="/settings")
    assert r.status_code == 200 and r.headers["cache-control"] == "no-store"
    secret = re.search(r'<code class="token" id="new-token">([^<]+)</code>', r.text).group(1)
    me = await platform.client.get("/api/v1/me", headers={"Authorization": f"Bearer {secret}"})
    assert me.json()["username"] == member.username
    settings = await member.page("/settings")
    assert "my script" in settings and secret not in settings  # shown once
    token_id = re.search(r'action="/settings/tokens/(\w+)/revoke"', settings).group(1)
    r = await member.post(f"/settings/tokens/{token_id}/revoke", {}, from_page="/settings")
    assert location(r) == "/settings?done=revoked"
    me = await platform.client.get("/api/v1/me", headers={"Authorization": f"Bearer {secret}"})
    assert me.status_code == 401


async def test_moderators_hide_summaries_and_comments_and_see_the_social_queue(platform, web):
    ada, bob = await platform.user(), await platform.user()
    paper = await platform.paper(ada)
    s = await platform.summary(ada, paper["id"], body="To be hidden.")
    r = await platform.client.post(f"/api/v1/summaries/{s['id']}/comments", json={"body": "Rude."},
                                   headers=bob["headers"])
    comment_id = r.json()["id"]
    moderator = await web(signed_up=True)
    await platform.app.state.gateway.identity.grant(moderator.username, "moderator")
    member = await web(signed_up=True)
    page_path = f"/papers/{paper['id']}"
    assert f'action="/summaries/{s["id"]}/hide"' not in await member.page(page_path)
    assert (await member.post(f"/summaries/{s['id']}/hide", {}, from_page=page_path)).status_code == 403

    page = await moderator.page(page_path)
    assert f'action="/comments/{comment_id}/hide"' in page and f'action="/summaries/{s["id"]}/hide"' in page
    r = await moderator.post(f"/comments/{comment_id}/hide", {"next": page_path}, from_page=page_path)
    assert location(r).startswith(page_path)
    assert "Rude." not in await member.page(page_path)
    r = await moderator.post(f"/summaries/{s['id']}/hide", {"next": page_path}, from_page=page_path)
    assert location(r).startswith(page_path)
    assert "To be hidden." not in await member.page(page_path)
    assert "hidden by a moderator" in await moderator.page(f"/summaries/{s['id']}")  # still theirs to see
    assert (await member.get(f"/summaries/{s['id']}")).status_code == 404

    visible = await platform.summary(bob, paper["id"], body="Posted to social.")

    async def queued():
        text = await moderator.page("/moderation")
        return f'href="/summaries/{visible["id"]}"' in text and text

    from tests.helpers import eventually

    queue = await eventually(queued)
    assert "dry run" in queue and "Social posts" in queue
    filtered = await moderator.page("/moderation?status=failed")
    assert f'href="/summaries/{visible["id"]}"' not in filtered
    post_id = (await platform.client.get("/api/v1/social/posts", headers=(await api_user_of(platform, moderator))
                                         ["headers"])).json()["items"][0]["id"]
    r = await moderator.post(f"/moderation/posts/{post_id}/retry", {}, from_page="/moderation")
    assert r.status_code == 409 and "only a failed or pending post can be retried" in r.text
