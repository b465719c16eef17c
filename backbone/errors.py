"""Domain errors shared by services and the gateway.

Application code raises these; the app factory turns them into RFC 9457 problem+json,
and the gateway's HTTP clients turn problem+json answers back into the same classes, so
an error means the same thing whether a service is called in-process or over HTTP.
"""

from __future__ import annotations

from typing import Any


class DomainError(Exception):
    status: int = 400
    title: str = "Bad request"
    type_slug: str = "bad-request"

    def __init__(self, detail: str, *, field: str | None = None, **extra: Any) -> None:
        super().__init__(detail)
        self.detail = detail
        self.field = field
        self.extra = extra

    def to_problem(self, instance: str | None = None) -> dict[str, Any]:
        problem: dict[str, Any] = {
            "type": f"https://shortscience.org/problems/{self.type_slug}",
            "title": self.title,
            "status": self.status,
            "detail": self.detail,
        }
        if instance:
            problem["instance"] = instance
        if self.field:
            problem["errors"] = [{"field": self.field, "message": self.detail}]
        problem.update(self.extra)
        return problem


class Invalid(DomainError):
    status = 422
    title = "Invalid input"
    type_slug = "invalid"


class Unauthorized(DomainError):
    status = 401
    title = "Authentication required"
    type_slug = "unauthorized"


class Forbidden(DomainError):
    status = 403
    title = "Forbidden"
    type_slug = "forbidden"


class NotFound(DomainError):
    status = 404
    title = "Not found"
    type_slug = "not-found"


class Conflict(DomainError):
    """A uniqueness rule refused the write; `existing_id` names what is already there."""

    status = 409
    title = "Conflict"
    type_slug = "conflict"


class PayloadTooLarge(DomainError):
    status = 413
    title = "Payload too large"
    type_slug = "payload-too-large"


class RateLimited(DomainError):
    status = 429
    title = "Too many requests"
    type_slug = "rate-limited"

    def __init__(self, detail: str, *, retry_after: int) -> None:
        super().__init__(detail, retry_after=retry_after)
        self.retry_after = retry_after


class Unavailable(DomainError):
    status = 503
    title = "Service unavailable"
    type_slug = "unavailable"


class EngineUnavailable(Exception):
    """An engine (Kafka, MongoDB, Elasticsearch...) could not be reached or refused us.
    Adapters raise it from `start()` with the engine's name and the address they tried, so
    the runtime can log one clear line, keep /readyz false and try again later."""

    def __init__(self, engine: str, url: str, reason: str) -> None:
        super().__init__(f"{engine} at {url} is unavailable: {reason}")
        self.engine, self.url, self.reason = engine, url, reason


ERRORS_BY_STATUS: dict[int, type[DomainError]] = {
    cls.status: cls
    for cls in (Invalid, Unauthorized, Forbidden, NotFound, Conflict, PayloadTooLarge, Unavailable)
}


def from_problem(status: int, problem: dict[str, Any]) -> DomainError:
    """Rebuild the domain error a remote service answered with."""
    detail = str(problem.get("detail") or problem.get("title") or "error")
    errors = problem.get("errors") or []
    field = errors[0].get("field") if errors and isinstance(errors[0], dict) else None
    known = {"type", "title", "status", "detail", "instance", "errors"}
    extra = {k: v for k, v in problem.items() if k not in known}
    if status == 429:
        return RateLimited(detail, retry_after=int(problem.get("retry_after", 1)))
    cls = ERRORS_BY_STATUS.get(status)
    if cls is None:
        err = Unavailable(detail) if status >= 500 else DomainError(detail, field=field, **extra)
        if status < 500:
            err.status = status
        return err
    return cls(detail, field=field, **extra)
