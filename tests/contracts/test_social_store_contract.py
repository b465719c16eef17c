"""The social store's contract, written once and run against every adapter: SQLite, and
MongoDB (or FerretDB) when an engine is reachable. It tests what the consumer and the
senders rely on: summary states applied by version with their posts, what is due and
when, claims with leases and the attempt log, pauses, pacing counts and the outbox."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import pytest

from backbone.events import PaperSnapshot, PostFailed, PostSent, SummaryState
from backbone.ids import new_id
from services.social.domain.model import Attempt, Post
from services.social.handlers import plan_posts
from services.social.ports import StaleWrite
from tests.contracts.stores import backend_fixture, first_store, relayed_while  # noqa: F401 (fixtures)

NOW = 1_750_000_000.0
LEASE = 60.0
LIVE = {"twitter": True, "facebook": True}


def _sqlite(tmp_path):
    from services.social.adapters.sqlite import SqliteSocialStore

    return SqliteSocialStore(tmp_path / "social.db")


def _mongo(url, database):
    from services.social.adapters.mongo import MongoSocialStore

    return MongoSocialStore(url, database)


backend = backend_fixture("social", _sqlite, _mongo)


# -- factories ----------------------------------------------------------------------------


def make_state(summary_id: str | None = None, *, body: str = "Residual connections ease training.",
               **fields) -> SummaryState:
    stamp = datetime.fromtimestamp(NOW, UTC)
    values = dict(summary_id=summary_id or new_id(),
                  paper=PaperSnapshot(paper_id=new_id(), title="Deep Residual Learning", authors=["K. He"],
                                      venue="CVPR", venue_key="cvpr", year=2016),
                  author_id="user-ada", author_username="ada", body=body, visibility="public", anonymous=False,
                  hidden=False, deleted=False, score=0, revision=1, created_at=stamp, updated_at=stamp)
    values.update(fields)
    return SummaryState(**values)


def planner(state: SummaryState, now: float = NOW, channels: dict[str, bool] = LIVE):
    """The consumer's plan for `state`, recording the posts it was shown."""
    seen: list[list[Post]] = []

    def plan(existing: list[Post]) -> list[Post]:
        seen.append(sorted(existing, key=lambda p: p.channel))
        return plan_posts(state, existing, channels=channels, fresh=True, now=now,
                          compose=lambda ch: (f"{state.body} ({ch})", "https://x/s"))

    plan.seen = seen  # type: ignore[attr-defined]
    return plan


async def posts_of(store, state: SummaryState, version: int = 1, now: float = NOW,
                   channels: dict[str, bool] = LIVE) -> dict[str, Post]:
    """Apply a fresh summary state; its posts by channel."""
    written = await store.apply_summary(state, version, planner(state, now, channels))
    return {p.channel: p for p in written}


async def pending(store) -> list:
    return [envelope for _, envelope in await store.outbox().pending(1000)]


def sent_event(post: Post) -> PostSent:
    return PostSent(post_id=post.id, summary_id=post.summary_id, channel=post.channel, platform_post_id="1",
                    url="https://x/1", attempts=post.attempts, duplicate=False)


# -- summary states ---------------------------------------------------------------------------


async def test_a_newer_summary_state_is_kept_with_its_posts(store):
    state = make_state()
    posts = await posts_of(store, state)
    assert sorted(posts) == ["facebook", "twitter"]
    assert await store.summary(state.summary_id) == (state, 1)
    for post in posts.values():
        assert await store.get(post.id) == post
        assert post.status == "pending" and post.next_attempt_at == NOW

    revised = make_state(state.summary_id, body="A better text.", revision=2)
    plan = planner(revised, NOW + 5)
    written = await store.apply_summary(revised, 2, plan)
    assert plan.seen == [sorted(posts.values(), key=lambda p: p.channel)]
    assert {p.channel: p.text for p in written} == {"facebook": "A better text. (facebook)",
                                                   "twitter": "A better text. (twitter)"}
    assert {(await store.get(p.id)).text for p in written} == {p.text for p in written}
    assert await store.summary(state.summary_id) == (revised, 2)


async def test_a_stale_or_repeated_summary_state_changes_nothing(store):
    state = make_state()
    await posts_of(store, state, version=3)
    for version in (3, 2):
        plan = planner(make_state(state.summary_id, deleted=True))
        assert await store.apply_summary(make_state(state.summary_id, deleted=True), version, plan) is None
        assert plan.seen == []
    assert await store.summary(state.summary_id) == (state, 3)
    assert {p.status for p in (await store.list(status=None, channel=None, offset=0, limit=10))[0]} == {"pending"}
    assert await store.summary(new_id()) is None


