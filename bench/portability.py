"""`python -m bench.portability`: export and restore rates on a large corpus.

Writes a synthetic operator export (the format of `shortscience export`: users, papers,
summaries with a revision each, a vote per summary; checksummed manifest) from the search
bench's deterministic corpus, restores it into an empty data dir as `shortscience restore`
does (the services' restore use cases, events through the outboxes), then exports that
installation again as `shortscience export` does. Prints JSON with both rates.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import orjson

from bench.corpus import Corpus
from bench.output import emit
from shortscience.portability import FORMAT, FORMAT_VERSION, KINDS, export_all, restore_all


def write_export(directory: Path, n_summaries: int, n_users: int = 2_000) -> None:
    corpus = Corpus()
    papers = corpus.papers(max(n_summaries * 6 // 10, 1))
    now = datetime.now(UTC).isoformat()
    rows: dict[str, list[dict]] = {kind: [] for kind in KINDS}
    rows["users"] = [{"id": f"u{i:06d}", "username": f"user{i}", "email": f"user{i}@example.org",
                      "display_name": f"User {i}", "roles": ["member"], "created_at": now} for i in range(n_users)]
    rows["papers"] = [{"id": p.paper_id, "title": p.title, "authors": p.authors, "venue": p.venue,
                       "venue_key": p.venue_key, "year": p.year, "abstract": p.abstract, "keywords": p.keywords,
                       "urls": [], "identifiers": {}, "created_at": now, "updated_at": now, "version": 1}
                      for p in papers]
    taken: set[tuple[int, str]] = set()  # one summary per user per paper
    for i, state in enumerate(corpus.summaries(papers, n_summaries)):
        a = i % n_users
        while (a, state.paper.paper_id) in taken:
            a = (a + 1) % n_users
        taken.add((a, state.paper.paper_id))
        author = f"u{a:06d}"
        created = state.created_at.isoformat()
        rows["summaries"].append({
            "id": state.summary_id, "paper": state.paper.model_dump(mode="json"), "author_id": author,
            "author_username": f"user{a}", "body": state.body, "visibility": "public",
            "anonymous": state.anonymous, "hidden": False, "deleted": False, "score": 1, "revision": 1,
            "comment_count": 0, "created_at": created, "updated_at": created, "version": 2,
            "revisions": [{"revision": 1, "body": state.body, "created_at": created}],
        })
        rows["votes"].append({"summary_id": state.summary_id, "user_id": f"u{(a + 1) % n_users:06d}", "value": 1})
    files = {}
    for kind in KINDS:
        data = b"".join(orjson.dumps(r) + b"\n" for r in rows[kind])
        (directory / f"{kind}.jsonl").write_bytes(data)
        files[f"{kind}.jsonl"] = {"sha256": hashlib.sha256(data).hexdigest(), "records": len(rows[kind])}
    manifest = {"format": FORMAT, "version": FORMAT_VERSION, "created_at": now, "credentials": False,
                "counts": {kind: len(rows[kind]) for kind in KINDS}, "files": files}
    (directory / "manifest.json").write_bytes(orjson.dumps(manifest))


async def run(n: int) -> dict:
    from tests.conftest import make_settings  # the test settings: cheap argon2, quiet logs

    with tempfile.TemporaryDirectory(prefix="shortscience-bench-portability-") as tmp:
        source, data, again = Path(tmp) / "export", Path(tmp) / "data", Path(tmp) / "export-again"
        source.mkdir()
        write_export(source, n)
        settings = make_settings(data, poll_interval=0.25)
        started = time.perf_counter()
        counts = await restore_all(settings, source)
        restore_s = time.perf_counter() - started
        started = time.perf_counter()
        manifest = await export_all(settings, again)
        export_s = time.perf_counter() - started
    return {
        "summaries": n,
        "restore": {"counts": counts, "seconds": round(restore_s, 2), "summaries_per_s": round(n / restore_s)},
        "export": {"counts": manifest["counts"], "seconds": round(export_s, 2), "summaries_per_s": round(n / export_s)},
    }


def main(argv=None) -> None:
    p = argparse.ArgumentParser(prog="python -m bench.portability", description=__doc__.splitlines()[0])
    p.add_argument("--summaries", type=int, default=100_000)
    opts = p.parse_args(argv)
    emit(asyncio.run(run(opts.summaries)))


if __name__ == "__main__":
    main()
