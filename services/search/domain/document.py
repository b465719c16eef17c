"""The one presenter of index documents: every engine indexes what this returns."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from backbone.events import PaperSnapshot, SummaryState

_LINK = re.compile(r"!?\[([^\]]*)\]\([^)]*\)")
# Every branch starts with a character class, which lets the regex engine skip ahead to
# candidates: a list marker or heading is whitespace-delimited (the text gets a leading
# space, so one at the very start counts too); emphasis and code marks; an HTML tag.
_MARKUP = re.compile(r"\s[#>*+-]+\s|[*_`~|]+|<[^>]{0,200}>")


def plain_text(markdown: str) -> str:
    """Markdown reduced to its words for indexing and snippets (math left as written)."""
    text = _LINK.sub(r"\1", markdown) if "](" in markdown else markdown
    return " ".join(_MARKUP.sub(" ", " " + text).split())


@dataclass(frozen=True)
class SearchDoc:
    summary_id: str
    paper_id: str
    title: str
    authors: list[str]
    venue: str | None
    venue_key: str | None
    year: int | None
    abstract: str
    keywords: list[str]
    body: str
    author_username: str | None  # None for anonymous summaries: no trace of the author
    score: int
    created_at: datetime
    version: int
    paper_version: int


def to_search_doc(state: SummaryState, version: int, paper: PaperSnapshot | None = None) -> SearchDoc:
    """`paper` is the index's own newer copy of the paper, when it has one."""
    p = paper if paper is not None and paper.version > state.paper.version else state.paper
    return SearchDoc(
        summary_id=state.summary_id,
        paper_id=p.paper_id,
        title=p.title,
        authors=list(p.authors),
        venue=p.venue,
        venue_key=p.venue_key,
        year=p.year,
        abstract=p.abstract,
        keywords=list(p.keywords),
        body=plain_text(state.body),
        author_username=None if state.anonymous else state.author_username,
        score=state.score,
        created_at=state.created_at,
        version=version,
        paper_version=p.version,
    )
