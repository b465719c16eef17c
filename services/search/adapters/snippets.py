"""Snippets as every engine shows them: the engine marks matches with two private-use
characters (stripped from indexed text, so no summary can fake one), then everything is
HTML-escaped and only those markers become <mark>...</mark>."""

from __future__ import annotations

import html

MARK_OPEN, MARK_CLOSE = "\ue000", "\ue001"
BROWSE_SNIPPET_CHARS = 240
ELLIPSIS = "…"


def clean(text: str) -> str:
    """Text as it may be indexed: without the marker characters."""
    return text.replace(MARK_OPEN, "").replace(MARK_CLOSE, "")


def render_snippet(raw: str) -> str:
    """Escape everything, then turn the engine's markers into <mark>."""
    return html.escape(raw, quote=False).replace(MARK_OPEN, "<mark>").replace(MARK_CLOSE, "</mark>")


def clip(text: str, limit: int = BROWSE_SNIPPET_CHARS) -> str:
    """The beginning of a text, cut at a word, with an ellipsis when cut."""
    if len(text) <= limit:
        return text
    cut = text.rfind(" ", 0, limit)
    return text[: cut if cut > 0 else limit] + ELLIPSIS
