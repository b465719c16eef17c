from __future__ import annotations

from typing import Annotated, Generic, TypeVar

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

T = TypeVar("T")

Page = Annotated[int, Field(ge=1, le=100_000)]
Size = Annotated[int, Field(ge=1, le=100)]
ShortText = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=500)]


class Strict(BaseModel):
    """Input models refuse unknown fields so a typo is an error, not a silent no-op."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=False)


class Paginated(BaseModel, Generic[T]):
    items: list[T]
    total: int
    page: int
    size: int
