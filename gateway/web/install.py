"""Adds the website to a gateway app: its routes, the static files, HTML error pages for
addresses outside /api, and the security headers."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from fastapi import FastAPI, Request
from jinja2 import Environment
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.staticfiles import StaticFiles

from gateway.ratelimit import RateLimiter
from gateway.web.render import STATIC, build_environment, error_page
from gateway.web.security import Csrf, WebHeaders, is_web_path

# Previews follow typing (debounced in the browser): more than writes, still bounded.
PREVIEW_LIMIT, PREVIEW_WINDOW = 240, 60.0


@dataclass
class WebState:
    templates: Environment
    csrf: Csrf
    public_url: str
    preview_limiter: RateLimiter
    _cache: dict[str, tuple[float, Any]] = field(default_factory=dict)

    async def cached(self, key: str, ttl: float, load: Callable[[], Awaitable[Any]]) -> Any:
        """Small, slowly changing lists (venues and their counts) for a few seconds."""
        now = time.monotonic()
        hit = self._cache.get(key)
        if hit is not None and hit[0] > now:
            return hit[1]
        value = await load()
        self._cache[key] = (now + ttl, value)
        return value


class Static(StaticFiles):
    """Static files; pages link them with a content hash (`?v=`), so they can be kept."""

    async def get_response(self, path: str, scope):
        response = await super().get_response(path, scope)
        if response.status_code == 200:
            versioned = b"v=" in scope.get("query_string", b"")
            response.headers["cache-control"] = (
                "public, max-age=31536000, immutable" if versioned else "public, max-age=3600")
        return response


def install_web(app: FastAPI) -> None:
    from gateway.web.routes import routers

    settings = app.state.settings
    app.state.web = WebState(
        templates=build_environment(),
        csrf=Csrf(settings.internal_secret),
        public_url=settings.public_url.rstrip("/"),
        preview_limiter=RateLimiter(PREVIEW_LIMIT, PREVIEW_WINDOW),
    )
    for router in routers():
        app.include_router(router)
    app.mount("/static", Static(directory=STATIC), name="static")

    api_http_error = app.exception_handlers[StarletteHTTPException]

    async def http_error(request: Request, exc: StarletteHTTPException):
        # Unknown addresses and wrong methods: a page on the website, problem+json under /api.
        if is_web_path(request.url.path):
            return error_page(request, None, exc.status_code, headers=getattr(exc, "headers", None))
        return await api_http_error(request, exc)

    app.add_exception_handler(StarletteHTTPException, http_error)
    app.add_middleware(WebHeaders)
