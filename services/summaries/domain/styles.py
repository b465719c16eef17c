"""The stylesheet for rendered summaries: layout of what the renderer emits (figures,
wide tables and equations, code, citations, the table of contents) and the Pygments
token colours, light by default and dark when the reader's system asks for it or the
page sets `data-theme="dark"` on <html> (`data-theme="light"` forces light).

`stylesheet()` is computed once per process; pages serve it as a static asset.
"""

from __future__ import annotations

from functools import lru_cache

from pygments.formatters import HtmlFormatter

from services.summaries.domain.highlight import DARK_STYLE, LIGHT_STYLE

_LAYOUT = """\
/* Rendered summaries (services/summaries/domain/render.py) */
.figure { margin: 1.5em 0; text-align: center; }
.figure figcaption { font-size: 0.9em; opacity: 0.8; margin-top: 0.4em; }
img.figure-img { max-width: 100%; height: auto; }
pre { overflow-x: auto; white-space: pre; max-width: 100%; line-height: 1.4; padding: 0.75em 1em; }
pre code { white-space: inherit; }
.math-display { overflow-x: auto; overflow-y: hidden; margin: 1em 0; }
.table-wrap { overflow-x: auto; max-width: 100%; margin: 1em 0; }
.table-wrap table { border-collapse: collapse; }
.table-wrap th, .table-wrap td { border: 1px solid rgba(127, 127, 127, 0.4); padding: 0.3em 0.6em; }
.math-error { color: #b00020; }
.citation a.cite-external { font-family: monospace; font-size: 0.9em; }
nav.toc ol { list-style: none; padding-left: 0; }
nav.toc li.toc-3 { padding-left: 1.2em; }
nav.toc li.toc-4, nav.toc li.toc-5, nav.toc li.toc-6 { padding-left: 2.4em; }
h1[id], h2[id], h3[id], h4[id], h5[id], h6[id] { scroll-margin-top: 4em; }
"""


def _rules(formatter: HtmlFormatter, scope: str) -> list[str]:
    selector = f"{scope} .highlight".strip()
    return formatter.get_background_style_defs(selector) + formatter.get_token_style_defs(selector)


def _dark(scope: str) -> list[str]:
    # Reset first, so that a class the light theme colours and the dark theme does not
    # (the reset is more specific than the light rules, less than the dark ones).
    reset = f"{scope} .highlight span {{ color: inherit; background-color: transparent; font-weight: inherit; }}"
    return [reset, *_rules(HtmlFormatter(style=DARK_STYLE), scope)]


@lru_cache(maxsize=1)
def stylesheet() -> str:
    light = _rules(HtmlFormatter(style=LIGHT_STYLE), "")
    system_dark = _dark(':root:not([data-theme="light"])')
    chosen_dark = _dark(':root[data-theme="dark"]')
    return "\n".join(
        [
            _LAYOUT,
            "/* Code: light */",
            *light,
            "/* Code: dark, when the system prefers it */",
            "@media (prefers-color-scheme: dark) {",
            *system_dark,
            "}",
            "/* Code: dark, when the page asks for it */",
            *chosen_dark,
            "",
        ]
    )


if __name__ == "__main__":  # python -m services.summaries.domain.styles > summary.css
    print(stylesheet(), end="")
