"""Where public data dumps live: written by `shortscience dump`, served by the gateway at
`GET /api/v1/dumps/latest`."""

from __future__ import annotations

from pathlib import Path

DUMP_GLOB = "shortscience-dump-*.jsonl.gz"


def dumps_dir(settings) -> Path:
    return Path(settings.data_dir) / "dumps"


def latest_dump(settings) -> Path | None:
    """The newest complete dump (names sort by time; a dump being written ends in .part)."""
    folder = dumps_dir(settings)
    if not folder.is_dir():
        return None
    dumps = sorted(folder.glob(DUMP_GLOB))
    return dumps[-1] if dumps else None
