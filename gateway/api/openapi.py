"""The public API's OpenAPI document, made to say what the routes really answer.

The routes return ready `Response`s (see routes.py: serialising through the models' own
serialisers is faster than FastAPI's response_model path), so FastAPI alone would document
an empty success schema and a 422 `HTTPValidationError` in `application/json`, while every
error really is an RFC 9457 problem. Here each operation gets its success schema from the
contract models and every 4xx/5xx the problem schema; tests/fuzz checks the live answers
against this document."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from pydantic import BaseModel, TypeAdapter

from backbone.contracts.papers import PaperPage, PaperRead, VenueRead, VenueYearRead
from backbone.contracts.search import SearchResult, SuggestResult
from backbone.contracts.social import PostPage, PostRead
from backbone.contracts.social import PreviewRead as SocialPreviewRead
from backbone.contracts.summaries import (
    CommentRead,
    PersonalExport,
    RevisionRead,
    SummaryPage,
    SummaryRead,
    VoteResult,
)

PROBLEM_JSON = "application/problem+json"


class FieldError(BaseModel):
    field: str
    message: str


class Problem(BaseModel):
    """RFC 9457 problem details; `errors` names the offending fields."""

    type: str
    title: str
    status: int
    detail: str
    instance: str | None = None
    errors: list[FieldError] | None = None
    existing_id: str | None = None


class UserRead(BaseModel):
    id: str
    username: str
    email: str
    display_name: str | None
    roles: list[str]
    created_at: str


class LoginRead(BaseModel):
    access_token: str
    token_type: str
    expires_in: int


class TokenRead(BaseModel):
    id: str
    name: str
    created_at: str


class NewTokenRead(TokenRead):
    token: str


class VenueCountRead(VenueRead):
    summaries: int


class VenueYearCountRead(VenueYearRead):
    summaries: int


class ExportRead(PersonalExport):
    exported_at: str
    user: UserRead


# (method, path) -> (status, model); None means an answer without a body. A route missing
# here keeps FastAPI's own success entry, and tests/fuzz fails until it is added.
SUCCESS: dict[tuple[str, str], tuple[int, Any]] = {
    ("get", "/api/v1/summaries/{summary_id}"): (200, SummaryRead),
    ("patch", "/api/v1/summaries/{summary_id}"): (200, SummaryRead),
    ("delete", "/api/v1/summaries/{summary_id}"): (204, None),
    ("get", "/api/v1/papers/{paper_id}/summaries"): (200, SummaryPage),
    ("post", "/api/v1/papers/{paper_id}/summaries"): (201, SummaryRead),
    ("get", "/api/v1/papers/{paper_id}/citing-summaries"): (200, SummaryPage),
    ("get", "/api/v1/summaries"): (200, SummaryPage),
    ("post", "/api/v1/auth/signup"): (201, UserRead),
    ("post", "/api/v1/auth/login"): (200, LoginRead),
    ("post", "/api/v1/auth/logout"): (204, None),
    ("get", "/api/v1/me"): (200, UserRead),
    ("patch", "/api/v1/me"): (200, UserRead),
    ("get", "/api/v1/me/tokens"): (200, list[TokenRead]),
    ("post", "/api/v1/me/tokens"): (201, NewTokenRead),
    ("delete", "/api/v1/me/tokens/{token_id}"): (204, None),
    ("get", "/api/v1/me/export"): (200, ExportRead),
    ("get", "/api/v1/dumps/latest"): (200, "gzip"),
    ("post", "/api/v1/papers"): (201, PaperRead),
    ("get", "/api/v1/papers"): (200, PaperPage),
    ("get", "/api/v1/papers/lookup"): (200, PaperRead),
    ("get", "/api/v1/papers/{paper_id}"): (200, PaperRead),
    ("patch", "/api/v1/papers/{paper_id}"): (200, PaperRead),
    ("get", "/api/v1/venues"): (200, list[VenueCountRead]),
    ("get", "/api/v1/venues/{key}/years"): (200, list[VenueYearCountRead]),
    ("get", "/api/v1/summaries/{summary_id}/revisions"): (200, list[RevisionRead]),
    ("post", "/api/v1/summaries/{summary_id}/hide"): (200, SummaryRead),
    ("put", "/api/v1/summaries/{summary_id}/vote"): (200, VoteResult),
    ("post", "/api/v1/summaries/{summary_id}/comments"): (201, CommentRead),
    ("get", "/api/v1/summaries/{summary_id}/comments"): (200, list[CommentRead]),
    ("post", "/api/v1/comments/{comment_id}/hide"): (200, CommentRead),
    ("get", "/api/v1/search"): (200, SearchResult),
    ("get", "/api/v1/search/suggest"): (200, SuggestResult),
    ("get", "/api/v1/social/posts"): (200, PostPage),
    ("get", "/api/v1/social/posts/{post_id}"): (200, PostRead),
    ("post", "/api/v1/social/posts/{post_id}/retry"): (200, PostRead),
    ("get", "/api/v1/social/preview/{summary_id}"): (200, SocialPreviewRead),
}


def install_openapi(app: FastAPI) -> None:
    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = document(app)
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


def document(app: FastAPI) -> dict[str, Any]:
    spec = get_openapi(title=app.title, version=app.version, openapi_version=app.openapi_version, routes=app.routes)
    schemas = spec.setdefault("components", {}).setdefault("schemas", {})
    for unused in ("HTTPValidationError", "ValidationError"):
        schemas.pop(unused, None)
    problem = {PROBLEM_JSON: {"schema": _schema_of(Problem, schemas)}}
    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            responses = operation["responses"]
            responses.pop("422", None)  # FastAPI's HTTPValidationError: ours is a problem (4XX below)
            if (method, path) in SUCCESS:
                status, model = SUCCESS[(method, path)]
                ok: dict[str, Any] = {"description": "Success"}
                if model == "gzip":
                    ok["content"] = {"application/gzip": {"schema": {"type": "string", "format": "binary"}}}
                elif model is not None:
                    ok["content"] = {"application/json": {"schema": _schema_of(model, schemas)}}
                responses = {str(status): ok}
            operation["responses"] = {
                **responses,
                "4XX": {"description": "A client error, as a problem", "content": problem},
                "5XX": {"description": "A server error or a service not ready yet, as a problem", "content": problem},
            }
    return spec


def _schema_of(model: Any, schemas: dict[str, Any]) -> dict[str, Any]:
    """The model's JSON schema, its named parts moved into components/schemas."""
    schema = TypeAdapter(model).json_schema(ref_template="#/components/schemas/{model}", mode="serialization")
    for name, part in schema.pop("$defs", {}).items():
        schemas.setdefault(name, part)
    if "title" in schema and schema.get("type") == "object" and isinstance(model, type):
        schemas.setdefault(model.__name__, schema)
        return {"$ref": f"#/components/schemas/{model.__name__}"}
    return schema
