"""The papers store port (services.papers.ports.PapersStore) on every backend: SQLite, and
MongoDB (FerretDB under `make engines`) when an engine is reachable.

The SQLite adapter's behaviour is the contract; each test states one rule of it."""

from __future__ import annotations

import asyncio
import itertools
from dataclasses import replace
from datetime import UTC, datetime

import pytest

from backbone.ids import new_id
from services.papers.domain.imports import title_key
from services.papers.domain.model import Identifiers, Paper
from services.papers.ports import IdentifierTaken, StaleWrite
from tests.engines import unique_prefix

_n = itertools.count(1)


async def open_store(kind: str, request, tmp_path):
    if kind == "sqlite":
        from services.papers.adapters.sqlite import SqlitePapersStore

        return SqlitePapersStore(tmp_path / "papers.db")
    from services.papers.adapters.mongo import MongoPapersStore

    return MongoPapersStore(request.getfixturevalue("mongodb_url"), unique_prefix("papers") + "db")


@pytest.fixture(params=["sqlite", "mongo"])
async def store(request, tmp_path):
    """A started, empty papers store of each backend; a Mongo one gets its own database."""
    store = await open_store(request.param, request, tmp_path)
    await store.start()
    try:
        yield store
    finally:
        if request.param == "mongo":
            await store.drop()
        await store.close()


def make_paper(**overrides) -> Paper:
    n = next(_n)
    values = dict(
        id=new_id(),
        title=f"Learning Things Number {n}",
        authors=["Ada Lovelace", "Alan Turing"],
        venue="ICLR",
        venue_key="iclr",
        year=2020,
        abstract="We learn things.",
        keywords=["learning"],
        urls=[f"https://example.org/{n}"],
        identifiers=Identifiers(doi=f"10.1000/test.{n}"),
    )
    values.update(overrides)
    return Paper(**values)


def changed(paper: Paper, **changes) -> tuple[Paper, object]:
    updated, event = paper.with_changes(changes)
    assert event is not None
    return updated, event


async def queued(store) -> list:
    return [envelope for _, envelope in await store.outbox().pending(1000)]


# -- add, get, identifiers ----------------------------------------------------------------


async def test_a_paper_comes_back_exactly_as_added(store):
    paper = make_paper(
        title="Ünïcode & “quotes” in a title", authors=["Émile Borel"], keywords=["a", "b"],
        urls=["https://example.org/x", "https://example.org/y"],
        identifiers=Identifiers(doi="10.1000/exact", arxiv="2001.00001", arxiv_version=3, dblp="conf/iclr/Exact20"),
        created_at=datetime(2020, 1, 2, 3, 4, 5, 678901, tzinfo=UTC),
        updated_at=datetime(2021, 6, 7, 8, 9, 10, 111213, tzinfo=UTC),
        version=4,
    )
    await store.add(paper, paper.registered())
    assert await store.get(paper.id) == paper
    assert await store.get(new_id()) is None
    assert await store.ping()


async def test_a_paper_is_found_by_each_of_its_identifiers(store):
    paper = make_paper(identifiers=Identifiers(doi="10.1000/a", arxiv="2001.00002", arxiv_version=1,
                                               dblp="journals/x/A20"))
    await store.add(paper, paper.registered())
    for kind, value in (("doi", "10.1000/a"), ("arxiv", "2001.00002"), ("dblp", "journals/x/A20")):
        assert (await store.find_by_identifier(kind, value)).id == paper.id
    assert await store.find_by_identifier("doi", "10.1000/other") is None
    assert await store.find_by_identifier("arxiv", "10.1000/a") is None


async def test_a_taken_identifier_names_its_owner_and_the_refused_paper_leaves_nothing(store):
    first = make_paper(identifiers=Identifiers(doi="10.1000/shared"))
    await store.add(first, first.registered())
    second = make_paper(identifiers=Identifiers(doi="10.1000/shared", arxiv="2001.00003"))
    with pytest.raises(IdentifierTaken) as caught:
        await store.add(second, second.registered(), source=("test", "second"))
    assert (caught.value.kind, caught.value.value, caught.value.paper_id) == ("doi", "10.1000/shared", first.id)
    assert await store.get(second.id) is None
    assert await store.find_by_identifier("arxiv", "2001.00003") is None
    assert await store.find_by_source("test", "second") is None
    assert [e.aggregate_id for e in await queued(store)] == [first.id]
    # The refused paper's other identifier was not kept: another paper may have it.
    third = make_paper(identifiers=Identifiers(arxiv="2001.00003"))
    await store.add(third, third.registered())
    assert (await store.find_by_identifier("arxiv", "2001.00003")).id == third.id


