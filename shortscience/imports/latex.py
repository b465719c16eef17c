"""LaTeX in BibTeX values to Unicode: `{\\"u}` -> ü, `{BERT}` -> BERT, `\\&` -> &.

pylatexenc does the real work, but parsing costs ~100 µs a value, so plain values (no
backslash, no brace) skip it and values with braces only just lose their braces: most
fields of a real bibliography never reach pylatexenc (see bench/imports.py)."""

from __future__ import annotations

from functools import lru_cache

from pylatexenc.latex2text import LatexNodes2Text

from shortscience.imports.records import squash


@lru_cache(maxsize=1)
def _converter() -> LatexNodes2Text:
    # Math is kept as written ($x^2$), since summaries and titles render it themselves.
    return LatexNodes2Text(math_mode="verbatim", keep_comments=False, strict_latex_spaces=False)


def latex_to_text(value: str) -> str:
    if "\\" not in value:
        if "{" in value or "}" in value:
            value = value.replace("{", "").replace("}", "")
        return squash(value.replace("~", " "))
    return _decode(value)


@lru_cache(maxsize=65_536)  # author names and venues repeat across a bibliography
def _decode(value: str) -> str:
    return squash(_converter().latex_to_text(value))
