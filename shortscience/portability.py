"""Full export and restore, and the public data dump, through the services' use cases.

The operator export (`shortscience export --out DIR`) writes one JSON Lines file per kind:
papers.jsonl, users.jsonl (no secrets: no password hashes, no tokens), summaries.jsonl (each
with its revisions), votes.jsonl, comments.jsonl, plus credentials.jsonl (user id and argon2
password hash only) unless --no-credentials, so restored users can log in with their old
passwords; tokens and sessions are never exported, so everyone signs in again. The
manifest.json holds the counts and a SHA-256 per file; restore checks them first and
refuses a non-empty installation. Keep credentials.jsonl as secret as the database.

Restore writes through restore use cases that keep ids, timestamps, authors, revisions,
votes and comments and emit events (PaperRegistered, UserRegistered, SummaryPublished,
CommentAdded) through each service's outbox, so search and the other derived services
rebuild. Social only posts summaries created within its max age, so restoring an old
export posts nothing; restoring one made minutes ago would re-post recent summaries.

The public dump (`shortscience dump`) is one gzip JSON Lines file under DATA_DIR/dumps:
a header line, every paper, every public summary (anonymous ones without author).
"""

from __future__ import annotations

import gzip
import hashlib
import os
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager, nullcontext
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson

from backbone.contracts.papers import PaperRead
from backbone.contracts.summaries import CommentRecord, SummaryRecord, VoteRecord
from backbone.dumps import dumps_dir, latest_dump  # noqa: F401  (latest_dump: re-exported)
from backbone.runtime import make_event_log
from gateway.bootstrap import build_identity_runtime
from gateway.config import GatewaySettings
from gateway.identity.service import NO_PASSWORD
from gateway.identity.store import User
from services.papers.bootstrap import bootstrap as papers_bootstrap
from services.papers.config import PapersSettings
from services.summaries.bootstrap import bootstrap as summaries_bootstrap
from services.summaries.config import SummariesSettings
from shortscience.allinone import common_values

FORMAT = "shortscience-export"
FORMAT_VERSION = 1
DUMP_FORMAT = "shortscience-public-dump"
PAGE = 500
KINDS = ("users", "papers", "summaries", "votes", "comments")


class RestoreRefused(Exception):
    pass


class _NoProgress:
    def add_task(self, *a, **k) -> int:
        return 0

    def update(self, *a, **k) -> None:
        pass


@asynccontextmanager
async def services(settings: GatewaySettings):
    """The papers, summaries and identity application layers, in-process, relays not running:
    callers drain them (`flush`) so every event reaches the log before they return."""
    log = make_event_log(settings)
    await log.start()
    shared = common_values(settings)
    runtimes = [
        papers_bootstrap(PapersSettings(**shared), event_log=log),
        summaries_bootstrap(SummariesSettings(**shared), event_log=log),
        build_identity_runtime(settings, log, owns_event_log=False),
    ]
    started = []
    try:
        for rt in runtimes:
            await rt.start(background=False)
            started.append(rt)

        async def flush() -> None:
            for rt in started:
                await rt.relay.drain()

        yield runtimes[0].api, runtimes[1].api, runtimes[2].api, flush
    finally:
        for rt in reversed(started):
            await rt.stop()
        await log.close()


def user_json(user: User) -> dict[str, Any]:
    """A user without secrets."""
    return {"id": user.id, "username": user.username, "email": user.email, "display_name": user.display_name,
            "roles": sorted(user.roles), "created_at": datetime.fromtimestamp(user.created_at, UTC).isoformat()}


async def _pages(fetch: Callable[[Any], Awaitable[list]], cursor: Callable[[Any], Any]) -> AsyncIterator[list]:
    after = None
    while True:
        page = await fetch(after)
        if page:
            yield page
        if len(page) < PAGE:
            return
        after = cursor(page[-1])


class _JsonLines:
    def __init__(self, path: Path) -> None:
        self.path = path
        self.handle = open(path, "wb")
        self.sha = hashlib.sha256()
        self.records = 0

    def write(self, obj: Any) -> None:
        line = orjson.dumps(obj) + b"\n"
        self.handle.write(line)
        self.sha.update(line)
        self.records += 1

    def close(self) -> dict[str, Any]:
        self.handle.close()
        return {"sha256": self.sha.hexdigest(), "records": self.records}


