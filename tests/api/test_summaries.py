"""Summaries through the gateway: publish, read, revise, revisions, delete, and the lists."""

from __future__ import annotations

from tests.api.support import assert_problem

LATEX = "Residual blocks learn $F(x) = H(x) - x$.\n\n$$\\sum_{i=1}^{n} x_i$$\n"


async def get_summary(platform, summary_id, who=None):
    return await platform.client.get(f"/api/v1/summaries/{summary_id}", headers=who["headers"] if who else None)


async def paper_list(platform, paper_id, who=None, **params):
    r = await platform.client.get(f"/api/v1/papers/{paper_id}/summaries", params=params,
                                  headers=who["headers"] if who else None)
    assert r.status_code == 200, r.text
    return r.json()


async def global_list(platform, who=None, **params):
    r = await platform.client.get("/api/v1/summaries", params=params, headers=who["headers"] if who else None)
    assert r.status_code == 200, r.text
    return r.json()


def ids(page: dict) -> list[str]:
    return [s["id"] for s in page["items"]]


async def test_publish_renders_markdown_and_latex(platform):
    ada = await platform.user()
    paper = await platform.paper(ada, title="Deep Residual Learning", venue="CVPR", year=2016)
    r = await platform.client.post(f"/api/v1/papers/{paper['id']}/summaries", headers=ada["headers"],
                                   json={"body": "**Key idea**: " + LATEX})
    assert r.status_code == 201
    s = r.json()
    assert s["id"] and s["paper_id"] == paper["id"]
    assert s["body"] == "**Key idea**: " + LATEX
    assert "<strong>Key idea</strong>" in s["body_html"]
    assert s["body_html"].count("<math") == 2  # inline and display math, as MathML
    assert 'display="block"' in s["body_html"]
    assert "$" not in s["body_html"]
    assert s["score"] == 0 and s["revision"] == 1 and s["comments"] == 0
    assert s["author"] == {"id": ada["id"], "username": ada["username"]}
    assert s["visibility"] == "public" and s["anonymous"] is False and s["hidden"] is False
    assert s["created_at"] and s["updated_at"]
    assert s["paper"] == {"id": paper["id"], "title": "Deep Residual Learning", "authors": paper["authors"],
                          "venue": "CVPR", "venue_key": "cvpr", "year": 2016}

    fetched = await get_summary(platform, s["id"])
    assert fetched.status_code == 200
    assert {k: v for k, v in fetched.json().items() if k != "my_vote"} == {k: v for k, v in s.items() if k != "my_vote"}
    assert fetched.json()["my_vote"] is None  # nobody signed in


async def test_rendered_html_is_sanitised(platform):
    ada = await platform.user()
    paper = await platform.paper(ada)
    s = await platform.summary(ada, paper["id"], body='<script>alert(1)</script> [x](javascript:alert(1)) '
                                                      '<img src=x onerror=alert(1)>')
    html = s["body_html"]
    assert "&lt;script&gt;" in html  # shown as text
    assert "<script" not in html and "<img" not in html and 'href="javascript' not in html


async def test_one_summary_per_user_per_paper(platform):
    ada, bob = await platform.user(), await platform.user()
    paper = await platform.paper(ada)
    first = await platform.summary(ada, paper["id"], visibility="private")
    r = await platform.client.post(f"/api/v1/papers/{paper['id']}/summaries", headers=ada["headers"],
                                   json={"body": "A second opinion"})
    assert assert_problem(r, 409, "paper_id")["existing_id"] == first["id"]
    # another user may still write one
    await platform.summary(bob, paper["id"])
    assert (await paper_list(platform, paper["id"], ada))["total"] == 2


async def test_publishing_on_an_unknown_paper_is_404(platform):
    ada = await platform.user()
    r = await platform.client.post("/api/v1/papers/no-such-paper/summaries", headers=ada["headers"],
                                   json={"body": "About nothing"})
    assert_problem(r, 404, "paper_id")
    assert (await global_list(platform))["total"] == 0
    assert_problem(await platform.client.get("/api/v1/papers/no-such-paper/summaries"), 404, "paper_id")


async def test_unknown_summary_is_404(platform):
    assert_problem(await get_summary(platform, "no-such-summary"), 404, "summary_id")
    assert_problem(await platform.client.get("/api/v1/summaries/no-such-summary/revisions"), 404, "summary_id")
    assert_problem(await platform.client.get("/api/v1/summaries/no-such-summary/comments"), 404, "summary_id")


async def test_revising_keeps_every_revision(platform):
    ada = await platform.user()
    paper = await platform.paper(ada)
    s = await platform.summary(ada, paper["id"], body="First take.")

    r = await platform.client.patch(f"/api/v1/summaries/{s['id']}", headers=ada["headers"],
                                    json={"body": "Second take with $y = x$."})
    assert r.status_code == 200
    revised = r.json()
    assert revised["revision"] == 2
    assert revised["body"] == "Second take with $y = x$."
    assert "<math" in revised["body_html"]
    assert revised["created_at"] == s["created_at"] and revised["updated_at"] > s["updated_at"]
    assert (await get_summary(platform, s["id"])).json()["body"] == "Second take with $y = x$."

    revisions = await platform.client.get(f"/api/v1/summaries/{s['id']}/revisions")
    assert revisions.status_code == 200
    assert {(rev["revision"], rev["body"]) for rev in revisions.json()} == {
        (1, "First take."), (2, "Second take with $y = x$.")}


