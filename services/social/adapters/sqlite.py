"""Posts, their attempt log, channel pauses, the summaries' latest state and the outbox in
the social service's own SQLite file."""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from dataclasses import astuple, fields

from backbone.events import Event, SummaryState
from backbone.outbox import SqliteOutbox
from backbone.sqlite import OUTBOX_TABLE, SqliteStore, transaction, where_equal
from services.social.domain.model import Attempt, Post
from services.social.ports import PostPlan, StaleWrite

PRODUCER = "social"

MIGRATIONS = [
    """
    CREATE TABLE summaries (
        summary_id TEXT PRIMARY KEY,
        version INTEGER NOT NULL,
        public INTEGER NOT NULL,
        state TEXT NOT NULL
    );
    CREATE TABLE posts (
        id TEXT PRIMARY KEY,
        summary_id TEXT NOT NULL,
        channel TEXT NOT NULL,
        status TEXT NOT NULL,
        text TEXT NOT NULL,
        link TEXT NOT NULL,
        created_at REAL NOT NULL,
        updated_at REAL NOT NULL,
        next_attempt_at REAL,
        attempts INTEGER NOT NULL,
        failures INTEGER NOT NULL,
        uncertain INTEGER NOT NULL,
        sending_until REAL,
        platform_post_id TEXT,
        url TEXT,
        last_error TEXT,
        duplicate INTEGER NOT NULL,
        sent_at REAL,
        version INTEGER NOT NULL,
        UNIQUE (summary_id, channel)
    );
    CREATE INDEX posts_pending ON posts(channel, next_attempt_at) WHERE status = 'pending';
    CREATE INDEX posts_sending ON posts(channel, sending_until) WHERE status = 'sending';
    CREATE INDEX posts_by_status ON posts(status, channel, created_at);
    CREATE INDEX posts_by_created ON posts(created_at);
    CREATE TABLE attempts (
        post_id TEXT NOT NULL,
        n INTEGER NOT NULL,
        channel TEXT NOT NULL,
        started_at REAL NOT NULL,
        finished_at REAL,
        outcome TEXT,
        detail TEXT,
        PRIMARY KEY (post_id, n)
    );
    CREATE INDEX attempts_by_channel ON attempts(channel, started_at);
    CREATE TABLE channel_pauses (
        channel TEXT PRIMARY KEY,
        until REAL NOT NULL,
        reason TEXT NOT NULL
    );
    """
    + OUTBOX_TABLE
]

_FIELDS = [f.name for f in fields(Post)]
_COLUMNS = ", ".join(_FIELDS)
_MARKS = ", ".join("?" * len(_FIELDS))
_BOOLS = ("uncertain", "duplicate")


def _row(post: Post) -> tuple:
    return tuple(int(v) if name in _BOOLS else v for name, v in zip(_FIELDS, astuple(post), strict=True))


def _post(row: sqlite3.Row) -> Post:
    return Post(**{name: bool(row[name]) if name in _BOOLS else row[name] for name in _FIELDS})


