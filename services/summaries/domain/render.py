"""The one server-side renderer for summaries: Markdown + LaTeX in, safe HTML out.

Pipeline: markdown-it (CommonMark + tables, strikethrough, footnotes, math)
-> LaTeX converted to MathML by latex2mathml -> nh3 with an allow-list of
exactly what this module emits. The output is a pure function of the body, so
it can be cached and stored next to ``body_hash`` and ``RENDERER_VERSION``.
"""

from __future__ import annotations

import hashlib
import html
import re
from collections.abc import Sequence
from xml.etree.ElementTree import Element, tostring

import nh3
from latex2mathml.converter import convert_to_element
from markdown_it import MarkdownIt
from markdown_it.renderer import RendererHTML
from markdown_it.rules_block import StateBlock
from markdown_it.rules_inline import StateInline
from markdown_it.token import Token
from markdown_it.utils import EnvType, OptionsDict
from mdit_py_plugins.dollarmath import dollarmath_plugin
from mdit_py_plugins.footnote import footnote_plugin

# Stored HTML rendered by an older version is stale: bump on any output change.
RENDERER_VERSION = "1"


def body_hash(body: str) -> str:
    """SHA-256 of the body, so callers can tell whether stored HTML is stale."""
    return hashlib.sha256(body.encode("utf-8")).hexdigest()


def render_markdown(body: str) -> str:
    """Render a summary body to sanitised HTML. Deterministic; never raises on bad LaTeX."""
    # Several summaries can share a page (feeds, search results); a per-body
    # prefix keeps their footnote ids from colliding, and stays deterministic.
    env = {"docId": body_hash(body)[:8]}
    return _CLEANER.clean(_MARKDOWN.render(body, env))


# --- Math -------------------------------------------------------------------

# latex2mathml prints an unknown command (\badcommand) verbatim instead of failing.
_UNKNOWN_COMMAND = re.compile(r"\\[A-Za-z]+")


def _math_html(latex: str, *, display: bool) -> str:
    """MathML for ``latex``, or its escaped source marked as an error."""
    mathml = _latex_to_mathml(latex.strip(), display=display)
    if mathml is None:
        return f'<code class="math-error">{html.escape(latex)}</code>'
    return mathml


def _latex_to_mathml(latex: str, *, display: bool) -> str | None:
    if not _braces_balanced(latex):
        return None  # latex2mathml silently accepts "{x" and "x}"
    try:
        math = convert_to_element(latex, display="block" if display else "inline")
        for node in math.iter():
            if node.tag in ("mi", "mo") and _UNKNOWN_COMMAND.fullmatch(node.text or ""):
                return None
            _decode_character_references(node)
        return tostring(math, encoding="unicode")
    # latex2mathml signals bad input with many exception types (even
    # StopIteration), and deep nesting can hit RecursionError here.
    except Exception:
        return None


def _braces_balanced(latex: str) -> bool:
    depth = 0
    chars = iter(latex)
    for char in chars:
        if char == "\\":
            next(chars, None)  # \{ \} and \\ are not group delimiters
        elif char == "{":
            depth += 1
        elif char == "}":
            depth -= 1
            if depth < 0:
                return False
    return depth == 0


def _decode_character_references(node: Element) -> None:
    # latex2mathml writes symbols as reference text ("&#x0211D;") but leaves
    # \text{...} raw, then un-escapes its whole output, so "\text{<b>}" would
    # become markup. Turning every reference into its character here lets
    # ElementTree escape everything exactly once.
    if node.text:
        node.text = html.unescape(node.text)
    if node.tail:
        node.tail = html.unescape(node.tail)
    for name, value in node.attrib.items():
        node.attrib[name] = html.unescape(value)


def _render_inline_math(
    self: RendererHTML, tokens: Sequence[Token], idx: int, options: OptionsDict, env: EnvType
) -> str:
    return _math_html(tokens[idx].content, display=False)


def _render_inline_display_math(
    self: RendererHTML, tokens: Sequence[Token], idx: int, options: OptionsDict, env: EnvType
) -> str:
    # Display math written inside a paragraph: <math display="block"> is
    # phrasing content, whereas a <div> here would break the paragraph apart.
    return _math_html(tokens[idx].content, display=True)


