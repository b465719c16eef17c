"""Search end to end through the gateway over real HTTP: what users write, revise, vote on,
delete, hide or keep private is reflected in /api/v1/search as the events arrive.

Events are asynchronous, so a test waits with `eventually` for what must appear; for
what must never appear, it first waits for a later public summary to be indexed (the
summaries topic is applied in order, so everything before it has been applied too)."""

from __future__ import annotations

import pytest

from tests.helpers import eventually

PROBLEM_JSON = "application/problem+json"


async def search(platform, **params) -> dict:
    r = await platform.client.get("/api/v1/search", params=params)
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("application/json")
    return r.json()


async def ids(platform, **params) -> list[str]:
    return [h["summary_id"] for h in (await search(platform, size=50, **params))["hits"]]


async def until(platform, condition, **params) -> dict:
    """The first search answer that satisfies `condition` (waiting for events to land)."""

    async def attempt():
        result = await search(platform, size=50, **params)
        return result if condition(result) else None

    return await eventually(attempt)


def hit_ids(result: dict) -> list[str]:
    return [h["summary_id"] for h in result["hits"]]


async def until_found(platform, summary_id: str, **params) -> dict:
    """The hit of `summary_id`, once the search finds it."""
    result = await until(platform, lambda r: summary_id in hit_ids(r), **params)
    return next(h for h in result["hits"] if h["summary_id"] == summary_id)


async def until_gone(platform, summary_id: str, **params) -> None:
    await until(platform, lambda r: summary_id not in hit_ids(r), **params)


async def barrier(platform, who: dict) -> None:
    """Publish a public summary and wait until it is indexed: every summary event before
    it has then been applied too."""
    paper = await platform.paper(who, title="Barrier Paper")
    marker = await platform.summary(who, paper["id"], body="zzbarrier marker")
    await until_found(platform, marker["id"], q="zzbarrier")


def assert_problem(response, status: int, field: str) -> dict:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith(PROBLEM_JSON)
    problem = response.json()
    assert problem["status"] == status and problem["title"] and problem["detail"]
    assert field in [e["field"] for e in problem.get("errors", [])], problem
    return problem


# -- finding --------------------------------------------------------------------------


async def test_a_published_summary_is_found_by_its_paper_and_its_text(platform):
    ada = await platform.user()
    paper = await platform.paper(ada, title="Deep Residual Learning for Image Recognition",
                                 authors=["Kaiming He", "Jian Sun"], venue="CVPR", year=2016,
                                 abstract="Deeper neural networks are more difficult to train.",
                                 keywords=["skip connections"])
    s = await platform.summary(ada, paper["id"], body="Identity **shortcuts** let very deep nets train. $F(x)+x$")

    h = await until_found(platform, s["id"], q="shortcuts")
    assert h == {
        "summary_id": s["id"], "paper_id": paper["id"], "title": "Deep Residual Learning for Image Recognition",
        "authors": ["Kaiming He", "Jian Sun"], "venue": "CVPR", "year": 2016, "score": 0,
        "created_at": h["created_at"], "snippet": h["snippet"],
    }
    assert h["created_at"][:19] == s["created_at"][:19]
    assert "<mark>shortcuts</mark>" in h["snippet"]
    for q in ("residual", "kaiming", "difficult", "skip connections", '"deep nets"', "recogn*"):
        assert await ids(platform, q=q) == [s["id"]], q
    assert await ids(platform, q="transformers") == []

    result = await search(platform, q="shortcuts")
    assert set(result) == {"total", "page", "size", "hits", "facets"}
    assert (result["total"], result["page"], result["size"]) == (1, 1, 10)
    assert result["facets"] == {"venue": [{"key": "cvpr", "name": "CVPR", "count": 1}],
                                "year": [{"value": 2016, "count": 1}]}


