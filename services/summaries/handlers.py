"""Summaries use cases. `SummariesService` is the application layer: the service's HTTP
routes call it, and in the all-in-one process the gateway calls it directly (it satisfies
`backbone.contracts.summaries.SummariesAPI`). Rules live in `domain.policy`."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import TypeVar

from backbone.contracts.summaries import (
    AuthorRead,
    CitationRead,
    CommentCreate,
    CommentRead,
    CommentRecord,
    PersonalExport,
    PaperBrief,
    RenderedPreview,
    RevisionRead,
    SummaryCreate,
    SummaryPage,
    SummaryRead,
    SummaryRecord,
    StatesPage,
    SummaryUpdate,
    TocEntryRead,
    VersionedState,
    VoteRecord,
    VoteResult,
)
from backbone.errors import Conflict, Invalid, NotFound
from backbone.events import (
    CommentAdded,
    CommentHidden,
    PaperSnapshot,
    SummaryDeleted,
    SummaryHidden,
    SummaryPublished,
    SummaryRevised,
    VoteCast,
)
from backbone.identity import Identity
from backbone.ids import new_id
from backbone.venues import venue_filter
from services.summaries.domain import policy
from services.summaries.domain.model import Comment, Summary, now
from services.summaries.domain.citations import CitedPaper, cited_keys
from services.summaries.domain.references import key_text, resolution, resolver
from services.summaries.domain.render import RENDERER_VERSION, RenderResult, render, render_markdown, render_uncached
from services.summaries.ports import DuplicateSummary, StaleWrite, SummariesStore

T = TypeVar("T")
MAX_OPTIMISTIC_RETRIES = 8


def _brief(p: PaperSnapshot) -> PaperBrief:
    return PaperBrief(id=p.paper_id, title=p.title, authors=p.authors, venue=p.venue, venue_key=p.venue_key, year=p.year)


class SummariesService:
    def __init__(self, store: SummariesStore, on_commit: Callable[[], None] = lambda: None) -> None:
        self.store = store
        self.on_commit = on_commit

    async def ready(self) -> bool:
        return await self.store.ping()

    # -- presenting -------------------------------------------------------------------

    @staticmethod
    def _current(s: Summary) -> bool:
        """Whether the stored HTML and outline came from this renderer."""
        return s.renderer_version == RENDERER_VERSION and s.words is not None

    @classmethod
    def _keys(cls, summaries: list[Summary]) -> list[str]:
        keys: list[str] = []
        for s in summaries:
            # An older row recorded no citations: what its body cites (rendered again below).
            keys += s.citations if cls._current(s) else [key_text(k) for k in cited_keys(s.body)]
        return keys

    async def _known(self, summaries: list[Summary]) -> dict[str, CitedPaper]:
        """The known papers the summaries cite: one look-up, none for summaries citing nothing."""
        keys = self._keys(summaries)
        return await self.store.known_papers(keys) if keys else {}

    def _read(self, s: Summary, viewer: Identity | None, my_vote: int | None = None,
              known: dict[str, CitedPaper] | None = None) -> SummaryRead:
        author = AuthorRead(id=s.author_id, username=s.author_username) if policy.shows_author(viewer, s) else None
        known = known or {}
        if self._current(s) and resolution(s.citations, known) == s.cited:
            html, toc, words, minutes, citations = s.body_html, s.toc, s.words, s.reading_minutes, s.citations
        else:
            # Stored by an older renderer, or a cited paper became known (or changed its
            # title) since: render again. Memoised by body hash while the papers it names
            # stay the same, so this happens once per process; the next revision stores it.
            rendered = render(s.body, resolver(known))
            html, toc, words, minutes = rendered.html, rendered.toc, rendered.words, rendered.minutes
            citations = tuple(key_text(c.key) for c in rendered.citations)
        return SummaryRead(
            id=s.id,
            paper_id=s.paper.paper_id,
            paper=_brief(s.paper),
            body=s.body,
            body_html=html,
            score=s.score,
            author=author,
            anonymous=s.anonymous,
            visibility=s.visibility,  # type: ignore[arg-type]
            hidden=s.hidden,
            created_at=s.created_at,
            updated_at=s.updated_at,
            revision=s.revision,
            comments=s.comment_count,
            my_vote=my_vote,
            toc=[TocEntryRead(level=e.level, id=e.id, text=e.text) for e in toc],
            words=words or 0,
            reading_minutes=minutes,
            citations=[
                CitationRead(key=k, paper_id=p.paper_id if p else None, title=p.short_title if p else None)
                for k in citations for p in (known.get(k),)
            ],
        )

    async def _rendered(self, body: str) -> dict:
        """The fields a summary stores from rendering its body, citations resolved against
        the known papers (looked up first: the renderer does no I/O)."""
        known = await self.store.known_papers([key_text(k) for k in cited_keys(body)])
        result: RenderResult = render(body, resolver(known))
        citations = tuple(key_text(c.key) for c in result.citations)
        return dict(body_html=result.html, renderer_version=RENDERER_VERSION, toc=result.toc, words=result.words,
                    reading_minutes=result.minutes, citations=citations, cited=resolution(citations, known))

    async def _load(self, summary_id: str, viewer: Identity | None) -> Summary:
        return policy.require_view(viewer, await self.store.get(summary_id), summary_id)

    async def _retrying(self, attempt: Callable[[], Awaitable[T]]) -> T:
        """Optimistic concurrency: reload and retry when another write got there first."""
        for _ in range(MAX_OPTIMISTIC_RETRIES):
            try:
                result = await attempt()
            except StaleWrite:
                continue
            self.on_commit()
            return result
        raise Conflict("the summary is changing too fast; try again", field="summary_id")

    # -- summaries --------------------------------------------------------------------

    async def publish(self, paper: PaperSnapshot, data: SummaryCreate, actor: Identity) -> SummaryRead:
        if not data.body.strip():
            raise Invalid("the summary is empty", field="body")
        stamp = now()
        summary = Summary(
            id=new_id(),
            paper=paper,
            author_id=actor.user_id,
            author_username=actor.username,
            body=data.body,
            **await self._rendered(data.body),
            visibility=data.visibility,
            anonymous=data.anonymous,
            created_at=stamp,
            updated_at=stamp,
        )
        try:
            await self.store.add(summary, [SummaryPublished(summary=summary.state())])
        except DuplicateSummary as exc:
            raise Conflict(
                "you already have a summary of this paper; edit it instead",
                field="paper_id",
                existing_id=exc.existing_id,
            ) from None
        self.on_commit()
        return self._read(summary, actor, 0, await self._known([summary]))

    async def get(self, summary_id: str, viewer: Identity | None) -> SummaryRead:
        summary = await self._load(summary_id, viewer)
        my_vote = await self.store.vote_of(summary_id, viewer.user_id) if viewer else None
        return self._read(summary, viewer, my_vote, await self._known([summary]))

    async def revise(self, summary_id: str, data: SummaryUpdate, actor: Identity) -> SummaryRead:
        changes = data.model_dump(exclude_unset=True, exclude_none=True)
        if not changes:
            raise Invalid("nothing to change: give body, visibility or anonymous", field="body")
        if "body" in changes and not changes["body"].strip():
            raise Invalid("the summary is empty", field="body")

        async def attempt() -> Summary:
            current = await self._load(summary_id, actor)
            policy.require_edit(actor, current)
            changed = sorted(k for k, v in changes.items() if getattr(current, k) != v)
            if not changed:
                return current
            fields: dict = {k: changes[k] for k in changed}
            new_body = "body" in changed
            if new_body:
                fields.update(**await self._rendered(changes["body"]), revision=current.revision + 1)
            updated = current.next(**fields, updated_at=now())
            await self.store.save(updated, current.version, [SummaryRevised(summary=updated.state(), changed=changed)],
                                  new_revision=new_body)
            return updated

        summary = await self._retrying(attempt)
        return self._read(summary, actor, await self.store.vote_of(summary_id, actor.user_id),
                          await self._known([summary]))

    async def revisions(self, summary_id: str, viewer: Identity | None) -> list[RevisionRead]:
        await self._load(summary_id, viewer)
        return [
            RevisionRead(revision=rev, body=body, created_at=datetime.fromisoformat(at))
            for rev, body, at in await self.store.revisions(summary_id)
        ]

    async def delete(self, summary_id: str, actor: Identity) -> None:
        async def attempt() -> None:
            current = await self._load(summary_id, actor)
            policy.require_delete(actor, current)
            updated = current.next(deleted=True, updated_at=now())
            await self.store.save(updated, current.version, [SummaryDeleted(summary=updated.state())])

        await self._retrying(attempt)

    async def hide(self, summary_id: str, actor: Identity) -> SummaryRead:
        policy.require_moderator(actor)

        async def attempt() -> Summary:
            current = await self._load(summary_id, actor)
            if current.hidden:
                return current
            updated = current.next(hidden=True, updated_at=now())
            await self.store.save(updated, current.version, [SummaryHidden(summary=updated.state())])
            return updated

        hidden = await self._retrying(attempt)
        return self._read(hidden, actor, None, await self._known([hidden]))

    async def _page(self, summaries: list[Summary], total: int, viewer: Identity | None, page: int, size: int):
        votes = await self.store.votes_of([s.id for s in summaries], viewer.user_id) if viewer else {}
        known = await self._known(summaries)
        items = [self._read(s, viewer, votes.get(s.id, 0) if viewer else None, known) for s in summaries]
        return SummaryPage(items=items, total=total, page=page, size=size)

    async def list_for_paper(
        self, paper_id: str, *, sort: str, viewer: Identity | None, page: int, size: int
    ) -> SummaryPage:
        summaries, total = await self.store.list(
            paper_id=paper_id, venue_key=None, year=None, sort=sort,
            viewer_id=viewer.user_id if viewer else None, offset=(page - 1) * size, limit=size,
        )
        return await self._page(summaries, total, viewer, page, size)

    async def list(
        self, *, sort: str, venue: str | None, year: int | None, viewer: Identity | None, page: int, size: int
    ) -> SummaryPage:
        summaries, total = await self.store.list(
            paper_id=None, venue_key=venue_filter(venue), year=year, sort=sort, viewer_id=None, offset=(page - 1) * size, limit=size
        )
        return await self._page(summaries, total, viewer, page, size)

    async def citing(self, paper_id: str, *, viewer: Identity | None, page: int, size: int) -> SummaryPage:
        """Public summaries that cite the paper (by arXiv id, DOI, DBLP key or its id here)."""
        summaries, total = await self.store.citing(paper_id, offset=(page - 1) * size, limit=size)
        return await self._page(summaries, total, viewer, page, size)

    async def preview(self, body: str) -> RenderedPreview:
        """The body rendered as publishing it would store it, for an editor's preview."""
        if not body.strip():
            return RenderedPreview(html="")
        known = await self.store.known_papers([key_text(k) for k in cited_keys(body)])
        return RenderedPreview(html=render_uncached(body, resolver(known)).html)  # drafts stay out of the cache

    # -- votes ------------------------------------------------------------------------

    async def vote(self, summary_id: str, value: int, actor: Identity) -> VoteResult:
        if value not in (-1, 0, 1):
            raise Invalid("a vote is -1, 0 or 1", field="value")

        async def attempt() -> VoteResult:
            current = await self._load(summary_id, actor)
            policy.require_vote(actor, current)
            previous = await self.store.vote_of(summary_id, actor.user_id)
            if previous == value:
                return VoteResult(score=current.score, my_vote=value)
            updated = current.next(score=current.score - previous + value)
            event = VoteCast(summary_id=summary_id, value=value, score=updated.score, summary=updated.state())
            await self.store.save_vote(updated, current.version, actor.user_id, value, [event])
            return VoteResult(score=updated.score, my_vote=value)

        return await self._retrying(attempt)

    # -- comments ---------------------------------------------------------------------

    def _comment_read(self, c: Comment) -> CommentRead:
        return CommentRead(
            id=c.id,
            summary_id=c.summary_id,
            author=AuthorRead(id=c.author_id, username=c.author_username),
            body=c.body,
            body_html=c.body_html,
            hidden=c.hidden,
            created_at=c.created_at,
        )

    async def comment(self, summary_id: str, data: CommentCreate, actor: Identity) -> CommentRead:
        if not data.body.strip():
            raise Invalid("the comment is empty", field="body")
        comment = Comment(
            id=new_id(),
            summary_id=summary_id,
            author_id=actor.user_id,
            author_username=actor.username,
            body=data.body,
            body_html=render_markdown(data.body),
            hidden=False,
            created_at=now(),
        )

        async def attempt() -> None:
            current = await self._load(summary_id, actor)
            updated = current.next(comment_count=current.comment_count + 1)
            event = CommentAdded(comment_id=comment.id, summary_id=summary_id, author_id=actor.user_id,
                                 author_username=actor.username, body=comment.body)
            await self.store.add_comment(updated, current.version, comment, [event])

        await self._retrying(attempt)
        return self._comment_read(comment)

    async def comments(self, summary_id: str, viewer: Identity | None) -> list[CommentRead]:
        await self._load(summary_id, viewer)
        moderator = viewer is not None and viewer.is_moderator
        return [
            self._comment_read(c)
            for c in await self.store.comments(summary_id)
            if not c.hidden or moderator or (viewer is not None and viewer.user_id == c.author_id)
        ]

    async def hide_comment(self, comment_id: str, actor: Identity) -> CommentRead:
        comment = await self.store.get_comment(comment_id)
        if comment is None:
            raise NotFound(f"no comment with id {comment_id}", field="comment_id")
        policy.require_hide_comment(actor, comment)
        if comment.hidden:
            return self._comment_read(comment)
        hidden = Comment(**{**comment.__dict__, "hidden": True})

        async def attempt() -> None:
            current = await self._load(comment.summary_id, actor)
            updated = current.next(comment_count=max(current.comment_count - 1, 0))
            event = CommentHidden(comment_id=comment_id, summary_id=comment.summary_id)
            await self.store.save_comment(updated, current.version, hidden, [event])

        await self._retrying(attempt)
        return self._comment_read(hidden)

    # -- for derived stores (search reconcile) ------------------------------------------

    async def states(self, *, after: str | None, limit: int) -> StatesPage:
        summaries = await self.store.after(after, limit)
        items = [VersionedState(state=s.state(), version=s.version) for s in summaries]
        return StatesPage(items=items, next_after=summaries[-1].id if len(summaries) == limit else None)

    # -- export and restore -------------------------------------------------------------

    def batch(self):
        return self.store.batch()

    async def _record(self, s: Summary) -> SummaryRecord:
        revisions = [RevisionRead(revision=rev, body=body, created_at=datetime.fromisoformat(at))
                     for rev, body, at in await self.store.revisions(s.id)]
        return SummaryRecord(
            id=s.id, paper=s.paper, author_id=s.author_id, author_username=s.author_username, body=s.body,
            visibility=s.visibility, anonymous=s.anonymous, hidden=s.hidden, deleted=s.deleted,  # type: ignore[arg-type]
            score=s.score, revision=s.revision, comment_count=s.comment_count, created_at=s.created_at,
            updated_at=s.updated_at, version=s.version, revisions=revisions,
        )

    @staticmethod
    def _comment_record(c: Comment) -> CommentRecord:
        return CommentRecord(id=c.id, summary_id=c.summary_id, author_id=c.author_id,
                             author_username=c.author_username, body=c.body, hidden=c.hidden,
                             created_at=c.created_at)

    async def export(self, *, after: str | None, limit: int) -> list[SummaryRecord]:
        """Every summary (private, hidden and deleted too) with its revisions, in id order."""
        return [await self._record(s) for s in await self.store.after(after, limit)]

    async def export_votes(self, *, after: tuple[str, str] | None, limit: int) -> list[VoteRecord]:
        return [VoteRecord(summary_id=s, user_id=u, value=v) for s, u, v in await self.store.votes_after(after, limit)]

    async def export_comments(self, *, after: str | None, limit: int) -> list[CommentRecord]:
        return [self._comment_record(c) for c in await self.store.comments_after(after, limit)]

    async def export_for_user(self, user_id: str) -> PersonalExport:
        """The personal export: the user's own summaries, votes and comments, nobody else's."""
        return PersonalExport(
            summaries=[await self._record(s) for s in await self.store.by_author(user_id)],
            votes=[VoteRecord(summary_id=s, user_id=user_id, value=v) for s, v in await self.store.votes_by(user_id)],
            comments=[self._comment_record(c) for c in await self.store.comments_by(user_id)],
        )

    async def restore_summary(self, record: SummaryRecord) -> bool:
        """Put an exported summary back as it was (id, author, timestamps, score, revisions);
        emits SummaryPublished with its state so derived stores rebuild. False if present."""
        summary = Summary(
            id=record.id, paper=record.paper, author_id=record.author_id, author_username=record.author_username,
            body=record.body, **await self._rendered(record.body), visibility=record.visibility, anonymous=record.anonymous, hidden=record.hidden, deleted=record.deleted,
            score=record.score, revision=record.revision, comment_count=record.comment_count,
            created_at=record.created_at, updated_at=record.updated_at, version=record.version,
        )
        revisions = [(r.revision, r.body, r.created_at.isoformat()) for r in record.revisions]
        restored = await self.store.restore(summary, revisions, [SummaryPublished(summary=summary.state())])
        if restored:
            self.on_commit()
        return restored

    async def restore_votes(self, votes: list[VoteRecord]) -> int:
        return await self.store.restore_votes([(v.summary_id, v.user_id, v.value) for v in votes])

    async def restore_comment(self, record: CommentRecord) -> bool:
        summary = await self.store.get(record.summary_id)
        if summary is None:
            raise NotFound(f"no summary with id {record.summary_id}", field="summary_id")
        comment = Comment(id=record.id, summary_id=record.summary_id, author_id=record.author_id,
                          author_username=record.author_username, body=record.body,
                          body_html=render_markdown(record.body), hidden=record.hidden, created_at=record.created_at)
        events = [] if record.hidden else [CommentAdded(
            comment_id=record.id, summary_id=record.summary_id, author_id=record.author_id,
            author_username=record.author_username, body=record.body)]
        restored = await self.store.restore_comment(comment, summary, events)
        if restored and events:
            self.on_commit()
        return restored

    # -- counts for venue pages -------------------------------------------------------

    async def counts_by_venue(self) -> dict[str, int]:
        return await self.store.counts_by_venue()

    async def counts_by_year(self, venue_key: str) -> dict[int | None, int]:
        return await self.store.counts_by_year(venue_key)