async def test_a_summary_that_stops_being_public_cancels_its_waiting_posts(store):
    state = make_state()
    posts = await posts_of(store, state)
    claimed = posts["twitter"].claim(NOW, LEASE)
    await store.claim(claimed, posts["twitter"].version)

    gone = make_state(state.summary_id, visibility="private")
    written = await store.apply_summary(gone, 2, planner(gone, NOW + 1))
    assert [(p.channel, p.status) for p in written] == [("facebook", "cancelled")]
    assert (await store.get(posts["facebook"].id)).status == "cancelled"
    assert (await store.get(claimed.id)).status == "sending"  # an in-flight send finishes as it goes
    assert await store.due("facebook", NOW + 10, 10) == []


async def test_one_post_per_summary_and_channel(store):
    state = make_state()
    await posts_of(store, state)
    duplicate = Post.new(id=new_id(), summary_id=state.summary_id, channel="twitter", text="again", link="l",
                         live=True, now=NOW)
    again = make_state(state.summary_id, revision=2)
    with pytest.raises(Exception):  # noqa: B017 - each engine names its own constraint error
        await store.apply_summary(again, 2, lambda existing: [duplicate])
    posts, total = await store.list(status=None, channel="twitter", offset=0, limit=10)
    assert total == 1 and posts[0].id != duplicate.id


async def test_an_apply_that_failed_midway_is_applied_whole_on_redelivery(store):
    state = make_state()
    first = Post.new(id=new_id(), summary_id=state.summary_id, channel="twitter", text="t", link="l", live=True,
                     now=NOW)
    clash = Post.new(id=new_id(), summary_id=state.summary_id, channel="twitter", text="t", link="l", live=True,
                     now=NOW)
    with pytest.raises(Exception):  # noqa: B017 - the second post breaks the unique rule mid-write
        await store.apply_summary(state, 1, lambda existing: [first, clash])

    posts = await posts_of(store, state)  # the event is redelivered
    assert await store.summary(state.summary_id) == (state, 1)
    every, total = await store.list(status=None, channel=None, offset=0, limit=10)
    assert total == 2 and sorted(p.channel for p in every) == ["facebook", "twitter"]
    assert posts["facebook"] in every
    assert await store.apply_summary(state, 1, planner(state)) is None  # and now it is done


# -- what is due ------------------------------------------------------------------------------


async def test_due_gives_this_channels_due_posts_oldest_first_with_the_summarys_visibility(store):
    early, late, future = make_state(), make_state(), make_state()
    a = (await posts_of(store, late, now=NOW + 2))["twitter"]
    b = (await posts_of(store, early, now=NOW + 1))["twitter"]
    await posts_of(store, future, now=NOW + 100)
    hidden = make_state(early.summary_id, hidden=True)
    await store.apply_summary(hidden, 2, lambda existing: [])  # its state arrives; its post not yet cancelled

    assert [(p.id, public) for p, public in await store.due("twitter", NOW + 10, 10)] == [(b.id, False),
                                                                                        (a.id, True)]
    assert [p.id for p, _ in await store.due("twitter", NOW + 10, 1)] == [b.id]
    assert await store.due("twitter", NOW, 10) == []
    assert len(await store.due("facebook", NOW + 10, 10)) == 2
    assert await store.next_due("twitter") == NOW + 1
    assert await store.next_due("nowhere") is None


async def test_a_sending_post_is_due_again_when_its_lease_runs_out(store):
    post = (await posts_of(store, make_state(), channels={"twitter": True}))["twitter"]
    claimed = post.claim(NOW, LEASE)
    await store.claim(claimed, post.version)
    assert await store.due("twitter", NOW + 1, 10) == []
    assert await store.next_due("twitter") == NOW + LEASE

    [(lapsed, public)] = await store.due("twitter", NOW + LEASE, 10)
    assert lapsed == claimed and public
    again = lapsed.claim(NOW + LEASE, LEASE)
    assert again.uncertain and again.attempts == 2
    await store.claim(again, lapsed.version)
    assert await store.attempts(post.id) == [
        Attempt(post.id, 1, "twitter", NOW, NOW + LEASE, "unknown", None),
        Attempt(post.id, 2, "twitter", NOW + LEASE, None, None, None),
    ]
    assert await store.next_due("twitter") == NOW + 2 * LEASE


