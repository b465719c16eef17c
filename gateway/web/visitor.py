"""Who is looking at a page: the session from the cookie (if any) and the CSRF seed."""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import Request
from starlette.datastructures import FormData
from starlette.responses import Response

from backbone.identity import Identity
from gateway.api.deps import Session, state
from gateway.web.security import (
    CSRF_COOKIE,
    CSRF_FIELD,
    CSRF_HEADER,
    CSRF_SEED_MAX_AGE,
    SESSION_COOKIE,
)


class LoginRequired(Exception):
    """The page needs a signed-in visitor: the route wrapper redirects to /login."""


class CsrfRefused(Exception):
    """A state-changing request without a valid CSRF token: answered with a 403 page."""


@dataclass
class Visitor:
    session: Session | None
    csrf_seed: str
    csrf_token: str
    secure: bool
    # Cookie changes the response must carry (applied by the route wrapper).
    set_seed: bool = False
    set_session: tuple[str, int] | None = None  # (token, max_age)
    clear_session: bool = False

    @property
    def identity(self) -> Identity | None:
        return self.session.identity if self.session else None

    @property
    def user(self):
        return self.session.user if self.session else None

    @property
    def is_moderator(self) -> bool:
        return self.session is not None and self.session.identity.is_moderator

    def require_user(self) -> Session:
        if self.session is None:
            raise LoginRequired()
        return self.session

    def apply_cookies(self, response: Response) -> None:
        common = dict(httponly=True, samesite="lax", secure=self.secure, path="/")
        if self.set_seed:
            response.set_cookie(CSRF_COOKIE, self.csrf_seed, max_age=CSRF_SEED_MAX_AGE, **common)
        if self.set_session is not None:
            token, max_age = self.set_session
            response.set_cookie(SESSION_COOKIE, token, max_age=max_age, **common)
        elif self.clear_session:
            response.delete_cookie(SESSION_COOKIE, **common)


def is_secure(request: Request) -> bool:
    return request.url.scheme == "https" or request.app.state.settings.public_url.startswith("https://")


async def visitor(request: Request) -> Visitor:
    """Resolved once per request (cached on request.state)."""
    found = getattr(request.state, "visitor", None)
    if found is not None:
        return found
    web = request.app.state.web
    session, clear = None, False
    secret = request.cookies.get(SESSION_COOKIE)
    if secret:
        resolved = await state(request).identity.authenticate(secret)
        if resolved is not None and resolved[1].kind == "session":
            session = Session(*resolved)
        else:
            clear = True  # expired, revoked or forged: forget it
    seed = request.cookies.get(CSRF_COOKIE)
    set_seed = not web.csrf.seed_ok(seed)
    if set_seed:
        seed = web.csrf.new_seed()
    found = Visitor(session=session, csrf_seed=seed, csrf_token=web.csrf.token(seed, binding(session)),
                    secure=is_secure(request), set_seed=set_seed, clear_session=clear)
    request.state.visitor = found
    return found


def binding(session: Session | None) -> str:
    return session.token.id if session else "-"


async def checked_form(request: Request, who: Visitor) -> FormData:
    """The posted form, once its CSRF token has been verified (form field or header)."""
    form = await request.form()
    presented = form.get(CSRF_FIELD) or request.headers.get(CSRF_HEADER)
    if who.set_seed or not request.app.state.web.csrf.valid(
        presented if isinstance(presented, str) else None, who.csrf_seed, binding(who.session)
    ):
        raise CsrfRefused()
    return form


def start_session(request: Request, who: Visitor, token: str) -> None:
    who.set_session = (token, state(request).identity.session_seconds)
    who.clear_session = False


def end_session(who: Visitor) -> None:
    who.set_session = None
    who.clear_session = True
