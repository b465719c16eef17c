"""Pages and forms for writing: register a paper, write and edit a summary (with the live
preview), delete, vote, comment, hide. Every form is POST + redirect and works without
JavaScript; the script only saves reloads (preview, votes)."""

from __future__ import annotations

import asyncio

from fastapi import APIRouter, Request
from pydantic import ValidationError
from starlette.responses import HTMLResponse

from backbone.app import json_response
from backbone.contracts.papers import IdentifiersIn, PaperCreate
from backbone.contracts.summaries import MAX_SUMMARY_CHARS, CommentCreate, SummaryCreate, SummaryUpdate
from backbone.errors import Conflict, Forbidden, Invalid
from gateway.api.deps import state
from gateway.web.forms import domain_errors, errors_of, lines, text
from gateway.web.render import page
from gateway.web.routes.base import WebRoute, redirect, wants_json, with_notice
from gateway.web.routes.reading import revision_context
from gateway.web.security import safe_next
from gateway.web.visitor import checked_form, visitor


def _writer(request: Request, who) -> None:
    state(request).write_limiter.hit(who.require_user().user.id, "writes")


def _summary_fields(form) -> dict:
    return {"body": text(form, "body", strip=False), "visibility": text(form, "visibility") or "public",
            "anonymous": text(form, "anonymous") in ("on", "true", "1")}


async def _preview_html(request: Request, body: str) -> str:
    if not body.strip():
        return ""
    if len(body) > MAX_SUMMARY_CHARS:
        raise Invalid(f"a summary has at most {MAX_SUMMARY_CHARS} characters", field="body")
    return (await state(request).summaries.preview(body)).html


def _wants_preview(form) -> bool:
    """The editor's Preview button (no JavaScript): render the draft, store nothing."""
    return text(form, "action") == "preview"


async def _previewed(request: Request, form, fields: dict) -> tuple[str | None, dict[str, str]]:
    """(the draft's HTML, errors) when the Preview button was pressed, else (None, {})."""
    if not _wants_preview(form):
        return None, {}
    try:
        return await _preview_html(request, fields["body"]), {}
    except Invalid as exc:
        return None, domain_errors(exc)


