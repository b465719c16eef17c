"""Who may see and do what with a summary: every rule in one place."""

from __future__ import annotations

from backbone.errors import Forbidden, NotFound
from backbone.identity import Identity
from services.summaries.domain.model import Comment, Summary


def is_author(who: Identity | None, summary: Summary) -> bool:
    return who is not None and who.user_id == summary.author_id


def can_view(viewer: Identity | None, summary: Summary) -> bool:
    if summary.deleted:
        return False
    if summary.visibility == "private":
        return is_author(viewer, summary)  # private means private: not even moderators
    if summary.hidden:
        return is_author(viewer, summary) or (viewer is not None and viewer.is_moderator)
    return True


def require_view(viewer: Identity | None, summary: Summary | None, summary_id: str) -> Summary:
    """Unknown and invisible look the same from outside: 404, so nothing leaks."""
    if summary is None or not can_view(viewer, summary):
        raise NotFound(f"no summary with id {summary_id}", field="summary_id")
    return summary


def shows_author(viewer: Identity | None, summary: Summary) -> bool:
    """An anonymous summary's author is known only to the author and moderators."""
    if not summary.anonymous:
        return True
    return viewer is not None and (viewer.user_id == summary.author_id or viewer.is_moderator)


def require_edit(actor: Identity, summary: Summary) -> None:
    if not is_author(actor, summary):
        raise Forbidden("only the author may edit this summary")


def require_delete(actor: Identity, summary: Summary) -> None:
    if not (is_author(actor, summary) or actor.is_moderator):
        raise Forbidden("only the author or a moderator may delete this summary")


def require_moderator(actor: Identity) -> None:
    if not actor.is_moderator:
        raise Forbidden("only moderators may do this")


def require_vote(actor: Identity, summary: Summary) -> None:
    if is_author(actor, summary):
        raise Forbidden("you cannot vote on your own summary", field="value")


def require_hide_comment(actor: Identity, comment: Comment) -> None:
    if not (actor.user_id == comment.author_id or actor.is_moderator):
        raise Forbidden("only the comment's author or a moderator may hide it")
