"""Golden files: for each construct, tests/summaries/golden/<case>.md renders to exactly
<case>.html, with the outline and citations in <case>.json.

After a deliberate change to the renderer, regenerate, read the diff, and keep it:

    UPDATE_GOLDEN=1 .venv/bin/python -m pytest tests/summaries/test_render_golden.py
    git diff tests/summaries/golden/
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict
from pathlib import Path

import pytest

from services.summaries.domain.citations import CitationKey, CitedPaper
from services.summaries.domain.render import RenderResult, render_uncached
from tests.summaries.test_render import assert_no_active_content

GOLDEN = Path(__file__).parent / "golden"
CASES = sorted(path.stem for path in GOLDEN.glob("*.md"))
UPDATE = os.environ.get("UPDATE_GOLDEN") == "1"

RESNET = CitedPaper("01hresnet0000000000000000", "Deep Residual Learning for Image Recognition")
KNOWN = {
    CitationKey("arxiv", "1512.03385"): RESNET,
    CitationKey("doi", "10.1109/cvpr.2016.90"): RESNET,
    CitationKey("paper", "01hknownpaper00000000000000"): CitedPaper("01hknownpaper00000000000000", "A Known Paper"),
}


def metadata(result: RenderResult) -> dict:
    return {
        "words": result.words,
        "minutes": result.minutes,
        "toc": [asdict(entry) for entry in result.toc],
        "citations": [
            {"key": str(c.key), "paper_id": c.paper.paper_id if c.paper else None} for c in result.citations
        ],
        "truncated": result.truncated,
    }


def test_there_is_a_golden_file_for_every_construct() -> None:
    expected = {
        "basics", "headings_anchors", "toc", "tables", "footnotes", "rules_and_task_lists",
        "math_inline", "math_display", "math_in_lists", "math_in_tables", "math_brackets",
        "currency", "math_unclosed", "figures", "images_dropped_schemes", "code_highlighted",
        "code_unknown_language", "citations_known", "citations_unknown", "citations_multiple",
        "citations_invalid", "hostile_images", "hostile_raw_html", "hostile_cite_script", "nested_lists_deep",
    }  # fmt: skip
    assert expected <= set(CASES)


@pytest.mark.parametrize("case", CASES)
def test_golden(case: str) -> None:
    body = (GOLDEN / f"{case}.md").read_text(encoding="utf-8")
    result = render_uncached(body, KNOWN.get)
    html_path, meta_path = GOLDEN / f"{case}.html", GOLDEN / f"{case}.json"
    meta = json.dumps(metadata(result), indent=2, ensure_ascii=False) + "\n"
    if UPDATE:
        html_path.write_text(result.html, encoding="utf-8")
        meta_path.write_text(meta, encoding="utf-8")
    assert_no_active_content(result.html)
    assert html_path.exists(), f"no {html_path.name}: run with UPDATE_GOLDEN=1, then review it"
    assert result.html == html_path.read_text(encoding="utf-8")
    assert meta == meta_path.read_text(encoding="utf-8")
