"""Papers in the service's own SQLite file, with the outbox in the same file."""

from __future__ import annotations

import sqlite3
from datetime import datetime

import orjson

from backbone.events import Event
from backbone.outbox import SqliteOutbox
from backbone.sqlite import OUTBOX_TABLE, SqliteStore, transaction, where_equal
from services.papers.domain.imports import title_key
from services.papers.domain.model import Identifiers, Paper
from services.papers.ports import IdentifierTaken, StaleWrite

PRODUCER = "papers"

MIGRATIONS = [
    """
    CREATE TABLE papers (
        id TEXT PRIMARY KEY,
        title TEXT NOT NULL,
        authors TEXT NOT NULL,
        venue TEXT,
        venue_key TEXT,
        year INTEGER,
        abstract TEXT NOT NULL,
        keywords TEXT NOT NULL,
        urls TEXT NOT NULL,
        doi TEXT,
        arxiv TEXT,
        arxiv_version INTEGER,
        dblp TEXT,
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL,
        version INTEGER NOT NULL
    );
    CREATE INDEX papers_venue_year ON papers(venue_key, year);
    CREATE TABLE paper_identifiers (
        kind TEXT NOT NULL,
        value TEXT NOT NULL,
        paper_id TEXT NOT NULL REFERENCES papers(id),
        PRIMARY KEY (kind, value)
    );
    CREATE INDEX paper_identifiers_paper ON paper_identifiers(paper_id);
    """
    + OUTBOX_TABLE,
    # Imports: a title key for spotting possible duplicates, and where each imported record came from,
    # so re-importing a record without identifiers finds its paper again.
    """
    ALTER TABLE papers ADD COLUMN title_key TEXT;
    CREATE INDEX papers_title_year ON papers(title_key, year);
    CREATE TABLE paper_sources (
        source TEXT NOT NULL,
        key TEXT NOT NULL,
        paper_id TEXT NOT NULL REFERENCES papers(id),
        PRIMARY KEY (source, key)
    );
    """,
]


def _row_to_paper(row: sqlite3.Row) -> Paper:
    return Paper(
        id=row["id"],
        title=row["title"],
        authors=orjson.loads(row["authors"]),
        venue=row["venue"],
        venue_key=row["venue_key"],
        year=row["year"],
        abstract=row["abstract"],
        keywords=orjson.loads(row["keywords"]),
        urls=orjson.loads(row["urls"]),
        identifiers=Identifiers(
            doi=row["doi"], arxiv=row["arxiv"], arxiv_version=row["arxiv_version"], dblp=row["dblp"]
        ),
        created_at=datetime.fromisoformat(row["created_at"]),
        updated_at=datetime.fromisoformat(row["updated_at"]),
        version=row["version"],
    )


def _paper_values(p: Paper) -> tuple:
    return (
        p.title,
        orjson.dumps(p.authors).decode(),
        p.venue,
        p.venue_key,
        p.year,
        p.abstract,
        orjson.dumps(p.keywords).decode(),
        orjson.dumps(p.urls).decode(),
        p.identifiers.doi,
        p.identifiers.arxiv,
        p.identifiers.arxiv_version,
        p.identifiers.dblp,
        p.created_at.isoformat(),
        p.updated_at.isoformat(),
        p.version,
        p.id,
    )


