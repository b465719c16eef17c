"""Papers through the gateway: registration with normalised identifiers, reads, lookup,
moderator corrections, and the venue/year browse with counts."""

from __future__ import annotations

from tests.api.support import assert_problem
from tests.helpers import eventually

RESNET = {
    "title": "Deep Residual Learning for Image Recognition",
    "authors": ["Kaiming He", "Xiangyu Zhang", "Shaoqing Ren", "Jian Sun"],
    "venue": "CVPR 2016",
    "year": 2016,
    "abstract": "  Deeper neural networks are more difficult to train.  ",
    "keywords": ["resnet", "vision", "resnet"],
    "urls": ["https://arxiv.org/abs/1512.03385"],
    "identifiers": {
        "doi": "https://doi.org/10.1109/CVPR.2016.90",
        "arxiv": "arXiv:1512.03385v2",
        "dblp": "https://dblp.org/rec/conf/cvpr/HeZRS16.html",
    },
}


async def register(platform, who, body):
    return await platform.client.post("/api/v1/papers", json=body, headers=who["headers"])


async def total_papers(platform, **params) -> int:
    r = await platform.client.get("/api/v1/papers", params=params)
    assert r.status_code == 200
    return r.json()["total"]


async def test_register_normalises_identifiers_and_venue(platform):
    ada = await platform.user()
    r = await register(platform, ada, RESNET)
    assert r.status_code == 201
    paper = r.json()
    assert paper["id"]
    assert paper["identifiers"] == {"doi": "10.1109/cvpr.2016.90", "arxiv": "1512.03385", "arxiv_version": 2,
                                    "dblp": "conf/cvpr/HeZRS16"}
    assert paper["title"] == RESNET["title"]
    assert paper["authors"] == RESNET["authors"]  # order kept
    assert paper["venue"] == "CVPR 2016" and paper["venue_key"] == "cvpr"
    assert paper["year"] == 2016
    assert paper["abstract"] == "Deeper neural networks are more difficult to train."
    assert paper["keywords"] == ["resnet", "vision"]
    assert paper["urls"] == ["https://arxiv.org/abs/1512.03385"]
    assert paper["version"] == 1

    fetched = await platform.client.get(f"/api/v1/papers/{paper['id']}")
    assert fetched.status_code == 200
    assert fetched.json() == paper


async def test_register_accepts_old_style_arxiv_ids(platform):
    ada = await platform.user()
    paper = await platform.paper(ada, identifiers={"arxiv": "https://arxiv.org/abs/hep-th/9901001"})
    assert paper["identifiers"]["arxiv"] == "hep-th/9901001"
    assert paper["identifiers"]["arxiv_version"] is None


async def test_register_needs_a_signed_in_user(platform):
    assert_problem(await platform.client.post("/api/v1/papers", json=RESNET), 401, "authorization")
    assert await total_papers(platform) == 0


async def test_an_identifier_belongs_to_one_paper(platform):
    ada, bob = await platform.user(), await platform.user()
    first = (await register(platform, ada, RESNET)).json()

    same_doi = {"title": "ResNet again", "authors": ["Someone"], "identifiers": {"doi": "doi:10.1109/cvpr.2016.90"}}
    problem = assert_problem(await register(platform, bob, same_doi), 409, "identifiers.doi")
    assert problem["existing_id"] == first["id"]

    other_version = {"title": "ResNet v1", "authors": ["Someone"], "identifiers": {"arxiv": "1512.03385v1"}}
    problem = assert_problem(await register(platform, bob, other_version), 409, "identifiers.arxiv")
    assert problem["existing_id"] == first["id"]

    same_dblp = {"title": "ResNet dblp", "authors": ["Someone"], "identifiers": {"dblp": "conf/cvpr/HeZRS16"}}
    assert assert_problem(await register(platform, bob, same_dblp), 409, "identifiers.dblp")["existing_id"] == first["id"]

    assert await total_papers(platform) == 1


async def test_unknown_paper_is_404(platform):
    assert_problem(await platform.client.get("/api/v1/papers/no-such-paper"), 404, "paper_id")


