"""What every web route shares: the route class that turns errors into pages and applies
the visitor's cookies, redirects, query parsing and pagination."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import quote

from fastapi import Request
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import HTMLResponse, RedirectResponse, Response

from backbone.errors import DomainError, RateLimited, Unauthorized
from backbone.logs import get_logger
from gateway.web.render import error_page
from gateway.web.visitor import CsrfRefused, LoginRequired

CSRF_REFUSED = ("This form has expired or did not come from this site. "
                "Go back, reload the page and send it again.")


class WebRoute(APIRoute):
    """Errors become HTML pages (never problem+json, never internals); a page that needs a
    signed-in visitor redirects to the login; the visitor's cookie changes are applied to
    whatever the route answered."""

    def get_route_handler(self):
        handler = super().get_route_handler()

        async def guarded(request: Request) -> Response:
            try:
                response = await handler(request)
            except Exception as exc:  # noqa: BLE001 - every failure becomes a page
                response = failure_page(request, exc)
            who = getattr(request.state, "visitor", None)
            if who is not None:
                who.apply_cookies(response)
            return response

        return guarded


def failure_page(request: Request, exc: Exception) -> Response:
    who = getattr(request.state, "visitor", None)
    try:
        if isinstance(exc, LoginRequired) or (isinstance(exc, Unauthorized) and request.method == "GET"):
            return redirect(login_url(request))
        if isinstance(exc, CsrfRefused):
            return error_page(request, who, 403, CSRF_REFUSED)
        if isinstance(exc, RateLimited):
            return error_page(request, who, 429, exc.detail, headers={"Retry-After": str(exc.retry_after)})
        if isinstance(exc, DomainError):
            # 4xx details are written for users ("no summary with id ..."); 5xx ones may
            # name internals (a service, an engine), so those get the fixed sentence.
            return error_page(request, who, exc.status, exc.detail if exc.status < 500 else None)
        if isinstance(exc, RequestValidationError):
            return error_page(request, who, 400)
        if isinstance(exc, StarletteHTTPException):
            return error_page(request, who, exc.status_code)
        get_logger("web").error("unhandled_error", path=request.url.path, exc_info=exc)
        return error_page(request, who, 500)
    except Exception as inner:  # the error page itself failed: a plain answer, still no internals
        get_logger("web").error("error_page_failed", path=request.url.path, exc_info=inner)
        return HTMLResponse("<!doctype html><title>Error</title><h1>Something went wrong</h1>", status_code=500)


def login_url(request: Request) -> str:
    # After a refused POST there is no page to come back to: the form has to be sent again.
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "") \
        if request.method == "GET" else "/"
    return "/login?next=" + quote(target, safe="/")


def redirect(url: str) -> RedirectResponse:
    """After a POST: 303, so the browser GETs the next page (POST/redirect/GET)."""
    return RedirectResponse(url, status_code=303)


def with_notice(url: str, code: str) -> str:
    """`url` with `done=code` (a fixed notice the next page shows), before any #fragment."""
    base, hash_, fragment = url.partition("#")
    base += ("&" if "?" in base else "?") + f"done={code}"
    return base + hash_ + fragment


@dataclass(frozen=True)
class Pager:
    page: int
    size: int
    total: int

    @property
    def last(self) -> int:
        return max(1, -(-self.total // self.size))

    @property
    def has_prev(self) -> bool:
        return self.page > 1

    @property
    def has_next(self) -> bool:
        return self.page < self.last

    def window(self, width: int = 2) -> list[int | None]:
        """Page numbers around the current one, with None for a gap: 1 … 4 5 [6] 7 8 … 20."""
        shown = {1, self.last, *range(max(1, self.page - width), min(self.last, self.page + width) + 1)}
        out: list[int | None] = []
        previous = 0
        for n in sorted(shown):
            if n - previous > 1:
                out.append(None)
            out.append(n)
            previous = n
        return out


def wants_json(request: Request) -> bool:
    return "application/json" in request.headers.get("accept", "")