@pytest.mark.parametrize("shared", [
    Identifiers(doi="10.1000/race"),
    Identifiers(doi="10.1000/race2", arxiv="2001.00004", dblp="conf/x/Race"),
])
async def test_of_two_racing_adds_sharing_identifiers_exactly_one_wins(store, shared):
    for round_ in range(3):
        ids = replace(shared, doi=f"{shared.doi}.{round_}",
                      arxiv=shared.arxiv and f"2001.0000{round_ + 4}", dblp=shared.dblp and f"{shared.dblp}{round_}")
        a, b = make_paper(identifiers=ids), make_paper(identifiers=ids)
        results = await asyncio.gather(store.add(a, a.registered()), store.add(b, b.registered()),
                                       return_exceptions=True)
        won = [p for p, r in zip((a, b), results) if r is None]
        lost = [r for r in results if r is not None]
        assert len(won) == 1 and len(lost) == 1, results
        assert isinstance(lost[0], IdentifierTaken) and lost[0].paper_id == won[0].id
        assert (await store.find_by_identifier("doi", ids.doi)).id == won[0].id
    assert len(await queued(store)) == 3


async def test_of_two_racing_saves_claiming_one_identifier_exactly_one_wins(store):
    a, b = make_paper(identifiers=Identifiers()), make_paper(identifiers=Identifiers())
    for p in (a, b):
        await store.add(p, p.registered())
    a2, ea = changed(a, identifiers=Identifiers(doi="10.1000/contested"))
    b2, eb = changed(b, identifiers=Identifiers(doi="10.1000/contested"))
    results = await asyncio.gather(store.save(a2, 1, ea), store.save(b2, 1, eb), return_exceptions=True)
    assert sorted(r is None for r in results) == [False, True], results
    winner = a2 if results[0] is None else b2
    loser = b if winner is a2 else a
    assert isinstance(next(r for r in results if r is not None), IdentifierTaken)
    assert (await store.find_by_identifier("doi", "10.1000/contested")).id == winner.id
    assert await store.get(loser.id) == loser
    assert len(await queued(store)) == 3


# -- save ---------------------------------------------------------------------------------


async def test_save_replaces_the_paper_and_a_stale_version_is_refused(store):
    paper = make_paper()
    await store.add(paper, paper.registered())
    first, event = changed(paper, title="A Better Title")
    await store.save(first, paper.version, event)
    assert await store.get(paper.id) == first
    late, late_event = changed(paper, title="A Title Written From An Old Read")
    with pytest.raises(StaleWrite):
        await store.save(late, paper.version, late_event)
    assert await store.get(paper.id) == first
    ghost = make_paper()
    with pytest.raises(StaleWrite):
        await store.save(changed(ghost, title="Never Added")[0], ghost.version, ghost.registered())
    assert [e.type for e in await queued(store)] == ["PaperRegistered", "PaperUpdated"]


async def test_of_two_racing_saves_of_one_paper_exactly_one_wins(store):
    paper = make_paper()
    await store.add(paper, paper.registered())
    one, e1 = changed(paper, title="Version One")
    two, e2 = changed(paper, abstract="Version two")
    results = await asyncio.gather(store.save(one, 1, e1), store.save(two, 1, e2), return_exceptions=True)
    assert sorted(type(r).__name__ for r in results) == ["NoneType", "StaleWrite"], results
    assert await store.get(paper.id) == (one if results[0] is None else two)
    assert len(await queued(store)) == 2


async def test_save_keeps_its_own_identifiers_and_refuses_another_papers(store):
    owner = make_paper(identifiers=Identifiers(doi="10.1000/owner"))
    paper = make_paper(identifiers=Identifiers(doi="10.1000/mine"))
    for p in (owner, paper):
        await store.add(p, p.registered())
    kept, event = changed(paper, title="Renamed", identifiers=Identifiers(doi="10.1000/mine", arxiv="2001.00005"))
    await store.save(kept, 1, event)
    assert (await store.find_by_identifier("doi", "10.1000/mine")).id == paper.id
    assert (await store.find_by_identifier("arxiv", "2001.00005")).id == paper.id
    grab, grab_event = changed(kept, identifiers=Identifiers(doi="10.1000/owner", arxiv="2001.00006"))
    with pytest.raises(IdentifierTaken) as caught:
        await store.save(grab, kept.version, grab_event)
    assert caught.value.paper_id == owner.id
    assert await store.get(paper.id) == kept
    assert await store.find_by_identifier("arxiv", "2001.00006") is None
    assert len(await queued(store)) == 3


