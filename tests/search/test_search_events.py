"""Events applied to the search service (services/search/handlers.py) over a real FTS5
index: idempotent and ordered by version, and repairable from the event log (rebuild) or
from the summaries' own state (reconcile) after deliberate damage."""

from __future__ import annotations

import pytest

from backbone.contracts.search import SearchRequest
from backbone.eventlog.sqlite import SqliteEventLog
from backbone.events import CommentAdded, Envelope, SummaryState, VoteCast
from services.search.adapters.fts5 import Fts5Index
from services.search.domain.document import to_search_doc
from services.search.domain.query import parse_query
from services.search.handlers import SearchService, apply_event
from tests.search.factories import make_doc, make_paper, make_state, paper_envelope, summary_envelope


@pytest.fixture
async def index(tmp_path):
    index = Fts5Index(tmp_path / "search.db")
    await index.start()
    yield index
    await index.close()


@pytest.fixture
def service(index) -> SearchService:
    return SearchService(index)


@pytest.fixture
async def event_log(tmp_path):
    log = SqliteEventLog(tmp_path / "events.db", poll_interval=0.01)
    await log.start()
    yield log
    await log.close()


async def found(service: SearchService, q: str = "", **params) -> list[str]:
    result = await service.search(SearchRequest(q=q, size=50, **params))
    return [h.summary_id for h in result.hits]


async def hit(service: SearchService, summary_id: str):
    result = await service.search(SearchRequest(size=50))
    return next((h for h in result.hits if h.summary_id == summary_id), None)


def evolve(state: SummaryState, **changes) -> SummaryState:
    return state.model_copy(update=changes)


async def picture(index: Fts5Index) -> dict:
    """Everything a reader can observe of the index, to compare before and after repairs."""
    versions = await index.versions()
    searches = {}
    for q in ("", "residual", "attention", "shortcuts", "heads -multi", "recogn*"):
        for sort in ("relevance", "newest", "score"):
            result = await index.search(parse_query(q), venues=[], year_from=None, year_to=None, author=None,
                                        sort=sort, offset=0, limit=50)
            searches[q, sort] = result.model_dump()
    return {
        "versions": versions,
        "docs": {sid: await index.get_doc(sid) for sid in versions},
        "searches": searches,
        "suggestions": [s.model_dump() for s in await index.suggest(["re"], 10)],
        "papers": {p: await index.get_paper(p) for p in ("paper-resnet", "paper-attention")},
    }


# -- applying events ------------------------------------------------------------------


async def test_a_redelivered_event_changes_nothing(service, index):
    state = make_state(body="residual connections")
    published = summary_envelope(state, 1)
    revised = summary_envelope(evolve(state, body="identity shortcuts", revision=2), 2, "revised")

    assert await apply_event(index, published) is True
    before = await picture(index)
    assert await apply_event(index, published) is False  # the same envelope again
    assert await picture(index) == before

    await service.handle(revised)
    after_revision = await picture(index)
    await service.handle(revised)
    await service.handle(published)  # an old one redelivered late
    assert await picture(index) == after_revision
    assert await found(service, "shortcuts") == [state.summary_id]
    assert await found(service, "residual") == []


async def test_out_of_order_events_keep_the_newest_text(service, index):
    state = make_state(body="first text")
    third = summary_envelope(evolve(state, body="third text", revision=3), 3, "revised")
    second = summary_envelope(evolve(state, body="second text", revision=2), 2, "revised")

    await service.handle(third)
    await service.handle(second)
    await service.handle(summary_envelope(state, 1))

    assert await found(service, "third") == [state.summary_id]
    assert await found(service, "second") == [] and await found(service, "first") == []
    doc = await index.get_doc(state.summary_id)
    assert (doc.version, doc.body) == (3, "third text")


async def test_a_vote_changes_the_score_and_the_score_order(service):
    low, high = make_state(body="kernel methods", minutes=1), make_state(body="kernel tricks", minutes=2)
    for s in (low, high):
        await service.handle(summary_envelope(s, 1))
    await service.handle(summary_envelope(evolve(high, score=1), 2, "vote"))
    assert await found(service, "kernel", sort="score") == [high.summary_id, low.summary_id]

    vote = VoteCast(summary_id=low.summary_id, value=1, score=3, summary=evolve(low, score=3))
    await service.handle(vote.envelope(aggregate_id=low.summary_id, aggregate_version=2, producer="test"))

    assert (await hit(service, low.summary_id)).score == 3
    assert await found(service, "kernel", sort="score") == [low.summary_id, high.summary_id]


