"""Whole imports through the runner: idempotent re-runs, enrichment, duplicates, and the
imported papers served by the platform (their events reached the log)."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from shortscience.cli import app
from shortscience.imports.bibtex import read_bibtex
from shortscience.imports.runner import run_import
from tests.conftest import make_settings, start_platform

FIXTURES = Path(__file__).parent / "fixtures"


async def test_a_bibtex_file_imports_once_and_a_rerun_changes_nothing(tmp_path):
    settings = make_settings(tmp_path)
    first = await run_import(settings, read_bibtex(FIXTURES / "hard.bib"), source="bibtex:hard.bib")
    c = first.counts
    # 8 readable entries; resnet_again has the title and year of he2015deep.
    assert (c["new"], c["possible_duplicate"], c["error"]) == (7, 1, 3)
    dup = [i for i in first.issues if i[0] == "possible_duplicate"]
    assert dup[0][1] == "line 73 resnet_again"
    errors = {where for outcome, where, _ in first.issues if outcome == "error"}
    assert errors == {"line 36 broken2020", "line 56 noauthor", "line 61 he2015deep"}

    again = await run_import(settings, read_bibtex(FIXTURES / "hard.bib"), source="bibtex:hard.bib")
    assert again.line() == "0 new, 0 enriched, 7 unchanged, 1 possible duplicates, 3 errors"

    server, plat = await start_platform(tmp_path)
    try:
        papers = (await plat.client.get("/api/v1/papers", params={"size": 100})).json()
        assert papers["total"] == 7
        found = (await plat.client.get("/api/v1/papers/lookup", params={"arxiv": "hep-th/9802150"})).json()
        assert found["authors"] == ["Edward Witten"]
    finally:
        await plat.client.aclose()
        await server.__aexit__()


async def test_an_entry_matching_a_registered_paper_enriches_it(tmp_path):
    server, plat = await start_platform(tmp_path)
    try:
        who = await plat.user()
        paper = await plat.paper(who, title="Deep Residual Learning for Image Recognition", authors=["Kaiming He"],
                                 venue=None, year=None, identifiers={"arxiv": "1512.03385"})
    finally:
        await plat.client.aclose()
        await server.__aexit__()
    bib = tmp_path / "one.bib"
    bib.write_text("@inproceedings{DBLP:conf/cvpr/HeZRS16, author={He, Kaiming and Sun, Jian},"
                   " title={Deep Residual Learning for Image Recognition}, booktitle={CVPR}, year={2016},"
                   " doi={10.1109/CVPR.2016.90}, eprint={1512.03385}, archivePrefix={arXiv}}\n")
    report = await run_import(make_settings(tmp_path), read_bibtex(bib), source="one")
    assert report.line() == "0 new, 1 enriched, 0 unchanged, 0 possible duplicates, 0 errors"
    server, plat = await start_platform(tmp_path)
    try:
        got = (await plat.client.get(f"/api/v1/papers/{paper['id']}")).json()
        assert got["authors"] == ["Kaiming He"]  # present already: not overwritten
        assert (got["venue"], got["year"], got["identifiers"]["doi"], got["identifiers"]["dblp"]) == (
            "CVPR", 2016, "10.1109/cvpr.2016.90", "conf/cvpr/HeZRS16")
        assert got["version"] == 2
    finally:
        await plat.client.aclose()
        await server.__aexit__()


def test_the_cli_prints_a_summary_table(tmp_path, monkeypatch):
    monkeypatch.setenv("SHORTSCIENCE_DATA_DIR", str(tmp_path))
    runner = CliRunner()
    first = runner.invoke(app, ["import", "bibtex", str(FIXTURES / "hard.bib")])
    assert first.exit_code == 0, first.output
    assert "7 new, 0 enriched, 0 unchanged, 1 possible duplicates, 3 errors" in first.output
    assert "line 36 broken2020" in first.output
    again = runner.invoke(app, ["import", "bibtex", str(FIXTURES / "hard.bib")])
    assert "0 new, 0 enriched, 7 unchanged" in again.output