async def test_identifiers_a_save_drops_can_be_claimed_by_another_paper(store):
    paper = make_paper(identifiers=Identifiers(doi="10.1000/old", dblp="conf/x/Old"))
    await store.add(paper, paper.registered())
    moved, event = changed(paper, identifiers=Identifiers(doi="10.1000/new", dblp="conf/x/Old"))
    await store.save(moved, 1, event)
    assert await store.find_by_identifier("doi", "10.1000/old") is None
    other = make_paper(identifiers=Identifiers(doi="10.1000/old"))
    await store.add(other, other.registered())
    assert (await store.find_by_identifier("doi", "10.1000/old")).id == other.id
    assert (await store.find_by_identifier("doi", "10.1000/new")).id == paper.id
    # The identifier it kept is still its own.
    taken = make_paper(identifiers=Identifiers(dblp="conf/x/Old"))
    with pytest.raises(IdentifierTaken):
        await store.add(taken, taken.registered())
    # And it can take its old one back once the other paper lets it go.
    freed, e2 = changed(other, identifiers=Identifiers())
    await store.save(freed, 1, e2)
    back, e3 = changed(moved, identifiers=Identifiers(doi="10.1000/old", dblp="conf/x/Old"))
    await store.save(back, 2, e3)
    assert (await store.find_by_identifier("doi", "10.1000/old")).id == paper.id


# -- imports: sources and titles --------------------------------------------------------


async def test_sources_remember_where_a_record_came_from_and_the_first_paper_keeps_it(store):
    paper = make_paper()
    await store.add(paper, paper.registered(), source=("dblp", "rec/1"))
    assert (await store.find_by_source("dblp", "rec/1")).id == paper.id
    assert await store.find_by_source("dblp", "rec/2") is None
    assert await store.find_by_source("csv", "rec/1") is None
    # A save without an event only records the provenance: no new version, no event.
    await store.save(paper, paper.version, None, source=("csv", "row:7"))
    assert (await store.find_by_source("csv", "row:7")).id == paper.id
    assert await store.get(paper.id) == paper
    other = make_paper()
    await store.add(other, other.registered(), source=("dblp", "rec/1"))
    assert (await store.find_by_source("dblp", "rec/1")).id == paper.id
    # Sources and keys containing the separator do not collide.
    await store.add(a := make_paper(), a.registered(), source=("a:b", "c"))
    await store.add(b := make_paper(), b.registered(), source=("a", "b:c"))
    assert (await store.find_by_source("a:b", "c")).id == a.id
    assert (await store.find_by_source("a", "b:c")).id == b.id
    assert len(await queued(store)) == 4


async def test_a_refused_save_does_not_remember_its_source(store):
    owner = make_paper(identifiers=Identifiers(doi="10.1000/src-owner"))
    paper = make_paper()
    for p in (owner, paper):
        await store.add(p, p.registered())
    grab, event = changed(paper, identifiers=Identifiers(doi="10.1000/src-owner"))
    with pytest.raises(IdentifierTaken):
        await store.save(grab, 1, event, source=("bib", "k1"))
    assert await store.find_by_source("bib", "k1") is None
    fine, event = changed(paper, year=1999)
    await store.save(fine, 1, event, source=("bib", "k1"))
    assert (await store.find_by_source("bib", "k1")).id == paper.id


async def test_find_by_title_matches_the_normalised_title_and_the_year(store):
    dated = make_paper(title="Attention Is All You Need!", year=2017)
    undated = make_paper(title="Attention is all you need", year=None)
    for p in (dated, undated):
        await store.add(p, p.registered())
    key = title_key("attention is all you need")
    assert (await store.find_by_title(key, 2017)).id == dated.id
    assert (await store.find_by_title(key, None)).id == undated.id
    assert await store.find_by_title(key, 2018) is None
    assert await store.find_by_title(title_key("something else"), 2017) is None
    renamed, event = changed(dated, title="Attention Is Not All You Need")
    await store.save(renamed, 1, event)
    assert await store.find_by_title(key, 2017) is None
    assert (await store.find_by_title(title_key(renamed.title), 2017)).id == dated.id


# -- listings -----------------------------------------------------------------------------


async def add_catalogue(store) -> list[Paper]:
    papers = [
        make_paper(venue="ICLR", venue_key="iclr", year=2020),
        make_paper(venue="ICLR", venue_key="iclr", year=2021),
        make_paper(venue="ICLR", venue_key="iclr", year=2021),
        make_paper(venue="ICLR", venue_key="iclr", year=None),
        make_paper(venue="NeurIPS", venue_key="neurips", year=2019),
        make_paper(venue="Neurips", venue_key="neurips", year=2021),
        make_paper(venue=None, venue_key=None, year=2021),
    ]
    for p in papers:
        await store.add(p, p.registered())
    return papers


