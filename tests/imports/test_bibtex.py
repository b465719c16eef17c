"""The BibTeX reader on hand-written hard cases (tests/imports/fixtures/hard.bib)."""

from __future__ import annotations

from pathlib import Path

import pytest

from shortscience.imports.bibtex import read_bibtex, split_authors

FIXTURE = Path(__file__).parent / "fixtures" / "hard.bib"


@pytest.fixture(scope="module")
def records():
    return {(r.key, r.line): r for r in read_bibtex(FIXTURE)}


def by_key(records, key):
    found = [r for (k, _), r in records.items() if k == key]
    return found[0]


def test_accents_and_protective_braces_become_unicode(records):
    mueller = by_key(records, "mueller2001").data
    assert mueller.title == "An Introduction to Kernel-Based Learning Algorithms: Über SVMs"
    assert mueller.authors == ["Klaus-Robert Müller", "Bernhard Schölkopf", "René École"]
    bert = by_key(records, "DBLP:conf/naacl/DevlinCLT19").data
    assert bert.title.startswith("BERT: Pre-training")
    assert bert.authors[1] == "Ming-Wei Chang"


def test_last_first_with_von_and_jr(records):
    assert by_key(records, "neumann1945").data.authors == ["John von Neumann Jr.", "Charles de la Vallée Poussin"]


def test_and_others_is_dropped():
    assert split_authors("Ashish Vaswani and Noam Shazeer and others") == ["Ashish Vaswani", "Noam Shazeer"]
    assert split_authors("{Barnes and Noble, Inc.} and Smith, J.") == ["Barnes and Noble, Inc.", "J. Smith"]


def test_identifiers_from_doi_url_eprint_and_dblp_shaped_key(records):
    bert = by_key(records, "DBLP:conf/naacl/DevlinCLT19").data.identifiers
    assert (bert.doi, bert.dblp) == ("10.18653/v1/n19-1423", "conf/naacl/DevlinCLT19")
    assert by_key(records, "mueller2001").data.identifiers.doi == "https://doi.org/10.1109/72.914517"
    assert by_key(records, "he2015deep").data.identifiers.arxiv == "1512.03385v1"
    assert by_key(records, "witten1998").data.identifiers.arxiv == "hep-th/9802150"  # old-style id
    assert by_key(records, "vaswani_url").data.identifiers.arxiv == "https://arxiv.org/abs/1706.03762v5"


def test_venue_from_booktitle_journal_string_macro_or_school(records):
    assert by_key(records, "witten1998").data.venue == "Advances in Neural Information Processing Systems"
    assert by_key(records, "mueller2001").data.venue == "IEEE Transactions on Neural Networks"
    thesis = by_key(records, "nokey_fields").data
    assert (thesis.venue, thesis.year, thesis.title) == ("University of London", None, "Notes on the Analytical Engine")


def test_bad_entries_are_reported_with_line_and_key_and_reading_goes_on(records):
    errors = {(k, line): r.error for (k, line), r in records.items() if r.error}
    assert ("broken2020", 36) in errors
    assert errors[("noauthor", 56)] == "no author"
    assert "duplicate citation key he2015deep" in errors[("he2015deep", 61)]
    # The entries after the malformed one are read.
    assert by_key(records, "witten1998").data is not None
    assert [r.key for r in records.values()][-1] == "resnet_again"
    assert sum(1 for r in records.values() if r.data) == 8
