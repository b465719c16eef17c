"""The allow-list: exactly what the renderer emits, and nothing more.

nh3 is the second line of defence: markdown-it already escapes raw HTML and refuses
javascript: links, and the renderer's own rules escape what they print; this pass
holds even if one of them slips. Classes, ids and the image hints are checked by value.
"""

from __future__ import annotations

import re

import nh3

from services.summaries.domain.figures import FIGURE_CLASS, IMAGE_ATTRIBUTES
from services.summaries.domain.highlight import LANGUAGE_CLASS, TOKEN_CLASSES
from services.summaries.domain.outline import ANCHOR_ID

_HEADINGS = ("h1", "h2", "h3", "h4", "h5", "h6")

_HTML_TAGS = {
    "p", *_HEADINGS, "em", "strong", "s", "code", "pre", "span",
    "blockquote", "ul", "ol", "li", "a", "img", "hr", "br",
    "table", "thead", "tbody", "tr", "th", "td",
    "sup", "section",  # footnotes
    "div",  # display math and table wrappers
    "figure", "figcaption",
    "nav",  # the table of contents
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

_IMAGE_HINTS = dict(IMAGE_ATTRIBUTES)  # class, loading, decoding, referrerpolicy: one value each

_ATTRIBUTES = {
    "p": {"class"},
    "a": {"href", "title", "id", "class"},
    "img": {"src", "alt", "title", *_IMAGE_HINTS},
    "ol": {"start", "class"},
    "th": {"style"},  # table column alignment, see filter_style_properties
    "td": {"style"},
    "code": {"class"},
    "pre": {"class"},
    "span": {"class"},
    "div": {"class"},
    "sup": {"class"},
    "hr": {"class"},
    "section": {"class"},
    "figure": {"class"},
    "nav": {"class"},
    "li": {"id", "class"},
    **{tag: {"id"} for tag in _HEADINGS},
    **{tag: _MATHML_ATTRIBUTES for tag in _MATHML_TAGS},
}

_CLASSES = {
    "p": {"render-truncated"},
    "code": {"math-error"},
    "pre": {"highlight"},
    "div": {"math-display", "table-wrap"},
    "span": {"citation"},
    "sup": {"footnote-ref"},
    "hr": {"footnotes-sep"},
    "section": {"footnotes"},
    "figure": {FIGURE_CLASS},
    "nav": {"toc"},
    "ol": {"footnotes-list"},
    "li": {"footnote-item", *(f"toc-{level}" for level in range(1, 7))},
    "a": {"footnote-backref", "cite", "cite cite-external"},
}
_FOOTNOTE_ID = re.compile(r"fn(ref)?-[0-9a-f]{8}-[0-9]+(:[0-9]+)?")


def _filter_attribute(tag: str, attribute: str, value: str) -> str | None:
    if attribute == "class":
        if value in _CLASSES.get(tag, ()):
            return value
        if tag == "code" and LANGUAGE_CLASS.fullmatch(value):
            return value
        if tag == "span" and value in TOKEN_CLASSES:
            return value
        if tag == "img" and value == _IMAGE_HINTS["class"]:
            return value
        return None
    if attribute == "id":
        pattern = ANCHOR_ID if tag in _HEADINGS else _FOOTNOTE_ID
        return value if pattern.fullmatch(value) else None
    if tag == "img" and attribute in _IMAGE_HINTS:
        return value if value == _IMAGE_HINTS[attribute] else None
    return value


CLEANER = nh3.Cleaner(
    tags=_HTML_TAGS | _MATHML_TAGS,
    attributes=_ATTRIBUTES,
    attribute_filter=_filter_attribute,
    url_schemes={"http", "https", "mailto"},  # relative and #fragment links pass too
    link_rel="nofollow noopener ugc",
    filter_style_properties={"text-align"},
)


def sanitise(html: str) -> str:
    return CLEANER.clean(html)
