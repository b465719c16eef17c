"""Papers in the service's own SQLite file, with the outbox in the same file."""

from __future__ import annotations

import sqlite3
from datetime import datetime

import orjson

from backbone.events import Event
from backbone.outbox import SqliteOutbox
from backbone.sqlite import OUTBOX_TABLE, SqliteStore, transaction
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
    + OUTBOX_TABLE
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

    async def add(self, paper: Paper, event: Event) -> None:
        with transaction(self.conn):
            self.conn.execute(
                "INSERT INTO papers(title, authors, venue, venue_key, year, abstract, keywords, urls, doi, arxiv,"
                " arxiv_version, dblp, created_at, updated_at, version, id) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                _paper_values(paper),
            )
            self._claim_identifiers(paper)
            SqliteOutbox.add(
                self.conn, [event.envelope(aggregate_id=paper.id, aggregate_version=paper.version, producer=PRODUCER)]
            )

    async def save(self, paper: Paper, expected_version: int, event: Event) -> None:
        with transaction(self.conn):
            cur = self.conn.execute(
                "UPDATE papers SET title=?, authors=?, venue=?, venue_key=?, year=?, abstract=?, keywords=?, urls=?,"
                " doi=?, arxiv=?, arxiv_version=?, dblp=?, created_at=?, updated_at=?, version=? WHERE id=?"
                f" AND version={int(expected_version)}",
                _paper_values(paper),
            )
            if cur.rowcount != 1:
                raise StaleWrite(paper.id)
            self._claim_identifiers(paper)
            SqliteOutbox.add(
                self.conn, [event.envelope(aggregate_id=paper.id, aggregate_version=paper.version, producer=PRODUCER)]
            )

    async def list(
        self, *, venue_key: str | None, year: int | None, offset: int, limit: int
    ) -> tuple[list[Paper], int]:
        where, args = [], []
        if venue_key is not None:
            where.append("venue_key=?")
            args.append(venue_key)
        if year is not None:
            where.append("year=?")
            args.append(year)
        clause = f"WHERE {' AND '.join(where)}" if where else ""
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