async def test_filters_facets_and_pages(platform):
    ada = await platform.user()
    summaries = {}
    for venue, year in (("CVPR", 2016), ("ICLR", 2020), ("NeurIPS", 2017), ("ICLR", 2018)):
        paper = await platform.paper(ada, venue=venue, year=year)
        summaries[venue, year] = (await platform.summary(ada, paper["id"], body=f"gradient descent {venue}"))["id"]
    await until(platform, lambda r: r["total"] == 4, q="gradient")
    sid = summaries.__getitem__

    assert set(await ids(platform, q="gradient", venue=["cvpr", "iclr"])) == {
        sid(("CVPR", 2016)), sid(("ICLR", 2020)), sid(("ICLR", 2018))}
    assert await ids(platform, q="gradient", venue="neurips") == [sid(("NeurIPS", 2017))]
    # A venue is accepted as users write it, like the other venue filters.
    assert set(await ids(platform, q="gradient", venue=["CVPR", "ICLR 2020"])) == set(
        await ids(platform, q="gradient", venue=["cvpr", "iclr"]))
    assert set(await ids(platform, q="gradient", year_from=2018)) == {sid(("ICLR", 2020)), sid(("ICLR", 2018))}
    assert set(await ids(platform, q="gradient", year_to=2017)) == {sid(("CVPR", 2016)), sid(("NeurIPS", 2017))}
    assert await ids(platform, q="gradient", year_from=2017, year_to=2017) == [sid(("NeurIPS", 2017))]
    # An empty query with filters browses, newest first.
    assert await ids(platform, venue="iclr") == [sid(("ICLR", 2018)), sid(("ICLR", 2020))]

    facets = (await search(platform, q="gradient"))["facets"]
    assert facets["venue"] == [{"key": "iclr", "name": "ICLR", "count": 2},
                               {"key": "cvpr", "name": "CVPR", "count": 1},
                               {"key": "neurips", "name": "NeurIPS", "count": 1}]
    assert facets["year"] == [{"value": y, "count": 1} for y in (2020, 2018, 2017, 2016)]
    lean = await search(platform, q="gradient", facets="false")  # for clients that show no facets
    assert lean["facets"] == {"venue": [], "year": []} and lean["total"] == 4

    first = await search(platform, q="gradient", sort="newest", size=3)
    second = await search(platform, q="gradient", sort="newest", size=3, page=2)
    assert first["total"] == second["total"] == 4 and second["page"] == 2
    assert hit_ids(first) + hit_ids(second) == [summaries[k] for k in reversed(list(summaries))]


async def test_the_author_filter_matches_the_username_in_any_case(platform):
    ada, bob = await platform.user("AdaWrites"), await platform.user()
    paper = await platform.paper(ada)
    mine, theirs = await platform.summary(ada, paper["id"], body="kernels"), await platform.summary(
        bob, paper["id"], body="kernels")
    await until(platform, lambda r: r["total"] == 2, q="kernels")
    for spelling in ("AdaWrites", "adawrites", "ADAWRITES"):
        assert await ids(platform, q="kernels", author=spelling) == [mine["id"]]
    assert await ids(platform, author=bob["username"]) == [theirs["id"]]


# -- changes are reflected ------------------------------------------------------------


async def test_a_revision_replaces_the_old_text(platform):
    ada = await platform.user()
    paper = await platform.paper(ada)
    s = await platform.summary(ada, paper["id"], body="The method uses dropout everywhere.")
    await until_found(platform, s["id"], q="dropout")

    r = await platform.client.patch(f"/api/v1/summaries/{s['id']}", headers=ada["headers"],
                                    json={"body": "The method uses batch normalisation instead."})
    assert r.status_code == 200, r.text

    await until_found(platform, s["id"], q="normalisation")
    assert await ids(platform, q="dropout") == []
    assert (await search(platform))["total"] == 1  # replaced, not added


async def test_a_vote_changes_the_score_and_the_score_order(platform):
    ada, bob, carol = await platform.user(), await platform.user(), await platform.user()
    older = await platform.summary(ada, (await platform.paper(ada))["id"], body="boosting trees")
    newer = await platform.summary(bob, (await platform.paper(bob))["id"], body="boosting stumps")
    await until(platform, lambda r: r["total"] == 2, q="boosting")
    assert await ids(platform, q="boosting", sort="score") == [newer["id"], older["id"]]  # a tie: newest first

    r = await platform.client.put(f"/api/v1/summaries/{older['id']}/vote", headers=carol["headers"],
                                  json={"value": 1})
    assert r.status_code == 200, r.text

    result = await until(platform, lambda r: r["hits"][0]["summary_id"] == older["id"], q="boosting", sort="score")
    assert [(h["summary_id"], h["score"]) for h in result["hits"]] == [(older["id"], 1), (newer["id"], 0)]

    r = await platform.client.put(f"/api/v1/summaries/{older['id']}/vote", headers=carol["headers"],
                                  json={"value": -1})
    assert r.status_code == 200, r.text
    result = await until(platform, lambda r: r["hits"][-1]["summary_id"] == older["id"], q="boosting",
                         sort="score")
    assert [h["score"] for h in result["hits"]] == [0, -1]


