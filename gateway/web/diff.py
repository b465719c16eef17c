"""Differences between two revisions of a summary, word by word, for the revision page."""

from __future__ import annotations

import re
from dataclasses import dataclass
from difflib import SequenceMatcher

_TOKENS = re.compile(r"\s+|[^\s]+")
MAX_TOKENS = 40_000  # a pathological pair falls back to whole-text replacement


@dataclass(frozen=True)
class Segment:
    kind: str  # "same" | "added" | "removed"
    text: str


def word_diff(old: str, new: str) -> list[Segment]:
    a, b = _TOKENS.findall(old), _TOKENS.findall(new)
    if len(a) + len(b) > MAX_TOKENS:
        return [Segment("removed", old), Segment("added", new)] if old != new else [Segment("same", old)]
    segments: list[Segment] = []
    for op, i1, i2, j1, j2 in SequenceMatcher(None, a, b, autojunk=False).get_opcodes():
        if op == "equal":
            segments.append(Segment("same", "".join(a[i1:i2])))
            continue
        if op in ("delete", "replace"):
            segments.append(Segment("removed", "".join(a[i1:i2])))
        if op in ("insert", "replace"):
            segments.append(Segment("added", "".join(b[j1:j2])))
    return segments


def counts(segments: list[Segment]) -> tuple[int, int]:
    """Words added and removed."""
    added = sum(len(s.text.split()) for s in segments if s.kind == "added")
    removed = sum(len(s.text.split()) for s in segments if s.kind == "removed")
    return added, removed
