"""Paper aggregate rules (services/papers/domain/model.py)."""

from __future__ import annotations

import pytest

from backbone.errors import Invalid
from services.papers.domain.model import Paper, normalise_identifiers, normalise_venue


def paper(**overrides) -> Paper:
    values = dict(id="p1", title="Deep Residual Learning", authors=["Kaiming He"], venue="CVPR", venue_key="cvpr",
                  year=2016)
    values.update(overrides)
    return Paper(**values)


def test_identifiers_are_normalised():
    ids = normalise_identifiers("https://doi.org/10.1109/CVPR.2016.90", "arXiv:1512.03385v2", "conf/cvpr/HeZRS16")
    assert (ids.doi, ids.arxiv, ids.arxiv_version, ids.dblp) == ("10.1109/cvpr.2016.90", "1512.03385", 2,
                                                                 "conf/cvpr/HeZRS16")
    assert ids.pairs() == [("doi", "10.1109/cvpr.2016.90"), ("arxiv", "1512.03385"), ("dblp", "conf/cvpr/HeZRS16")]


@pytest.mark.parametrize(("doi", "arxiv", "dblp", "field"), [
    ("not a doi", None, None, "identifiers.doi"),
    (None, "1513.03385", None, "identifiers.arxiv"),
    (None, None, "nonsense", "identifiers.dblp"),
])
def test_bad_identifiers_name_their_field(doi, arxiv, dblp, field):
    with pytest.raises(Invalid) as err:
        normalise_identifiers(doi, arxiv, dblp)
    assert err.value.field == field


def test_venue_keys_group_spellings():
    assert normalise_venue("CVPR 2016")[1] == normalise_venue("cvpr")[1] == "cvpr"
    assert normalise_venue(None) == (None, None)


def test_an_update_that_changes_nothing_emits_nothing():
    p = paper()
    same, event = p.with_changes({"title": "Deep Residual Learning"})
    assert same is p and event is None


def test_an_update_bumps_the_version_and_names_what_changed():
    updated, event = paper().with_changes({"title": "Deep Residual Learning for Image Recognition", "year": 2016})
    assert updated.version == 2
    assert event is not None and event.changed == ["title"]
    assert event.paper.title == updated.title and event.paper.version == 2