async def test_a_deleted_summary_disappears(platform):
    ada = await platform.user()
    paper = await platform.paper(ada)
    s = await platform.summary(ada, paper["id"], body="ephemeral insight")
    await until_found(platform, s["id"], q="ephemeral")

    r = await platform.client.delete(f"/api/v1/summaries/{s['id']}", headers=ada["headers"])
    assert r.status_code == 204, r.text

    await until_gone(platform, s["id"], q="ephemeral")
    assert s["id"] not in await ids(platform)


async def test_private_summaries_never_appear(platform):
    ada = await platform.user()
    secret = await platform.summary(ada, (await platform.paper(ada))["id"], body="confidential musings",
                                    visibility="private")
    turned = await platform.summary(ada, (await platform.paper(ada))["id"], body="confidential drafts")
    await until_found(platform, turned["id"], q="confidential")

    r = await platform.client.patch(f"/api/v1/summaries/{turned['id']}", headers=ada["headers"],
                                    json={"visibility": "private"})
    assert r.status_code == 200, r.text
    await until_gone(platform, turned["id"], q="confidential")
    await barrier(platform, ada)

    for params in ({"q": "confidential"}, {"q": "musings"}, {}, {"author": ada["username"]}):
        assert secret["id"] not in await ids(platform, **params)
        assert turned["id"] not in await ids(platform, **params)


async def test_a_summary_hidden_by_a_moderator_disappears(platform):
    ada, mod = await platform.user(), await platform.user(roles={"moderator"})
    s = await platform.summary(ada, (await platform.paper(ada))["id"], body="objectionable content")
    await until_found(platform, s["id"], q="objectionable")

    r = await platform.client.post(f"/api/v1/summaries/{s['id']}/hide", headers=mod["headers"])
    assert r.status_code == 200, r.text

    await until_gone(platform, s["id"], q="objectionable")
    assert s["id"] not in await ids(platform, author=ada["username"])


async def test_an_anonymous_summary_appears_without_any_trace_of_its_author(platform):
    shy = await platform.user("quokkashyauthor")
    signed = await platform.summary(shy, (await platform.paper(shy))["id"], body="signed variational work")
    anonymous = await platform.summary(shy, (await platform.paper(shy))["id"], body="anonymous variational work",
                                       anonymous=True)
    await until_found(platform, anonymous["id"], q="anonymous")
    await until_found(platform, signed["id"], q="signed")

    assert await ids(platform, author="quokkashyauthor") == [signed["id"]]
    assert await ids(platform, q="variational", author="QuokkaShyAuthor") == [signed["id"]]
    assert await ids(platform, q="quokkashyauthor") == []
    for params in ({"q": "anonymous"}, {"q": "variational"}, {}, {"q": "anonymous", "sort": "newest"}):
        r = await platform.client.get("/api/v1/search", params=params)
        assert r.status_code == 200
        assert anonymous["id"] in r.text
        assert "quokkashyauthor" not in r.text.casefold(), r.text
        assert shy["id"] not in r.text


async def test_a_paper_title_corrected_by_a_moderator_shows_in_the_hits(platform):
    ada, mod = await platform.user(), await platform.user(roles={"moderator"})
    paper = await platform.paper(ada, title="Generative Adversial Nets")
    first = await platform.summary(ada, paper["id"], body="two players")
    second = await platform.summary(mod, paper["id"], body="a minimax game")
    await until(platform, lambda r: r["total"] == 2, q="adversial")

    r = await platform.client.patch(f"/api/v1/papers/{paper['id']}", headers=mod["headers"],
                                    json={"title": "Generative Adversarial Nets"})
    assert r.status_code == 200, r.text

    result = await until(platform, lambda r: r["total"] == 2, q="adversarial")
    assert {h["summary_id"] for h in result["hits"]} == {first["id"], second["id"]}
    assert {h["title"] for h in result["hits"]} == {"Generative Adversarial Nets"}
    assert await ids(platform, q="adversial") == []
    # A later event about one of the summaries still carries the old title; the hit keeps the new one.
    r = await platform.client.patch(f"/api/v1/summaries/{first['id']}", headers=ada["headers"],
                                    json={"body": "two players and a discriminator"})
    assert r.status_code == 200, r.text
    h = await until_found(platform, first["id"], q="discriminator")
    assert h["title"] == "Generative Adversarial Nets"