async def test_a_deleted_summary_is_removed_and_stays_removed(service, index):
    state = make_state(body="soon deleted")
    await service.handle(summary_envelope(state, 1))
    assert await found(service, "deleted") == [state.summary_id]

    await service.handle(summary_envelope(evolve(state, deleted=True), 3, "deleted"))
    assert await found(service, "deleted") == []
    assert await index.get_doc(state.summary_id) is None
    # A revision that was made before the delete but arrives after it is stale.
    await service.handle(summary_envelope(evolve(state, body="soon deleted again", revision=2), 2, "revised"))
    assert await found(service, "deleted") == []
    assert (await index.versions())[state.summary_id] == (3, False)


@pytest.mark.parametrize("change, kind", [
    ({"hidden": True}, "hidden"),
    ({"visibility": "private"}, "revised"),
    ({"deleted": True}, "deleted"),
])
async def test_a_summary_that_stops_being_public_leaves_the_index(service, change, kind):
    state = make_state(body="visible for now")
    await service.handle(summary_envelope(state, 1))
    await service.handle(summary_envelope(evolve(state, **change), 2, kind))
    assert await found(service, "visible") == []
    assert await found(service) == []


async def test_a_private_summary_is_never_indexed(service, index):
    state = make_state(body="my private notes", visibility="private")
    await service.handle(summary_envelope(state, 1))
    assert await found(service, "notes") == [] and await index.get_doc(state.summary_id) is None
    await service.handle(summary_envelope(evolve(state, visibility="public"), 2, "revised"))
    assert await found(service, "notes") == [state.summary_id]


async def test_a_summary_made_anonymous_loses_its_author(service, index):
    state = make_state(body="who wrote this", author_username="shyauthor")
    await service.handle(summary_envelope(state, 1))
    assert await found(service, author="shyauthor") == [state.summary_id]
    await service.handle(summary_envelope(evolve(state, anonymous=True, author_id=None, author_username=None), 2,
                                          "revised"))
    assert await found(service, author="shyauthor") == []
    assert await found(service, "wrote") == [state.summary_id]
    assert (await index.get_doc(state.summary_id)).author_username is None


async def test_a_corrected_paper_outlives_older_copies_in_summary_events(service, index):
    paper = make_paper(title="Generative Adversial Nets")
    state = make_state(paper, body="two networks play a game")
    await service.handle(paper_envelope(paper))
    await service.handle(summary_envelope(state, 1))

    corrected = paper.model_copy(update={"title": "Generative Adversarial Nets", "version": 2})
    await service.handle(paper_envelope(corrected))
    assert (await hit(service, state.summary_id)).title == "Generative Adversarial Nets"

    # The summaries service still holds the paper as it was at publication.
    await service.handle(summary_envelope(evolve(state, body="two networks play a minimax game", revision=2), 2,
                                          "revised"))
    assert await found(service, "minimax") == [state.summary_id]
    assert (await hit(service, state.summary_id)).title == "Generative Adversarial Nets"
    assert await found(service, "adversial") == []
    assert await apply_event(index, paper_envelope(paper)) is False  # the first version, redelivered
    assert await index.get_paper(paper.paper_id) == corrected


async def test_events_the_index_does_not_use_change_nothing(service, index):
    state = make_state(body="unchanged text")
    await service.handle(summary_envelope(state, 1))
    before = await picture(index)

    comment = CommentAdded(comment_id="c1", summary_id=state.summary_id, author_id="u", author_username="u",
                           body="a comment with new words").envelope(aggregate_id=state.summary_id,
                                                                     aggregate_version=2, producer="test")
    assert await apply_event(index, comment) is False
    unknown = Envelope(**{**comment.model_dump(), "event_id": "x", "type": "SummaryTeleported"})
    assert await apply_event(index, unknown) is False
    old_vote = summary_envelope(evolve(state, score=9), 3, "vote")
    old_vote = Envelope(**{**old_vote.model_dump(), "version": 1})  # a VoteCast v1 carried no state
    assert await apply_event(index, old_vote) is False

    assert await picture(index) == before