def _render_block_math(
    self: RendererHTML, tokens: Sequence[Token], idx: int, options: OptionsDict, env: EnvType
) -> str:
    # The wrapper gives CSS a box to scroll wide equations in.
    return f'<div class="math-display">{_math_html(tokens[idx].content, display=True)}</div>\n'


# --- \( ... \) and \[ ... \] -----------------------------------------------
# mdit_py_plugins' texmath "brackets" mode reuses dollarmath's token and rule
# names, so the two plugins cannot be loaded together; these two small rules
# emit dollarmath's token types instead and share its rendering.

_BRACKETS = {"(": ("\\)", "math_inline"), "[": ("\\]", "math_inline_double")}


def _bracket_math_inline(state: StateInline, silent: bool) -> bool:
    # Runs before the "escape" rule, which would otherwise turn "\(" into "(".
    # "\\(" never reaches here: "escape" consumes the "\\" pair first.
    start = state.pos
    if state.src[start] != "\\" or start + 1 >= state.posMax:
        return False
    bracket = state.src[start + 1]
    if bracket not in _BRACKETS:
        return False
    closer, token_type = _BRACKETS[bracket]
    end = _find_closer(state, closer, start + 2)
    if end == -1 or not state.src[start + 2 : end].strip():
        return False
    if not silent:
        token = state.push(token_type, "math", 0)
        token.content = state.src[start + 2 : end]
        token.markup = "\\" + bracket
    state.pos = end + 2
    return True


def _find_closer(state: StateInline, closer: str, start: int) -> int:
    # Without remembering a failed search, n unclosed "\(" cost O(n^2)
    # (100 kB took seconds). The parser only moves forward, so a miss from
    # ``start`` holds for any later start within the same or a narrower window.
    misses = state.env.setdefault("math_closer_misses", {})
    miss = misses.get(closer)
    if miss and miss[0] is state.src and start >= miss[1] and state.posMax <= miss[2]:
        return -1
    end = state.src.find(closer, start, state.posMax)
    if end == -1:
        misses[closer] = (state.src, start, state.posMax)
    return end


def _bracket_math_block(state: StateBlock, start_line: int, end_line: int, silent: bool) -> bool:
    # A block rule, like dollarmath's for $$, so that lines inside the formula
    # ("+ b", "# x") are not taken for lists or headings.
    if state.is_code_block(start_line):
        return False
    start = state.bMarks[start_line] + state.tShift[start_line]
    if not state.src.startswith("\\[", start):
        return False
    line = start_line
    while line < end_line:
        if line > start_line and (state.isEmpty(line) or state.sCount[line] < state.blkIndent):
            return False  # like LaTeX, no blank lines; and stay inside the container
        text = state.src[state.bMarks[line] + state.tShift[line] : state.eMarks[line]].rstrip()
        if text.endswith("\\]") and (line > start_line or len(text) >= 4):
            break
        line += 1
    else:
        return False  # unclosed: let the paragraph rule have it
    latex = state.getLines(start_line, line + 1, state.blkIndent, False).strip()[2:-2]
    if not latex.strip():
        return False
    if silent:
        return True
    token = state.push("math_block", "math", 0)
    token.block = True
    token.content = latex
    token.markup = "\\["
    token.map = [start_line, line + 1]
    state.line = line + 1
    return True


def _build_markdown() -> MarkdownIt:
    # Raw HTML stays off: Markdown covers what summaries need, and with it on
    # the sanitiser would silently delete text such as "List<T>".
    md = MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False})
    md.enable(["table", "strikethrough"])
    md.use(footnote_plugin)
    md.use(
        dollarmath_plugin,
        allow_labels=False,  # labels emit ids and anchors we do not need
        allow_space=False,  # "$5 and $10" stays text: no space inside the $s
        allow_digits=False,  # nor a digit right outside them ("$5-$10")
        allow_blank_lines=False,  # an unclosed $$ must not swallow the rest
        double_inline=True,  # "$$x$$" inside a paragraph is display math
    )
    md.inline.ruler.before("escape", "math_bracket_inline", _bracket_math_inline)
    md.block.ruler.before("fence", "math_bracket_block", _bracket_math_block)
    md.add_render_rule("math_inline", _render_inline_math)
    md.add_render_rule("math_inline_double", _render_inline_display_math)
    md.add_render_rule("math_block", _render_block_math)
    return md