# -- claims and outcomes ----------------------------------------------------------------------


async def test_claim_then_finish_records_one_attempt_and_its_events(store):
    post = (await posts_of(store, make_state(), channels={"twitter": True}))["twitter"]
    claimed = post.claim(NOW + 1, LEASE)
    await store.claim(claimed, post.version)
    assert await store.get(post.id) == claimed
    assert await store.attempts(post.id) == [Attempt(post.id, 1, "twitter", NOW + 1, None, None, None)]
    assert await pending(store) == []

    sent = claimed.mark_sent(NOW + 2, "1", "https://x/1")
    await store.finish(sent, claimed.version, "sent", None, [sent_event(sent)])
    assert await store.get(post.id) == sent
    assert await store.attempts(post.id) == [Attempt(post.id, 1, "twitter", NOW + 1, NOW + 2, "sent", None)]
    assert [(e.type, e.aggregate_id, e.aggregate_version) for e in await pending(store)] == [
        ("PostSent", post.id, sent.version)]
    assert await store.next_due("twitter") is None


async def test_a_stale_claim_or_finish_changes_nothing(store):
    post = (await posts_of(store, make_state(), channels={"twitter": True}))["twitter"]
    claimed = post.claim(NOW, LEASE)
    await store.claim(claimed, post.version)

    with pytest.raises(StaleWrite):  # a second sender that read the post before the claim
        await store.claim(post.claim(NOW, LEASE), post.version)
    lapsed = claimed.claim(NOW + LEASE, LEASE)
    await store.claim(lapsed, claimed.version)  # the lease ran out: another sender took over
    failed = claimed.fail(NOW + LEASE + 1, "refused")
    with pytest.raises(StaleWrite):
        await store.finish(failed, claimed.version, "rejected", "refused", [PostFailed(
            post_id=post.id, summary_id=post.summary_id, channel="twitter", error="refused", attempts=1)])
    assert await store.get(post.id) == lapsed
    assert [a.outcome for a in await store.attempts(post.id)] == ["unknown", None]
    assert await pending(store) == []


async def test_racing_claims_of_one_post_let_exactly_one_through(store):
    post = (await posts_of(store, make_state(), channels={"twitter": True}))["twitter"]
    claims = [post.claim(NOW + n, LEASE) for n in range(4)]
    results = await asyncio.gather(*(store.claim(c, post.version) for c in claims), return_exceptions=True)
    assert sum(r is None for r in results) == 1
    assert all(isinstance(r, StaleWrite) for r in results if r is not None)
    winner = claims[results.index(None)]
    assert await store.get(post.id) == winner
    assert [a.started_at for a in await store.attempts(post.id)] == [winner.updated_at]


async def test_a_transient_failure_waits_and_is_retried(store):
    post = (await posts_of(store, make_state(), channels={"twitter": True}))["twitter"]
    claimed = post.claim(NOW, LEASE)
    await store.claim(claimed, post.version)
    retry = claimed.retry_at(NOW + 1, NOW + 30, "503", counts=True, max_failures=5)
    await store.finish(retry, claimed.version, "transient", "503", [])
    assert await store.due("twitter", NOW + 29, 10) == []
    assert await store.next_due("twitter") == NOW + 30
    [(due, _)] = await store.due("twitter", NOW + 30, 10)
    again = due.claim(NOW + 30, LEASE)
    await store.claim(again, due.version)
    assert [(a.n, a.outcome, a.detail) for a in await store.attempts(post.id)] == [(1, "transient", "503"),
                                                                                   (2, None, None)]
    assert again.uncertain is False


async def test_save_compares_and_sets_and_queues_its_events(store):
    post = (await posts_of(store, make_state(), channels={"twitter": True}))["twitter"]
    cancelled = post.cancel(NOW + 1, "gone")
    await store.save(cancelled, post.version)
    with pytest.raises(StaleWrite):
        await store.save(post.requeue(NOW + 2), post.version)
    assert await store.get(post.id) == cancelled
    revived = cancelled.revive(NOW + 3)
    await store.save(revived, cancelled.version, [sent_event(revived)])
    assert [(e.aggregate_id, e.aggregate_version) for e in await pending(store)] == [(post.id, revived.version)]


# -- pacing and pauses ------------------------------------------------------------------------


