"""Summaries, revisions, votes, comments and the outbox in the service's own SQLite file."""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Sequence
from datetime import datetime
from functools import lru_cache

import orjson

from backbone.events import Event, PaperSnapshot
from backbone.outbox import SqliteOutbox
from backbone.sqlite import OUTBOX_TABLE, SqliteStore, transaction
from services.summaries.domain.citations import CitedPaper
from services.summaries.domain.model import Comment, Summary
from services.summaries.domain.outline import TocEntry
from services.summaries.domain.references import KnownPaper
from services.summaries.ports import DuplicateSummary, StaleWrite

PRODUCER = "summaries"

MIGRATIONS = [
    """
    CREATE TABLE summaries (
        id TEXT PRIMARY KEY,
        paper_id TEXT NOT NULL,
        paper TEXT NOT NULL,
        paper_version INTEGER NOT NULL,
        venue_key TEXT,
        year INTEGER,
        author_id TEXT NOT NULL,
        author_username TEXT NOT NULL,
        body TEXT NOT NULL,
        body_html TEXT NOT NULL,
        renderer_version TEXT NOT NULL,
        visibility TEXT NOT NULL,
        anonymous INTEGER NOT NULL,
        hidden INTEGER NOT NULL,
        deleted INTEGER NOT NULL,
        score INTEGER NOT NULL,
        revision INTEGER NOT NULL,
        comment_count INTEGER NOT NULL,
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL,
        version INTEGER NOT NULL
    );
    CREATE UNIQUE INDEX summaries_one_per_author ON summaries(author_id, paper_id) WHERE deleted = 0;
    CREATE INDEX summaries_paper ON summaries(paper_id, score DESC);
    CREATE INDEX summaries_public_newest ON summaries(created_at DESC) WHERE visibility='public' AND hidden=0 AND deleted=0;
    CREATE INDEX summaries_public_score ON summaries(score DESC, created_at DESC) WHERE visibility='public' AND hidden=0 AND deleted=0;
    CREATE INDEX summaries_venue ON summaries(venue_key, year);
    CREATE TABLE revisions (
        summary_id TEXT NOT NULL,
        revision INTEGER NOT NULL,
        body TEXT NOT NULL,
        created_at TEXT NOT NULL,
        PRIMARY KEY (summary_id, revision)
    );
    CREATE TABLE votes (
        summary_id TEXT NOT NULL,
        user_id TEXT NOT NULL,
        value INTEGER NOT NULL,
        PRIMARY KEY (summary_id, user_id)
    );
    CREATE INDEX votes_user ON votes(user_id);
    CREATE TABLE comments (
        id TEXT PRIMARY KEY,
        summary_id TEXT NOT NULL,
        author_id TEXT NOT NULL,
        author_username TEXT NOT NULL,
        body TEXT NOT NULL,
        body_html TEXT NOT NULL,
        hidden INTEGER NOT NULL,
        created_at TEXT NOT NULL
    );
    CREATE INDEX comments_summary ON comments(summary_id, created_at);
    """
    + OUTBOX_TABLE,
    # What rendering found, kept with the HTML (words NULL: a row from before, rendered on
    # read), the citations by key for "summaries that cite this paper", and the replica
    # of the papers citations may name.
    """
    ALTER TABLE summaries ADD COLUMN toc TEXT NOT NULL DEFAULT '[]';
    ALTER TABLE summaries ADD COLUMN words INTEGER;
    ALTER TABLE summaries ADD COLUMN reading_minutes INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE summaries ADD COLUMN citations TEXT NOT NULL DEFAULT '[]';
    ALTER TABLE summaries ADD COLUMN cited TEXT NOT NULL DEFAULT '[]';
    CREATE TABLE summary_citations (
        key TEXT NOT NULL,
        summary_id TEXT NOT NULL,
        PRIMARY KEY (key, summary_id)
    ) WITHOUT ROWID;
    CREATE INDEX summary_citations_summary ON summary_citations(summary_id);
    CREATE TABLE known_papers (
        paper_id TEXT PRIMARY KEY,
        title TEXT NOT NULL,
        version INTEGER NOT NULL
    );
    CREATE TABLE known_paper_keys (
        key TEXT NOT NULL,
        paper_id TEXT NOT NULL,
        PRIMARY KEY (key, paper_id)
    ) WITHOUT ROWID;
    CREATE INDEX known_paper_keys_paper ON known_paper_keys(paper_id);
    """,
]