# -- rebuild and reconcile ------------------------------------------------------------


def history() -> tuple[list[Envelope], dict[str, tuple[SummaryState, int]]]:
    """A small log: two papers, five summaries, revisions, a vote, a delete, a corrected
    title; and each summary's final (state, version) as the summaries service holds it."""
    resnet = make_paper(paper_id="paper-resnet", title="Deep Residual Learning", venue="CVPR", venue_key="cvpr",
                        year=2016, keywords=["residual networks"])
    attention = make_paper(paper_id="paper-attention", title="Attention Is All You Need", venue="NeurIPS",
                           venue_key="neurips", year=2017, abstract="The Transformer, based solely on attention.")
    resnet2 = resnet.model_copy(update={"title": "Deep Residual Learning for Image Recognition", "version": 2})

    a1 = make_state(resnet, summary_id="s-a", body="residual blocks", author_username="ada", minutes=1)
    a2 = evolve(a1, body="residual blocks with identity shortcuts", revision=2)
    a3 = evolve(a2, score=4)
    b1 = make_state(attention, summary_id="s-b", body="multi heads of attention", minutes=2)
    c1 = make_state(attention, summary_id="s-c", body="attention heads, to be deleted", minutes=3)
    c2 = evolve(c1, deleted=True)
    d1 = make_state(resnet, summary_id="s-d", body="private residual notes", visibility="private", minutes=4)
    e1 = make_state(resnet, summary_id="s-e", body="anonymous residual musings", anonymous=True, author_id=None,
                    author_username=None, minutes=5)
    envelopes = [
        paper_envelope(resnet), paper_envelope(attention),
        summary_envelope(a1, 1), summary_envelope(b1, 1), summary_envelope(c1, 1), summary_envelope(d1, 1),
        summary_envelope(e1, 1),
        summary_envelope(a2, 2, "revised"),
        paper_envelope(resnet2),
        summary_envelope(a3, 3, "vote"),
        summary_envelope(c2, 2, "deleted"),
    ]
    truth = {"s-a": (a3, 3), "s-b": (b1, 1), "s-c": (c2, 2), "s-d": (d1, 1), "s-e": (e1, 1)}
    return envelopes, truth


def damage(index: Fts5Index) -> None:
    """What a bad disk, a bug or a hand-run statement might do to the derived index."""
    conn = index.conn
    conn.execute("UPDATE docs_fts SET body='corrupted garbage' WHERE rowid=(SELECT rowid FROM docs WHERE summary_id='s-a')")
    conn.execute("UPDATE docs SET score=99 WHERE summary_id='s-a'")
    conn.execute("DELETE FROM docs WHERE summary_id='s-b'")
    conn.execute("DELETE FROM docs_fts WHERE rowid=(SELECT rowid FROM docs WHERE summary_id='s-e')")
    conn.execute("DELETE FROM docs WHERE summary_id='s-c'")  # its tombstone
    conn.execute("UPDATE papers SET title='Garbled', snapshot=replace(snapshot, 'Attention Is', 'Garbled')"
                 " WHERE paper_id='paper-attention'")


async def test_rebuild_from_the_log_restores_a_damaged_index(service, index, event_log):
    envelopes, _ = history()
    for envelope in envelopes:
        await service.handle(envelope)
    healthy = await picture(index)
    assert set(healthy["versions"]) == {"s-a", "s-b", "s-c", "s-d", "s-e"}
    assert [h["summary_id"] for h in healthy["searches"]["residual", "newest"]["hits"]] == ["s-e", "s-a"]
    await event_log.publish(envelopes)

    damage(index)
    assert await picture(index) != healthy
    assert await found(service, "garbage") == ["s-a"] and await found(service, "musings") == []

    progress = []
    applied = await service.rebuild(event_log, lambda done, total: progress.append((done, total)))

    assert applied == len(envelopes)
    assert await picture(index) == healthy
    assert progress and progress[-1][0] == progress[-1][1]  # a finished rebuild shows a full bar
    assert [done for done, _ in progress] == sorted(done for done, _ in progress)
    # The rebuilt index is the live one: events keep flowing into it.
    later = make_state(body="residual after the rebuild", minutes=9)
    await service.handle(summary_envelope(later, 1))
    assert later.summary_id in await found(service, "rebuild")


