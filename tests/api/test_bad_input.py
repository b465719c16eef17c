"""Bad input: every case answers a 4xx problem+json naming the offending field, and
changes nothing (checked by reading the state afterwards). The conftest's response hook
fails any test that gets a 5xx or a traceback."""

from __future__ import annotations

import pytest

from tests.api.support import assert_problem

MAX_BODY = 256 * 1024
VALID_PAPER = {"title": "A Valid Paper", "authors": ["A. Author"]}


def paper_with(**changes):
    return {**VALID_PAPER, **changes}


async def paper_count(platform) -> int:
    return (await platform.client.get("/api/v1/papers")).json()["total"]


# -- papers ---------------------------------------------------------------------------

BAD_PAPERS = [
    pytest.param({"authors": ["A"]}, "title", id="missing-title"),
    pytest.param(paper_with(title=""), "title", id="empty-title"),
    pytest.param(paper_with(title="   "), "title", id="blank-title"),
    pytest.param(paper_with(title=None), "title", id="null-title"),
    pytest.param(paper_with(title="x" * 501), "title", id="long-title"),
    pytest.param({"title": "T"}, "authors", id="missing-authors"),
    pytest.param(paper_with(authors="Ada Lovelace"), "authors", id="authors-not-a-list"),
    pytest.param(paper_with(authors={"name": "Ada"}), "authors", id="authors-an-object"),
    pytest.param(paper_with(authors=[]), "authors", id="no-authors"),
    pytest.param(paper_with(authors=["Ada", ""]), "authors.1", id="empty-author"),
    pytest.param(paper_with(authors=[42]), "authors.0", id="author-a-number"),
    pytest.param(paper_with(year="abc"), "year", id="year-abc"),
    pytest.param(paper_with(year=99999), "year", id="year-99999"),
    pytest.param(paper_with(year=1200), "year", id="year-too-early"),
    pytest.param(paper_with(year=2016.5), "year", id="year-fraction"),
    pytest.param(paper_with(venue=""), "venue", id="empty-venue"),
    pytest.param(paper_with(venue="2020"), "venue", id="venue-only-a-year"),
    pytest.param(paper_with(keywords="ml"), "keywords", id="keywords-not-a-list"),
    pytest.param(paper_with(urls=["javascript:alert(1)"]), "urls.0", id="javascript-url"),
    pytest.param(paper_with(urls=["not a url"]), "urls.0", id="not-a-url"),
    pytest.param(paper_with(abstract=["a"]), "abstract", id="abstract-not-text"),
    pytest.param(paper_with(identifiers={"doi": "not-a-doi"}), "identifiers.doi", id="doi-garbage"),
    pytest.param(paper_with(identifiers={"doi": "10.12/abc"}), "identifiers.doi", id="doi-short-registrant"),
    pytest.param(paper_with(identifiers={"doi": "https://example.org/10.1109/x"}), "identifiers.doi",
                 id="doi-wrong-host"),
    pytest.param(paper_with(identifiers={"arxiv": "1513.03385"}), "identifiers.arxiv", id="arxiv-month-13"),
    pytest.param(paper_with(identifiers={"arxiv": "1512.0338"}), "identifiers.arxiv", id="arxiv-short-number"),
    pytest.param(paper_with(identifiers={"arxiv": "1512.03385v0"}), "identifiers.arxiv", id="arxiv-v0"),
    pytest.param(paper_with(identifiers={"arxiv": "foo-bar/9901001"}), "identifiers.arxiv", id="arxiv-archive"),
    pytest.param(paper_with(identifiers={"arxiv": "arXiv:"}), "identifiers.arxiv", id="arxiv-prefix-only"),
    pytest.param(paper_with(identifiers={"dblp": "HeZRS16"}), "identifiers.dblp", id="dblp-one-part"),
    pytest.param(paper_with(identifiers={"dblp": "blog/cvpr/HeZRS16"}), "identifiers.dblp", id="dblp-kind"),
    pytest.param(paper_with(identifiers={"dblp": "conf//HeZRS16"}), "identifiers.dblp", id="dblp-empty-part"),
    pytest.param(paper_with(identifiers={"isbn": "978-3-16-148410-0"}), "identifiers.isbn",
                 id="unknown-identifier"),
    pytest.param(paper_with(identifiers="10.1109/cvpr.2016.90"), "identifiers", id="identifiers-not-an-object"),
    pytest.param(paper_with(colour="red"), "colour", id="unknown-field"),
    pytest.param(paper_with(id="chosen-id"), "id", id="client-chosen-id"),
    pytest.param([VALID_PAPER], "body", id="a-list-not-an-object"),
]