def newest_first(papers: list[Paper]) -> list[str]:
    """Year descending (papers without a year last), then id descending."""
    dated = sorted((p for p in papers if p.year is not None), key=lambda p: (p.year, p.id), reverse=True)
    undated = sorted((p for p in papers if p.year is None), key=lambda p: p.id, reverse=True)
    return [p.id for p in dated + undated]


async def test_list_filters_orders_pages_and_counts(store):
    papers = await add_catalogue(store)
    everything, total = await store.list(venue_key=None, year=None, offset=0, limit=100)
    assert total == 7 and [p.id for p in everything] == newest_first(papers)
    iclr = [p for p in papers if p.venue_key == "iclr"]
    page1, total = await store.list(venue_key="iclr", year=None, offset=0, limit=3)
    page2, _ = await store.list(venue_key="iclr", year=None, offset=3, limit=3)
    assert total == 4 and [p.id for p in page1 + page2] == newest_first(iclr) and len(page2) == 1
    in_2021, total = await store.list(venue_key=None, year=2021, offset=0, limit=10)
    assert total == 4 and {p.id for p in in_2021} == {p.id for p in papers if p.year == 2021}
    both, total = await store.list(venue_key="iclr", year=2021, offset=0, limit=10)
    assert total == 2 and all(p.venue_key == "iclr" and p.year == 2021 for p in both)
    beyond, total = await store.list(venue_key="iclr", year=None, offset=10, limit=10)
    assert beyond == [] and total == 4
    none, total = await store.list(venue_key="nowhere", year=None, offset=0, limit=10)
    assert none == [] and total == 0
    assert await store.list(venue_key=None, year=None, offset=0, limit=0) == ([], 7)


async def test_venues_and_their_years_are_counted(store):
    await add_catalogue(store)
    # The name shown is the greatest spelling, as SQL's MAX picks it.
    assert await store.venues() == [("iclr", "ICLR", 4), ("neurips", "Neurips", 2)]
    assert await store.venue_years("iclr") == [(2021, 2), (2020, 1), (None, 1)]
    assert await store.venue_years("neurips") == [(2021, 1), (2019, 1)]
    assert await store.venue_years("nowhere") == []


async def test_after_walks_every_paper_in_id_order(store):
    papers = [make_paper() for _ in range(5)]
    for p in reversed(papers):
        await store.add(p, p.registered())
    ids = sorted(p.id for p in papers)
    first = await store.after(None, 2)
    assert [p.id for p in first] == ids[:2]
    rest = await store.after(first[-1].id, 10)
    assert [p.id for p in rest] == ids[2:]
    assert await store.after(ids[-1], 10) == []
    assert await store.after(None, 0) == []
    assert await store.after(None, 10) == sorted(papers, key=lambda p: p.id)


# -- the outbox ---------------------------------------------------------------------------


async def test_every_write_queues_its_event_once_and_a_refused_write_queues_none(store):
    paper = make_paper(identifiers=Identifiers(doi="10.1000/events"))
    await store.add(paper, paper.registered())
    updated, event = changed(paper, title="Events Title")
    await store.save(updated, 1, event)
    await store.save(updated, 2, None, source=("x", "1"))  # provenance only: no event
    for refused in (
        store.add(make_paper(identifiers=Identifiers(doi="10.1000/events")), paper.registered()),
        store.save(changed(paper, title="Stale")[0], 1, event),
    ):
        with pytest.raises((IdentifierTaken, StaleWrite)):
            await refused
    events = await queued(store)
    assert [(e.type, e.aggregate_id, e.aggregate_version, e.producer) for e in events] == [
        ("PaperRegistered", paper.id, 1, "papers"), ("PaperUpdated", paper.id, 2, "papers")]
    assert events[1].payload["paper"]["title"] == "Events Title"
    assert len({e.event_id for e in events}) == 2
    # Removing what was published empties the outbox.
    outbox = store.outbox()
    await outbox.remove([marker for marker, _ in await outbox.pending(100)])
    assert await queued(store) == []


# -- MongoDB only: claims left behind by writers that crashed -----------------------------


@pytest.fixture
async def mongo_store(request, tmp_path):
    store = await open_store("mongo", request, tmp_path)
    await store.start()
    try:
        yield store
    finally:
        await store.drop()
        await store.close()