def router() -> APIRouter:
    r = APIRouter(route_class=WebRoute, include_in_schema=False)

    # -- papers -----------------------------------------------------------------------

    @r.get("/papers/new")
    async def new_paper(request: Request):
        who = await visitor(request)
        who.require_user()
        return page(request, who, "paper_new.html", form={}, errors={}, existing=None, noindex=True)

    @r.post("/papers/new")
    async def register_paper(request: Request):
        who = await visitor(request)
        session = who.require_user()
        form = await checked_form(request, who)
        fields = {name: text(form, name) for name in
                  ("title", "authors", "venue", "year", "abstract", "keywords", "urls", "doi", "arxiv", "dblp")}
        errors: dict[str, str] = {}
        existing = None
        try:
            year = int(fields["year"]) if fields["year"] else None
        except ValueError:
            errors["year"] = "a year is a number, such as 2017"
            year = None
        if not errors:
            try:
                data = PaperCreate(
                    title=fields["title"], authors=lines(fields["authors"]), venue=fields["venue"] or None,
                    year=year, abstract=fields["abstract"],
                    keywords=[k.strip() for k in fields["keywords"].split(",") if k.strip()],
                    urls=lines(fields["urls"]),
                    identifiers=IdentifiersIn(doi=fields["doi"] or None, arxiv=fields["arxiv"] or None,
                                              dblp=fields["dblp"] or None),
                )
                _writer(request, who)
                paper = await state(request).papers.register(data, session.identity)
                return redirect(with_notice(f"/papers/{paper.id}", "registered"))
            except ValidationError as exc:
                errors = errors_of(exc)
            except Conflict as exc:
                errors = domain_errors(exc)
                existing = exc.extra.get("existing_id")
            except Invalid as exc:
                errors = domain_errors(exc)
        return page(request, who, "paper_new.html", form=fields, errors=errors, existing=existing, noindex=True,
                    status=409 if existing else 422)

    # -- writing a summary --------------------------------------------------------------

    @r.get("/papers/{paper_id}/summaries/new")
    async def new_summary(request: Request, paper_id: str):
        who = await visitor(request)
        who.require_user()
        paper = await state(request).papers.get(paper_id)
        return page(request, who, "editor.html", paper=paper, s=None, form={"body": "", "visibility": "public",
                    "anonymous": False}, errors={}, preview=None, revisions=[], diff=None, noindex=True)

    @r.post("/papers/{paper_id}/summaries/new")
    async def publish(request: Request, paper_id: str):
        who = await visitor(request)
        session = who.require_user()
        form = await checked_form(request, who)
        gw = state(request)
        paper = await gw.papers.get(paper_id)
        fields = _summary_fields(form)
        preview, errors = await _previewed(request, form, fields)
        if not _wants_preview(form):
            try:
                data = SummaryCreate(**fields)
                _writer(request, who)
                created = await gw.summaries.publish(paper.snapshot(), data, session.identity)
                return redirect(with_notice(f"/papers/{paper.id}#summary-{created.id}", "published"))
            except ValidationError as exc:
                errors = errors_of(exc)
            except Conflict as exc:
                if exc.extra.get("existing_id"):
                    return redirect(with_notice(f"/summaries/{exc.extra['existing_id']}/edit", "exists"))
                errors = domain_errors(exc)
            except Invalid as exc:
                errors = domain_errors(exc)
        return page(request, who, "editor.html", paper=paper, s=None, form=fields, errors=errors, preview=preview,
                    revisions=[], diff=None, noindex=True, status=422 if errors else 200)

    @r.get("/summaries/{summary_id}/edit")
    async def edit_summary(request: Request, summary_id: str):
        who = await visitor(request)
        session = who.require_user()
        gw = state(request)
        s, revisions = await asyncio.gather(gw.summaries.get(summary_id, session.identity),
                                            gw.summaries.revisions(summary_id, session.identity))
        if s.author is None or s.author.id != session.user.id:
            raise Forbidden("only the author may edit this summary")
        form = {"body": s.body, "visibility": s.visibility, "anonymous": s.anonymous}
        return page(request, who, "editor.html", paper=s.paper, s=s, form=form, errors={}, preview=None,
                    noindex=True, **revision_context(request, revisions))

    @r.post("/summaries/{summary_id}/edit")
    async def revise(request: Request, summary_id: str):
        who = await visitor(request)
        session = who.require_user()
        form = await checked_form(request, who)
        gw = state(request)
        fields = _summary_fields(form)
        preview, errors = await _previewed(request, form, fields)
        if not _wants_preview(form):
            try:
                data = SummaryUpdate(**fields)
                _writer(request, who)
                s = await gw.summaries.revise(summary_id, data, session.identity)
                return redirect(with_notice(f"/papers/{s.paper_id}#summary-{s.id}", "saved"))
            except ValidationError as exc:
                errors = errors_of(exc)
            except Invalid as exc:
                errors = domain_errors(exc)
        s, revisions = await asyncio.gather(gw.summaries.get(summary_id, session.identity),
                                            gw.summaries.revisions(summary_id, session.identity))
        return page(request, who, "editor.html", paper=s.paper, s=s, form=fields, errors=errors, preview=preview,
                    noindex=True, status=422 if errors else 200, **revision_context(request, revisions))

    @r.post("/summaries/preview")
    async def preview(request: Request):
        """The body rendered by the summaries service's renderer (sanitised HTML), for the
        editor's live preview."""
        who = await visitor(request)
        if who.session is None:  # a fetch would follow a redirect to the login page into the preview
            return HTMLResponse("", status_code=401, headers={"cache-control": "no-store"})
        form = await checked_form(request, who)
        request.app.state.web.preview_limiter.hit(who.session.user.id, "previews")
        html = await _preview_html(request, text(form, "body", strip=False))
        return HTMLResponse(html, headers={"cache-control": "no-store"})

    # -- deleting ---------------------------------------------------------------------

    @r.get("/summaries/{summary_id}/delete")
    async def confirm_delete(request: Request, summary_id: str):
        who = await visitor(request)
        session = who.require_user()
        s = await state(request).summaries.get(summary_id, session.identity)
        return page(request, who, "delete.html", s=s, noindex=True)

    @r.post("/summaries/{summary_id}/delete")
    async def delete(request: Request, summary_id: str):
        who = await visitor(request)
        session = who.require_user()
        await checked_form(request, who)
        gw = state(request)
        s = await gw.summaries.get(summary_id, session.identity)
        _writer(request, who)
        await gw.summaries.delete(summary_id, session.identity)
        return redirect(with_notice(f"/papers/{s.paper_id}", "deleted"))

    # -- votes, comments, hiding ------------------------------------------------------------

    @r.post("/summaries/{summary_id}/vote")
    async def vote(request: Request, summary_id: str):
        who = await visitor(request)
        session = who.require_user()
        form = await checked_form(request, who)
        raw = text(form, "value")
        if raw not in ("-1", "0", "1"):
            raise Invalid("a vote is -1, 0 or 1", field="value")
        _writer(request, who)
        result = await state(request).summaries.vote(summary_id, int(raw), session.identity)
        if wants_json(request):
            return json_response(result)
        return redirect(safe_next(text(form, "next"), f"/summaries/{summary_id}"))

    @r.post("/summaries/{summary_id}/comments")
    async def comment(request: Request, summary_id: str):
        who = await visitor(request)
        session = who.require_user()
        form = await checked_form(request, who)
        try:
            data = CommentCreate(body=text(form, "body", strip=False))
        except ValidationError:
            raise Invalid("write a comment first (at most 10,000 characters)", field="body") from None
        _writer(request, who)
        created = await state(request).summaries.comment(summary_id, data, session.identity)
        target = safe_next(text(form, "next"), f"/summaries/{summary_id}").partition("#")[0]
        return redirect(with_notice(target, "commented") + f"#comment-{created.id}")

    @r.post("/summaries/{summary_id}/hide")
    async def hide_summary(request: Request, summary_id: str):
        who = await visitor(request)
        session = who.require_user()
        form = await checked_form(request, who)
        _writer(request, who)
        s = await state(request).summaries.hide(summary_id, session.identity)
        return redirect(with_notice(safe_next(text(form, "next"), f"/papers/{s.paper_id}"), "hidden"))

    @r.post("/comments/{comment_id}/hide")
    async def hide_comment(request: Request, comment_id: str):
        who = await visitor(request)
        session = who.require_user()
        form = await checked_form(request, who)
        _writer(request, who)
        c = await state(request).summaries.hide_comment(comment_id, session.identity)
        return redirect(with_notice(safe_next(text(form, "next"), f"/summaries/{c.summary_id}"), "hidden"))

    return r
