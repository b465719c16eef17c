"""Figures: images from the web, shown lazily and never fetched by the server.

`![alt](https://...)` becomes `<img class="figure-img" loading="lazy" decoding="async">`;
an image alone in its paragraph becomes a `<figure>` (its title, if any, the caption),
and so does a bare image URL on its own line. Any source but an absolute http(s) URL
(data:, javascript:, file:, relative paths) is dropped, leaving the alt text.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from urllib.parse import unquote, urlsplit

from markdown_it import MarkdownIt
from markdown_it.common.utils import escapeHtml
from markdown_it.renderer import RendererHTML
from markdown_it.rules_core import StateCore
from markdown_it.token import Token
from markdown_it.utils import EnvType, OptionsDict

FIGURE_CLASS, IMAGE_CLASS = "figure", "figure-img"
# The attributes every image gets, in this order (the sanitiser allows these values only).
IMAGE_ATTRIBUTES = (("class", IMAGE_CLASS), ("loading", "lazy"), ("decoding", "async"), ("referrerpolicy", "no-referrer"))

_BARE_IMAGE_URL = re.compile(
    r"https?://[^\s<>\"'`]+?\.(?:png|jpe?g|gif|webp|avif|svg)(?:[?#][^\s<>\"'`]*)?", re.IGNORECASE
)
_LINE_BREAKS = ("softbreak", "hardbreak")


def is_web_url(url: str) -> bool:
    try:
        parts = urlsplit(url)
    except ValueError:
        return False
    return parts.scheme.lower() in ("http", "https") and bool(parts.hostname)


def _render_image(
    self: RendererHTML, tokens: Sequence[Token], idx: int, options: OptionsDict, env: EnvType
) -> str:
    token = tokens[idx]
    alt = self.renderInlineAsText(token.children, options, env) if token.children else ""
    src = str(token.attrGet("src") or "")
    if not is_web_url(src):
        return escapeHtml(alt)
    title = token.attrGet("title")
    attributes = [("src", src), ("alt", alt), *([("title", str(title))] if title else []), *IMAGE_ATTRIBUTES]
    image = "<img " + " ".join(f'{name}="{escapeHtml(value)}"' for name, value in attributes) + ">"
    if token.meta.get("figure") and title:
        image += f"<figcaption>{escapeHtml(str(title))}</figcaption>"
    return image


def _bare_image(md: MarkdownIt, url: str) -> Token | None:
    href = md.normalizeLink(url)
    if not md.validateLink(href):
        return None
    image = Token("image", "img", 0)
    image.attrs = {"src": href}
    image.children = [Token("text", "", 0, content=unquote(url.rsplit("/", 1)[-1].split("?")[0].split("#")[0]))]
    return image


def _figures_rule(state: StateCore) -> None:
    tokens = state.tokens
    for index, token in enumerate(tokens):
        if token.type != "inline" or not token.children:
            continue
        children = token.children
        for position, child in enumerate(children):
            # A line holding nothing but an image URL.
            if (
                child.type == "text"
                and (position == 0 or children[position - 1].type in _LINE_BREAKS)
                and (position == len(children) - 1 or children[position + 1].type in _LINE_BREAKS)
                and _BARE_IMAGE_URL.fullmatch(child.content.strip())
                and (image := _bare_image(state.md, child.content.strip()))
            ):
                children[position] = image
        opener = tokens[index - 1] if index else None
        if len(children) == 1 and children[0].type == "image" and opener and opener.type == "paragraph_open" \
                and not opener.hidden and is_web_url(str(children[0].attrGet("src") or "")):
            children[0].meta = {**children[0].meta, "figure": True}
            opener.tag = tokens[index + 1].tag = "figure"
            opener.attrSet("class", FIGURE_CLASS)


def figures_plugin(md: MarkdownIt) -> None:
    md.add_render_rule("image", _render_image)
    md.core.ruler.push("figures", _figures_rule)
