from __future__ import annotations

import re
from typing import Annotated, Any, Generic, TypeVar

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator

T = TypeVar("T")

Page = Annotated[int, Field(ge=1, le=100_000)]
Size = Annotated[int, Field(ge=1, le=100)]
ShortText = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=500)]


# C0 control characters (and DEL) other than tab, line feed and carriage return: never
# meaningful in a title, a name or Markdown, and trouble in XML feeds and terminals.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def _has_control(value: Any) -> bool:
    if isinstance(value, str):
        return _CONTROL.search(value) is not None
    if isinstance(value, (list, tuple, set, frozenset)):
        return any(_has_control(v) for v in value)
    if isinstance(value, dict):
        return any(_has_control(k) or _has_control(v) for k, v in value.items())
    return False


class Strict(BaseModel):
    """Input models refuse unknown fields so a typo is an error, not a silent no-op, and
    control characters in any text field."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=False)

    @field_validator("*", mode="after")
    @classmethod
    def _no_control_characters(cls, value: Any) -> Any:
        if _has_control(value):
            raise ValueError("control characters are not allowed (tab and line breaks are)")
        return value


class Paginated(BaseModel, Generic[T]):
    items: list[T]
    total: int
    page: int
    size: int