# Built once: rendering only reads it, so it is safe to share across requests.
_MARKDOWN = _build_markdown()


# --- Sanitising ---------------------------------------------------------------
# The allow-list is what the renderer above emits and nothing more; nh3 is the
# second line of defence (markdown-it already escapes raw HTML and refuses
# javascript: links, but lets data: images through).

_HTML_TAGS = {
    "p", "h1", "h2", "h3", "h4", "h5", "h6", "em", "strong", "s", "code", "pre",
    "blockquote", "ul", "ol", "li", "a", "img", "hr", "br",
    "table", "thead", "tbody", "tr", "th", "td",
    "sup", "section",  # footnotes
    "div",  # display math wrapper
}  # fmt: skip

# Every element latex2mathml 3.81 emits (tests/summaries/test_render.py checks
# a broad corpus against this list).
_MATHML_TAGS = {
    "math", "mrow", "mi", "mn", "mo", "mtext", "mspace", "mpadded", "mphantom",
    "mfrac", "msqrt", "mroot", "msub", "msup", "msubsup", "mover", "munder",
    "munderover", "mtable", "mtr", "mtd", "mstyle", "menclose",
}  # fmt: skip

# Presentation attributes latex2mathml emits; none holds a URL or script.
# Left out on purpose: href (\href), style and class (\style, \class) and
# border-color (not MathML), all reachable from user LaTeX.
_MATHML_ATTRIBUTES = {
    "display", "xmlns", "mathvariant", "mathsize", "mathcolor", "mathbackground",
    "displaystyle", "scriptlevel", "stretchy", "fence", "separator", "form",
    "accent", "largeop", "movablelimits", "lspace", "rspace", "minsize", "maxsize",
    "linethickness", "notation", "width", "height", "depth", "voffset", "linebreak",
    "columnalign", "columnlines", "columnspacing", "rowlines", "rowspacing",
}  # fmt: skip

_ATTRIBUTES = {
    "a": {"href", "title", "id", "class"},
    "img": {"src", "alt", "title"},
    "ol": {"start", "class"},
    "th": {"style"},  # table column alignment, see filter_style_properties
    "td": {"style"},
    "code": {"class"},
    "div": {"class"},
    "sup": {"class"},
    "hr": {"class"},
    "section": {"class"},
    "li": {"id", "class"},
    **{tag: _MATHML_ATTRIBUTES for tag in _MATHML_TAGS},
}

# Classes are checked by value, not just allowed by name.
_CLASSES = {
    "code": {"math-error"},
    "div": {"math-display"},
    "sup": {"footnote-ref"},
    "hr": {"footnotes-sep"},
    "section": {"footnotes"},
    "ol": {"footnotes-list"},
    "li": {"footnote-item"},
    "a": {"footnote-backref"},
}
_CODE_LANGUAGE_CLASS = re.compile(r"language-[A-Za-z0-9_+#.-]{1,40}")  # from ```lang fences
_FOOTNOTE_ID = re.compile(r"fn(ref)?-[0-9a-f]{8}-[0-9]+(:[0-9]+)?")


def _filter_attribute(tag: str, attribute: str, value: str) -> str | None:
    if attribute == "class":
        if value in _CLASSES.get(tag, ()):
            return value
        if tag == "code" and _CODE_LANGUAGE_CLASS.fullmatch(value):
            return value
        return None
    if attribute == "id":
        return value if _FOOTNOTE_ID.fullmatch(value) else None
    return value


_CLEANER = nh3.Cleaner(
    tags=_HTML_TAGS | _MATHML_TAGS,
    attributes=_ATTRIBUTES,
    attribute_filter=_filter_attribute,
    url_schemes={"http", "https", "mailto"},  # relative and #fragment links pass too
    link_rel="nofollow noopener ugc",
    filter_style_properties={"text-align"},
)