class SqlitePapersStore(SqliteStore):
    MIGRATIONS = MIGRATIONS

    async def get(self, paper_id: str) -> Paper | None:
        row = self.conn.execute("SELECT * FROM papers WHERE id=?", (paper_id,)).fetchone()
        return _row_to_paper(row) if row else None

    async def find_by_identifier(self, kind: str, value: str) -> Paper | None:
        row = self.conn.execute(
            "SELECT p.* FROM paper_identifiers i JOIN papers p ON p.id = i.paper_id WHERE i.kind=? AND i.value=?",
            (kind, value),
        ).fetchone()
        return _row_to_paper(row) if row else None

    def _claim_identifiers(self, paper: Paper) -> None:
        self.conn.execute("DELETE FROM paper_identifiers WHERE paper_id=?", (paper.id,))
        for kind, value in paper.identifiers.pairs():
            owner = self.conn.execute(
                "SELECT paper_id FROM paper_identifiers WHERE kind=? AND value=?", (kind, value)
            ).fetchone()
            if owner is not None:
                raise IdentifierTaken(kind, value, owner[0])
            self.conn.execute(
                "INSERT INTO paper_identifiers(kind, value, paper_id) VALUES (?,?,?)", (kind, value, paper.id)
            )

    def _set_title_key(self, paper: Paper) -> None:
        self.conn.execute("UPDATE papers SET title_key=? WHERE id=?", (title_key(paper.title), paper.id))

    def _remember_source(self, source: tuple[str, str] | None, paper_id: str) -> None:
        if source is not None:
            self.conn.execute("INSERT OR IGNORE INTO paper_sources(source, key, paper_id) VALUES (?,?,?)",
                              (*source, paper_id))

    async def start(self) -> None:
        await super().start()
        # Papers written before the title key existed get theirs once.
        rows = self.conn.execute("SELECT id, title FROM papers WHERE title_key IS NULL").fetchall()
        if rows:
            with transaction(self.conn):
                self.conn.executemany("UPDATE papers SET title_key=? WHERE id=?",
                                      [(title_key(r["title"]), r["id"]) for r in rows])

    def batch(self):
        """One commit around many writes (each still its own savepoint): bulk imports and restores."""
        return transaction(self.conn)

    async def add(self, paper: Paper, event: Event, *, source: tuple[str, str] | None = None) -> None:
        with transaction(self.conn):
            self.conn.execute(
                "INSERT INTO papers(title, authors, venue, venue_key, year, abstract, keywords, urls, doi, arxiv,"
                " arxiv_version, dblp, created_at, updated_at, version, id) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                _paper_values(paper),
            )
            self._claim_identifiers(paper)
            self._set_title_key(paper)
            self._remember_source(source, paper.id)
            SqliteOutbox.add(
                self.conn, [event.envelope(aggregate_id=paper.id, aggregate_version=paper.version, producer=PRODUCER)]
            )

    async def save(self, paper: Paper, expected_version: int, event: Event | None, *,
                   source: tuple[str, str] | None = None) -> None:
        """`event` None: nothing the paper shows changed, only the import provenance is recorded."""
        with transaction(self.conn):
            if event is None:
                self._remember_source(source, paper.id)
                return
            cur = self.conn.execute(
                "UPDATE papers SET title=?, authors=?, venue=?, venue_key=?, year=?, abstract=?, keywords=?, urls=?,"
                " doi=?, arxiv=?, arxiv_version=?, dblp=?, created_at=?, updated_at=?, version=? WHERE id=?"
                f" AND version={int(expected_version)}",
                _paper_values(paper),
            )
            if cur.rowcount != 1:
                raise StaleWrite(paper.id)
            self._claim_identifiers(paper)
            self._set_title_key(paper)
            self._remember_source(source, paper.id)
            SqliteOutbox.add(
                self.conn, [event.envelope(aggregate_id=paper.id, aggregate_version=paper.version, producer=PRODUCER)]
            )

    async def list(
        self, *, venue_key: str | None, year: int | None, offset: int, limit: int
    ) -> tuple[list[Paper], int]:
        clause, args = where_equal(venue_key=venue_key, year=year)
        total = self.conn.execute(f"SELECT COUNT(*) FROM papers {clause}", args).fetchone()[0]
        rows = self.conn.execute(
            f"SELECT * FROM papers {clause} ORDER BY year DESC, id DESC LIMIT ? OFFSET ?", (*args, limit, offset)
        ).fetchall()
        return [_row_to_paper(r) for r in rows], total

    async def venues(self) -> list[tuple[str, str, int]]:
        rows = self.conn.execute(
            "SELECT venue_key, MAX(venue) AS name, COUNT(*) AS n FROM papers WHERE venue_key IS NOT NULL"
            " GROUP BY venue_key ORDER BY n DESC, venue_key"
        ).fetchall()
        return [(r["venue_key"], r["name"], r["n"]) for r in rows]

    async def venue_years(self, venue_key: str) -> list[tuple[int | None, int]]:
        rows = self.conn.execute(
            "SELECT year, COUNT(*) AS n FROM papers WHERE venue_key=? GROUP BY year ORDER BY year DESC", (venue_key,)
        ).fetchall()
        return [(r["year"], r["n"]) for r in rows]

    # -- imports and exports ------------------------------------------------------------

    async def find_by_source(self, source: str, key: str) -> Paper | None:
        row = self.conn.execute(
            "SELECT p.* FROM paper_sources s JOIN papers p ON p.id = s.paper_id WHERE s.source=? AND s.key=?",
            (source, key),
        ).fetchone()
        return _row_to_paper(row) if row else None

    async def find_by_title(self, key: str, year: int | None) -> Paper | None:
        row = self.conn.execute(
            "SELECT * FROM papers WHERE title_key=? AND year IS ? ORDER BY id LIMIT 1", (key, year)
        ).fetchone()
        return _row_to_paper(row) if row else None

    async def after(self, paper_id: str | None, limit: int) -> list[Paper]:
        rows = self.conn.execute(
            "SELECT * FROM papers WHERE id > ? ORDER BY id LIMIT ?", (paper_id or "", limit)
        ).fetchall()
        return [_row_to_paper(r) for r in rows]

    async def count(self) -> int:
        return self.conn.execute("SELECT COUNT(*) FROM papers").fetchone()[0]
