"""The papers use case `import_paper`: new, unchanged on re-run, enrichment, possible duplicates."""

from __future__ import annotations

import orjson
import pytest

from backbone.contracts.papers import PaperCreate
from services.papers.adapters.sqlite import SqlitePapersStore
from services.papers.handlers import PapersService


@pytest.fixture
async def papers(tmp_path):
    store = SqlitePapersStore(tmp_path / "papers.db")
    await store.start()
    yield PapersService(store)
    await store.close()


def outbox_types(service: PapersService) -> list[str]:
    rows = service.store.conn.execute("SELECT envelope FROM outbox ORDER BY seq").fetchall()
    return [orjson.loads(r[0])["type"] for r in rows]


def data(**overrides) -> PaperCreate:
    values = {"title": "Deep Residual Learning for Image Recognition", "authors": ["Kaiming He", "Jian Sun"],
              "year": 2016, "identifiers": {"doi": "10.1109/CVPR.2016.90"}}
    values.update(overrides)
    return PaperCreate.model_validate(values)


async def test_a_new_record_registers_a_paper_and_queues_its_event(papers):
    result = await papers.import_paper(data(), source="test", key="he2016")
    assert result.outcome == "new"
    paper = await papers.get(result.paper_id)
    assert paper.identifiers.doi == "10.1109/cvpr.2016.90"
    assert outbox_types(papers) == ["PaperRegistered"]


async def test_importing_the_same_record_again_changes_nothing(papers):
    first = await papers.import_paper(data(), source="test", key="he2016")
    again = await papers.import_paper(data(), source="test", key="he2016")
    assert (again.outcome, again.paper_id) == ("unchanged", first.paper_id)
    assert (await papers.get(first.paper_id)).version == 1
    assert outbox_types(papers) == ["PaperRegistered"]


async def test_a_record_without_identifiers_is_found_again_by_its_key_in_the_same_source(papers):
    bare = data(identifiers={})
    first = await papers.import_paper(bare, source="bib:a", key="k1")
    assert (await papers.import_paper(bare, source="bib:a", key="k1")).outcome == "unchanged"
    # Another bibliography with the same title and year: not merged silently.
    other = await papers.import_paper(bare, source="bib:b", key="k9")
    assert (other.outcome, other.paper_id) == ("possible_duplicate", first.paper_id)


async def test_a_match_by_any_identifier_fills_missing_fields_and_overwrites_nothing(papers):
    first = await papers.import_paper(data(year=None), source="a", key="x")
    richer = data(title="A different spelling of the title", venue="CVPR 2016", year=2016, abstract="We present.",
                  keywords=["vision"], urls=["https://example.org/resnet"],
                  identifiers={"arxiv": "arXiv:1512.03385v1", "dblp": "conf/cvpr/HeZRS16"})
    # Matched by the arXiv id only: the DOI is not in this record.
    richer = richer.model_copy(update={"identifiers": richer.identifiers.model_copy(update={"doi": None})})
    await papers.import_paper(data(year=None, identifiers={"doi": "10.1109/CVPR.2016.90",
                                                           "arxiv": "1512.03385"}), source="a", key="x")
    result = await papers.import_paper(richer, source="b", key="y")
    assert (result.outcome, result.paper_id) == ("enriched", first.paper_id)
    assert set(result.changed) >= {"venue", "year", "abstract", "keywords", "urls", "identifiers"}
    paper = await papers.get(first.paper_id)
    assert paper.title == "Deep Residual Learning for Image Recognition"  # kept, not overwritten
    assert (paper.venue_key, paper.year, paper.abstract) == ("cvpr", 2016, "We present.")
    assert (paper.identifiers.doi, paper.identifiers.arxiv, paper.identifiers.dblp) == (
        "10.1109/cvpr.2016.90", "1512.03385", "conf/cvpr/HeZRS16")
    assert outbox_types(papers)[-1] == "PaperUpdated"
    assert (await papers.import_paper(richer, source="b", key="y")).outcome == "unchanged"


async def test_same_normalised_title_and_year_is_a_possible_duplicate_and_is_not_created(papers):
    first = await papers.import_paper(data(), source="a", key="x")
    twin = data(title="DEEP residual learning, for image recognition!", identifiers={"arxiv": "1512.03385"})
    result = await papers.import_paper(twin, source="a", key="y")
    assert (result.outcome, result.paper_id) == ("possible_duplicate", first.paper_id)
    assert (await papers.list(venue=None, year=None, page=1, size=10)).total == 1
    # A different year is a different paper.
    assert (await papers.import_paper(data(year=2017, identifiers={}), source="a", key="z")).outcome == "new"


async def test_identifiers_belonging_to_two_papers_are_reported_not_merged(papers):
    a = await papers.import_paper(data(), source="s", key="a")
    b = await papers.import_paper(data(title="Other", identifiers={"arxiv": "1512.03385"}), source="s", key="b")
    both = data(identifiers={"doi": "10.1109/CVPR.2016.90", "arxiv": "1512.03385"})
    result = await papers.import_paper(both, source="s", key="c")
    assert result.outcome == "possible_duplicate"
    assert a.paper_id in result.detail and b.paper_id in result.detail
