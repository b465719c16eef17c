"""Jinja2 templates: one autoescaping environment, the context every page shares, and the
HTML error pages."""

from __future__ import annotations

import hashlib
import re
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlencode

import nh3
from fastapi import Request
from jinja2 import Environment, FileSystemLoader, StrictUndefined
from markupsafe import Markup
from starlette.responses import HTMLResponse

from gateway.web.visitor import Visitor

HERE = Path(__file__).resolve().parent
TEMPLATES = HERE / "templates"
STATIC = HERE / "static"
SITE_NAME = "ShortScience"

# What a redirect's `done=` code says on the next page: fixed texts, so nothing a visitor
# typed is ever reflected from the URL.
NOTICES = {
    "welcome": "Welcome! Your account is ready.",
    "signed-in": "You are signed in.",
    "signed-out": "You are signed out.",
    "published": "Your summary is published.",
    "saved": "Your summary is saved.",
    "deleted": "The summary is deleted.",
    "hidden": "Hidden.",
    "commented": "Your comment is posted.",
    "voted": "Your vote is counted.",
    "registered": "The paper is registered.",
    "password": "Your password is changed.",
    "profile": "Your display name is changed.",
    "revoked": "The token is revoked.",
    "retried": "The post is queued again.",
    "exists": "You already have a summary of this paper: edit it here.",
}

_SNIPPET_CLEANER = nh3.Cleaner(tags={"mark"}, attributes={}, url_schemes=set())


def snippet_html(snippet: str) -> Markup:
    """A search snippet is HTML from the search service (escaped text and <mark>): keep
    only the marks, whatever the engine sent."""
    return Markup(_SNIPPET_CLEANER.clean(snippet))


def as_utc(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def date_text(value: datetime) -> str:
    return f"{as_utc(value):%-d %b %Y}"


def from_epoch(value: float) -> datetime:
    return datetime.fromtimestamp(value, UTC)


def http_url(value: str | None) -> bool:
    return bool(value) and re.match(r"(?i)^https?://", value) is not None  # type: ignore[arg-type]


def query_url(path: str, params: dict | list) -> str:
    """`path?params` without the empty ones (a list keeps repeated keys)."""
    items = params.items() if isinstance(params, dict) else params
    kept = [(k, v) for k, v in items if v not in (None, "", False)]
    return f"{path}?{urlencode(kept)}" if kept else path


def static_versions() -> dict[str, str]:
    """Cache-busting versions of the static files, from their content."""
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest()[:12] for p in STATIC.iterdir() if p.is_file()}


def build_environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=True,  # every template, every variable; |safe only on sanitised HTML
        undefined=StrictUndefined,  # a missing value is a bug, not an empty string
        trim_blocks=True,
        lstrip_blocks=True,
        auto_reload=False,
    )
    versions = static_versions()
    env.globals.update(
        site_name=SITE_NAME,
        static=lambda name: f"/static/{name}?v={versions.get(name, '0')}",
        query_url=query_url,
    )
    env.filters.update(date=date_text, snippet=snippet_html, from_epoch=from_epoch)
    env.tests["http_url"] = http_url
    return env


def page(request: Request, who: Visitor | None, template: str, *, status: int = 200,
         headers: dict[str, str] | None = None, **context) -> HTMLResponse:
    web = request.app.state.web
    notice = NOTICES.get(request.query_params.get("done", ""))
    values = {
        "v": who,
        "csrf": who.csrf_token if who else "",
        "path": request.url.path,
        "full_path": request.url.path + (f"?{request.url.query}" if request.url.query else ""),
        "public_url": web.public_url,
        "notice": notice,
        "noindex": False,
        "meta": None,
        "jsonld": None,
        "canonical": None,
        **context,
    }
    html = web.templates.get_template(template).render(values)
    response = HTMLResponse(html, status_code=status, headers=headers)
    response.headers.setdefault("cache-control", "private, no-cache")
    response.headers.setdefault("vary", "Cookie")
    return response


ERROR_TEXT = {
    400: ("Bad request", "The request could not be understood."),
    401: ("Sign in first", "This page is for signed-in members."),
    403: ("Forbidden", "You may not do this."),
    404: ("Not found", "There is nothing at this address."),
    405: ("Not allowed", "This address does not take that kind of request."),
    409: ("Conflict", "This clashes with something that already exists."),
    413: ("Too large", "What you sent is too large."),
    422: ("Invalid input", "Some of what you sent is not valid."),
    429: ("Too many requests", "Please wait a moment and try again."),
    500: ("Something went wrong", "The server could not complete the request. It has been logged."),
    503: ("Unavailable", "A part of the site is not available right now. Please try again shortly."),
}


def error_page(request: Request, who: Visitor | None, status: int, detail: str | None = None,
               headers: dict[str, str] | None = None) -> HTMLResponse:
    """An error as a page: a title and a sentence, never a trace or an internal name."""
    title, default = ERROR_TEXT.get(status, ERROR_TEXT[500] if status >= 500 else ERROR_TEXT[400])
    return page(request, who, "error.html", status=status, headers=headers, title=title,
                detail=detail or default, noindex=True)
