"""The one server-side renderer for summaries: Markdown + LaTeX in, safe HTML out.

Pipeline: markdown-it (CommonMark + GFM tables, strikethrough, footnotes; raw HTML off)
with this package's rules for math (latex.py), citations (citations.py), figures
(figures.py), highlighted code (highlight.py) and heading anchors (outline.py), then nh3
with an allow-list of exactly what those emit (sanitise.py). `render` returns the HTML
with the outline (table of contents, word count, reading time) and the citations found.

The output is a pure function of the body and of what the citation resolver says about
the body's citations, so it is cached by (body hash, RENDERER_VERSION), an entry being
reused only while the resolver still answers the same for its citations.
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass

from markdown_it import MarkdownIt
from markdown_it.parser_block import ParserBlock
from markdown_it.renderer import RendererHTML
from markdown_it.rules_block import StateBlock, paragraph
from markdown_it.token import Token
from markdown_it.utils import EnvType, OptionsDict
from mdit_py_plugins.footnote import footnote_plugin

from backbone.contracts.summaries import MAX_SUMMARY_CHARS
from services.summaries.domain.citations import Citation, CitationResolver, citation_plugin
from services.summaries.domain.figures import figures_plugin
from services.summaries.domain.highlight import highlight_plugin
from services.summaries.domain.latex import math_html, math_plugin
from services.summaries.domain.outline import Outline, TocEntry, outline_plugin, toc_html
from services.summaries.domain.sanitise import sanitise

# Stored HTML rendered by an older version is stale: bump on any output change.
RENDERER_VERSION = "2"

# Twice what the API accepts (restores and imports may carry older, longer bodies); past
# it the rest is not shown, which bounds the time one body can take (~1 s for a table).
MAX_RENDER_CHARS = 2 * MAX_SUMMARY_CHARS
TRUNCATED_MARK = '<p class="render-truncated">…</p>\n'


def body_hash(body: str) -> str:
    """SHA-256 of the body, so callers can tell whether stored HTML is stale."""
    return hashlib.sha256(body.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class RenderResult:
    html: str
    toc: tuple[TocEntry, ...]  # empty unless the summary is long enough to want one
    words: int
    minutes: int  # reading time, rounded up
    citations: tuple[Citation, ...]  # each key once, in order of first appearance
    truncated: bool = False  # the body was longer than MAX_RENDER_CHARS

    @property
    def toc_html(self) -> str:
        return sanitise(toc_html(self.toc))


def render(body: str, resolver: CitationResolver | None = None) -> RenderResult:
    """Render a summary body. Deterministic; never raises on bad Markdown or LaTeX.

    ``resolver`` names the papers behind `\\cite{...}` keys (None: link every one out);
    it is called once per distinct key, and must not do I/O (see citations.cited_keys)."""
    digest = body_hash(body)
    cached = _CACHE.get(digest)
    if cached is not None and all(
        (resolver(c.key) if resolver else None) == c.paper for c in cached.citations
    ):
        return cached
    result = _render(body, digest, resolver)
    _CACHE.put(digest, result)
    return result


def render_markdown(body: str) -> str:
    """The sanitised HTML alone, citations linking out, not cached: for comments (rendered
    once, then stored) and editor previews (each draft differs; caching them would push
    published summaries out of the cache)."""
    return render_uncached(body).html


def render_uncached(body: str, resolver: CitationResolver | None = None) -> RenderResult:
    return _render(body, body_hash(body), resolver)


def _render(body: str, digest: str, resolver: CitationResolver | None) -> RenderResult:
    # Several summaries can share a page (feeds, search results); a per-body
    # prefix keeps their footnote ids from colliding, and stays deterministic.
    env: dict = {"docId": digest[:8], "resolver": resolver}
    truncated = len(body) > MAX_RENDER_CHARS
    if truncated:
        cut = body.rfind("\n", 0, MAX_RENDER_CHARS)  # at a line end when there is one
        body = body[: cut if cut > MAX_RENDER_CHARS // 2 else MAX_RENDER_CHARS]
    html = sanitise(_MARKDOWN.render(body, env) + (TRUNCATED_MARK if truncated else ""))
    outline: Outline = env.get("outline") or Outline((), 0)
    return RenderResult(
        html=html,
        toc=outline.toc,
        words=outline.words,
        minutes=outline.minutes,
        citations=tuple(env.get("citations", {}).values()),
        truncated=truncated,
    )


# --- the parser -------------------------------------------------------------------


def _render_table_open(
    self: RendererHTML, tokens: Sequence[Token], idx: int, options: OptionsDict, env: EnvType
) -> str:
    return '<div class="table-wrap">' + self.renderToken(tokens, idx, options, env)  # wide tables scroll


def _render_table_close(
    self: RendererHTML, tokens: Sequence[Token], idx: int, options: OptionsDict, env: EnvType
) -> str:
    return self.renderToken(tokens, idx, options, env) + "</div>\n"


class _FlatBeyondDepth(ParserBlock):
    """markdown-it stops at maxNesting (20) by dropping the rest of the document: a list
    nested ten deep would lose everything after it. Here, from a little before that depth,
    a container's remaining lines become plain paragraphs: the text stays, flat."""

    def tokenize(self, state: StateBlock, startLine: int, endLine: int) -> None:
        if state.level < state.md.options.maxNesting - 2:
            super().tokenize(state, startLine, endLine)
            return
        line = startLine
        state.level += 1  # one deeper than a tight list hides its own paragraphs at
        while line < endLine:
            line = state.skipEmptyLines(line)
            if line >= endLine or state.sCount[line] < state.blkIndent:
                break
            paragraph(state, line, endLine, False)  # takes at least this line
            line = state.line
        state.level -= 1
        state.line = line


