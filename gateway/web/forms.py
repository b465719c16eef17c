"""Form fields in, validated contract models out; validation errors as messages per field."""

from __future__ import annotations

from pydantic import ValidationError
from starlette.datastructures import FormData

from backbone.errors import DomainError


def text(form: FormData, name: str, *, strip: bool = True) -> str:
    value = form.get(name)
    if not isinstance(value, str):
        return ""
    return value.strip() if strip else value


def lines(value: str) -> list[str]:
    return [line.strip() for line in value.splitlines() if line.strip()]


def errors_of(exc: ValidationError) -> dict[str, str]:
    """{'field': 'message'} from a pydantic error, first message per field."""
    out: dict[str, str] = {}
    for err in exc.errors():
        loc = [str(p) for p in err.get("loc", ()) if not isinstance(p, int)]
        field = loc[0] if loc else "form"
        if len(loc) > 1 and loc[0] == "identifiers":
            field = loc[1]
        message = err.get("msg", "is not valid")
        message = message.removeprefix("Value error, ")
        out.setdefault(field, message)
    return out


def domain_errors(exc: DomainError) -> dict[str, str]:
    return {exc.field or "form": exc.detail}