# -- suggestions ----------------------------------------------------------------------


async def test_suggest_completes_paper_titles(platform):
    ada = await platform.user()
    resnet = await platform.paper(ada, title="Deep Residual Learning for Image Recognition")
    attention = await platform.paper(ada, title="Residual Attention Network")
    await platform.paper(ada, title="Attention Is All You Need")

    async def suggest(**params):
        r = await platform.client.get("/api/v1/search/suggest", params=params)
        assert r.status_code == 200, r.text
        return r.json()["suggestions"]

    # Papers are events keyed by paper: on a partitioned log they need not land in order.
    await eventually(lambda: _sized(suggest(q="attention"), 2))
    got = await eventually(lambda: _sized(suggest(q="resid"), 2))
    assert {(s["paper_id"], s["title"]) for s in got} == {(resnet["id"], resnet["title"]),
                                                           (attention["id"], attention["title"])}
    assert [s["title"] for s in await suggest(q="deep resid")] == [resnet["title"]]
    assert len(await suggest(q="attention", limit=1)) == 1
    assert await suggest(q="quantum") == []
    assert await suggest(q="") == []
    assert await suggest(q='"(*^') == []

    assert_problem(await platform.client.get("/api/v1/search/suggest", params={"q": "x" * 101}), 422, "q")
    assert_problem(await platform.client.get("/api/v1/search/suggest", params={"q": "a", "limit": 11}), 422,
                   "limit")


async def _sized(coro, n):
    items = await coro
    return items if len(items) == n else None


# -- bad input ------------------------------------------------------------------------


BAD_PARAMETERS = [
    ({"q": "x" * 513}, "q"),
    ({"size": 1000}, "size"),
    ({"size": 0}, "size"),
    ({"page": -1}, "page"),
    ({"page": 0}, "page"),
    ({"year_from": "abc"}, "year_from"),
    ({"year_to": "20x0"}, "year_to"),
    ({"year_from": 2020, "year_to": 2010}, "year_from"),
    ({"sort": "random"}, "sort"),
    ({"author": "a" * 65}, "author"),
    ({"venue": "2016"}, "venue"),
]

SYNTAX_QUERIES = [
    '"unbalanced', 'a "b c" "d', "AND OR NOT", "NEAR(a b, 3)", "title:deep", "deep*", "*", "-", "--", "(", ")",
    "a^2 b~ {c} [d]", "c++ && c#", "x:* ^y +z !w", "\\", "'", "é*", "\x7f", "deep -", "NOT deep", '""', "<script>",
    "deep OR", "deep AND", "deep NEAR", "-deep*", "x" * 512, " ".join(["deep"] * 100),
]


async def test_bad_parameters_are_a_problem_naming_the_field(platform):
    for params, field in BAD_PARAMETERS:
        r = await platform.client.get("/api/v1/search", params=params)
        assert_problem(r, 422, field)


async def test_query_syntax_is_plain_words_never_an_error(platform):
    ada = await platform.user()
    s = await platform.summary(ada, (await platform.paper(ada))["id"], body="deep learning and or not near title deep")
    await until_found(platform, s["id"])
    for i, q in enumerate(SYNTAX_QUERIES):
        sort = ("relevance", "newest", "score")[i % 3]
        r = await platform.client.get("/api/v1/search", params={"q": q, "sort": sort, "venue": "iclr"})
        assert r.status_code == 200, (q, r.text)
        result = r.json()
        assert result["total"] == len(result["hits"]) <= 1, q
    # The operators are words of the summary, and "title:deep" is two words, not a column filter.
    for q in ("AND OR NOT", "deep*", "NOT deep", "deep NEAR", "title:deep", " ".join(["deep"] * 100)):
        assert await ids(platform, q=q) == [s["id"]], q
    assert await ids(platform, q="-deep*") == []