@pytest.mark.parametrize("body, field", BAD_PAPERS)
async def test_a_bad_paper_is_refused_and_nothing_is_stored(platform, body, field):
    ada = await platform.user()
    r = await platform.client.post("/api/v1/papers", json=body, headers=ada["headers"])
    assert_problem(r, 422, field)
    assert await paper_count(platform) == 0
    assert (await platform.client.get("/api/v1/venues")).json() == []


BAD_RAW_BODIES = [
    pytest.param(b'{"title": "A", "authors": [', "application/json", id="invalid-json"),
    pytest.param(b"{'title': 'A'}", "application/json", id="single-quotes"),
    pytest.param(b"", "application/json", id="empty-body"),
    pytest.param(b"null", "application/json", id="json-null"),
    pytest.param(b'{"title": "A", "authors": ["B"]}', "text/plain", id="not-declared-json"),
    pytest.param(b"title=A&authors=B", "application/x-www-form-urlencoded", id="form-encoded"),
    pytest.param(b"\xff\xfe\x00garbage", "application/json", id="not-utf8"),
]


@pytest.mark.parametrize("content, content_type", BAD_RAW_BODIES)
async def test_a_body_that_is_not_a_json_object_is_refused(platform, content, content_type):
    ada = await platform.user()
    r = await platform.client.post("/api/v1/papers", content=content,
                                   headers={**ada["headers"], "content-type": content_type})
    assert_problem(r, 422, "body")
    assert await paper_count(platform) == 0


async def test_a_moderators_bad_correction_changes_nothing(platform):
    ada = await platform.user()
    mod = await platform.user(roles={"moderator"})
    paper = await platform.paper(ada, venue="ICLR", year=2020)
    cases = [({"title": ""}, "title"), ({"title": None}, "title"), ({"authors": []}, "authors"),
             ({"authors": None}, "authors"), ({"year": "abc"}, "year"), ({"year": 99999}, "year"),
             ({"venue": "2020"}, "venue"), ({"identifiers": {"doi": "nope"}}, "identifiers.doi"),
             ({"identifiers": {"arxiv": "9999.99999"}}, "identifiers.arxiv"), ({"owner": "me"}, "owner")]
    for body, field in cases:
        r = await platform.client.patch(f"/api/v1/papers/{paper['id']}", json=body, headers=mod["headers"])
        assert_problem(r, 422, field)
    assert (await platform.client.get(f"/api/v1/papers/{paper['id']}")).json() == paper


# -- sizes ----------------------------------------------------------------------------

async def test_a_body_over_256_kib_is_413(platform):
    ada = await platform.user()
    paper = await platform.paper(ada)
    huge = paper_with(abstract="x" * (MAX_BODY + 1))
    assert_problem(await platform.client.post("/api/v1/papers", json=huge, headers=ada["headers"]), 413, "body")
    r = await platform.client.post(f"/api/v1/papers/{paper['id']}/summaries", headers=ada["headers"],
                                   json={"body": "y" * (MAX_BODY + 1)})
    assert_problem(r, 413, "body")
    assert await paper_count(platform) == 1
    assert (await platform.client.get(f"/api/v1/papers/{paper['id']}/summaries")).json()["total"] == 0


