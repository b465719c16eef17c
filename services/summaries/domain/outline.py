"""A summary's outline: stable heading anchors, the table of contents, the word count.

Anchors come from the heading's text (`## Method` -> `id="sec-method"`), so a link to a
section survives edits elsewhere in the summary; a repeated heading gets `-1`, `-2`...
The `sec-` prefix keeps user headings from taking ids the page itself uses.
"""

from __future__ import annotations

import html
import math
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass

from markdown_it import MarkdownIt
from markdown_it.rules_core import StateCore
from markdown_it.token import Token

ANCHOR_PREFIX = "sec-"
MAX_SLUG_CHARS = 60
ANCHOR_ID = re.compile(r"sec-[\w-]{1,80}")  # what the sanitiser lets through on headings
TOC_MIN_WORDS = 1500  # "longer than ~1,500 words"
WORDS_PER_MINUTE = 230

_WORD = re.compile(r"\w+(?:['’.,-]\w+)*")
_NOT_SLUG = re.compile(r"[^\w\- ]")
_DASHES = re.compile(r"[\s-]+")


@dataclass(frozen=True)
class TocEntry:
    level: int  # 1..6, as the heading's
    id: str  # the heading's anchor
    text: str  # plain text (math as its LaTeX source)


@dataclass(frozen=True)
class Outline:
    headings: tuple[TocEntry, ...]
    words: int

    @property
    def minutes(self) -> int:
        return math.ceil(self.words / WORDS_PER_MINUTE)

    @property
    def toc(self) -> tuple[TocEntry, ...]:
        """The table of contents, for summaries long enough to need one."""
        return self.headings if self.words > TOC_MIN_WORDS and len(self.headings) >= 2 else ()


def slug(text: str) -> str:
    """'3.2 Results: $O(n)$ time!' -> '32-results-on-time'."""
    folded = _NOT_SLUG.sub("", unicodedata.normalize("NFKC", text).lower())
    cut = _DASHES.sub("-", folded).strip("-_")[:MAX_SLUG_CHARS].rstrip("-_")
    return cut or "section"


def _plain_text(children: Sequence[Token] | None) -> str:
    parts = []
    for child in children or ():
        if child.type in ("text", "code_inline", "math_inline", "math_inline_double"):
            parts.append(child.content)
        elif child.type in ("softbreak", "hardbreak"):
            parts.append(" ")
    return " ".join("".join(parts).split())


def count_words(children: Sequence[Token] | None) -> int:
    """Words of prose: text and inline code; formulas, citations and image alt texts are not counted."""
    return sum(len(_WORD.findall(child.content)) for child in children or () if child.type in ("text", "code_inline"))


def _outline_rule(state: StateCore) -> None:
    tokens = state.tokens
    used: set[str] = set()
    headings: list[TocEntry] = []
    words = 0
    for index, token in enumerate(tokens):
        if token.type == "inline":
            words += count_words(token.children)
        elif token.type == "heading_open":
            text = _plain_text(tokens[index + 1].children)
            anchor = base = ANCHOR_PREFIX + slug(text)
            suffix = 0
            while anchor in used:  # "Intro", "Intro", "Intro 1" -> intro, intro-1, intro-1-1
                suffix += 1
                anchor = f"{base}-{suffix}"
            used.add(anchor)
            token.attrSet("id", anchor)
            headings.append(TocEntry(level=int(token.tag[1]), id=anchor, text=text))
    state.env["outline"] = Outline(tuple(headings), words)


def outline_plugin(md: MarkdownIt) -> None:
    md.core.ruler.push("outline", _outline_rule)  # last: after footnotes are moved to the end


def toc_html(entries: Sequence[TocEntry]) -> str:
    """`<nav class="toc">` listing the entries, one level class per item (CSS indents)."""
    if not entries:
        return ""
    items = "".join(
        f'<li class="toc-{e.level}"><a href="#{html.escape(e.id)}">{html.escape(e.text)}</a></li>' for e in entries
    )
    return f'<nav class="toc"><ol>{items}</ol></nav>\n'
