"""The summaries store's contract, written once and run against every adapter: SQLite, and
MongoDB (or FerretDB) when an engine is reachable. It tests what the use cases rely on:
optimistic concurrency, one summary per user per paper, revisions, votes, comments,
listings, counts, the papers replica, and exactly one outbox entry per committed event."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest

from backbone.events import (
    CommentAdded,
    CommentHidden,
    PaperSnapshot,
    SummaryDeleted,
    SummaryPublished,
    SummaryRevised,
    VoteCast,
)
from backbone.ids import new_id
from services.summaries.domain.model import Comment, Summary
from services.summaries.domain.outline import TocEntry
from services.summaries.ports import DuplicateSummary, StaleWrite
from tests.contracts.stores import backend_fixture, first_store, relayed_while  # noqa: F401 (fixtures)

T0 = datetime(2024, 5, 1, 12, 0, 0, 123456, tzinfo=UTC)


def _sqlite(tmp_path):
    from services.summaries.adapters.sqlite import SqliteSummariesStore

    return SqliteSummariesStore(tmp_path / "summaries.db")


def _mongo(url, database):
    from services.summaries.adapters.mongo import MongoSummariesStore

    return MongoSummariesStore(url, database)


backend = backend_fixture("summaries", _sqlite, _mongo)


# -- factories ----------------------------------------------------------------------------


def make_paper(paper_id: str | None = None, *, version: int = 1, title: str = "Attention Is All You Need",
               venue_key: str | None = "neurips", year: int | None = 2017) -> PaperSnapshot:
    return PaperSnapshot(paper_id=paper_id or new_id(), title=title, authors=["A. Vaswani"],
                         venue=venue_key.upper() if venue_key else None, venue_key=venue_key, year=year,
                         version=version)


def make_summary(paper: PaperSnapshot | None = None, *, author: str = "ada", minutes: int = 0,
                 body: str = "Self-attention replaces recurrence.", **fields) -> Summary:
    stamp = T0 + timedelta(minutes=minutes)
    values = dict(id=new_id(), paper=paper or make_paper(), author_id=f"user-{author}", author_username=author,
                  body=body, body_html=f"<p>{body}</p>", renderer_version="1", visibility="public",
                  anonymous=False, created_at=stamp, updated_at=stamp)
    values.update(fields)
    return Summary(**values)


def make_comment(summary: Summary, *, author: str = "bob", minutes: int = 1, body: str = "Nice.") -> Comment:
    return Comment(id=new_id(), summary_id=summary.id, author_id=f"user-{author}", author_username=author,
                   body=body, body_html=f"<p>{body}</p>", hidden=False, created_at=T0 + timedelta(minutes=minutes))


async def publish(store, summary: Summary) -> Summary:
    await store.add(summary, [SummaryPublished(summary=summary.state())])
    return summary


async def revise(store, current: Summary, body: str) -> Summary:
    updated = current.next(body=body, body_html=f"<p>{body}</p>", revision=current.revision + 1,
                           updated_at=current.updated_at + timedelta(seconds=1))
    await store.save(updated, current.version, [SummaryRevised(summary=updated.state(), changed=["body"])],
                     new_revision=True)
    return updated


async def vote(store, user: str, value: int, summary_id: str) -> Summary:
    current = await store.get(summary_id)
    previous = await store.vote_of(summary_id, f"user-{user}")
    updated = current.next(score=current.score - previous + value)
    event = VoteCast(summary_id=summary_id, value=value, score=updated.score, summary=updated.state())
    await store.save_vote(updated, current.version, f"user-{user}", value, [event])
    return updated


async def delete(store, current: Summary) -> Summary:
    updated = current.next(deleted=True, updated_at=current.updated_at + timedelta(seconds=1))
    await store.save(updated, current.version, [SummaryDeleted(summary=updated.state())])
    return updated


async def pending(store) -> list:
    return [envelope for _, envelope in await store.outbox().pending(1000)]


async def drain(store) -> None:
    outbox = store.outbox()
    await outbox.remove([marker for marker, _ in await outbox.pending(1000)])


# -- add, get, save -------------------------------------------------------------------------


async def test_a_published_summary_reads_back_as_written(store):
    summary = await publish(store, make_summary(anonymous=True, visibility="private"))
    assert await store.get(summary.id) == summary
    assert await store.get(new_id()) is None


async def test_save_compares_and_sets_the_version(store):
    summary = await publish(store, make_summary())
    revised = await revise(store, summary, "Second thoughts.")
    assert await store.get(summary.id) == revised
    assert revised.version == 2

    late = summary.next(body="A lost update", body_html="<p>A lost update</p>")
    with pytest.raises(StaleWrite):
        await store.save(late, summary.version, [SummaryRevised(summary=late.state(), changed=["body"])])
    assert await store.get(summary.id) == revised


async def test_hide_and_delete_are_kept(store):
    summary = await publish(store, make_summary())
    hidden = summary.next(hidden=True)
    await store.save(hidden, summary.version, [])
    deleted = await delete(store, hidden)
    got = await store.get(summary.id)
    assert got == deleted and got.hidden and got.deleted


# -- one summary per user per paper --------------------------------------------------------


async def test_a_second_summary_of_the_same_paper_by_the_same_author_is_refused(store):
    paper = make_paper()
    first = await publish(store, make_summary(paper))
    await drain(store)
    second = make_summary(paper, minutes=1)
    with pytest.raises(DuplicateSummary) as refused:
        await publish(store, second)
    assert refused.value.existing_id == first.id
    assert await store.get(second.id) is None
    assert await pending(store) == []
    # Someone else, or the same author on another paper, is fine.
    await publish(store, make_summary(paper, author="bob"))
    await publish(store, make_summary(author="ada"))


async def test_after_deleting_their_summary_an_author_may_summarise_the_paper_again(store):
    paper = make_paper()
    first = await publish(store, make_summary(paper))
    await delete(store, first)
    again = await publish(store, make_summary(paper, minutes=5))
    assert (await store.get(again.id)).deleted is False
    with pytest.raises(DuplicateSummary) as refused:
        await publish(store, make_summary(paper, minutes=6))
    assert refused.value.existing_id == again.id


async def test_racing_publishes_of_the_same_paper_leave_exactly_one(store):
    paper = make_paper()
    racers = [make_summary(paper, minutes=n) for n in range(4)]
    results = await asyncio.gather(*(publish(store, s) for s in racers), return_exceptions=True)
    winners = [s for s, r in zip(racers, results, strict=True) if not isinstance(r, BaseException)]
    losers = [r for r in results if isinstance(r, BaseException)]
    assert len(winners) == 1, results
    assert all(isinstance(r, DuplicateSummary) and r.existing_id == winners[0].id for r in losers), losers
    assert [e.aggregate_id for e in await pending(store)] == [winners[0].id]
    listed, total = await store.list(paper_id=paper.paper_id, venue_key=None, year=None, sort="newest",
                                     viewer_id=None, offset=0, limit=10)
    assert total == 1 and [s.id for s in listed] == [winners[0].id]


# -- revisions ------------------------------------------------------------------------------


async def test_revisions_are_kept_newest_first_and_only_for_new_bodies(store):
    summary = await publish(store, make_summary(body="First."))
    second = await revise(store, summary, "Second.")
    flipped = second.next(visibility="private")
    await store.save(flipped, second.version, [SummaryRevised(summary=flipped.state(), changed=["visibility"])])
    third = await revise(store, flipped, "Third.")

    with pytest.raises(StaleWrite):  # a revision that lost the race leaves no trace
        await revise(store, second, "Lost.")

    revisions = await store.revisions(summary.id)
    assert [(rev, body) for rev, body, _ in revisions] == [(3, "Third."), (2, "Second."), (1, "First.")]
    assert revisions[0][2] == third.updated_at.isoformat()
    assert revisions[-1][2] == summary.updated_at.isoformat()


# -- votes ----------------------------------------------------------------------------------


async def test_votes_change_and_are_withdrawn(store):
    summary = await publish(store, make_summary())
    assert await store.vote_of(summary.id, "user-bob") == 0
    await vote(store, "bob", 1, summary.id)
    await vote(store, "cy", 1, summary.id)
    assert (await store.get(summary.id)).score == 2
    await vote(store, "bob", -1, summary.id)
    assert await store.vote_of(summary.id, "user-bob") == -1
    assert (await store.get(summary.id)).score == 0
    await vote(store, "cy", 0, summary.id)
    assert await store.vote_of(summary.id, "user-cy") == 0
    got = await store.get(summary.id)
    assert got.score == -1 and got.version == 5


async def test_votes_of_answers_for_one_user_across_summaries(store):
    a, b, c = [await publish(store, make_summary(author=name)) for name in ("a1", "a2", "a3")]
    await vote(store, "bob", 1, a.id)
    await vote(store, "bob", -1, b.id)
    await vote(store, "cy", 1, c.id)
    await vote(store, "bob", 1, c.id)
    await vote(store, "bob", 0, c.id)
    assert await store.votes_of([a.id, b.id, c.id, new_id()], "user-bob") == {a.id: 1, b.id: -1}
    assert await store.votes_of([], "user-bob") == {}


async def test_a_stale_vote_is_not_counted(store):
    summary = await publish(store, make_summary())
    await vote(store, "bob", 1, summary.id)
    late = summary.next(score=1)
    with pytest.raises(StaleWrite):
        await store.save_vote(late, summary.version, "user-cy", 1, [])
    assert await store.vote_of(summary.id, "user-cy") == 0
    assert await store.votes_of([summary.id], "user-cy") == {}


# -- comments -------------------------------------------------------------------------------


async def test_comments_are_added_listed_and_hidden(store):
    summary = await publish(store, make_summary())
    first, second = make_comment(summary, minutes=2, body="Later."), make_comment(summary, minutes=1, author="cy")
    current = summary
    for comment in (first, second):
        updated = current.next(comment_count=current.comment_count + 1)
        await store.add_comment(updated, current.version, comment, [CommentAdded(
            comment_id=comment.id, summary_id=summary.id, author_id=comment.author_id,
            author_username=comment.author_username, body=comment.body)])
        current = updated
    assert [c.id for c in await store.comments(summary.id)] == [second.id, first.id]  # oldest first
    assert await store.get_comment(first.id) == first
    assert (await store.get(summary.id)).comment_count == 2

    hidden = Comment(**{**first.__dict__, "hidden": True})
    updated = current.next(comment_count=1)
    await store.save_comment(updated, current.version, hidden,
                             [CommentHidden(comment_id=first.id, summary_id=summary.id)])
    assert await store.get_comment(first.id) == hidden
    assert {c.id: c.hidden for c in await store.comments(summary.id)} == {first.id: True, second.id: False}
    assert await store.get_comment(new_id()) is None


async def test_a_comment_whose_write_lost_the_race_is_never_seen(store):
    summary = await publish(store, make_summary())
    await vote(store, "bob", 1, summary.id)  # the summary moved on to version 2
    comment = make_comment(summary)
    with pytest.raises(StaleWrite):
        await store.add_comment(summary.next(comment_count=1), summary.version, comment, [])
    assert await store.comments(summary.id) == []
    assert await store.get_comment(comment.id) is None
    assert await store.comments_by("user-bob") == []
    assert await store.comments_after(None, 10) == []


# -- listings -------------------------------------------------------------------------------


async def _listing(store, **query):
    args = dict(paper_id=None, venue_key=None, year=None, sort="newest", viewer_id=None, offset=0, limit=50)
    args.update(query)
    summaries, total = await store.list(**args)
    return [s.id for s in summaries], total


async def test_listings_show_public_summaries_only(store):
    paper = make_paper()
    public = await publish(store, make_summary(paper, author="a", minutes=1))
    private = await publish(store, make_summary(paper, author="b", minutes=2, visibility="private"))
    hidden = await publish(store, make_summary(paper, author="c", minutes=3))
    await store.save(hidden.next(hidden=True), hidden.version, [])
    deleted = await delete(store, await publish(store, make_summary(paper, author="d", minutes=4)))

    assert await _listing(store) == ([public.id], 1)
    assert await _listing(store, paper_id=paper.paper_id) == ([public.id], 1)
    # On the paper's page its author also sees their own private summary, never a deleted one.
    assert await _listing(store, paper_id=paper.paper_id, viewer_id="user-b") == ([private.id, public.id], 2)
    assert await _listing(store, paper_id=paper.paper_id, viewer_id="user-d") == ([public.id], 1)
    assert deleted.deleted
    # ... and only on a paper's page.
    assert await _listing(store, viewer_id="user-b") == ([public.id], 1)


async def test_listings_filter_sort_and_page(store):
    iclr20, iclr21, icml20 = (make_paper(venue_key="iclr", year=2020), make_paper(venue_key="iclr", year=2021),
                              make_paper(venue_key="icml", year=2020))
    made = {}
    for n, (paper, author) in enumerate([(iclr20, "a"), (iclr20, "b"), (iclr21, "a"), (icml20, "a"), (icml20, "c")]):
        made[(paper.paper_id, author)] = await publish(store, make_summary(paper, author=author, minutes=n))
    ids = [s.id for s in made.values()]
    for voter, target, value in [("v1", ids[3], 1), ("v2", ids[3], 1), ("v1", ids[0], 1), ("v1", ids[4], -1)]:
        await vote(store, voter, value, target)

    assert await _listing(store, sort="newest") == (ids[::-1], 5)
    assert await _listing(store, sort="score") == ([ids[3], ids[0], ids[2], ids[1], ids[4]], 5)
    assert await _listing(store, venue_key="iclr") == ([ids[2], ids[1], ids[0]], 3)
    assert await _listing(store, venue_key="iclr", year=2020) == ([ids[1], ids[0]], 2)
    assert await _listing(store, year=2020) == ([ids[4], ids[3], ids[1], ids[0]], 4)
    assert await _listing(store, paper_id=icml20.paper_id, sort="score") == ([ids[3], ids[4]], 2)
    assert await _listing(store, sort="newest", offset=1, limit=2) == (ids[::-1][1:3], 5)
    assert await _listing(store, sort="score", offset=4, limit=2) == ([ids[4]], 5)
    assert await _listing(store, sort="newest", offset=10, limit=2) == ([], 5)
    assert await _listing(store, venue_key="nowhere") == ([], 0)


async def test_after_walks_every_summary_in_id_order(store):
    made = [await publish(store, make_summary(author=f"u{n}", minutes=n)) for n in range(5)]
    await delete(store, made[1])
    await store.save(made[2].next(visibility="private"), made[2].version, [])
    ids = sorted(s.id for s in made)
    first = await store.after(None, 3)
    assert [s.id for s in first] == ids[:3]
    rest = await store.after(first[-1].id, 3)
    assert [s.id for s in rest] == ids[3:]
    assert await store.after(ids[-1], 3) == []
    assert {s.id: s.deleted for s in first + rest}[made[1].id] is True


async def test_counts_by_venue_and_year_count_public_summaries(store):
    papers = [make_paper(venue_key="iclr", year=2020), make_paper(venue_key="iclr", year=None),
              make_paper(venue_key="icml", year=2021), make_paper(venue_key=None, year=2021)]
    for n, paper in enumerate(papers):
        await publish(store, make_summary(paper, author="a", minutes=n))
    await publish(store, make_summary(papers[0], author="b", minutes=10))
    await publish(store, make_summary(papers[0], author="c", minutes=11, visibility="private"))
    await delete(store, await publish(store, make_summary(papers[2], author="d", minutes=12)))

    assert await store.counts_by_venue() == {"iclr": 3, "icml": 1}
    assert await store.counts_by_year("iclr") == {2020: 2, None: 1}
    assert await store.counts_by_year("icml") == {2021: 1}
    assert await store.counts_by_year("nowhere") == {}


# -- the papers replica -----------------------------------------------------------------------


async def test_apply_paper_takes_newer_copies_only_once(store):
    paper = make_paper(version=2, title="Old title", venue_key="iclr", year=2020)
    mine = await publish(store, make_summary(paper, author="a"))
    theirs = await publish(store, make_summary(paper, author="b", minutes=1))
    other = await publish(store, make_summary(author="c"))

    newer = make_paper(paper.paper_id, version=3, title="New title", venue_key="icml", year=2021)
    assert await store.apply_paper("ev-3", newer) is True
    assert await store.apply_paper("ev-3", newer) is False  # redelivered
    for summary_id in (mine.id, theirs.id):
        got = await store.get(summary_id)
        assert got.paper == newer and got.version == 1  # a replica refresh is no summary change
    assert (await store.get(other.id)).paper == other.paper
    assert await store.counts_by_venue() == {"icml": 2, other.paper.venue_key: 1}
    assert await _listing(store, venue_key="icml", year=2021) == ([theirs.id, mine.id], 2)

    older = make_paper(paper.paper_id, version=1, title="Ancient title")
    await store.apply_paper("ev-1", older)
    assert (await store.get(mine.id)).paper == newer
    assert {e.type for e in await pending(store)} == {"SummaryPublished"}  # a replica refresh emits nothing

    # A later write keeps the fresh copy.
    await vote(store, "v", 1, mine.id)
    assert (await store.get(mine.id)).paper == newer


# -- the outbox -------------------------------------------------------------------------------


async def test_each_committed_write_queues_its_events_once_and_a_failed_one_none(store):
    summary = await publish(store, make_summary())
    revised = await revise(store, summary, "Again.")
    with pytest.raises(StaleWrite):
        await revise(store, summary, "Lost.")
    voted = await vote(store, "bob", 1, summary.id)
    with pytest.raises(StaleWrite):
        await store.save_vote(voted.next(score=2), revised.version, "user-cy", 1,
                              [VoteCast(summary_id=summary.id, value=1, score=2, summary=voted.state())])
    comment = make_comment(summary)
    commented = voted.next(comment_count=1)
    await store.add_comment(commented, voted.version, comment, [CommentAdded(
        comment_id=comment.id, summary_id=summary.id, author_id=comment.author_id,
        author_username=comment.author_username, body=comment.body)])
    with pytest.raises(DuplicateSummary):
        await publish(store, make_summary(summary.paper, minutes=9))

    queued = await pending(store)
    assert [(e.type, e.aggregate_id, e.aggregate_version) for e in queued] == [
        ("SummaryPublished", summary.id, 1), ("SummaryRevised", summary.id, 2), ("VoteCast", summary.id, 3),
        ("CommentAdded", summary.id, 4),
    ]
    assert len({e.event_id for e in queued}) == 4
    assert queued[1].payload["summary"]["body"] == "Again."

    await drain(store)
    assert await pending(store) == []
    await vote(store, "cy", 1, summary.id)
    assert [e.type for e in await pending(store)] == ["VoteCast"]


# -- export and restore -------------------------------------------------------------------------


async def test_export_reads_votes_comments_and_an_authors_own_summaries(store):
    a = await publish(store, make_summary(author="ada", minutes=1))
    b = await publish(store, make_summary(author="bob", minutes=2))
    c = await publish(store, make_summary(author="ada", minutes=3))
    for voter, target, value in [("bob", a.id, 1), ("cy", a.id, -1), ("ada", b.id, 1), ("bob", c.id, -1)]:
        await vote(store, voter, value, target)
    comment = make_comment(await store.get(a.id), author="ada")
    current = await store.get(a.id)
    await store.add_comment(current.next(comment_count=1), current.version, comment, [])

    every = sorted([(a.id, "user-bob", 1), (a.id, "user-cy", -1), (b.id, "user-ada", 1), (c.id, "user-bob", -1)])
    assert await store.votes_after(None, 10) == every
    assert await store.votes_after(None, 2) == every[:2]
    assert await store.votes_after((every[1][0], every[1][1]), 10) == every[2:]
    assert await store.votes_by("user-bob") == sorted([(a.id, 1), (c.id, -1)])
    assert [s.id for s in await store.by_author("user-ada")] == [a.id, c.id]
    assert await store.comments_by("user-ada") == [comment]
    assert await store.comments_after(None, 10) == [comment]
    assert await store.comments_after(comment.id, 10) == []


async def test_restore_puts_a_summary_back_as_it_was_once(store):
    summary = make_summary(score=3, revision=2, comment_count=1, version=7, deleted=True)
    revisions = [(2, "Second.", (T0 + timedelta(hours=1)).isoformat()), (1, "First.", T0.isoformat())]
    assert await store.restore(summary, revisions, [SummaryPublished(summary=summary.state())]) is True
    assert await store.restore(summary, revisions, [SummaryPublished(summary=summary.state())]) is False
    assert await store.get(summary.id) == summary
    assert await store.revisions(summary.id) == revisions
    assert [(e.type, e.aggregate_version) for e in await pending(store)] == [("SummaryPublished", 7)]

    assert await store.restore_votes([(summary.id, "user-bob", 1), (summary.id, "user-cy", -1)]) == 2
    assert await store.restore_votes([(summary.id, "user-bob", -1)]) == 0
    assert await store.votes_of([summary.id], "user-bob") == {summary.id: 1}

    comment = Comment(**{**make_comment(summary).__dict__, "hidden": True})
    assert await store.restore_comment(comment, summary, []) is True
    assert await store.restore_comment(comment, summary, []) is False
    assert await store.comments(summary.id) == [comment]


# -- concurrency ----------------------------------------------------------------------------------


async def vote_until_committed(store, user: str, value: int, summary_id: str) -> Summary:
    """What the use case does: reload and try again while another write got there first."""
    for _ in range(100):
        try:
            return await vote(store, user, value, summary_id)
        except StaleWrite:
            await asyncio.sleep(0)
    raise AssertionError(f"{user}'s vote never committed")


async def test_concurrent_votes_all_count_while_the_relay_drains_the_outbox(store):
    summary = await publish(store, make_summary())
    voters = [f"v{n}" for n in range(12)]
    _, published = await relayed_while(
        store, asyncio.gather(*(vote_until_committed(store, v, 1, summary.id) for v in voters)))

    got = await store.get(summary.id)
    assert (got.score, got.version) == (12, 13)
    for voter in voters:
        assert await store.vote_of(summary.id, f"user-{voter}") == 1
    assert sorted(e.aggregate_version for e in published) == list(range(1, 14))
    assert [e.payload["score"] for e in sorted(published[1:], key=lambda e: e.aggregate_version)] == list(range(1, 13))


async def test_two_processes_writing_one_summary_lose_nothing(backend):
    first, second = await backend.open(), await backend.open()
    if backend.kind == "mongo" and not await first.engine_atomic():
        pytest.skip("FerretDB 1.x rewrites a whole document per update, so two processes writing one summary "
                    "need real MongoDB's per-document atomicity (within a process the store's write lock serves)")
    summary = await publish(first, make_summary())
    await asyncio.gather(*(vote_until_committed(first if n % 2 else second, f"v{n}", 1, summary.id)
                           for n in range(10)))
    got = await second.get(summary.id)
    assert (got.score, got.version) == (10, 11)
    assert sorted(e.aggregate_version for e in await pending(first)) == list(range(1, 12))


async def test_a_write_based_on_an_earlier_read_keeps_the_newer_paper(backend, store, request):
    paper = make_paper(version=1)
    summary = await publish(store, make_summary(paper))
    read = await store.get(summary.id)  # a vote reads the summary ...
    corrected = make_paper(paper.paper_id, version=2, title="Corrected title")
    await store.apply_paper("ev-2", corrected)  # ... the paper is corrected meanwhile ...
    await store.save_vote(read.next(score=1), read.version, "user-v", 1, [])  # ... and the vote commits
    assert (await store.get(summary.id)).paper == corrected


# -- rendering results, citations and the known papers -----------------------------------------

RESNET_ARXIV, RESNET_DOI = "1512.03385", "10.1109/cvpr.2016.90"


def make_cited_paper(paper_id: str | None = None, *, version: int = 1, title: str = "Deep Residual Learning",
                     **identifiers: str) -> PaperSnapshot:
    return make_paper(paper_id, version=version, title=title).model_copy(update={"identifiers": identifiers})


def citing_summary(paper: PaperSnapshot | None = None, *, author: str = "ada", minutes: int = 0,
                   citations: tuple[str, ...] = (f"arxiv:{RESNET_ARXIV}",), **fields) -> Summary:
    outline = dict(toc=(TocEntry(2, "sec-method", "Method"), TocEntry(3, "sec-results", "Results $x^2$")),
                   words=1700, reading_minutes=8, renderer_version="2")
    return make_summary(paper, author=author, minutes=minutes, citations=citations, **{**outline, **fields})


async def test_the_outline_and_citations_are_stored_with_the_html(backend, store):
    summary = citing_summary(citations=(f"arxiv:{RESNET_ARXIV}", "paper:p1"),
                             cited=(("paper:p1", "p1", "A paper"),))
    await publish(store, summary)
    assert await store.get(summary.id) == summary
    again = await backend.open()  # another process, or this one after a restart
    got = await again.get(summary.id)
    assert (got.toc, got.words, got.reading_minutes, got.citations, got.cited) == (
        summary.toc, 1700, 8, summary.citations, summary.cited)
    assert [s.citations for s in await again.after(None, 10)] == [summary.citations]
    # Summaries stored before outlines were have none: the service renders those on read.
    plain = await publish(store, make_summary(author="bob"))
    assert (await store.get(plain.id)).words is None


async def test_known_papers_answer_for_each_identifier_and_follow_newer_versions_only(store):
    paper = make_cited_paper(version=1, arxiv=RESNET_ARXIV, doi=RESNET_DOI)
    assert await store.known_papers([f"arxiv:{RESNET_ARXIV}"]) == {}
    assert await store.apply_paper("ev-1", paper) is True
    keys = [f"arxiv:{RESNET_ARXIV}", f"doi:{RESNET_DOI}", f"paper:{paper.paper_id}", "dblp:conf/x/Y20",
            "arxiv:1706.03762"]
    found = await store.known_papers(keys)
    assert set(found) == set(keys[:3])
    assert {(p.paper_id, p.short_title) for p in found.values()} == {(paper.paper_id, "Deep Residual Learning")}

    # A correction: new title, the DOI removed, a DBLP key added.
    corrected = make_cited_paper(paper.paper_id, version=2, title="Deep Residual Learning for Image Recognition",
                                 arxiv=RESNET_ARXIV, dblp="conf/x/Y20")
    assert await store.apply_paper("ev-2", corrected) is True
    assert await store.apply_paper("ev-2", corrected) is False  # redelivered
    await store.apply_paper("ev-1-late", paper)  # an older version arriving late changes nothing
    found = await store.known_papers(keys)
    assert set(found) == {f"arxiv:{RESNET_ARXIV}", f"paper:{paper.paper_id}", "dblp:conf/x/Y20"}
    assert found["dblp:conf/x/Y20"].short_title == "Deep Residual Learning for Image Recognition"
    assert await store.known_papers([]) == {}


async def _citing(store, paper_id: str, **page) -> tuple[list[str], int]:
    summaries, total = await store.citing(paper_id, offset=page.get("offset", 0), limit=page.get("limit", 10))
    return [s.id for s in summaries], total


async def test_citing_lists_public_summaries_citing_a_paper_by_any_of_its_keys(store):
    cited = make_cited_paper(arxiv=RESNET_ARXIV, doi=RESNET_DOI)
    by_arxiv = await publish(store, citing_summary(author="a", minutes=1))
    by_doi = await publish(store, citing_summary(author="b", minutes=2, citations=(f"doi:{RESNET_DOI}",)))
    by_id = await publish(store, citing_summary(author="c", minutes=3, citations=(f"paper:{cited.paper_id}",)))
    await publish(store, citing_summary(author="d", minutes=4, visibility="private"))
    await delete(store, await publish(store, citing_summary(author="e", minutes=5)))
    await publish(store, citing_summary(author="f", minutes=6, citations=("arxiv:1706.03762",)))

    # Before its event only the paper's own id is known to name it; afterwards every identifier.
    assert await _citing(store, cited.paper_id) == ([by_id.id], 1)
    await store.apply_paper("ev-cited", cited)
    assert await _citing(store, cited.paper_id) == ([by_id.id, by_doi.id, by_arxiv.id], 3)
    assert await _citing(store, cited.paper_id, offset=1, limit=1) == ([by_doi.id], 3)
    assert await _citing(store, new_id()) == ([], 0)

    # A revision that drops the citation takes the summary off the list.
    revised = by_doi.next(body="No citations now.", citations=(), revision=2)
    await store.save(revised, by_doi.version, [SummaryRevised(summary=revised.state(), changed=["body"])],
                     new_revision=True)
    assert await _citing(store, cited.paper_id) == ([by_id.id, by_arxiv.id], 2)
    queued = [e for e in await pending(store) if e.aggregate_id == by_arxiv.id]
    assert queued[0].payload["summary"]["citations"] == [f"arxiv:{RESNET_ARXIV}"]  # the events name them too


async def test_a_restored_summary_is_listed_by_its_citations(store):
    cited = make_cited_paper(arxiv=RESNET_ARXIV)
    await store.apply_paper("ev-cited", cited)
    summary = citing_summary(version=3)
    assert await store.restore(summary, [(1, summary.body, T0.isoformat())], []) is True
    assert await _citing(store, cited.paper_id) == ([summary.id], 1)