async def test_list_filters_by_venue_and_year_and_paginates(platform):
    ada = await platform.user()
    iclr20 = [await platform.paper(ada, venue="ICLR", year=2020) for _ in range(3)]
    iclr21 = await platform.paper(ada, venue="ICLR 2021", year=2021)
    neurips = await platform.paper(ada, venue="NeurIPS", year=2020)

    everything = (await platform.client.get("/api/v1/papers")).json()
    assert everything["total"] == 5
    assert {p["id"] for p in everything["items"]} == {p["id"] for p in [*iclr20, iclr21, neurips]}

    by_venue = (await platform.client.get("/api/v1/papers", params={"venue": "iclr"})).json()
    assert by_venue["total"] == 4
    assert {p["id"] for p in by_venue["items"]} == {p["id"] for p in [*iclr20, iclr21]}

    by_both = (await platform.client.get("/api/v1/papers", params={"venue": "ICLR", "year": 2020})).json()
    assert by_both["total"] == 3 and {p["id"] for p in by_both["items"]} == {p["id"] for p in iclr20}

    by_year = (await platform.client.get("/api/v1/papers", params={"year": 2021})).json()
    assert [p["id"] for p in by_year["items"]] == [iclr21["id"]]

    pages = []
    for page in (1, 2, 3):
        r = (await platform.client.get("/api/v1/papers", params={"size": 2, "page": page})).json()
        assert r["total"] == 5 and r["page"] == page and r["size"] == 2
        pages.append([p["id"] for p in r["items"]])
    assert [len(p) for p in pages] == [2, 2, 1]
    assert len({i for p in pages for i in p}) == 5

    past_the_end = (await platform.client.get("/api/v1/papers", params={"size": 2, "page": 4})).json()
    assert past_the_end["items"] == [] and past_the_end["total"] == 5


async def test_lookup_by_any_identifier_in_any_spelling(platform):
    ada = await platform.user()
    paper = (await register(platform, ada, RESNET)).json()
    for params in ({"doi": "10.1109/CVPR.2016.90"}, {"doi": "https://doi.org/10.1109/cvpr.2016.90"},
                   {"arxiv": "1512.03385"}, {"arxiv": "arXiv:1512.03385v7"},
                   {"dblp": "conf/cvpr/HeZRS16"}, {"dblp": "https://dblp.org/rec/conf/cvpr/HeZRS16"}):
        r = await platform.client.get("/api/v1/papers/lookup", params=params)
        assert r.status_code == 200, params
        assert r.json()["id"] == paper["id"]


async def test_lookup_misses_and_mistakes(platform):
    ada = await platform.user()
    await register(platform, ada, RESNET)
    assert_problem(await platform.client.get("/api/v1/papers/lookup", params={"doi": "10.1000/unknown"}), 404, "doi")
    assert_problem(await platform.client.get("/api/v1/papers/lookup", params={"arxiv": "1706.03762"}), 404, "arxiv")
    assert_problem(await platform.client.get("/api/v1/papers/lookup", params={"arxiv": "not an id"}), 422, "arxiv")
    assert_problem(await platform.client.get("/api/v1/papers/lookup"), 422)
    assert_problem(await platform.client.get("/api/v1/papers/lookup",
                                             params={"doi": "10.1109/cvpr.2016.90", "arxiv": "1512.03385"}), 422)


async def test_moderator_corrects_a_paper_and_summaries_follow(platform):
    ada = await platform.user()
    mod = await platform.user(roles={"moderator"})
    paper = await platform.paper(ada, title="Atention Is All You Need", venue="NIPS", year=2016)
    summary = await platform.summary(ada, paper["id"])

    r = await platform.client.patch(f"/api/v1/papers/{paper['id']}", headers=mod["headers"],
                                    json={"title": "Attention Is All You Need", "venue": "NeurIPS", "year": 2017})
    assert r.status_code == 200
    updated = r.json()
    assert updated["title"] == "Attention Is All You Need"
    assert updated["venue_key"] == "neurips" and updated["year"] == 2017
    assert updated["version"] == 2
    assert updated["identifiers"] == paper["identifiers"]
    assert updated["authors"] == paper["authors"]
    assert (await platform.client.get(f"/api/v1/papers/{paper['id']}")).json() == updated

    async def summary_shows_correction():
        s = (await platform.client.get(f"/api/v1/summaries/{summary['id']}")).json()
        return s["paper"]["title"] == "Attention Is All You Need" and s["paper"]["year"] == 2017

    await eventually(summary_shows_correction)


