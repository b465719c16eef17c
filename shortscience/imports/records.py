"""What every parser yields: one record per entry, either paper data or the reason it is bad."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

from backbone.contracts.papers import PaperCreate

_SPACES = re.compile(r"\s+")


@dataclass(frozen=True)
class ImportRecord:
    key: str | None  # the entry's key in its file (BibTeX citation key, DBLP key, arXiv id)
    line: int | None  # 1-based line where the entry starts, when the format has lines
    data: PaperCreate | None = None
    error: str | None = None

    @property
    def where(self) -> str:
        parts = [f"line {self.line}" if self.line else None, self.key]
        return " ".join(p for p in parts if p) or "?"


def squash(text: str) -> str:
    return _SPACES.sub(" ", text).strip()


def record(key: str | None, line: int | None, fields: dict[str, Any]) -> ImportRecord:
    """Validate parsed fields into PaperCreate; a failure becomes the record's error."""
    try:
        return ImportRecord(key, line, PaperCreate.model_validate(fields))
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc']) or 'entry'}: {err['msg']}" for err in exc.errors()[:3]
        )
        return ImportRecord(key, line, error=problems)


def year_of(text: str | None) -> int | None:
    match = re.search(r"(?<![0-9])(1[6-9][0-9]{2}|20[0-9]{2}|2100)(?![0-9])", text or "")
    return int(match.group(1)) if match else None
