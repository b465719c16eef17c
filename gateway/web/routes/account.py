"""Signing up, in and out; settings: display name, password and personal API tokens."""

from __future__ import annotations

from fastapi import APIRouter, Request
from pydantic import TypeAdapter, ValidationError

from backbone.errors import Conflict, Invalid, RateLimited, Unauthorized
from gateway.api.deps import client_address, state
from gateway.identity.service import LoginIn, Password, ProfileIn, SignupIn, TokenIn
from gateway.web.forms import domain_errors, errors_of, text
from gateway.web.render import page
from gateway.web.routes.base import WebRoute, redirect, with_notice
from gateway.web.security import safe_next
from gateway.web.visitor import checked_form, end_session, start_session, visitor

_password = TypeAdapter(Password)


def _retry_headers(exc: RateLimited) -> dict[str, str]:
    return {"Retry-After": str(exc.retry_after)}


def router() -> APIRouter:
    r = APIRouter(route_class=WebRoute, include_in_schema=False)

    @r.get("/login")
    async def login_form(request: Request):
        who = await visitor(request)
        next_ = safe_next(request.query_params.get("next"))
        if who.session is not None:
            return redirect(next_)
        return page(request, who, "login.html", next=next_, username="", errors={}, noindex=True)

    @r.post("/login")
    async def login(request: Request):
        who = await visitor(request)
        form = await checked_form(request, who)
        gw = state(request)
        username, next_ = text(form, "username"), safe_next(text(form, "next"))
        try:
            gw.login_limiter.hit(client_address(request), "login attempts")
            gw.login_limiter.hit("user:" + username.casefold(), "login attempts")
            token = await gw.identity.login(LoginIn(username=username, password=text(form, "password", strip=False)))
        except RateLimited as exc:
            return page(request, who, "login.html", next=next_, username=username, errors={"form": exc.detail},
                        noindex=True, status=429, headers=_retry_headers(exc))
        except (ValidationError, Unauthorized):
            return page(request, who, "login.html", next=next_, username=username,
                        errors={"form": "Wrong username or password."}, noindex=True, status=401)
        start_session(request, who, token)
        return redirect(with_notice(next_, "signed-in"))

    @r.get("/signup")
    async def signup_form(request: Request):
        who = await visitor(request)
        if who.session is not None:
            return redirect("/")
        return page(request, who, "signup.html", form={}, errors={}, noindex=True)

    @r.post("/signup")
    async def signup(request: Request):
        who = await visitor(request)
        form = await checked_form(request, who)
        gw = state(request)
        fields = {"username": text(form, "username"), "email": text(form, "email"),
                  "display_name": text(form, "display_name")}
        password, again = text(form, "password", strip=False), text(form, "password_again", strip=False)
        errors: dict[str, str] = {}
        if password != again:
            errors["password_again"] = "The two passwords differ."
        else:
            try:
                gw.signup_limiter.hit(client_address(request), "sign-ups")
                data = SignupIn(username=fields["username"], email=fields["email"], password=password,
                                display_name=fields["display_name"] or None)
                user = await gw.identity.signup(data)
                token = await gw.identity.login(LoginIn(username=user.username, password=password))
                start_session(request, who, token)
                return redirect(with_notice("/", "welcome"))
            except RateLimited as exc:
                return page(request, who, "signup.html", form=fields, errors={"form": exc.detail}, noindex=True,
                            status=429, headers=_retry_headers(exc))
            except ValidationError as exc:
                errors = errors_of(exc)
            except (Conflict, Invalid) as exc:
                errors = domain_errors(exc)
        return page(request, who, "signup.html", form=fields, errors=errors, noindex=True, status=422)

    @r.post("/logout")
    async def logout(request: Request):
        who = await visitor(request)
        await checked_form(request, who)
        if who.session is not None:
            await state(request).identity.logout(who.session.user, who.session.token)
        end_session(who)
        return redirect(with_notice("/", "signed-out"))

    # -- settings -----------------------------------------------------------------------

    async def settings_page(request: Request, who, *, status: int = 200, errors: dict | None = None,
                            new_token: str | None = None, headers: dict | None = None):
        session = who.require_user()
        tokens = await state(request).identity.list_api_tokens(session.user)
        return page(request, who, "settings.html", user=session.user, tokens=tokens, errors=errors or {},
                    new_token=new_token, noindex=True, status=status,
                    headers={"cache-control": "no-store", **(headers or {})})

    @r.get("/settings")
    async def settings(request: Request):
        who = await visitor(request)
        return await settings_page(request, who)

    @r.post("/settings/profile")
    async def change_profile(request: Request):
        who = await visitor(request)
        session = who.require_user()
        form = await checked_form(request, who)
        try:
            data = ProfileIn(display_name=text(form, "display_name"))
        except ValidationError:
            return await settings_page(request, who, status=422,
                                       errors={"display_name": "A display name has 1 to 100 characters."})
        gw = state(request)
        gw.write_limiter.hit(session.user.id, "writes")
        await gw.identity.change_display_name(session.user, data)
        return redirect(with_notice("/settings", "profile"))

    @r.post("/settings/password")
    async def change_password(request: Request):
        who = await visitor(request)
        session = who.require_user()
        form = await checked_form(request, who)
        gw = state(request)
        current, new, again = (text(form, n, strip=False) for n in ("current_password", "new_password",
                                                                     "new_password_again"))
        try:
            # Guessing the current password here is a login attempt like any other.
            gw.login_limiter.hit("user:" + session.user.username.casefold(), "password attempts")
            await gw.identity.verify_password(session.user.username, current)
        except RateLimited as exc:
            return await settings_page(request, who, status=429, errors={"current_password": exc.detail},
                                       headers=_retry_headers(exc))
        except Unauthorized:
            return await settings_page(request, who, status=422,
                                       errors={"current_password": "This is not your current password."})
        problem = None
        if new != again:
            problem = "The two new passwords differ."
        elif new.casefold() == session.user.username.casefold():
            problem = "The password must differ from the username."
        else:
            try:
                _password.validate_python(new)
            except ValidationError:
                problem = "A password has 8 to 256 characters."
        if problem:
            return await settings_page(request, who, status=422, errors={"new_password": problem})
        await gw.identity.change_password(session.user, new, keep_session=session.token.id)
        return redirect(with_notice("/settings", "password"))

    @r.post("/settings/tokens")
    async def create_token(request: Request):
        who = await visitor(request)
        session = who.require_user()
        form = await checked_form(request, who)
        gw = state(request)
        try:
            data = TokenIn(name=text(form, "name"))
        except ValidationError:
            return await settings_page(request, who, status=422, errors={"token_name": "Give the token a name."})
        gw.write_limiter.hit(session.user.id, "writes")
        secret, _ = await gw.identity.create_api_token(session.user, data)
        # Shown once, on this answer only (no redirect: the secret must not go into a URL).
        return await settings_page(request, who, new_token=secret)

    @r.post("/settings/tokens/{token_id}/revoke")
    async def revoke_token(request: Request, token_id: str):
        who = await visitor(request)
        session = who.require_user()
        await checked_form(request, who)
        await state(request).identity.revoke_api_token(session.user, token_id)
        return redirect(with_notice("/settings", "revoked"))

    return r
