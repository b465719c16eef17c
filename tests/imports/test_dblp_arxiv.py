"""DBLP XML and arXiv Atom readers, and their imports being idempotent."""

from __future__ import annotations

from pathlib import Path

from shortscience.imports.arxiv import read_arxiv
from shortscience.imports.dblp import read_dblp
from shortscience.imports.runner import run_import
from tests.conftest import make_settings

FIXTURES = Path(__file__).parent / "fixtures"


def test_dblp_entities_resolve_and_title_markup_is_kept_as_text():
    records = {r.key: r for r in read_dblp(FIXTURES / "dblp.xml")}
    assert "homepages/s/JSchmidhuber" not in records  # person pages are not papers
    corr = records["journals/corr/abs-1901-00001"].data
    assert corr.title == "On H2O and the x language of Möbius & friends"
    assert corr.authors == ["Jürgen Schmidhuber", "Wei Wang"]  # homonym number dropped
    assert (corr.identifiers.dblp, corr.identifiers.arxiv) == ("journals/corr/abs-1901-00001",
                                                               "https://arxiv.org/abs/1901.00001")
    assert records["conf/iclr/RendaFC20"].data.title == "Comparing Rewinding and Fine-tuning in Neural Network Pruning"
    assert records["journals/x/NoAuthor"].error == "no author"


def test_arxiv_atom_entries_with_versions_old_ids_and_categories():
    records = list(read_arxiv(FIXTURES / "arxiv.xml"))
    attention, maldacena, broken = records
    assert attention.data.title == "Attention Is All You Need"
    assert (attention.data.identifiers.arxiv, attention.data.year, attention.data.keywords) == (
        "1706.03762v7", 2017, ["cs.CL"])
    assert maldacena.key == "hep-th/9711200" and maldacena.data.year == 1997
    assert broken.data is None and "not an arXiv identifier" in broken.error


async def test_dblp_and_arxiv_imports_are_idempotent_and_meet_on_identifiers(tmp_path):
    settings = make_settings(tmp_path)
    dblp = await run_import(settings, read_dblp(FIXTURES / "dblp.xml"), source="dblp")
    assert dblp.line() == "2 new, 0 enriched, 0 unchanged, 0 possible duplicates, 1 errors"
    assert (await run_import(settings, read_dblp(FIXTURES / "dblp.xml"), source="dblp")).line() == (
        "0 new, 0 enriched, 2 unchanged, 0 possible duplicates, 1 errors")
    arxiv = await run_import(settings, read_arxiv(FIXTURES / "arxiv.xml"), source="arxiv")
    assert arxiv.line() == "2 new, 0 enriched, 0 unchanged, 0 possible duplicates, 1 errors"
    assert (await run_import(settings, read_arxiv(FIXTURES / "arxiv.xml"), source="arxiv")).counts["unchanged"] == 2