_COLUMNS = (
    "paper_id, paper, paper_version, venue_key, year, author_id, author_username, body, body_html, renderer_version,"
    " visibility, anonymous, hidden, deleted, score, revision, comment_count, created_at, updated_at,"
    " toc, words, reading_minutes, citations, cited, version, id"
)
_N_COLUMNS = _COLUMNS.count(",") + 1
_OWN_COLUMNS = _COLUMNS.split(",", 5)[5]  # all but the paper copy (the first five)
_INSERT = f"INSERT INTO summaries({_COLUMNS}) VALUES ({','.join('?' * _N_COLUMNS)})"


def _values(s: Summary) -> tuple:
    return (
        s.paper.paper_id,
        s.paper.model_dump_json(),
        s.paper.version,
        s.paper.venue_key,
        s.paper.year,
        s.author_id,
        s.author_username,
        s.body,
        s.body_html,
        s.renderer_version,
        s.visibility,
        int(s.anonymous),
        int(s.hidden),
        int(s.deleted),
        s.score,
        s.revision,
        s.comment_count,
        s.created_at.isoformat(),
        s.updated_at.isoformat(),
        json.dumps([[e.level, e.id, e.text] for e in s.toc]),
        s.words,
        s.reading_minutes,
        json.dumps(list(s.citations)),
        json.dumps([list(c) for c in s.cited]),
        s.version,
        s.id,
    )


@lru_cache(maxsize=4096)
def _paper(stored: str) -> PaperSnapshot:
    """Many rows share a paper: parse each stored copy once (snapshots are immutable)."""
    return PaperSnapshot.model_validate_json(stored)


def _list(stored: str) -> list:
    """A stored JSON list; most summaries have no TOC and cite nothing, so skip parsing "[]"."""
    return [] if stored == "[]" else orjson.loads(stored)


def _summary(row: sqlite3.Row) -> Summary:
    """A row selected as `_COLUMNS`, unpacked by position (on list reads, looking up ~26
    columns by name cost more than building the summary)."""
    (_paper_id, paper, _paper_version, _venue_key, _year, author_id, author_username, body, body_html,
     renderer_version, visibility, anonymous, hidden, deleted, score, revision, comment_count, created_at,
     updated_at, toc, words, reading_minutes, citations, cited, version, summary_id) = row
    return Summary(
        id=summary_id,
        paper=_paper(paper),
        author_id=author_id,
        author_username=author_username,
        body=body,
        body_html=body_html,
        renderer_version=renderer_version,
        visibility=visibility,
        anonymous=bool(anonymous),
        hidden=bool(hidden),
        deleted=bool(deleted),
        score=score,
        revision=revision,
        comment_count=comment_count,
        created_at=datetime.fromisoformat(created_at),
        updated_at=datetime.fromisoformat(updated_at),
        version=version,
        toc=tuple(TocEntry(level, anchor, text) for level, anchor, text in _list(toc)),
        words=words,
        reading_minutes=reading_minutes,
        citations=tuple(_list(citations)),
        cited=tuple((k, p, t) for k, p, t in _list(cited)),
    )


def _comment(row: sqlite3.Row) -> Comment:
    return Comment(
        id=row["id"],
        summary_id=row["summary_id"],
        author_id=row["author_id"],
        author_username=row["author_username"],
        body=row["body"],
        body_html=row["body_html"],
        hidden=bool(row["hidden"]),
        created_at=datetime.fromisoformat(row["created_at"]),
    )


_PUBLIC = "visibility='public' AND hidden=0 AND deleted=0"


