"""Which papers a summary cites, as this service stores and looks them up.

A citation is stored as its normalised key, `kind:value` (`arxiv:1512.03385`,
`doi:10.1109/cvpr.2016.90`, `dblp:conf/iclr/RendaFC20`, `paper:<id>`): a function of the
body alone, so it goes into the summary's events and never changes until the body does.
Which paper a key names is a separate, changing fact, known from the `papers` topic (the
"known papers" replica: each paper's id, title, version and keys). The HTML stored with a
summary remembers the answers it was rendered with (`Resolution`); a read that finds the
replica answering differently renders again (see handlers.SummariesService._html).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from backbone.events import PaperSnapshot
from services.summaries.domain.citations import CitationKey, CitationResolver, CitedPaper

IDENTIFIER_KINDS = ("arxiv", "doi", "dblp")

# (key, paper id, title) for each cited key that named a known paper, in citation order.
Resolution = tuple[tuple[str, str, str], ...]


def key_text(key: CitationKey) -> str:
    return f"{key.kind}:{key.value}"


@dataclass(frozen=True)
class KnownPaper:
    paper_id: str
    title: str
    version: int
    keys: tuple[str, ...]  # every key that names it, `paper:<id>` included

    @classmethod
    def of(cls, paper: PaperSnapshot) -> "KnownPaper":
        return cls(paper.paper_id, paper.title, paper.version, paper_keys(paper))

    @property
    def cited(self) -> CitedPaper:
        return CitedPaper(paper_id=self.paper_id, short_title=self.title)


def paper_keys(paper: PaperSnapshot) -> tuple[str, ...]:
    """The keys a citation of this paper may use (the papers service normalises its
    identifiers exactly as citations.parse_key does)."""
    ids = paper.identifiers
    return tuple(f"{kind}:{ids[kind]}" for kind in IDENTIFIER_KINDS if ids.get(kind)) + (f"paper:{paper.paper_id}",)


def resolver(known: Mapping[str, CitedPaper]) -> CitationResolver:
    return lambda key: known.get(key_text(key))


def resolution(citations: Iterable[str], known: Mapping[str, CitedPaper]) -> Resolution:
    return tuple((k, p.paper_id, p.short_title) for k in citations if (p := known.get(k)) is not None)