class SqliteSocialStore(SqliteStore):
    MIGRATIONS = MIGRATIONS

    # -- helpers (inside a transaction) ---------------------------------------------------

    def _update(self, post: Post, expected_version: int) -> None:
        cur = self.conn.execute(
            f"UPDATE posts SET ({_COLUMNS}) = ({_MARKS}) WHERE id=? AND version=?",
            (*_row(post), post.id, expected_version),
        )
        if cur.rowcount != 1:
            raise StaleWrite(post.id)

    def _queue(self, post: Post, events: Sequence[Event]) -> None:
        SqliteOutbox.add(
            self.conn,
            [e.envelope(aggregate_id=post.id, aggregate_version=post.version, producer=PRODUCER) for e in events],
        )

    # -- the summaries' side --------------------------------------------------------------

    async def apply_summary(self, state: SummaryState, version: int, plan: PostPlan) -> list[Post] | None:
        with transaction(self.conn):
            row = self.conn.execute("SELECT version FROM summaries WHERE summary_id=?", (state.summary_id,)).fetchone()
            if row is not None and row[0] >= version:
                return None
            self.conn.execute(
                "INSERT INTO summaries(summary_id, version, public, state) VALUES (?,?,?,?)"
                " ON CONFLICT(summary_id) DO UPDATE SET version=excluded.version, public=excluded.public,"
                " state=excluded.state",
                (state.summary_id, version, int(state.is_public), state.model_dump_json()),
            )
            existing = {p.id: p for p in (_post(r) for r in self.conn.execute(
                f"SELECT {_COLUMNS} FROM posts WHERE summary_id=?", (state.summary_id,)))}
            written = plan(list(existing.values()))
            for post in written:
                if post.id in existing:
                    self._update(post, existing[post.id].version)
                else:
                    self.conn.execute(f"INSERT INTO posts({_COLUMNS}) VALUES ({_MARKS})", _row(post))
        return written

    async def summary(self, summary_id: str) -> tuple[SummaryState, int] | None:
        row = self.conn.execute("SELECT state, version FROM summaries WHERE summary_id=?", (summary_id,)).fetchone()
        return (SummaryState.model_validate_json(row[0]), row[1]) if row else None

    # -- reads ------------------------------------------------------------------------------

    async def get(self, post_id: str) -> Post | None:
        row = self.conn.execute(f"SELECT {_COLUMNS} FROM posts WHERE id=?", (post_id,)).fetchone()
        return _post(row) if row else None

    async def list(self, *, status: str | None, channel: str | None, offset: int, limit: int) -> tuple[list[Post], int]:
        clause, args = where_equal(status=status, channel=channel)
        total = self.conn.execute(f"SELECT COUNT(*) FROM posts {clause}", args).fetchone()[0]
        rows = self.conn.execute(
            f"SELECT {_COLUMNS} FROM posts {clause} ORDER BY created_at DESC, id DESC LIMIT ? OFFSET ?",
            (*args, limit, offset),
        ).fetchall()
        return [_post(r) for r in rows], total

    async def attempts(self, post_id: str) -> list[Attempt]:
        rows = self.conn.execute(
            "SELECT post_id, n, channel, started_at, finished_at, outcome, detail FROM attempts WHERE post_id=?"
            " ORDER BY n", (post_id,),
        ).fetchall()
        return [Attempt(*r) for r in rows]

    # -- the sender's side --------------------------------------------------------------------

    async def due(self, channel: str, now: float, limit: int) -> list[tuple[Post, bool]]:
        cols = ", ".join(f"p.{c}" for c in _FIELDS)
        rows = self.conn.execute(
            f"SELECT {cols}, COALESCE(s.public, 0) AS summary_public FROM posts p"
            " LEFT JOIN summaries s ON s.summary_id = p.summary_id"
            " WHERE p.channel=? AND ((p.status='pending' AND p.next_attempt_at<=?)"
            " OR (p.status='sending' AND p.sending_until<=?))"
            " ORDER BY COALESCE(p.next_attempt_at, p.sending_until), p.created_at LIMIT ?",
            (channel, now, now, limit),
        ).fetchall()
        return [(_post(r), bool(r["summary_public"])) for r in rows]

    async def next_due(self, channel: str) -> float | None:
        row = self.conn.execute(
            "SELECT MIN(t) FROM ("
            " SELECT MIN(next_attempt_at) AS t FROM posts WHERE channel=? AND status='pending'"
            " UNION ALL SELECT MIN(sending_until) FROM posts WHERE channel=? AND status='sending')",
            (channel, channel),
        ).fetchone()
        return row[0]

    async def claim(self, post: Post, expected_version: int) -> None:
        with transaction(self.conn):
            self._update(post, expected_version)
            self.conn.execute(
                "UPDATE attempts SET outcome='unknown', finished_at=? WHERE post_id=? AND outcome IS NULL",
                (post.updated_at, post.id),
            )
            self.conn.execute(
                "INSERT INTO attempts(post_id, n, channel, started_at) VALUES (?,?,?,?)",
                (post.id, post.attempts, post.channel, post.updated_at),
            )

    async def finish(self, post: Post, expected_version: int, outcome: str, detail: str | None,
                     events: Sequence[Event]) -> None:
        with transaction(self.conn):
            self._update(post, expected_version)
            self.conn.execute(
                "UPDATE attempts SET outcome=?, detail=?, finished_at=? WHERE post_id=? AND outcome IS NULL",
                (outcome, detail, post.updated_at, post.id),
            )
            self._queue(post, events)

    async def save(self, post: Post, expected_version: int, events: Sequence[Event] = ()) -> None:
        with transaction(self.conn):
            self._update(post, expected_version)
            self._queue(post, events)

    async def sends_since(self, channel: str, since: float) -> list[float]:
        rows = self.conn.execute(
            "SELECT started_at FROM attempts WHERE channel=? AND started_at>? ORDER BY started_at",
            (channel, since),
        ).fetchall()
        return [r[0] for r in rows]

    async def pause(self, channel: str, until: float, reason: str) -> None:
        with transaction(self.conn):
            self.conn.execute(
                "INSERT INTO channel_pauses(channel, until, reason) VALUES (?,?,?)"
                " ON CONFLICT(channel) DO UPDATE SET until=excluded.until, reason=excluded.reason"
                " WHERE excluded.until > channel_pauses.until",
                (channel, until, reason),
            )

    async def paused_until(self, channel: str) -> tuple[float, str] | None:
        row = self.conn.execute("SELECT until, reason FROM channel_pauses WHERE channel=?", (channel,)).fetchone()
        return (row[0], row[1]) if row else None