async def test_a_rebuild_with_an_empty_log_empties_the_index(service, index, event_log):
    await service.handle(summary_envelope(make_state(body="not in any log"), 1))
    assert await service.rebuild(event_log) == 0
    assert await index.versions() == {}
    assert await found(service) == []


async def states_of(truth: dict[str, tuple[SummaryState, int]]):
    for state, version in truth.values():
        yield state, version


async def test_reconcile_repairs_each_difference_and_reports_it(service, index):
    envelopes, truth = history()
    for envelope in envelopes:
        await service.handle(envelope)
    conn = index.conn
    # A corrupted body, a missing document, a ghost the owner never had, a summary the
    # owner made private after the index last heard of it, and a lagging version (a
    # comment bumped it; nothing the index holds changed): only the first four are wrong.
    conn.execute("UPDATE docs_fts SET body='corrupted garbage' WHERE rowid=(SELECT rowid FROM docs WHERE summary_id='s-a')")
    conn.execute("DELETE FROM docs WHERE summary_id='s-b'")
    ghost = make_doc(body="ghost residual", summary_id="s-ghost")
    await index.upsert(ghost)
    f1 = make_state(summary_id="s-f", body="residual then private", minutes=6)
    await service.handle(summary_envelope(f1, 1))
    truth["s-f"] = (evolve(f1, visibility="private"), 2)
    truth["s-e"] = (truth["s-e"][0], 4)

    checked = []
    report = await service.reconcile(states_of(truth), checked.append)

    assert report.checked == len(truth) == 6 and checked[-1] == 6
    assert report.updated == ["s-a"]
    assert report.added == ["s-b"]
    assert sorted(report.removed) == ["s-f", "s-ghost"]
    assert report.fixed == 4

    assert await found(service, "garbage") == [] and await found(service, "shortcuts") == ["s-a"]
    assert await found(service, "heads") == ["s-b"]
    assert set(await found(service, "residual")) == {"s-a", "s-e"}
    assert (await hit(service, "s-a")).score == 4
    assert (await hit(service, "s-a")).title == "Deep Residual Learning for Image Recognition"
    assert await index.get_doc("s-ghost") is None and await index.get_doc("s-f") is None

    again = await service.reconcile(states_of(truth))
    assert (again.fixed, again.added, again.updated, again.removed) == (0, [], [], [])
    assert again.checked == 6


async def test_reconcile_restores_a_document_the_index_holds_ahead_of_its_owner(service, index):
    # Same content, but a version the owner never reached (e.g. a log replayed from another
    # deployment): left alone, the owner's next events (3..7) would all be ignored as stale.
    state = make_state(body="the owner's text")
    await index.upsert(to_search_doc(state, 7))
    report = await service.reconcile(states_of({state.summary_id: (state, 2)}))
    assert report.updated == [state.summary_id] and report.fixed == 1
    assert (await index.get_doc(state.summary_id)).version == 2

    await service.handle(summary_envelope(evolve(state, body="the owner's next text", revision=2), 3, "revised"))
    assert await found(service, "next") == [state.summary_id]


async def test_a_tombstone_keeps_no_text_of_the_summary(tmp_path):
    from services.search.adapters.fts5 import Fts5Index
    from tests.search.factories import make_doc

    index = Fts5Index(tmp_path / "search.db")
    await index.start()
    try:
        doc = make_doc(version=1, summary_id="s1", body="a confidential thought about quokkas",
                       author_username="secretive")
        await index.upsert(doc)
        await index.remove("s1", 2)
        stored = " ".join(str(v) for v in index.conn.execute("SELECT * FROM docs").fetchone())
        assert "quokkas" not in stored and "secretive" not in stored
        assert index.conn.execute("SELECT count(*) FROM docs_fts").fetchone()[0] == 0
        assert index.conn.execute("SELECT count(*) FROM words_vocab WHERE term='quokkas'").fetchone()[0] == 0
        assert await index.versions() == {"s1": (2, False)}
    finally:
        await index.close()