async def test_a_chunked_body_over_256_kib_is_413(platform):
    ada = await platform.user()

    async def chunks():
        yield b'{"title": "Chunked", "authors": ["A"], "abstract": "'
        for _ in range(MAX_BODY // 8192 + 2):
            yield b"x" * 8192
        yield b'"}'

    r = await platform.client.post("/api/v1/papers", content=chunks(),
                                   headers={**ada["headers"], "content-type": "application/json"})
    assert "content-length" not in r.request.headers
    assert_problem(r, 413, "body")
    assert await paper_count(platform) == 0


async def test_a_summary_over_its_length_limit_is_422(platform):
    ada = await platform.user()
    paper = await platform.paper(ada)
    r = await platform.client.post(f"/api/v1/papers/{paper['id']}/summaries", headers=ada["headers"],
                                   json={"body": "y" * 100_001})
    assert_problem(r, 422, "body")
    assert (await platform.client.get(f"/api/v1/papers/{paper['id']}/summaries")).json()["total"] == 0


# -- query strings --------------------------------------------------------------------

BAD_QUERIES = [
    pytest.param("/api/v1/papers", {"size": 1000}, "size", id="papers-size-1000"),
    pytest.param("/api/v1/papers", {"size": 0}, "size", id="papers-size-0"),
    pytest.param("/api/v1/papers", {"size": "ten"}, "size", id="papers-size-text"),
    pytest.param("/api/v1/papers", {"page": 0}, "page", id="papers-page-0"),
    pytest.param("/api/v1/papers", {"page": -1}, "page", id="papers-page-negative"),
    pytest.param("/api/v1/papers", {"year": "abc"}, "year", id="papers-year-abc"),
    pytest.param("/api/v1/papers", {"year": 99999}, "year", id="papers-year-99999"),
    pytest.param("/api/v1/papers", {"venue": ""}, "venue", id="papers-venue-empty"),
    pytest.param("/api/v1/papers", {"venue": "2020"}, "venue", id="papers-venue-only-year"),
    pytest.param("/api/v1/summaries", {"size": 1000}, "size", id="summaries-size-1000"),
    pytest.param("/api/v1/summaries", {"page": 0}, "page", id="summaries-page-0"),
    pytest.param("/api/v1/summaries", {"sort": "best"}, "sort", id="summaries-sort-unknown"),
    pytest.param("/api/v1/summaries", {"year": "abc"}, "year", id="summaries-year-abc"),
    pytest.param("/api/v1/summaries", {"venue": "2020"}, "venue", id="summaries-venue-only-year"),
    pytest.param("/api/v1/papers/any/summaries", {"size": 101}, "size", id="paper-summaries-size-101"),
    pytest.param("/api/v1/papers/any/summaries", {"page": 0}, "page", id="paper-summaries-page-0"),
    pytest.param("/api/v1/papers/any/summaries", {"sort": "oldest"}, "sort", id="paper-summaries-sort"),
    pytest.param("/api/v1/papers/lookup", {"doi": "garbage"}, "doi", id="lookup-bad-doi"),
    pytest.param("/api/v1/papers/lookup", {"arxiv": "1513.00001"}, "arxiv", id="lookup-bad-arxiv"),
    pytest.param("/api/v1/papers/lookup", {"dblp": "nope"}, "dblp", id="lookup-bad-dblp"),
    pytest.param("/api/v1/papers/lookup", {"doi": "1" * 301}, "doi", id="lookup-doi-too-long"),
]


@pytest.mark.parametrize("path, params, field", BAD_QUERIES)
async def test_a_bad_query_is_422(platform, path, params, field):
    assert_problem(await platform.client.get(path, params=params), 422, field)


# -- summaries, votes, comments -------------------------------------------------------

BAD_SUMMARIES = [
    pytest.param({"body": ""}, "body", id="empty-body"),
    pytest.param({"body": "  \n\t "}, "body", id="blank-body"),
    pytest.param({}, "body", id="missing-body"),
    pytest.param({"body": None}, "body", id="null-body"),
    pytest.param({"body": 42}, "body", id="body-a-number"),
    pytest.param({"body": "ok", "visibility": "friends"}, "visibility", id="unknown-visibility"),
    pytest.param({"body": "ok", "anonymous": "maybe"}, "anonymous", id="anonymous-not-a-bool"),
    pytest.param({"body": "ok", "score": 100}, "score", id="client-chosen-score"),
    pytest.param({"body": "ok", "author_id": "someone"}, "author_id", id="client-chosen-author"),
]


@pytest.mark.parametrize("body, field", BAD_SUMMARIES)
async def test_a_bad_summary_is_refused_and_nothing_is_stored(platform, body, field):
    ada = await platform.user()
    paper = await platform.paper(ada)
    r = await platform.client.post(f"/api/v1/papers/{paper['id']}/summaries", json=body, headers=ada["headers"])
    assert_problem(r, 422, field)
    mine = await platform.client.get(f"/api/v1/papers/{paper['id']}/summaries", headers=ada["headers"])
    assert mine.json()["total"] == 0
    assert (await platform.client.get("/api/v1/summaries")).json()["total"] == 0


async def test_a_bad_revision_changes_nothing(platform):
    ada = await platform.user()
    paper = await platform.paper(ada)
    s = await platform.summary(ada, paper["id"], body="The original.")
    cases = [({}, "body"), ({"body": ""}, "body"), ({"body": "   "}, "body"), ({"body": None}, "body"),
             ({"body": ["x"]}, "body"), ({"visibility": "everyone"}, "visibility"),
             ({"anonymous": "yes please"}, "anonymous"), ({"paper_id": paper["id"]}, "paper_id")]
    for body, field in cases:
        r = await platform.client.patch(f"/api/v1/summaries/{s['id']}", json=body, headers=ada["headers"])
        assert_problem(r, 422, field)
    after = (await platform.client.get(f"/api/v1/summaries/{s['id']}", headers=ada["headers"])).json()
    assert (after["body"], after["revision"], after["visibility"], after["anonymous"]) == (
        "The original.", 1, "public", False)
    revisions = (await platform.client.get(f"/api/v1/summaries/{s['id']}/revisions")).json()
    assert [r["body"] for r in revisions] == ["The original."]


@pytest.mark.parametrize("body", [{"value": 2}, {"value": -2}, {"value": 0.5}, {"value": "up"}, {"value": None},
                                  {}, {"value": 1, "weight": 10}, {"value": True}, {"value": "1"}],
                         ids=["2", "-2", "half", "text", "null", "missing", "unknown-field", "true", "string-1"])
async def test_a_bad_vote_is_422_and_changes_nothing(platform, body):
    ada, bob = await platform.user(), await platform.user()
    paper = await platform.paper(ada)
    s = await platform.summary(ada, paper["id"])
    r = await platform.client.put(f"/api/v1/summaries/{s['id']}/vote", json=body, headers=bob["headers"])
    problem = assert_problem(r, 422)
    assert {e["field"] for e in problem["errors"]} & {"value", "weight"}
    after = (await platform.client.get(f"/api/v1/summaries/{s['id']}", headers=bob["headers"])).json()
    assert after["score"] == 0 and after["my_vote"] == 0


async def test_bad_comments_change_nothing(platform):
    ada, bob = await platform.user(), await platform.user()
    paper = await platform.paper(ada)
    s = await platform.summary(ada, paper["id"])
    for body, field in [({"body": ""}, "body"), ({"body": " "}, "body"), ({}, "body"), ({"body": 7}, "body"),
                        ({"body": "x" * 10_001}, "body"), ({"body": "ok", "hidden": True}, "hidden")]:
        r = await platform.client.post(f"/api/v1/summaries/{s['id']}/comments", json=body, headers=bob["headers"])
        assert_problem(r, 422, field)
    assert (await platform.client.get(f"/api/v1/summaries/{s['id']}/comments")).json() == []
    assert (await platform.client.get(f"/api/v1/summaries/{s['id']}")).json()["comments"] == 0


# -- unknown ids ------------------------------------------------------------------------

async def test_unknown_ids_are_404_naming_the_id(platform):
    ada = await platform.user()
    mod = await platform.user(roles={"moderator"})
    c = platform.client
    h = ada["headers"]
    cases = [
        (await c.get("/api/v1/papers/nope"), "paper_id"),
        (await c.patch("/api/v1/papers/nope", json={"title": "X"}, headers=mod["headers"]), "paper_id"),
        (await c.post("/api/v1/papers/nope/summaries", json={"body": "x"}, headers=h), "paper_id"),
        (await c.get("/api/v1/papers/nope/summaries"), "paper_id"),
        (await c.get("/api/v1/summaries/nope"), "summary_id"),
        (await c.patch("/api/v1/summaries/nope", json={"body": "x"}, headers=h), "summary_id"),
        (await c.delete("/api/v1/summaries/nope", headers=h), "summary_id"),
        (await c.get("/api/v1/summaries/nope/revisions"), "summary_id"),
        (await c.put("/api/v1/summaries/nope/vote", json={"value": 1}, headers=h), "summary_id"),
        (await c.post("/api/v1/summaries/nope/comments", json={"body": "x"}, headers=h), "summary_id"),
        (await c.get("/api/v1/summaries/nope/comments"), "summary_id"),
        (await c.post("/api/v1/summaries/nope/hide", headers=mod["headers"]), "summary_id"),
        (await c.post("/api/v1/comments/nope/hide", headers=h), "comment_id"),
        (await c.delete("/api/v1/me/tokens/nope", headers=h), "token_id"),
        (await c.get("/api/v1/venues/nope/years"), "key"),
    ]
    for response, field in cases:
        assert_problem(response, 404, field)
    assert await paper_count(platform) == 0


async def test_unknown_routes_and_methods_are_problems_too(platform):
    assert_problem(await platform.client.get("/api/v1/nothing-here"), 404)
    assert_problem(await platform.client.delete("/api/v1/papers"), 405)
    assert_problem(await platform.client.put("/api/v1/summaries"), 405)


# -- authentication ---------------------------------------------------------------------

BAD_AUTHORIZATION = [
    pytest.param("Basic dXNlcjpjb3JyZWN0IGhvcnNlIDE=", id="basic"),
    pytest.param("Bearer", id="bearer-without-token"),
    pytest.param("Bearer two words", id="bearer-with-spaces"),
    pytest.param("Bearer not-a-token", id="unknown-token"),
    pytest.param("Bearer sss_" + "A" * 43, id="forged-session-token"),
    pytest.param("Bearer " + "a" * 5000, id="huge-token"),
    pytest.param("Token abc", id="other-scheme"),
    pytest.param("abc", id="no-scheme"),
]


@pytest.mark.parametrize("header", BAD_AUTHORIZATION)
async def test_a_bad_authorization_header_is_401_even_where_signing_in_is_optional(platform, header):
    c = platform.client
    bad = {"Authorization": header}
    assert_problem(await c.get("/api/v1/me", headers=bad), 401, "authorization")
    assert_problem(await c.get("/api/v1/summaries", headers=bad), 401, "authorization")
    assert_problem(await c.post("/api/v1/papers", json=VALID_PAPER, headers=bad), 401, "authorization")
    assert await paper_count(platform) == 0


# -- identity -------------------------------------------------------------------------

BAD_SIGNUPS = [
    pytest.param({"username": "ab", "email": "ab@example.org", "password": "long enough 1"}, "username",
                 id="username-too-short"),
    pytest.param({"username": "bad name!", "email": "b@example.org", "password": "long enough 1"}, "username",
                 id="username-characters"),
    pytest.param({"username": "x" * 40, "email": "x@example.org", "password": "long enough 1"}, "username",
                 id="username-too-long"),
    pytest.param({"username": "carol", "email": "not-an-email", "password": "long enough 1"}, "email",
                 id="email"),
    pytest.param({"username": "carol", "password": "long enough 1"}, "email", id="missing-email"),
    pytest.param({"username": "carol", "email": "carol@example.org", "password": "short"}, "password",
                 id="password-too-short"),
    pytest.param({"username": "carolcarol", "email": "carol@example.org", "password": "CAROLCAROL"}, "password",
                 id="password-is-username"),
    pytest.param({"username": "carol", "email": "carol@example.org", "password": "long enough 1",
                  "roles": ["admin"]}, "roles", id="self-chosen-roles"),
]


@pytest.mark.parametrize("body, field", BAD_SIGNUPS)
async def test_a_bad_signup_creates_nobody(platform, body, field):
    assert_problem(await platform.client.post("/api/v1/auth/signup", json=body), 422, field)
    if "username" in body and "password" in body:
        login = await platform.client.post("/api/v1/auth/login",
                                           json={"username": body["username"], "password": body["password"]})
        assert_problem(login, 401)


async def test_bad_login_and_token_requests(platform):
    ada = await platform.user()
    c = platform.client
    assert_problem(await c.post("/api/v1/auth/login", json={}), 422, "username")
    assert_problem(await c.post("/api/v1/auth/login", json={"username": ada["username"]}), 422, "password")
    assert_problem(await c.post("/api/v1/auth/login", json={"username": ada["username"], "password": ""}),
                   422, "password")
    assert_problem(await c.post("/api/v1/auth/login", content=b"{oops", headers={"content-type": "application/json"}),
                   422, "body")
    assert_problem(await c.post("/api/v1/me/tokens", json={"name": ""}, headers=ada["headers"]), 422, "name")
    assert_problem(await c.post("/api/v1/me/tokens", json={"name": "   "}, headers=ada["headers"]), 422, "name")
    assert_problem(await c.post("/api/v1/me/tokens", json={}, headers=ada["headers"]), 422, "name")
    assert_problem(await c.post("/api/v1/me/tokens", json={"name": "ci", "scopes": ["all"]}, headers=ada["headers"]),
                   422, "scopes")
    assert (await c.get("/api/v1/me/tokens", headers=ada["headers"])).json() == []


async def test_control_characters_in_text_fields_are_refused_naming_the_field(platform):
    ada = await platform.user()
    r = await platform.client.post("/api/v1/papers", json={"title": "Bell\x07", "authors": ["A. Author"]},
                                   headers=ada["headers"])
    assert_problem(r, 422, "title")
    r = await platform.client.post("/api/v1/papers", json={"title": "Fine", "authors": ["NUL\x00"]},
                                   headers=ada["headers"])
    assert_problem(r, 422, "authors")
    paper = await platform.paper(ada)
    r = await platform.client.post(f"/api/v1/papers/{paper['id']}/summaries",
                                   json={"body": "Tabs\tand\nline breaks\r\nare fine."}, headers=ada["headers"])
    assert r.status_code == 201, r.text
    listed = await platform.client.get("/api/v1/papers", params={"size": 100})
    assert all("\x07" not in p["title"] for p in listed.json()["items"])  # nothing was stored