def _build_markdown() -> MarkdownIt:
    # Raw HTML stays off: Markdown covers what summaries need, and with it on
    # the sanitiser would silently delete text such as "List<T>". Task lists and
    # linkify stay off too: `- [ ]` is text, and a bare URL is text unless it is
    # an image alone on its line (figures.py).
    md = MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False})
    flat = _FlatBeyondDepth()
    flat.ruler = md.block.ruler  # keep the preset's rules
    md.block = flat
    md.enable(["table", "strikethrough"])
    md.use(footnote_plugin)
    md.use(math_plugin)
    md.use(citation_plugin)
    md.use(highlight_plugin)
    md.use(figures_plugin)
    md.use(outline_plugin)
    md.add_render_rule("table_open", _render_table_open)
    md.add_render_rule("table_close", _render_table_close)
    return md


# Built once: rendering only reads it, so it is safe to share across requests.
_MARKDOWN = _build_markdown()


# --- the cache --------------------------------------------------------------------


class RenderCache:
    """Least-recently-used results, bounded by count and by total HTML size (a long
    summary with MathML and highlighted code renders to ~100 kB)."""

    def __init__(self, max_entries: int = 512, max_chars: int = 16_000_000) -> None:
        self.max_entries, self.max_chars = max_entries, max_chars
        self._entries: OrderedDict[tuple[str, str], RenderResult] = OrderedDict()
        self._chars = 0
        self._lock = threading.Lock()  # renders may run in worker threads

    def __len__(self) -> int:
        return len(self._entries)

    def get(self, digest: str) -> RenderResult | None:
        key = (digest, RENDERER_VERSION)
        with self._lock:
            result = self._entries.get(key)
            if result is not None:
                self._entries.move_to_end(key)
            return result

    def put(self, digest: str, result: RenderResult) -> None:
        if len(result.html) > self.max_chars // 4:
            return  # one huge body must not flush everything else
        key = (digest, RENDERER_VERSION)
        with self._lock:
            previous = self._entries.pop(key, None)
            if previous is not None:
                self._chars -= len(previous.html)
            self._entries[key] = result
            self._chars += len(result.html)
            while len(self._entries) > self.max_entries or self._chars > self.max_chars:
                _, evicted = self._entries.popitem(last=False)
                self._chars -= len(evicted.html)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
            self._chars = 0


_CACHE = RenderCache()


def clear_caches() -> None:
    """Forget every memoised render and formula (benchmarks measure the cold path)."""
    _CACHE.clear()
    math_html.cache_clear()