async def test_revising_only_visibility_keeps_the_revision_number(platform):
    ada = await platform.user()
    paper = await platform.paper(ada)
    s = await platform.summary(ada, paper["id"], body="Text stays.")
    r = await platform.client.patch(f"/api/v1/summaries/{s['id']}", headers=ada["headers"],
                                    json={"visibility": "private"})
    assert r.status_code == 200
    assert r.json()["visibility"] == "private" and r.json()["revision"] == 1
    assert len((await platform.client.get(f"/api/v1/summaries/{s['id']}/revisions",
                                          headers=ada["headers"])).json()) == 1


async def test_deleted_summary_is_gone_everywhere(platform):
    ada, bob = await platform.user(), await platform.user()
    paper = await platform.paper(ada, venue="ICLR", year=2020)
    doomed = await platform.summary(ada, paper["id"], body="Soon gone.")
    kept = await platform.summary(bob, paper["id"], body="Stays.")

    r = await platform.client.delete(f"/api/v1/summaries/{doomed['id']}", headers=ada["headers"])
    assert r.status_code == 204
    for who in (None, ada, bob):
        assert_problem(await get_summary(platform, doomed["id"], who), 404, "summary_id")
    assert ids(await paper_list(platform, paper["id"], ada)) == [kept["id"]]
    assert ids(await global_list(platform)) == [kept["id"]]
    assert (await global_list(platform))["total"] == 1
    venues = (await platform.client.get("/api/v1/venues")).json()
    assert venues == [{"key": "iclr", "name": "ICLR", "papers": 1, "summaries": 1}]
    # deleting again, or editing the deleted one, finds nothing
    assert_problem(await platform.client.delete(f"/api/v1/summaries/{doomed['id']}", headers=ada["headers"]), 404)
    assert_problem(await platform.client.patch(f"/api/v1/summaries/{doomed['id']}", headers=ada["headers"],
                                               json={"body": "back?"}), 404)
    # the author may write a new summary of the same paper
    fresh = await platform.summary(ada, paper["id"], body="A fresh start.")
    assert fresh["id"] != doomed["id"]


async def test_paper_list_sorts_by_score_or_newest(platform):
    ada, bob, cat, dan = [await platform.user() for _ in range(4)]
    paper = await platform.paper(ada)
    oldest = await platform.summary(ada, paper["id"], body="Oldest.")
    middle = await platform.summary(bob, paper["id"], body="Middle.")
    newest = await platform.summary(cat, paper["id"], body="Newest.")
    for voter in (bob, cat, dan):
        assert (await platform.client.put(f"/api/v1/summaries/{oldest['id']}/vote", json={"value": 1},
                                          headers=voter["headers"])).status_code == 200
    assert (await platform.client.put(f"/api/v1/summaries/{newest['id']}/vote", json={"value": -1},
                                      headers=dan["headers"])).status_code == 200

    by_score = await paper_list(platform, paper["id"], sort="score")
    assert ids(by_score) == [oldest["id"], middle["id"], newest["id"]]
    assert [s["score"] for s in by_score["items"]] == [3, 0, -1]
    assert by_score["total"] == 3
    assert ids(await paper_list(platform, paper["id"])) == ids(by_score)  # score is the default
    assert ids(await paper_list(platform, paper["id"], sort="newest")) == [newest["id"], middle["id"], oldest["id"]]

    first = await paper_list(platform, paper["id"], sort="newest", size=2, page=1)
    second = await paper_list(platform, paper["id"], sort="newest", size=2, page=2)
    assert first["total"] == second["total"] == 3
    assert ids(first) + ids(second) == [newest["id"], middle["id"], oldest["id"]]


async def test_paper_without_summaries_lists_nothing(platform):
    ada = await platform.user()
    paper = await platform.paper(ada)
    page = await paper_list(platform, paper["id"])
    assert page["items"] == [] and page["total"] == 0


async def test_global_list_filters_by_venue_and_year(platform):
    ada, bob = await platform.user(), await platform.user()
    iclr20 = await platform.paper(ada, venue="ICLR", year=2020)
    iclr21 = await platform.paper(ada, venue="ICLR", year=2021)
    neurips = await platform.paper(ada, venue="NeurIPS", year=2020)
    a = await platform.summary(ada, iclr20["id"])
    b = await platform.summary(bob, iclr20["id"])
    c = await platform.summary(ada, iclr21["id"])
    d = await platform.summary(ada, neurips["id"])
    assert (await platform.client.put(f"/api/v1/summaries/{c['id']}/vote", json={"value": 1},
                                      headers=bob["headers"])).status_code == 200

    everything = await global_list(platform)
    assert everything["total"] == 4
    assert ids(everything) == [d["id"], c["id"], b["id"], a["id"]]  # newest first by default
    assert ids(await global_list(platform, sort="score"))[0] == c["id"]
    assert set(ids(await global_list(platform, venue="iclr"))) == {a["id"], b["id"], c["id"]}
    assert set(ids(await global_list(platform, venue="ICLR"))) == {a["id"], b["id"], c["id"]}
    assert set(ids(await global_list(platform, year=2020))) == {a["id"], b["id"], d["id"]}
    both = await global_list(platform, venue="iclr", year=2020)
    assert set(ids(both)) == {a["id"], b["id"]} and both["total"] == 2
    assert (await global_list(platform, venue="icml"))["total"] == 0
    paged = await global_list(platform, size=3, page=2)
    assert paged["total"] == 4 and ids(paged) == [a["id"]]
