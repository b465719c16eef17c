"""How every benchmark reports: indented JSON on stdout, and the same in a results file."""

from __future__ import annotations

import sys
from pathlib import Path

import orjson


def emit(result: dict, path: Path | None = None) -> None:
    """Print `result` as JSON and, when `path` is given, write it there too."""
    text = orjson.dumps(result, option=orjson.OPT_INDENT_2).decode()
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text + "\n")
    sys.stdout.write(text + "\n")