async def test_sends_since_counts_this_channels_attempt_starts(store):
    starts = {"twitter": [NOW + 5, NOW + 1, NOW + 9], "facebook": [NOW + 3]}
    for channel, times in starts.items():
        for at in times:
            post = (await posts_of(store, make_state(), channels={channel: True}, now=NOW))[channel]
            await store.claim(post.claim(at, LEASE), post.version)
    assert await store.sends_since("twitter", NOW) == [NOW + 1, NOW + 5, NOW + 9]
    assert await store.sends_since("twitter", NOW + 1) == [NOW + 5, NOW + 9]
    assert await store.sends_since("facebook", NOW) == [NOW + 3]
    assert await store.sends_since("twitter", NOW + 9) == []


async def test_a_pause_is_kept_and_never_shortened(store):
    assert await store.paused_until("twitter") is None
    await store.pause("twitter", NOW + 100, "quota")
    await store.pause("twitter", NOW + 50, "shorter")
    assert await store.paused_until("twitter") == (NOW + 100, "quota")
    await store.pause("twitter", NOW + 200, "longer")
    assert await store.paused_until("twitter") == (NOW + 200, "longer")
    assert await store.paused_until("facebook") is None


# -- the operators' list ----------------------------------------------------------------------


async def test_list_filters_pages_and_counts_newest_first(store):
    made = []
    for n in range(3):
        made += sorted((await posts_of(store, make_state(), now=NOW + n)).values(), key=lambda p: p.channel)
    first = made[0]
    await store.save(first.cancel(NOW + 10, "gone"), first.version)

    async def ids(**query):
        args = dict(status=None, channel=None, offset=0, limit=50)
        args.update(query)
        posts, total = await store.list(**args)
        return [p.id for p in posts], total

    newest_first = [p.id for p in sorted(made, key=lambda p: (p.created_at, p.id), reverse=True)]
    assert await ids() == (newest_first, 6)
    assert await ids(offset=2, limit=3) == (newest_first[2:5], 6)
    assert await ids(offset=6, limit=3) == ([], 6)
    by_id = {p.id: p for p in made}
    twitter = [i for i in newest_first if by_id[i].channel == "twitter"]
    assert await ids(channel="twitter") == (twitter, 3)
    assert first.channel == "facebook"
    assert await ids(status="cancelled") == ([first.id], 1)
    waiting = [i for i in newest_first if by_id[i].channel == "facebook" and i != first.id]
    assert await ids(status="pending", channel="facebook") == (waiting, 2)
    assert await ids(status="sent") == ([], 0)


# -- concurrency ----------------------------------------------------------------------------------


async def test_sends_recorded_while_the_relay_drains_keep_every_event(store):
    posts = [(await posts_of(store, make_state(), channels={"twitter": True}))["twitter"] for _ in range(6)]
    async def send(post: Post) -> Post:
        """Three transient failures, then success; every outcome queues an event here."""
        for n in range(4):
            claimed = post.claim(post.next_attempt_at, LEASE)
            await store.claim(claimed, post.version)
            now = claimed.updated_at + 1
            post = (claimed.mark_sent(now, "1", "https://x/1") if n == 3
                    else claimed.retry_at(now, now + 1, "503", counts=True, max_failures=10))
            await store.finish(post, claimed.version, "sent" if n == 3 else "transient", None, [sent_event(post)])
            await asyncio.sleep(0)
        return post

    finished, published = await relayed_while(store, asyncio.gather(*(send(p) for p in posts)))
    assert sorted((e.aggregate_id, e.aggregate_version) for e in published) == sorted(
        (p.id, p.version - 2 * n) for p in finished for n in range(4))
    for post in finished:
        assert await store.get(post.id) == post
        assert [a.outcome for a in await store.attempts(post.id)] == ["transient"] * 3 + ["sent"]


async def test_racing_claims_from_two_processes_let_exactly_one_through(backend):
    first, second = await backend.open(), await backend.open()
    if backend.kind == "mongo" and not await first.engine_atomic():
        pytest.skip("FerretDB 1.x rewrites a whole document per update, so two processes claiming one post "
                    "need real MongoDB's per-document atomicity (within a process the store's write lock serves)")
    post = (await posts_of(first, make_state(), channels={"twitter": True}))["twitter"]
    claims = [post.claim(NOW + n, LEASE) for n in range(6)]
    results = await asyncio.gather(*((first if n % 2 else second).claim(c, post.version)
                                     for n, c in enumerate(claims)), return_exceptions=True)
    assert sum(r is None for r in results) == 1
    assert all(isinstance(r, StaleWrite) for r in results if r is not None)
    winner = claims[results.index(None)]
    assert await second.get(post.id) == winner
    assert len(await first.attempts(post.id)) == 1