async def export_all(settings: GatewaySettings, out_dir: Path, *, credentials: bool = True,
                     progress=None) -> dict[str, Any]:
    progress = progress or _NoProgress()
    out_dir.mkdir(parents=True, exist_ok=True)
    if any(out_dir.iterdir()):
        raise FileExistsError(f"{out_dir} is not empty")
    files: dict[str, dict[str, Any]] = {}
    async with services(settings) as (papers, summaries, identity, _):
        task = progress.add_task("users", total=None)
        users = _JsonLines(out_dir / "users.jsonl")
        secrets = _JsonLines(out_dir / "credentials.jsonl") if credentials else None
        if secrets is not None:
            os.chmod(secrets.path, 0o600)
        async for page in _pages(lambda a: identity.export_users(after=a, limit=PAGE), lambda u: u.id):
            for user in page:
                users.write(user_json(user))
                if secrets is not None:
                    secrets.write({"user_id": user.id, "password_hash": user.password_hash})
            progress.update(task, completed=users.records)
        files["users.jsonl"] = users.close()
        if secrets is not None:
            files["credentials.jsonl"] = secrets.close()

        for name, fetch, cursor in (
            ("papers", lambda a: papers.export(after=a, limit=PAGE), lambda p: p.id),
            ("summaries", lambda a: summaries.export(after=a, limit=PAGE), lambda s: s.id),
            ("votes", lambda a: summaries.export_votes(after=a, limit=PAGE), lambda v: (v.summary_id, v.user_id)),
            ("comments", lambda a: summaries.export_comments(after=a, limit=PAGE), lambda c: c.id),
        ):
            task = progress.add_task(name, total=None)
            writer = _JsonLines(out_dir / f"{name}.jsonl")
            async for page in _pages(fetch, cursor):
                for item in page:
                    writer.write(item.model_dump(mode="json"))
                progress.update(task, completed=writer.records)
            files[f"{name}.jsonl"] = writer.close()
    manifest = {
        "format": FORMAT, "version": FORMAT_VERSION, "created_at": datetime.now(UTC).isoformat(),
        "credentials": credentials,
        "counts": {kind: files[f"{kind}.jsonl"]["records"] for kind in KINDS},
        "files": files,
    }
    (out_dir / "manifest.json").write_bytes(orjson.dumps(manifest, option=orjson.OPT_INDENT_2))
    return manifest


def _verify(directory: Path) -> dict[str, Any]:
    try:
        manifest = orjson.loads((directory / "manifest.json").read_bytes())
    except FileNotFoundError:
        raise RestoreRefused(f"{directory} has no manifest.json") from None
    if manifest.get("format") != FORMAT or manifest.get("version") != FORMAT_VERSION:
        raise RestoreRefused(f"unknown export format {manifest.get('format')} v{manifest.get('version')}")
    for name, meta in manifest["files"].items():
        sha = hashlib.sha256()
        with open(directory / name, "rb") as handle:
            for chunk in iter(lambda: handle.read(1 << 20), b""):
                sha.update(chunk)
        if sha.hexdigest() != meta["sha256"]:
            raise RestoreRefused(f"{name} does not match its checksum in manifest.json")
    return manifest


def _lines(path: Path):
    if not path.exists():
        return
    with open(path, "rb") as handle:
        for line in handle:
            if line.strip():
                yield orjson.loads(line)


async def _in_batches(items, apply, flush, batch_of, progress, task) -> int:
    done, pending = 0, []

    async def run() -> None:
        nonlocal done
        with batch_of():
            for item in pending:
                await apply(item)
        await flush()
        done += len(pending)
        pending.clear()
        progress.update(task, completed=done)

    for item in items:
        pending.append(item)
        if len(pending) >= PAGE:
            await run()
    if pending:
        await run()
    return done


