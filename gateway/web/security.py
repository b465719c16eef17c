"""Cookies, CSRF tokens and the security headers of every web response.

The session cookie holds the identity service's login token (the one `POST
/api/v1/auth/login` returns), HttpOnly, SameSite=Lax, Secure over https. The API never
reads the cookie: it wants a bearer token, so cross-site requests cannot write through it.

CSRF: a random per-browser seed lives in its own cookie; a form's token is an HMAC of that
seed and the session's token id under a key derived from the internal secret. A page from
another site can read neither, and a token stops working when its visitor logs in or out.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets

from starlette.datastructures import MutableHeaders

from backbone.app import OPEN_PATHS

SESSION_COOKIE = "ss_session"
CSRF_COOKIE = "ss_csrf"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "x-csrf-token"
CSRF_SEED_MAX_AGE = 365 * 86400

# No inline script anywhere: the only script is /static/site.js. Style attributes are
# allowed for the one the summary renderer keeps (table cell `text-align`, filtered to
# that property by the sanitiser). Images may come from the http(s) sources summaries name,
# as the renderer keeps them (figures.is_web_url): on a site served over https the browser
# upgrades an http image to https or blocks it (mixed content), so no image travels in
# clear text there, and over plain http (development) the figure still shows.
CONTENT_SECURITY_POLICY = "; ".join([
    "default-src 'none'",
    "script-src 'self'",
    "style-src 'self'",
    "style-src-attr 'unsafe-inline'",
    "img-src 'self' https: http:",
    "font-src 'self'",
    "connect-src 'self'",
    "form-action 'self'",
    "frame-ancestors 'none'",
    "base-uri 'none'",
    "object-src 'none'",
    "manifest-src 'self'",
])

_HEADERS = (
    (b"content-security-policy", CONTENT_SECURITY_POLICY.encode()),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"strict-origin-when-cross-origin"),
    (b"x-frame-options", b"DENY"),
    (b"cross-origin-opener-policy", b"same-origin"),
    (b"cross-origin-resource-policy", b"same-origin"),
    (b"permissions-policy", b"camera=(), microphone=(), geolocation=(), payment=(), usb=()"),
)
_HSTS = (b"strict-transport-security", b"max-age=31536000; includeSubDomains")


# FastAPI's interactive API documentation loads its own scripts: not the website's policy.
API_DOCS = frozenset({"/docs", "/docs/oauth2-redirect", "/redoc", "/openapi.json"})


def is_web_path(path: str) -> bool:
    """Everything but the public API, its documentation and the probes is the website."""
    return not path.startswith("/api/") and path != "/api" and path not in OPEN_PATHS and path not in API_DOCS


class WebHeaders:
    """Pure ASGI: adds the security headers to every website response (pages, errors,
    feeds, static files) unless the route set its own; API responses pass untouched."""

    def __init__(self, app) -> None:
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http" or not is_web_path(scope["path"]):
            return await self.app(scope, receive, send)
        https = scope.get("scheme") == "https"

        async def send_with_headers(message):
            if message["type"] == "http.response.start":
                message.setdefault("headers", [])
                headers = MutableHeaders(scope=message)
                for name, value in _HEADERS:
                    if name.decode() not in headers:
                        headers.append(name.decode(), value.decode())
                if https:
                    headers.append(_HSTS[0].decode(), _HSTS[1].decode())
            await send(message)

        await self.app(scope, receive, send_with_headers)


class Csrf:
    def __init__(self, secret: str) -> None:
        self._key = hmac.new(secret.encode(), b"shortscience web csrf v1", hashlib.sha256).digest()

    @staticmethod
    def new_seed() -> str:
        return secrets.token_urlsafe(24)

    @staticmethod
    def seed_ok(seed: str | None) -> bool:
        return seed is not None and 16 <= len(seed) <= 64 and seed.replace("-", "").replace("_", "").isalnum()

    def token(self, seed: str, binding: str) -> str:
        mac = hmac.new(self._key, f"{seed}|{binding}".encode(), hashlib.sha256).digest()
        return base64.urlsafe_b64encode(mac).decode().rstrip("=")

    def valid(self, presented: str | None, seed: str | None, binding: str) -> bool:
        if not presented or not self.seed_ok(seed) or len(presented) > 100:
            return False
        return hmac.compare_digest(presented.encode(), self.token(seed, binding).encode())  # type: ignore[arg-type]


def safe_next(target: str | None, default: str = "/") -> str:
    """A redirect target from a form or query: a path on this site, never another host."""
    if not target or not target.startswith("/") or target.startswith("//") or target.startswith("/\\"):
        return default
    if any(c in target for c in "\r\n\t\\") or len(target) > 2000:
        return default
    return target
