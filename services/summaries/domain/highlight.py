"""Code blocks: fenced code with a known language is highlighted by Pygments, as spans
with Pygments' short token classes (no inline styles), so one stylesheet themes them
light or dark. Unknown languages, and blocks too long to be worth it, stay plain.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import lru_cache

from markdown_it import MarkdownIt
from markdown_it.common.utils import escapeHtml, unescapeAll
from markdown_it.renderer import RendererHTML
from markdown_it.token import Token
from markdown_it.utils import EnvType, OptionsDict
from pygments import highlight
from pygments.formatters import HtmlFormatter
from pygments.lexer import Lexer
from pygments.lexers import get_lexer_by_name
from pygments.token import STANDARD_TYPES
from pygments.util import ClassNotFound

# Beyond these, code renders plain: Pygments runs at roughly 1 MB/s, and a summary is
# read far more often than written, but a pasted log file needs no colours.
MAX_HIGHLIGHT_CHARS = 20_000  # one block
MAX_HIGHLIGHT_TOTAL = 60_000  # all blocks of one body

# Every class the formatter can put on a span (Pygments' short token names).
TOKEN_CLASSES = frozenset(name for name in STANDARD_TYPES.values() if name)
LANGUAGE_CLASS = re.compile(r"language-[A-Za-z0-9_+#.-]{1,40}")
LIGHT_STYLE, DARK_STYLE = "default", "github-dark"

_FORMATTER = HtmlFormatter(nowrap=True)  # only the spans: the <pre><code> is ours


@lru_cache(maxsize=256)
def _lexer(language: str) -> Lexer | None:
    # Lexers are reusable (each call to get_tokens starts afresh); finding one by
    # name scans Pygments' registry, so keep what was found.
    try:
        # ensurenl=False: the fence's content already ends its last line.
        return get_lexer_by_name(language, stripnl=False, stripall=False, ensurenl=False)
    except ClassNotFound:
        return None


def _render_fence(
    self: RendererHTML, tokens: Sequence[Token], idx: int, options: OptionsDict, env: EnvType
) -> str:
    token = tokens[idx]
    info = unescapeAll(token.info).strip() if token.info else ""
    language = info.split(maxsplit=1)[0] if info else ""
    code_class = f' class="language-{language}"' if LANGUAGE_CLASS.fullmatch(f"language-{language}") else ""
    lexer = _lexer(language.lower()) if code_class and language.lower() not in ("text", "plain") else None
    budget = env.get("highlight_budget", MAX_HIGHLIGHT_TOTAL)
    if lexer is not None and len(token.content) <= min(MAX_HIGHLIGHT_CHARS, budget):
        env["highlight_budget"] = budget - len(token.content)
        return f'<pre class="highlight"><code{code_class}>{highlight(token.content, lexer, _FORMATTER)}</code></pre>\n'
    return f"<pre><code{code_class}>{escapeHtml(token.content)}</code></pre>\n"


def highlight_plugin(md: MarkdownIt) -> None:
    md.add_render_rule("fence", _render_fence)