async def test_a_member_cannot_correct_a_paper(platform):
    ada, bob = await platform.user(), await platform.user()
    paper = await platform.paper(ada)
    for who in (bob, ada):  # not even the member who registered it
        assert_problem(await platform.client.patch(f"/api/v1/papers/{paper['id']}", headers=who["headers"],
                                                   json={"title": "Vandalised"}), 403)
    assert_problem(await platform.client.patch(f"/api/v1/papers/{paper['id']}", json={"title": "Vandalised"}), 401)
    assert (await platform.client.get(f"/api/v1/papers/{paper['id']}")).json() == paper


async def test_correcting_identifiers_keeps_the_ones_not_mentioned(platform):
    ada = await platform.user()
    mod = await platform.user(roles={"moderator"})
    paper = await platform.paper(ada, identifiers={"arxiv": "1706.03762v5"})

    r = await platform.client.patch(f"/api/v1/papers/{paper['id']}", headers=mod["headers"],
                                    json={"identifiers": {"dblp": "conf/nips/VaswaniSPUJGKP17"}})
    assert r.status_code == 200
    assert r.json()["identifiers"] == {"doi": None, "arxiv": "1706.03762", "arxiv_version": 5,
                                       "dblp": "conf/nips/VaswaniSPUJGKP17"}
    found = await platform.client.get("/api/v1/papers/lookup", params={"arxiv": "1706.03762"})
    assert found.status_code == 200 and found.json()["id"] == paper["id"]

    # an explicit null removes one identifier, and frees it
    r = await platform.client.patch(f"/api/v1/papers/{paper['id']}", headers=mod["headers"],
                                    json={"identifiers": {"arxiv": None}})
    assert r.status_code == 200
    assert r.json()["identifiers"] == {"doi": None, "arxiv": None, "arxiv_version": None,
                                       "dblp": "conf/nips/VaswaniSPUJGKP17"}
    assert_problem(await platform.client.get("/api/v1/papers/lookup", params={"arxiv": "1706.03762"}), 404)
    again = await platform.paper(ada, identifiers={"arxiv": "1706.03762"})
    assert again["id"] != paper["id"]


async def test_correcting_to_another_papers_identifier_is_409(platform):
    ada = await platform.user()
    mod = await platform.user(roles={"moderator"})
    first = await platform.paper(ada)
    second = await platform.paper(ada)
    r = await platform.client.patch(f"/api/v1/papers/{second['id']}", headers=mod["headers"],
                                    json={"identifiers": {"arxiv": first["identifiers"]["arxiv"]}})
    assert assert_problem(r, 409, "identifiers.arxiv")["existing_id"] == first["id"]
    assert (await platform.client.get(f"/api/v1/papers/{second['id']}")).json() == second


async def test_correcting_an_unknown_paper_is_404(platform):
    mod = await platform.user(roles={"moderator"})
    assert_problem(await platform.client.patch("/api/v1/papers/nope", headers=mod["headers"], json={"title": "X"}),
                   404, "paper_id")


async def test_venues_count_papers_and_public_summaries(platform):
    ada, bob = await platform.user(), await platform.user()
    iclr_a = await platform.paper(ada, venue="ICLR", year=2020)
    iclr_b = await platform.paper(ada, venue="ICLR 2021", year=2021)
    neurips = await platform.paper(ada, venue="NeurIPS", year=2020)
    await platform.paper(ada, venue=None, year=2019)  # no venue: not listed
    await platform.summary(ada, iclr_a["id"])
    await platform.summary(bob, iclr_a["id"])
    await platform.summary(ada, iclr_b["id"])
    await platform.summary(bob, iclr_b["id"], visibility="private")  # not counted

    r = await platform.client.get("/api/v1/venues")
    assert r.status_code == 200
    venues = {v["key"]: v for v in r.json()}
    assert set(venues) == {"iclr", "neurips"}
    assert venues["iclr"]["papers"] == 2 and venues["iclr"]["summaries"] == 3
    assert venues["iclr"]["name"] in ("ICLR", "ICLR 2021")
    assert venues["neurips"] == {"key": "neurips", "name": "NeurIPS", "papers": 1, "summaries": 0}
    assert neurips["venue_key"] == "neurips"

    years = await platform.client.get("/api/v1/venues/iclr/years")
    assert years.status_code == 200
    assert years.json() == [{"year": 2021, "papers": 1, "summaries": 1}, {"year": 2020, "papers": 1, "summaries": 2}]


async def test_years_of_an_unknown_venue_is_404(platform):
    assert_problem(await platform.client.get("/api/v1/venues/nowhere/years"), 404, "key")
    assert (await platform.client.get("/api/v1/venues")).json() == []
