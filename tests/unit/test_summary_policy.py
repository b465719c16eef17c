"""Who may see and do what with a summary (services/summaries/domain/policy.py)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from backbone.errors import Forbidden, NotFound
from backbone.events import PaperSnapshot
from backbone.identity import Identity
from services.summaries.domain import policy
from services.summaries.domain.model import Summary

AUTHOR = Identity("u-author", "author")
OTHER = Identity("u-other", "other")
MODERATOR = Identity("u-mod", "mod", frozenset({"member", "moderator"}))
ADMIN = Identity("u-admin", "admin", frozenset({"member", "admin"}))


def summary(**overrides) -> Summary:
    now = datetime.now(UTC)
    values = dict(
        id="s1",
        paper=PaperSnapshot(paper_id="p1", title="T", authors=["A"], venue=None, venue_key=None, year=None),
        author_id=AUTHOR.user_id, author_username=AUTHOR.username, body="b", body_html="<p>b</p>",
        renderer_version="1", visibility="public", anonymous=False, created_at=now, updated_at=now,
    )
    values.update(overrides)
    return Summary(**values)


@pytest.mark.parametrize(
    ("overrides", "viewer", "visible"),
    [
        ({}, None, True),
        ({"visibility": "private"}, None, False),
        ({"visibility": "private"}, OTHER, False),
        ({"visibility": "private"}, MODERATOR, False),
        ({"visibility": "private"}, AUTHOR, True),
        ({"hidden": True}, OTHER, False),
        ({"hidden": True}, MODERATOR, True),
        ({"hidden": True}, AUTHOR, True),
        ({"deleted": True}, AUTHOR, False),
        ({"deleted": True}, MODERATOR, False),
    ],
)
def test_visibility(overrides, viewer, visible):
    assert policy.can_view(viewer, summary(**overrides)) is visible


def test_invisible_and_unknown_summaries_look_the_same():
    with pytest.raises(NotFound):
        policy.require_view(OTHER, summary(visibility="private"), "s1")
    with pytest.raises(NotFound):
        policy.require_view(OTHER, None, "s1")


@pytest.mark.parametrize(("viewer", "shown"), [(None, False), (OTHER, False), (AUTHOR, True), (MODERATOR, True),
                                               (ADMIN, True)])
def test_anonymous_author_is_shown_only_to_author_and_moderators(viewer, shown):
    assert policy.shows_author(viewer, summary(anonymous=True)) is shown
    assert policy.shows_author(viewer, summary(anonymous=False)) is True


def test_anonymous_state_carries_no_author():
    state = summary(anonymous=True).state()
    assert state.author_id is None and state.author_username is None
    assert "u-author" not in state.model_dump_json()


def test_only_the_author_edits():
    policy.require_edit(AUTHOR, summary())
    for who in (OTHER, MODERATOR):
        with pytest.raises(Forbidden):
            policy.require_edit(who, summary())


def test_author_and_moderators_delete():
    policy.require_delete(AUTHOR, summary())
    policy.require_delete(MODERATOR, summary())
    policy.require_delete(ADMIN, summary())
    with pytest.raises(Forbidden):
        policy.require_delete(OTHER, summary())


def test_no_vote_on_ones_own_summary():
    policy.require_vote(OTHER, summary())
    with pytest.raises(Forbidden) as err:
        policy.require_vote(AUTHOR, summary())
    assert err.value.field == "value"


def test_versions_increase_with_every_change():
    s = summary()
    assert s.next(score=3).version == s.version + 1
