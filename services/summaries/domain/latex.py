"""Math in summaries: `$...$`, `$$...$$`, `\\(...\\)` and `\\[...\\]` to MathML.

The dollar forms come from mdit_py_plugins' dollarmath, configured so that currency
(`costs $5 and $10`) and an unclosed `$$` stay text; the bracket forms are two small
rules here. LaTeX becomes MathML with latex2mathml; LaTeX it cannot convert is shown
as its escaped source in `<code class="math-error">`.
"""

from __future__ import annotations

import html
import re
from collections.abc import Sequence
from functools import lru_cache
from xml.etree.ElementTree import Element

from latex2mathml.converter import convert_to_element
from markdown_it import MarkdownIt
from markdown_it.renderer import RendererHTML
from markdown_it.rules_block import StateBlock
from markdown_it.rules_inline import StateInline
from markdown_it.token import Token
from markdown_it.utils import EnvType, OptionsDict
from mdit_py_plugins.dollarmath import dollarmath_plugin

# latex2mathml prints an unknown command (\badcommand) verbatim instead of failing.
_UNKNOWN_COMMAND = re.compile(r"\\[A-Za-z]+")


@lru_cache(maxsize=4096)
def math_html(latex: str, *, display: bool) -> str:
    """MathML for ``latex``, or its escaped source marked as an error.

    Memoised: the same formula ($x$, $\\theta$) recurs across summaries and revisions,
    and the answer is a pure function of the text."""
    mathml = _latex_to_mathml(latex.strip(), display=display)
    if mathml is None:
        return f'<code class="math-error">{html.escape(latex)}</code>'
    return mathml


def _latex_to_mathml(latex: str, *, display: bool) -> str | None:
    if not _braces_balanced(latex):
        return None  # latex2mathml silently accepts "{x" and "x}"
    try:
        math = convert_to_element(latex, display="block" if display else "inline")
        out: list[str] = []
        _serialise(math, out)
        return "".join(out)
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


class _UnknownCommand(ValueError):
    pass


_SPECIAL = re.compile(r"[&<>\"']")


def _text(value: str, *, quote: bool = False) -> str:
    # latex2mathml writes symbols as reference text ("&#x0211D;") but leaves
    # \text{...} raw, then un-escapes its whole output, so "\text{<b>}" would
    # become markup. Decoding every reference here and escaping once below
    # turns both into plain characters.
    if "&" in value:
        value = html.unescape(value)
    if _SPECIAL.search(value) is None:
        return value  # most tokens: "x", "=", "2", "block"
    return html.escape(value, quote=quote)


def _serialise(node: Element, out: list[str]) -> None:
    """MathML text for latex2mathml's tree: ElementTree's `tostring`, minus its generality
    (it took a third of the conversion time), refusing unknown commands on the way."""
    tag, text = node.tag, node.text
    if text and tag in ("mi", "mo") and _UNKNOWN_COMMAND.fullmatch(text):
        raise _UnknownCommand(text)
    if node.attrib:
        attributes = "".join(f' {name}="{_text(value, quote=True)}"' for name, value in node.attrib.items())
        out.append(f"<{tag}{attributes}>")
    else:
        out.append(f"<{tag}>")
    if text:
        out.append(_text(text))
    for child in node:
        _serialise(child, out)
    out.append(f"</{tag}>")
    if node.tail:
        out.append(_text(node.tail))


def _render_inline_math(
    self: RendererHTML, tokens: Sequence[Token], idx: int, options: OptionsDict, env: EnvType
) -> str:
    return math_html(tokens[idx].content, display=False)


def _render_inline_display_math(
    self: RendererHTML, tokens: Sequence[Token], idx: int, options: OptionsDict, env: EnvType
) -> str:
    # Display math written inside a paragraph: <math display="block"> is
    # phrasing content, whereas a <div> here would break the paragraph apart.
    return math_html(tokens[idx].content, display=True)


def _render_block_math(
    self: RendererHTML, tokens: Sequence[Token], idx: int, options: OptionsDict, env: EnvType
) -> str:
    # The wrapper gives CSS a box to scroll wide equations in.
    return f'<div class="math-display">{math_html(tokens[idx].content, display=True)}</div>\n'


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


def math_plugin(md: MarkdownIt) -> None:
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
