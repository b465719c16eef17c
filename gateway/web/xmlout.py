"""Atom feeds and sitemaps, written with ElementTree (so every string is escaped once and
properly), with characters XML 1.0 cannot hold removed."""

from __future__ import annotations

import html
import re
from collections.abc import Iterable
from datetime import UTC, datetime
from xml.etree.ElementTree import Element, SubElement, tostring

from backbone.contracts.summaries import SummaryRead
from gateway.web.render import SITE_NAME, as_utc

ATOM = "http://www.w3.org/2005/Atom"
SITEMAP = "http://www.sitemaps.org/schemas/sitemap/0.9"

_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def clean(value: str) -> str:
    return _NOT_XML.sub("", value)


def rfc3339(value: datetime) -> str:
    return as_utc(value).isoformat().replace("+00:00", "Z")


def _text(parent: Element, tag: str, value: str, **attrib: str) -> Element:
    node = SubElement(parent, tag, attrib)
    node.text = clean(value)
    return node


def _document(root: Element) -> bytes:
    # Unqualified names under an `xmlns` attribute on the root: ElementTree's
    # default_namespace option refuses the unqualified attributes (rel, href, type).
    return b'<?xml version="1.0" encoding="utf-8"?>\n' + tostring(root, encoding="utf-8", xml_declaration=False)


def entry_html(s: SummaryRead, public_url: str) -> str:
    """The entry's content: which paper, then the whole rendered summary (already sanitised
    HTML from the renderer; paper fields escaped here)."""
    p = s.paper
    where = " ".join(str(x) for x in (p.venue, p.year) if x)
    head = (f'<p><a href="{html.escape(public_url)}/papers/{html.escape(p.id)}">{html.escape(p.title)}</a>'
            f" — {html.escape(', '.join(p.authors))}{' (' + html.escape(where) + ')' if where else ''}</p>")
    return head + s.body_html


def atom_feed(*, public_url: str, path: str, title: str, alternate: str, summaries: Iterable[SummaryRead]) -> bytes:
    items = list(summaries)
    feed = Element("feed", {"xmlns": ATOM})
    _text(feed, "id", public_url + path)
    _text(feed, "title", title)
    updated = max((s.updated_at for s in items), default=datetime(2000, 1, 1, tzinfo=UTC))
    _text(feed, "updated", rfc3339(updated))
    SubElement(feed, "link", {"rel": "self", "type": "application/atom+xml", "href": public_url + path})
    SubElement(feed, "link", {"rel": "alternate", "type": "text/html", "href": public_url + alternate})
    author = SubElement(feed, "author")  # entries without an author (anonymous ones) fall back to this
    _text(author, "name", SITE_NAME)
    _text(author, "uri", public_url + "/")
    _text(feed, "generator", SITE_NAME)
    for s in items:
        entry = SubElement(feed, "entry")
        url = f"{public_url}/summaries/{s.id}"
        _text(entry, "id", url)
        _text(entry, "title", f"Summary of {s.paper.title}")
        SubElement(entry, "link", {"rel": "alternate", "type": "text/html", "href": url})
        SubElement(entry, "link", {"rel": "related", "type": "text/html", "href": f"{public_url}/papers/{s.paper.id}"})
        _text(entry, "published", rfc3339(s.created_at))
        _text(entry, "updated", rfc3339(s.updated_at))
        if s.author is not None and not s.anonymous:
            who = SubElement(entry, "author")
            _text(who, "name", s.author.username)
            _text(who, "uri", f"{public_url}/users/{s.author.username}")
        if s.paper.venue_key:
            SubElement(entry, "category", {"term": clean(s.paper.venue_key), "label": clean(s.paper.venue or "")})
        _text(entry, "content", entry_html(s, public_url), type="html")
    return _document(feed)


def urlset(urls: Iterable[tuple[str, datetime | None]]) -> bytes:
    root = Element("urlset", {"xmlns": SITEMAP})
    for loc, lastmod in urls:
        url = SubElement(root, "url")
        _text(url, "loc", loc)
        if lastmod is not None:
            _text(url, "lastmod", rfc3339(lastmod))
    return _document(root)


def sitemap_index(locations: Iterable[str]) -> bytes:
    root = Element("sitemapindex", {"xmlns": SITEMAP})
    for loc in locations:
        _text(SubElement(root, "sitemap"), "loc", loc)
    return _document(root)