async def restore_all(settings: GatewaySettings, directory: Path, *, progress=None) -> dict[str, int]:
    progress = progress or _NoProgress()
    manifest = _verify(directory)
    counts: dict[str, int] = {}
    async with services(settings) as (papers, summaries, identity, flush):
        if (await papers.export(after=None, limit=1) or await summaries.export(after=None, limit=1)
                or await identity.export_users(after=None, limit=1)):
            raise RestoreRefused("this installation already holds data; restore needs an empty data directory")
        hashes = {c["user_id"]: c["password_hash"] for c in _lines(directory / "credentials.jsonl")}

        async def restore_user(u: dict) -> None:
            await identity.restore_user(User(
                id=u["id"], username=u["username"], email=u["email"], display_name=u["display_name"],
                password_hash=hashes.get(u["id"], NO_PASSWORD), roles=frozenset(u["roles"]),
                created_at=datetime.fromisoformat(u["created_at"]).timestamp()))

        async def restore_paper(p: dict) -> None:
            await papers.restore_paper(PaperRead.model_validate(p))

        async def restore_summary(s: dict) -> None:
            await summaries.restore_summary(SummaryRecord.model_validate(s))

        async def restore_comment(c: dict) -> None:
            await summaries.restore_comment(CommentRecord.model_validate(c))

        steps = (
            ("users", restore_user, nullcontext),
            ("papers", restore_paper, papers.batch),
            ("summaries", restore_summary, summaries.batch),
            ("comments", restore_comment, summaries.batch),
        )
        for kind, apply, batch_of in steps:
            task = progress.add_task(kind, total=manifest["counts"].get(kind))
            counts[kind] = await _in_batches(_lines(directory / f"{kind}.jsonl"), apply, flush, batch_of,
                                             progress, task)
            if kind == "summaries":  # votes belong to summaries: put them back right after
                task = progress.add_task("votes", total=manifest["counts"].get("votes"))
                votes = (VoteRecord.model_validate(v) for v in _lines(directory / "votes.jsonl"))
                counts["votes"] = 0
                chunk: list[VoteRecord] = []
                for vote in votes:
                    chunk.append(vote)
                    if len(chunk) >= PAGE:
                        counts["votes"] += len(chunk)
                        await summaries.restore_votes(chunk)
                        chunk = []
                        progress.update(task, completed=counts["votes"])
                if chunk:
                    counts["votes"] += len(chunk)
                    await summaries.restore_votes(chunk)
                progress.update(task, completed=counts["votes"])
    return counts


# -- the public dump -----------------------------------------------------------------------


async def write_dump(settings: GatewaySettings, *, progress=None) -> tuple[Path, dict[str, int]]:
    progress = progress or _NoProgress()
    folder = dumps_dir(settings)
    folder.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC)
    path = folder / f"shortscience-dump-{stamp:%Y%m%dT%H%M%S%fZ}.jsonl.gz"
    partial = path.with_name(path.name + ".part")
    counts = {"papers": 0, "summaries": 0}
    async with services(settings) as (papers, summaries, _, _flush):
        with gzip.open(partial, "wb") as out:
            out.write(orjson.dumps({"kind": "header", "format": DUMP_FORMAT, "version": 1,
                                    "created_at": stamp.isoformat(),
                                    "license": "summaries: CC BY 4.0 by their authors; metadata: CC0"}) + b"\n")
            task = progress.add_task("papers", total=None)
            async for page in _pages(lambda a: papers.export(after=a, limit=PAGE), lambda p: p.id):
                for paper in page:
                    out.write(orjson.dumps({"kind": "paper", **paper.model_dump(mode="json")}) + b"\n")
                counts["papers"] += len(page)
                progress.update(task, completed=counts["papers"])
            task = progress.add_task("public summaries", total=None)
            after = None
            while True:
                page = await summaries.states(after=after, limit=PAGE)
                for item in page.items:
                    state = item.state
                    if not state.is_public:
                        continue
                    # SummaryState already leaves the author out of anonymous summaries.
                    out.write(orjson.dumps({
                        "kind": "summary", "id": state.summary_id, "paper_id": state.paper.paper_id,
                        "author": None if state.anonymous or state.author_id is None
                        else {"id": state.author_id, "username": state.author_username},
                        "anonymous": state.anonymous, "body": state.body, "score": state.score,
                        "revision": state.revision, "created_at": state.created_at.isoformat(),
                        "updated_at": state.updated_at.isoformat(),
                    }) + b"\n")
                    counts["summaries"] += 1
                progress.update(task, completed=counts["summaries"])
                if page.next_after is None:
                    break
                after = page.next_after
    os.replace(partial, path)
    return path, counts