class SqliteSummariesStore(SqliteStore):
    MIGRATIONS = MIGRATIONS

    def _queue(self, summary: Summary, events: Sequence[Event]) -> None:
        SqliteOutbox.add(
            self.conn,
            [e.envelope(aggregate_id=summary.id, aggregate_version=summary.version, producer=PRODUCER) for e in events],
        )

    def _update(self, summary: Summary, expected_version: int) -> None:
        # The paper copy (the first five columns) is left alone: only `apply_paper` writes it,
        # so a write based on an earlier read never puts back an older paper.
        cur = self.conn.execute(
            f"UPDATE summaries SET ({_OWN_COLUMNS}) = ({','.join('?' * (_N_COLUMNS - 5))}) WHERE id=? AND version=?",
            (*_values(summary)[5:], summary.id, expected_version),
        )
        if cur.rowcount != 1:
            raise StaleWrite(summary.id)

    def _index_citations(self, summary: Summary) -> None:
        self.conn.execute("DELETE FROM summary_citations WHERE summary_id=?", (summary.id,))
        self.conn.executemany("INSERT OR IGNORE INTO summary_citations(key, summary_id) VALUES (?,?)",
                              [(key, summary.id) for key in summary.citations])

    # -- writes -----------------------------------------------------------------------

    async def add(self, summary: Summary, events: Sequence[Event]) -> None:
        try:
            with transaction(self.conn):
                self.conn.execute(_INSERT, _values(summary))
                self._index_citations(summary)
                self.conn.execute(
                    "INSERT INTO revisions(summary_id, revision, body, created_at) VALUES (?,?,?,?)",
                    (summary.id, summary.revision, summary.body, summary.updated_at.isoformat()),
                )
                self._queue(summary, events)
        except sqlite3.IntegrityError:
            row = self.conn.execute(
                "SELECT id FROM summaries WHERE author_id=? AND paper_id=? AND deleted=0",
                (summary.author_id, summary.paper.paper_id),
            ).fetchone()
            if row is None:
                raise
            raise DuplicateSummary(row[0]) from None

    async def save(
        self, summary: Summary, expected_version: int, events: Sequence[Event], *, new_revision: bool = False
    ) -> None:
        with transaction(self.conn):
            self._update(summary, expected_version)
            if new_revision:  # a new body, hence perhaps new citations
                self.conn.execute(
                    "INSERT INTO revisions(summary_id, revision, body, created_at) VALUES (?,?,?,?)",
                    (summary.id, summary.revision, summary.body, summary.updated_at.isoformat()),
                )
                self._index_citations(summary)
            self._queue(summary, events)

    async def save_vote(
        self, summary: Summary, expected_version: int, user_id: str, value: int, events: Sequence[Event]
    ) -> None:
        with transaction(self.conn):
            self._update(summary, expected_version)
            if value == 0:
                self.conn.execute("DELETE FROM votes WHERE summary_id=? AND user_id=?", (summary.id, user_id))
            else:
                self.conn.execute(
                    "INSERT INTO votes(summary_id, user_id, value) VALUES (?,?,?)"
                    " ON CONFLICT(summary_id, user_id) DO UPDATE SET value=excluded.value",
                    (summary.id, user_id, value),
                )
            self._queue(summary, events)

    async def add_comment(
        self, summary: Summary, expected_version: int, comment: Comment, events: Sequence[Event]
    ) -> None:
        with transaction(self.conn):
            self._update(summary, expected_version)
            self.conn.execute(
                "INSERT INTO comments(id, summary_id, author_id, author_username, body, body_html, hidden, created_at)"
                " VALUES (?,?,?,?,?,?,?,?)",
                (comment.id, comment.summary_id, comment.author_id, comment.author_username, comment.body,
                 comment.body_html, int(comment.hidden), comment.created_at.isoformat()),
            )
            self._queue(summary, events)

    async def save_comment(
        self, summary: Summary, expected_version: int, comment: Comment, events: Sequence[Event]
    ) -> None:
        with transaction(self.conn):
            self._update(summary, expected_version)
            self.conn.execute("UPDATE comments SET hidden=? WHERE id=?", (int(comment.hidden), comment.id))
            self._queue(summary, events)

    # -- reads ------------------------------------------------------------------------

    async def get(self, summary_id: str) -> Summary | None:
        row = self.conn.execute(f"SELECT {_COLUMNS} FROM summaries WHERE id=?", (summary_id,)).fetchone()
        return _summary(row) if row else None

    async def vote_of(self, summary_id: str, user_id: str) -> int:
        row = self.conn.execute(
            "SELECT value FROM votes WHERE summary_id=? AND user_id=?", (summary_id, user_id)
        ).fetchone()
        return row[0] if row else 0

    async def votes_of(self, summary_ids: Sequence[str], user_id: str) -> dict[str, int]:
        if not summary_ids:
            return {}
        marks = ",".join("?" * len(summary_ids))
        rows = self.conn.execute(
            f"SELECT summary_id, value FROM votes WHERE user_id=? AND summary_id IN ({marks})", (user_id, *summary_ids)
        ).fetchall()
        return {r[0]: r[1] for r in rows}

    async def revisions(self, summary_id: str) -> list[tuple[int, str, str]]:
        rows = self.conn.execute(
            "SELECT revision, body, created_at FROM revisions WHERE summary_id=? ORDER BY revision DESC", (summary_id,)
        ).fetchall()
        return [(r[0], r[1], r[2]) for r in rows]

    async def get_comment(self, comment_id: str) -> Comment | None:
        row = self.conn.execute("SELECT * FROM comments WHERE id=?", (comment_id,)).fetchone()
        return _comment(row) if row else None

    async def comments(self, summary_id: str) -> list[Comment]:
        rows = self.conn.execute(
            "SELECT * FROM comments WHERE summary_id=? ORDER BY created_at, id", (summary_id,)
        ).fetchall()
        return [_comment(r) for r in rows]

    async def list(
        self,
        *,
        paper_id: str | None,
        venue_key: str | None,
        year: int | None,
        sort: str,
        viewer_id: str | None,
        offset: int,
        limit: int,
    ) -> tuple[list[Summary], int]:
        where, args = [], []
        if paper_id is not None:
            where.append("paper_id=?")
            args.append(paper_id)
            if viewer_id is not None:  # on a paper's page the author also sees their own private summary
                where.append(f"(({_PUBLIC}) OR (author_id=? AND deleted=0))")
                args.append(viewer_id)
            else:
                where.append(_PUBLIC)
        else:
            where.append(_PUBLIC)
        if venue_key is not None:
            where.append("venue_key=?")
            args.append(venue_key)
        if year is not None:
            where.append("year=?")
            args.append(year)
        clause = " AND ".join(where)
        order = "score DESC, created_at DESC" if sort == "score" else "created_at DESC, id DESC"
        total = self.conn.execute(f"SELECT COUNT(*) FROM summaries WHERE {clause}", args).fetchone()[0]
        rows = self.conn.execute(
            f"SELECT {_COLUMNS} FROM summaries WHERE {clause} ORDER BY {order} LIMIT ? OFFSET ?",
            (*args, limit, offset),
        ).fetchall()
        return [_summary(r) for r in rows], total

    async def after(self, summary_id: str | None, limit: int) -> list[Summary]:
        rows = self.conn.execute(
            f"SELECT {_COLUMNS} FROM summaries WHERE id > ? ORDER BY id LIMIT ?", (summary_id or "", limit)
        ).fetchall()
        return [_summary(r) for r in rows]

    async def counts_by_venue(self) -> dict[str, int]:
        rows = self.conn.execute(
            f"SELECT venue_key, COUNT(*) FROM summaries WHERE {_PUBLIC} AND venue_key IS NOT NULL GROUP BY venue_key"
        ).fetchall()
        return {r[0]: r[1] for r in rows}

    async def counts_by_year(self, venue_key: str) -> dict[int | None, int]:
        rows = self.conn.execute(
            f"SELECT year, COUNT(*) FROM summaries WHERE {_PUBLIC} AND venue_key=? GROUP BY year", (venue_key,)
        ).fetchall()
        return {r[0]: r[1] for r in rows}

    # -- the papers replica -----------------------------------------------------------

    async def apply_paper(self, event_id: str, paper: PaperSnapshot) -> bool:
        with transaction(self.conn):
            fresh = self.conn.execute(
                "INSERT OR IGNORE INTO processed_events(event_id, consumer, applied_at) VALUES (?,?,?)",
                (event_id, "summaries-papers", time.time()),
            ).rowcount
            if not fresh:
                return False
            self.conn.execute(
                "UPDATE summaries SET paper=?, paper_version=?, venue_key=?, year=? WHERE paper_id=? AND paper_version<?",
                (paper.model_dump_json(), paper.version, paper.venue_key, paper.year, paper.paper_id, paper.version),
            )
            self._know(KnownPaper.of(paper))
        return True

    def _know(self, paper: KnownPaper) -> None:
        """Newer versions only, so redeliveries and late old events change nothing."""
        newer = self.conn.execute(
            "INSERT INTO known_papers(paper_id, title, version) VALUES (?,?,?) ON CONFLICT(paper_id) DO UPDATE"
            " SET title=excluded.title, version=excluded.version WHERE excluded.version > known_papers.version",
            (paper.paper_id, paper.title, paper.version),
        ).rowcount
        if newer:
            self.conn.execute("DELETE FROM known_paper_keys WHERE paper_id=?", (paper.paper_id,))
            self.conn.executemany("INSERT OR IGNORE INTO known_paper_keys(key, paper_id) VALUES (?,?)",
                                  [(key, paper.paper_id) for key in paper.keys])

    async def known_papers(self, keys: Sequence[str]) -> dict[str, CitedPaper]:
        keys = list(dict.fromkeys(keys))
        if not keys:
            return {}
        found: dict[str, CitedPaper] = {}
        # Two papers claim one key only while events of both are on their way (the papers
        # service gives each identifier to one paper): the lower id answers meanwhile.
        rows = self.conn.execute(
            "SELECT k.key, p.paper_id, p.title FROM known_paper_keys k"
            " JOIN known_papers p ON p.paper_id = k.paper_id"
            f" WHERE k.key IN ({','.join('?' * len(keys))}) ORDER BY k.key, p.paper_id", keys
        ).fetchall()
        for key, paper_id, title in rows:
            found.setdefault(key, CitedPaper(paper_id=paper_id, short_title=title))
        return found

    async def citing(self, paper_id: str, *, offset: int, limit: int) -> tuple[list[Summary], int]:
        """Public summaries citing the paper by any of its keys (those the replica knows,
        and `paper:<id>`), newest first."""
        keys = [r[0] for r in self.conn.execute("SELECT key FROM known_paper_keys WHERE paper_id=?", (paper_id,))]
        keys = list(dict.fromkeys([*keys, f"paper:{paper_id}"]))
        clause = (f"id IN (SELECT summary_id FROM summary_citations WHERE key IN ({','.join('?' * len(keys))}))"
                  f" AND {_PUBLIC}")
        total = self.conn.execute(f"SELECT COUNT(*) FROM summaries WHERE {clause}", keys).fetchone()[0]
        rows = self.conn.execute(
            f"SELECT {_COLUMNS} FROM summaries WHERE {clause} ORDER BY created_at DESC, id DESC LIMIT ? OFFSET ?",
            (*keys, limit, offset),
        ).fetchall()
        return [_summary(r) for r in rows], total

    # -- export and restore -----------------------------------------------------------

    def batch(self):
        """One commit around many writes (each still its own savepoint): restores."""
        return transaction(self.conn)

    async def votes_after(self, after: tuple[str, str] | None, limit: int) -> list[tuple[str, str, int]]:
        summary_id, user_id = after or ("", "")
        rows = self.conn.execute(
            "SELECT summary_id, user_id, value FROM votes WHERE (summary_id, user_id) > (?, ?)"
            " ORDER BY summary_id, user_id LIMIT ?", (summary_id, user_id, limit)
        ).fetchall()
        return [(r[0], r[1], r[2]) for r in rows]

    async def comments_after(self, after: str | None, limit: int) -> list[Comment]:
        rows = self.conn.execute("SELECT * FROM comments WHERE id > ? ORDER BY id LIMIT ?",
                                 (after or "", limit)).fetchall()
        return [_comment(r) for r in rows]

    async def by_author(self, user_id: str) -> list[Summary]:
        rows = self.conn.execute(
            f"SELECT {_COLUMNS} FROM summaries WHERE author_id=? ORDER BY created_at, id", (user_id,)
        ).fetchall()
        return [_summary(r) for r in rows]

    async def votes_by(self, user_id: str) -> list[tuple[str, int]]:
        rows = self.conn.execute("SELECT summary_id, value FROM votes WHERE user_id=? ORDER BY summary_id",
                                 (user_id,)).fetchall()
        return [(r[0], r[1]) for r in rows]

    async def comments_by(self, user_id: str) -> list[Comment]:
        rows = self.conn.execute("SELECT * FROM comments WHERE author_id=? ORDER BY created_at, id",
                                 (user_id,)).fetchall()
        return [_comment(r) for r in rows]

    async def restore(self, summary: Summary, revisions: Sequence[tuple[int, str, str]],
                      events: Sequence[Event]) -> bool:
        """Insert an exported summary with its revisions as it was; False if its id exists."""
        with transaction(self.conn):
            if self.conn.execute("SELECT 1 FROM summaries WHERE id=?", (summary.id,)).fetchone():
                return False
            self.conn.execute(_INSERT, _values(summary))
            self._index_citations(summary)
            self.conn.executemany(
                "INSERT OR IGNORE INTO revisions(summary_id, revision, body, created_at) VALUES (?,?,?,?)",
                [(summary.id, rev, body, at) for rev, body, at in revisions],
            )
            self._queue(summary, events)
        return True

    async def restore_votes(self, votes: Sequence[tuple[str, str, int]]) -> int:
        """Votes only: each summary's score was restored with it, and VoteCast names no voter."""
        with transaction(self.conn):
            cur = self.conn.executemany(
                "INSERT OR IGNORE INTO votes(summary_id, user_id, value) VALUES (?,?,?)", votes
            )
        return cur.rowcount

    async def restore_comment(self, comment: Comment, summary: Summary, events: Sequence[Event]) -> bool:
        with transaction(self.conn):
            cur = self.conn.execute(
                "INSERT OR IGNORE INTO comments(id, summary_id, author_id, author_username, body, body_html, hidden,"
                " created_at) VALUES (?,?,?,?,?,?,?,?)",
                (comment.id, comment.summary_id, comment.author_id, comment.author_username, comment.body,
                 comment.body_html, int(comment.hidden), comment.created_at.isoformat()),
            )
            if cur.rowcount != 1:
                return False
            self._queue(summary, events)
        return True
