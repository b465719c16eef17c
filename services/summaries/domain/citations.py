"""Citations between papers: `\\cite{arXiv:1512.03385}`, `\\cite{doi:...}`, `\\cite{dblp:...}`,
`\\cite{paper:<id>}`, or several keys in one `\\cite{a, b}`.

Identifiers are normalised to the forms the papers service stores (lower-case DOI, arXiv
id without its version, DBLP key as written), so a resolver can look them up by equality;
tests/summaries/test_render_rich.py checks the two agree. Services do not import each
other, hence the small copy of the rules here. A key that does not parse leaves the whole
`\\cite{...}` as the text it was.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Literal
from urllib.parse import quote

from markdown_it import MarkdownIt
from markdown_it.renderer import RendererHTML
from markdown_it.rules_inline import StateInline
from markdown_it.token import Token
from markdown_it.utils import EnvType, OptionsDict

CitationKind = Literal["arxiv", "doi", "dblp", "paper"]
MAX_CITE_CHARS = 1000  # one \cite{...}, all its keys together
MAX_KEY_CHARS = 256  # as the papers service's MAX_INPUT_LENGTH
MAX_TITLE_CHARS = 80


@dataclass(frozen=True, order=True)
class CitationKey:
    """A normalised identifier of a cited paper."""

    kind: CitationKind
    value: str

    def __str__(self) -> str:
        return f"{_LABELS[self.kind]}:{self.value}"

    @property
    def external_url(self) -> str:
        """Where the identifier points outside this site (our own page for `paper:`)."""
        if self.kind == "arxiv":
            return f"https://arxiv.org/abs/{self.value}"
        # Characters a URL path may hold as they are stay readable; the rest is %-encoded.
        if self.kind == "doi":
            return "https://doi.org/" + quote(self.value, safe="/:;,()")
        if self.kind == "dblp":
            return "https://dblp.org/rec/" + quote(self.value, safe="/'")
        return f"/papers/{self.value}"


@dataclass(frozen=True)
class CitedPaper:
    """What a resolver knows about a cited paper: its id here and a short title to show."""

    paper_id: str
    short_title: str


@dataclass(frozen=True)
class Citation:
    key: CitationKey
    paper: CitedPaper | None  # None: not a paper this site knows (yet)


# Given a normalised key, the paper it names, or None. Called during rendering, so it
# must not do I/O: look the keys up first (`cited_keys`), then pass e.g. `found.get`.
CitationResolver = Callable[[CitationKey], "CitedPaper | None"]

_LABELS: dict[str, str] = {"arxiv": "arXiv", "doi": "doi", "dblp": "dblp", "paper": "paper"}


# --- identifiers ----------------------------------------------------------------------
# The same canonical forms as services/papers/domain/identifiers.py.

_ARXIV_VERSION = r"(?:[vV](?P<version>[0-9]{1,6}))?"
_ARXIV_NEW = re.compile(r"(?P<yymm>[0-9]{2}(?:0[1-9]|1[0-2]))\.(?P<number>[0-9]{4,5})" + _ARXIV_VERSION)
_ARXIV_OLD = re.compile(
    r"(?P<archive>[A-Za-z]+(?:-[A-Za-z]+)?)(?P<subject>\.[A-Za-z]+(?:-[A-Za-z]+)?)?"
    r"/(?P<yymm>[0-9]{2}(?:0[1-9]|1[0-2]))(?P<number>[0-9]{3})" + _ARXIV_VERSION
)
# The pre-2007 scheme's archives (a closed list) and its span, 1991-08 to 2007-03.
_OLD_ARXIV_ARCHIVES = frozenset(
    {
        "acc-phys", "adap-org", "alg-geom", "ao-sci", "astro-ph", "atom-ph", "bayes-an", "chao-dyn",
        "chem-ph", "cmp-lg", "comp-gas", "cond-mat", "cs", "dg-ga", "funct-an", "gr-qc", "hep-ex",
        "hep-lat", "hep-ph", "hep-th", "math", "math-ph", "mtrl-th", "nlin", "nucl-ex", "nucl-th",
        "patt-sol", "physics", "plasm-ph", "q-alg", "q-bio", "quant-ph", "solv-int", "supr-con",
    }
)  # fmt: skip
_DOI = re.compile(r"10\.[0-9]{4,9}(?:\.[0-9]+)*/\S+")
_DBLP_SEGMENT = re.compile(r"[A-Za-z0-9_'.-]*[A-Za-z0-9][A-Za-z0-9_'.-]*")
_DBLP_PAGE_SUFFIX = re.compile(r"(?:\.(?:html|bib|xml))+$", re.IGNORECASE)
_DBLP_KINDS = frozenset(
    {"journals", "conf", "books", "phd", "series", "reference", "tr", "homepages", "persons", "ms", "www"}
)
_PAPER_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")


def _arxiv(text: str) -> str | None:
    """The id without its version: a citation names the paper, not one revision of it."""
    if match := _ARXIV_NEW.fullmatch(text):
        # The scheme began 2007-04 with 4-digit numbers; 5 digits since 2015-01.
        yymm, digits = match["yymm"], len(match["number"])
        if yymm < "0704" or (digits == 5) != (yymm >= "1501"):
            return None
        base = f"{yymm}.{match['number']}"
    elif match := _ARXIV_OLD.fullmatch(text):
        archive, yymm = match["archive"].lower(), match["yymm"]
        year_month = (1900 if yymm >= "91" else 2000) * 100 + int(yymm)
        if archive not in _OLD_ARXIV_ARCHIVES or not 199108 <= year_month <= 200703:
            return None
        base = f"{archive}{match['subject'] or ''}/{yymm}{match['number']}"
    else:
        return None
    if match["version"] is not None and int(match["version"]) == 0:
        return None  # versions start at v1
    return base


def _doi(text: str) -> str | None:
    doi = text.lower()
    return doi if _DOI.fullmatch(doi) and doi.isprintable() else None


def _dblp(text: str) -> str | None:
    key = _DBLP_PAGE_SUFFIX.sub("", text)
    segments = key.split("/")
    if len(segments) < 3 or segments[0] not in _DBLP_KINDS:
        return None
    return key if all(_DBLP_SEGMENT.fullmatch(s) for s in segments) else None


def _paper(text: str) -> str | None:
    return text if _PAPER_ID.fullmatch(text) else None


_PARSERS: dict[str, Callable[[str], str | None]] = {"arxiv": _arxiv, "doi": _doi, "dblp": _dblp, "paper": _paper}
_KEY = re.compile(r"(?P<kind>arxiv|doi|dblp|paper)\s*:\s*(?P<value>.+)", re.IGNORECASE | re.DOTALL)
# Keys are split at commas followed by a kind, so a DOI holding a comma stays whole.
_KEY_SEPARATOR = re.compile(r"\s*,\s*(?=(?:arxiv|doi|dblp|paper)\s*:)", re.IGNORECASE)


def parse_key(text: str) -> CitationKey | None:
    """'arXiv:1512.03385v2' -> CitationKey('arxiv', '1512.03385'); None when it is not one."""
    match = _KEY.fullmatch(text.strip())
    if match is None or len(match["value"]) > MAX_KEY_CHARS:
        return None
    kind = match["kind"].lower()
    value = _PARSERS[kind](match["value"].strip())
    return None if value is None else CitationKey(kind, value)  # type: ignore[arg-type]


def parse_keys(inner: str) -> list[CitationKey] | None:
    """The keys of one `\\cite{...}` (its text between the braces), deduplicated in order;
    None unless every key parses."""
    keys: list[CitationKey] = []
    for part in _KEY_SEPARATOR.split(inner):
        key = parse_key(part)
        if key is None:
            return None
        if key not in keys:
            keys.append(key)
    return keys or None


_CITE = re.compile(r"\\cite\{([^{}\n]{1,%d})\}" % MAX_CITE_CHARS)


def cited_keys(body: str) -> list[CitationKey]:
    """Every key `\\cite`d in ``body``, in order, without rendering it: what a service looks
    up before rendering. A superset of what the renderer shows (a `\\cite` inside a code
    block is listed too)."""
    found: dict[CitationKey, None] = {}
    for match in _CITE.finditer(body):
        for key in parse_keys(match[1]) or ():
            found.setdefault(key)
    return list(found)


# --- markdown-it rule and rendering -------------------------------------------------------


def _cite_rule(state: StateInline, silent: bool) -> bool:
    # Before "escape", which would otherwise print the backslash and move on.
    start = state.pos
    if not state.src.startswith("\\cite{", start):
        return False
    end = state.src.find("}", start + 6, min(state.posMax, start + 6 + MAX_CITE_CHARS + 1))
    if end == -1:
        return False
    inner = state.src[start + 6 : end]
    if "\n" in inner or "{" in inner:
        return False
    keys = parse_keys(inner)
    if keys is None:
        return False
    if not silent:
        token = state.push("citation", "", 0)
        token.meta = {"keys": keys}
        token.content = state.src[start : end + 1]
    state.pos = end + 1
    return True


def _short(title: str) -> str:
    title = " ".join(title.split())
    return title if len(title) <= MAX_TITLE_CHARS else title[: MAX_TITLE_CHARS - 1].rstrip() + "…"


def _render_citation(
    self: RendererHTML, tokens: Sequence[Token], idx: int, options: OptionsDict, env: EnvType
) -> str:
    resolve: CitationResolver | None = env.get("resolver")
    seen: dict[CitationKey, Citation] = env.setdefault("citations", {})
    links = []
    for key in tokens[idx].meta["keys"]:
        citation = seen.get(key)
        if citation is None:
            citation = seen[key] = Citation(key, resolve(key) if resolve else None)
        if citation.paper is not None:
            href = "/papers/" + quote(citation.paper.paper_id, safe="")
            links.append(f'<a class="cite" href="{html.escape(href)}" title="{html.escape(str(key))}">'
                         f"{html.escape(_short(citation.paper.short_title))}</a>")
        else:
            # Unknown: the identifier itself, linking to arXiv, doi.org or DBLP (a
            # `paper:` id links to its page here, which says whether it exists).
            css = "cite" if key.kind == "paper" else "cite cite-external"
            links.append(f'<a class="{css}" href="{html.escape(key.external_url)}">{html.escape(str(key))}</a>')
    return f'<span class="citation">[{"; ".join(links)}]</span>'


def citation_plugin(md: MarkdownIt) -> None:
    md.inline.ruler.before("escape", "citation", _cite_rule)
    md.add_render_rule("citation", _render_citation)