async def test_mongo_a_claim_left_by_a_crashed_add_is_taken_over_after_the_lease_and_fences_the_writer(mongo_store):
    from services.papers.adapters.mongo import _Attempt

    store = mongo_store
    crashed = make_paper(identifiers=Identifiers(doi="10.1000/crash"))
    attempt = _Attempt(crashed.id, crashed.version)
    await store._claim_identifiers(crashed, attempt, current=None)  # ...and the writer stops here
    contender = make_paper(identifiers=Identifiers(doi="10.1000/crash"))
    with pytest.raises(IdentifierTaken) as caught:  # within the lease the claim is respected
        await store.add(contender, contender.registered())
    assert caught.value.paper_id == crashed.id
    store.CLAIM_LEASE_SECONDS = 0.0
    await store.add(contender, contender.registered())
    assert (await store.find_by_identifier("doi", "10.1000/crash")).id == contender.id
    # The old writer wakes up and tries to commit: it was fenced, so it cannot.
    envelope = crashed.registered().envelope(aggregate_id=crashed.id, aggregate_version=1, producer="papers")
    assert await store._insert(crashed, attempt, envelope) is False
    assert await store.get(crashed.id) is None
    assert await store.list(venue_key=None, year=None, offset=0, limit=10) == ([contender], 1)
    assert await store.after(None, 10) == [contender]
    assert [e.aggregate_id for e in await queued(store)] == [contender.id]


async def test_mongo_a_claim_a_save_failed_to_release_is_stale_at_once(mongo_store):
    store = mongo_store
    paper = make_paper(identifiers=Identifiers(doi="10.1000/dropped"))
    await store.add(paper, paper.registered())
    claim = await store.db["identifiers"].find_one({"_id": "doi:10.1000/dropped"})
    moved, event = changed(paper, identifiers=Identifiers(doi="10.1000/kept"))
    await store.save(moved, 1, event)
    await store.db["identifiers"].insert_one(claim)  # as if the release after the commit never ran
    other = make_paper(identifiers=Identifiers(doi="10.1000/dropped"))
    await store.add(other, other.registered())
    assert (await store.find_by_identifier("doi", "10.1000/dropped")).id == other.id


# -- MongoDB only: two processes (two clients) writing one database ------------------------


@pytest.fixture
async def two_processes(request):
    """Two stores on one database, as two replicas of the service would have."""
    from services.papers.adapters.mongo import MongoPapersStore

    url, database = request.getfixturevalue("mongodb_url"), unique_prefix("papers2") + "db"
    stores = [MongoPapersStore(url, database), MongoPapersStore(url, database)]
    for store in stores:
        await store.start()
    try:
        yield stores
    finally:
        await stores[0].drop()
        for store in stores:
            await store.close()


async def test_mongo_two_processes_adding_papers_that_share_identifiers_let_exactly_one_win(two_processes):
    # Adds only insert (claims, then the paper), and inserts are atomic on FerretDB too.
    one, two = two_processes
    for round_ in range(5):
        ids = Identifiers(doi=f"10.1000/procs.{round_}", arxiv=f"2002.0000{round_}")
        a, b = make_paper(identifiers=ids), make_paper(identifiers=ids)
        results = await asyncio.gather(one.add(a, a.registered()), two.add(b, b.registered()),
                                       return_exceptions=True)
        won = [p for p, r in zip((a, b), results) if r is None]
        assert len(won) == 1, results
        lost = next(r for r in results if r is not None)
        assert isinstance(lost, IdentifierTaken) and lost.paper_id == won[0].id
        assert (await two.find_by_identifier("arxiv", ids.arxiv)).id == won[0].id
    assert len(await queued(one)) == 5


async def test_mongo_two_processes_saving_one_paper_let_exactly_one_win(two_processes):
    one, two = two_processes
    if not await one.engine_atomic():
        pytest.skip("FerretDB updates documents non-atomically (read, then rewrite by _id), so a version "
                    "compare-and-set between two processes needs real MongoDB; within one process the "
                    "store's write lock covers it (see the in-process race tests)")
    paper = make_paper()
    await one.add(paper, paper.registered())
    for version in range(1, 4):
        current = await one.get(paper.id)
        x, ex = changed(current, title=f"From one {version}")
        y, ey = changed(current, title=f"From two {version}")
        results = await asyncio.gather(one.save(x, version, ex), two.save(y, version, ey), return_exceptions=True)
        assert sorted(type(r).__name__ for r in results) == ["NoneType", "StaleWrite"], results
    assert (await two.get(paper.id)).version == 4
    assert len(await queued(one)) == 4
