"""The embedded search engine: SQLite FTS5 in the search service's own file.

- `docs` holds one row per summary the index has heard of; rows that are not public stay
  as tombstones (visible=0) so a stale event can never bring a summary back. Triggers
  keep the external-content FTS5 table holding exactly the visible rows.
- Ranking is bm25 with column weights: the title above authors and keywords, above the
  abstract, above the summary text.
- A prefix (`attentio*`) is matched against the unstemmed words of the visible rows (a
  contentless FTS5 table read through fts5vocab) and expanded to the whole words, which
  the porter tokenizer then stems like any other word: the porter table alone stems the
  prefix itself ("attentio" stays "attentio", "attention" is indexed as "attent").
- A rebuild fills a second set of tables (suffix `_next`) and swaps them in with
  ALTER TABLE ... RENAME inside one transaction.
"""

from __future__ import annotations

import html
import sqlite3
from datetime import datetime
from pathlib import Path

import orjson

from backbone.contracts.search import Facets, SearchHit, SearchResult, Suggestion, VenueFacet, YearFacet
from backbone.events import PaperSnapshot
from backbone.sqlite import connect, split_sql, transaction
from backbone.venues import fold
from services.search.domain.document import SearchDoc
from services.search.domain.query import Clause, ParsedQuery

# bm25 weights, in FTS column order: title, authors, keywords, abstract, body.
WEIGHTS = (10.0, 4.0, 3.0, 2.0, 1.0)
MARK_OPEN, MARK_CLOSE = "\ue000", "\ue001"  # private-use characters, stripped from indexed text
SNIPPET_TOKENS = 28
BROWSE_SNIPPET_CHARS = 240
FACET_LIMIT = 20

_SCHEMA = """
CREATE TABLE IF NOT EXISTS docs{s} (
    rowid INTEGER PRIMARY KEY,
    summary_id TEXT NOT NULL UNIQUE,
    paper_id TEXT NOT NULL,
    title TEXT NOT NULL,
    authors TEXT NOT NULL,
    keywords TEXT NOT NULL,
    abstract TEXT NOT NULL,
    body TEXT NOT NULL,
    authors_json TEXT NOT NULL,
    keywords_json TEXT NOT NULL,
    venue TEXT,
    venue_key TEXT,
    year INTEGER,
    author_key TEXT,
    author_username TEXT,
    score INTEGER NOT NULL,
    created_at TEXT NOT NULL,
    version INTEGER NOT NULL,
    paper_version INTEGER NOT NULL,
    visible INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS docs{s}_paper ON docs{s}(paper_id);
CREATE INDEX IF NOT EXISTS docs{s}_newest ON docs{s}(visible, created_at);
CREATE INDEX IF NOT EXISTS docs{s}_score ON docs{s}(visible, score);
CREATE INDEX IF NOT EXISTS docs{s}_venue ON docs{s}(venue_key, year);
CREATE VIRTUAL TABLE IF NOT EXISTS docs{s}_fts USING fts5(
    title, authors, keywords, abstract, body,
    tokenize='porter unicode61 remove_diacritics 2'
);
CREATE VIRTUAL TABLE IF NOT EXISTS words{s}_fts USING fts5(
    words, content='', detail='none', tokenize='unicode61 remove_diacritics 2'
);
CREATE VIRTUAL TABLE IF NOT EXISTS words{s}_vocab USING fts5vocab(words{s}_fts, 'row');
CREATE TRIGGER IF NOT EXISTS docs{s}_ai AFTER INSERT ON docs{s} WHEN new.visible = 1 BEGIN
    INSERT INTO docs{s}_fts(rowid, title, authors, keywords, abstract, body)
    VALUES (new.rowid, new.title, new.authors, new.keywords, new.abstract, new.body);
    INSERT INTO words{s}_fts(rowid, words) VALUES (new.rowid, {new_words});
END;
CREATE TRIGGER IF NOT EXISTS docs{s}_ad AFTER DELETE ON docs{s} BEGIN
    DELETE FROM docs{s}_fts WHERE rowid = old.rowid;
    INSERT INTO words{s}_fts(words{s}_fts, rowid, words) SELECT 'delete', old.rowid, {old_words} WHERE old.visible = 1;
END;
CREATE TRIGGER IF NOT EXISTS docs{s}_au AFTER UPDATE ON docs{s} BEGIN
    DELETE FROM docs{s}_fts WHERE rowid = old.rowid;
    INSERT INTO docs{s}_fts(rowid, title, authors, keywords, abstract, body)
    SELECT new.rowid, new.title, new.authors, new.keywords, new.abstract, new.body WHERE new.visible = 1;
    INSERT INTO words{s}_fts(words{s}_fts, rowid, words) SELECT 'delete', old.rowid, {old_words} WHERE old.visible = 1;
    INSERT INTO words{s}_fts(rowid, words) SELECT new.rowid, {new_words} WHERE new.visible = 1;
END;
CREATE TABLE IF NOT EXISTS papers{s} (
    rowid INTEGER PRIMARY KEY,
    paper_id TEXT NOT NULL UNIQUE,
    title TEXT NOT NULL,
    snapshot TEXT NOT NULL,
    version INTEGER NOT NULL
);
CREATE VIRTUAL TABLE IF NOT EXISTS titles{s}_fts USING fts5(
    title, tokenize='unicode61 remove_diacritics 2', prefix='2 3 4'
);
CREATE TRIGGER IF NOT EXISTS papers{s}_ai AFTER INSERT ON papers{s} BEGIN
    INSERT INTO titles{s}_fts(rowid, title) VALUES (new.rowid, new.title);
END;
CREATE TRIGGER IF NOT EXISTS papers{s}_au AFTER UPDATE OF title ON papers{s} BEGIN
    DELETE FROM titles{s}_fts WHERE rowid = old.rowid;
    INSERT INTO titles{s}_fts(rowid, title) VALUES (new.rowid, new.title);
END;
"""

_TABLES = ("docs{s}", "docs{s}_fts", "words{s}_fts", "papers{s}", "titles{s}_fts")
_VOCABS = ("words{s}_vocab",)  # name their table, so they are dropped and made again, never renamed
PREFIX_EXPANSIONS = 32  # whole words a prefix is expanded to, at most
MIN_EXPANDED_PREFIX = 3  # a shorter prefix misses only words porter cuts to one character
_INDEXES = ("docs{s}_paper", "docs{s}_newest", "docs{s}_score", "docs{s}_venue")
_TRIGGERS = ("docs{s}_ai", "docs{s}_ad", "docs{s}_au", "papers{s}_ai", "papers{s}_au")


def _words_of(row: str) -> str:
    """The text of a docs row (`new` or `old` in a trigger) for the unstemmed words table."""
    return " || ' ' || ".join(f"{row}.{c}" for c in ("title", "authors", "keywords", "abstract", "body"))


def _schema(suffix: str) -> str:
    return _SCHEMA.format(s=suffix, new_words=_words_of("new"), old_words=_words_of("old"))


def _clean(text: str) -> str:
    return text.replace(MARK_OPEN, "").replace(MARK_CLOSE, "")


def compile_clause(clause: Clause) -> str:
    """FTS5 syntax for one clause; words are \\w-only, so quoting them is always safe."""
    quoted = '"' + " ".join(clause.words) + '"'
    return quoted + "*" if clause.prefix else quoted


def compile_match(clauses, compile=compile_clause) -> str:
    """All clauses must match. FTS5 joins only bare phrases implicitly, so the AND is spelled
    out (an expanded prefix is a parenthesised OR)."""
    return " AND ".join(compile(c) for c in clauses)


def render_snippet(raw: str) -> str:
    """Escape everything, then turn the engine's private markers into <mark>."""
    return html.escape(raw, quote=False).replace(MARK_OPEN, "<mark>").replace(MARK_CLOSE, "</mark>")


def _doc(row: sqlite3.Row) -> SearchDoc:
    return SearchDoc(
        summary_id=row["summary_id"], paper_id=row["paper_id"], title=row["title"],
        authors=orjson.loads(row["authors_json"]), venue=row["venue"], venue_key=row["venue_key"], year=row["year"],
        abstract=row["abstract"], keywords=orjson.loads(row["keywords_json"]), body=row["body"],
        author_username=row["author_username"], score=row["score"], created_at=datetime.fromisoformat(row["created_at"]),
        version=row["version"], paper_version=row["paper_version"],
    )


class Fts5Index:
    def __init__(self, path: Path | str, *, suffix: str = "", conn: sqlite3.Connection | None = None) -> None:
        self.path = path
        self.suffix = suffix
        self._conn = conn
        self._owns_conn = conn is None

    def t(self, name: str) -> str:
        """A table name of this index's set (the live one, or the `_next` shadow)."""
        if name.endswith("_fts"):
            return f"{name[:-4]}{self.suffix}_fts"
        return f"{name}{self.suffix}"

    async def start(self) -> None:
        if self._conn is None:
            self._conn = connect(self.path)
        self._create()

    def _exists(self, name: str) -> bool:
        return self.conn.execute("SELECT 1 FROM sqlite_master WHERE name=?", (name,)).fetchone() is not None

    def _create(self) -> None:
        with transaction(self.conn):
            # An index made before the words table existed: its triggers are replaced and
            # the words of its visible rows copied in.
            backfill = self._exists(self.t("docs")) and not self._exists(self.t("words_fts"))
            if backfill:
                for name in _TRIGGERS[:3]:
                    self.conn.execute(f"DROP TRIGGER IF EXISTS {name.format(s=self.suffix)}")
            for statement in split_sql(_schema(self.suffix)):
                self.conn.execute(statement)
            if backfill:
                self.conn.execute(
                    f"INSERT INTO {self.t('words_fts')}(rowid, words)"
                    f" SELECT rowid, {_words_of(self.t('docs'))} FROM {self.t('docs')} WHERE visible = 1"
                )

    async def close(self) -> None:
        if self._conn is not None and self._owns_conn:
            self._conn.close()
        self._conn = None

    @property
    def conn(self) -> sqlite3.Connection:
        assert self._conn is not None, "index not started"
        return self._conn

    async def ping(self) -> bool:
        return self.conn.execute("SELECT 1").fetchone() is not None

    # -- writes -----------------------------------------------------------------------

    async def upsert(self, doc: SearchDoc, *, force: bool = False) -> bool:
        values = (
            doc.paper_id, _clean(doc.title), _clean(" ; ".join(doc.authors)), _clean(" ; ".join(doc.keywords)),
            _clean(doc.abstract), _clean(doc.body), orjson.dumps(doc.authors).decode(),
            orjson.dumps(doc.keywords).decode(), doc.venue, doc.venue_key, doc.year,
            doc.author_username.casefold() if doc.author_username else None, doc.author_username, doc.score, doc.created_at.isoformat(),
            doc.version, doc.paper_version, doc.summary_id,
        )
        with transaction(self.conn):
            cur = self.conn.execute(
                f"UPDATE {self.t('docs')} SET paper_id=?, title=?, authors=?, keywords=?, abstract=?, body=?,"
                " authors_json=?, keywords_json=?, venue=?, venue_key=?, year=?, author_key=?, author_username=?, score=?,"
                " created_at=?,"
                " version=?, paper_version=?, visible=1 WHERE summary_id=? AND (version<? OR ?)",
                (*values, doc.version, force),
            )
            if cur.rowcount:
                return True
            cur = self.conn.execute(
                f"INSERT OR IGNORE INTO {self.t('docs')}(paper_id, title, authors, keywords, abstract, body,"
                " authors_json, keywords_json, venue, venue_key, year, author_key, author_username, score, created_at,"
                " version, paper_version, summary_id, visible) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,1)",
                values,
            )
            return cur.rowcount == 1

    async def remove(self, summary_id: str, version: int, *, force: bool = False) -> bool:
        with transaction(self.conn):
            cur = self.conn.execute(
                # A tombstone keeps the id and version only: the text of a private or
                # deleted summary does not stay behind in the search file.
                f"UPDATE {self.t('docs')} SET visible=0, version=?, title='', authors='', keywords='', abstract='',"
                " body='', authors_json='[]', keywords_json='[]', author_key=NULL, author_username=NULL"
                " WHERE summary_id=? AND (version<? OR ?)",
                (version, summary_id, version, force),
            )
            if cur.rowcount:
                return True
            cur = self.conn.execute(
                f"INSERT OR IGNORE INTO {self.t('docs')}(summary_id, paper_id, title, authors, keywords, abstract,"
                " body, authors_json, keywords_json, score, created_at, version, paper_version, visible)"
                " VALUES (?, '', '', '', '', '', '', '[]', '[]', 0, '1970-01-01T00:00:00+00:00', ?, 0, 0)",
                (summary_id, version),
            )
            return cur.rowcount == 1

    async def get_paper(self, paper_id: str) -> PaperSnapshot | None:
        row = self.conn.execute(f"SELECT snapshot FROM {self.t('papers')} WHERE paper_id=?", (paper_id,)).fetchone()
        return PaperSnapshot.model_validate_json(row[0]) if row else None

    async def upsert_paper(self, paper: PaperSnapshot) -> bool:
        snapshot = paper.model_dump_json()
        with transaction(self.conn):
            cur = self.conn.execute(
                f"UPDATE {self.t('papers')} SET title=?, snapshot=?, version=? WHERE paper_id=? AND version<?",
                (_clean(paper.title), snapshot, paper.version, paper.paper_id, paper.version),
            )
            if not cur.rowcount:
                cur = self.conn.execute(
                    f"INSERT OR IGNORE INTO {self.t('papers')}(paper_id, title, snapshot, version) VALUES (?,?,?,?)",
                    (paper.paper_id, _clean(paper.title), snapshot, paper.version),
                )
                if not cur.rowcount:
                    return False
            self.conn.execute(
                f"UPDATE {self.t('docs')} SET title=?, authors=?, keywords=?, abstract=?, authors_json=?,"
                " keywords_json=?, venue=?, venue_key=?, year=?, paper_version=?"
                " WHERE paper_id=? AND paper_version<? AND visible=1",
                (_clean(paper.title), _clean(" ; ".join(paper.authors)), _clean(" ; ".join(paper.keywords)),
                 _clean(paper.abstract), orjson.dumps(paper.authors).decode(), orjson.dumps(paper.keywords).decode(),
                 paper.venue, paper.venue_key, paper.year, paper.version, paper.paper_id, paper.version),
            )
        return True

    # -- reads ------------------------------------------------------------------------

    def _filters(self, venues, year_from, year_to, author, must_not) -> tuple[list[str], list]:
        where, args = ["d.visible=1"], []
        if venues:
            where.append(f"d.venue_key IN ({','.join('?' * len(venues))})")
            args += venues
        if year_from is not None:
            where.append("d.year>=?")
            args.append(year_from)
        if year_to is not None:
            where.append("d.year<=?")
            args.append(year_to)
        if author:
            where.append("d.author_key=?")
            args.append(author.casefold())
        if must_not:
            where.append(f"d.rowid NOT IN (SELECT rowid FROM {self.t('docs_fts')} WHERE {self.t('docs_fts')} MATCH ?)")
            args.append(" OR ".join(self._compile(c) for c in must_not))
        return where, args

    def _compile(self, clause: Clause) -> str:
        """A clause in FTS5 syntax, a prefix expanded to the whole words it begins."""
        prefix = fold(clause.words[0])  # as unicode61 with remove_diacritics stores words
        if not clause.prefix or clause.is_phrase or len(prefix) < MIN_EXPANDED_PREFIX:
            return compile_clause(clause)
        # In term order, so the scan stops at the limit; a prefix long enough to need the
        # expansion rarely begins more words than that.
        rows = self.conn.execute(
            f"SELECT term FROM {self.t('words_vocab')} WHERE term >= ? AND term < ? LIMIT ?",
            (prefix, prefix + "\U0010ffff", PREFIX_EXPANSIONS),
        ).fetchall()
        words = ['"' + term.replace('"', '""') + '"' for (term,) in rows]
        return "(" + " OR ".join([compile_clause(clause), *words]) + ")" if words else compile_clause(clause)

    async def search(
        self, query: ParsedQuery, *, venues: list[str], year_from: int | None, year_to: int | None,
        author: str | None, sort: str, offset: int, limit: int,
    ) -> SearchResult:
        fts = self.t("docs_fts")
        where, args = self._filters(venues, year_from, year_to, author, query.must_not)
        if query.must:
            source = f"{fts} JOIN {self.t('docs')} d ON d.rowid = {fts}.rowid"
            where.insert(0, f"{fts} MATCH ?")
            args.insert(0, compile_match(query.must, self._compile))
            snippet = f"snippet({fts}, 4, '{MARK_OPEN}', '{MARK_CLOSE}', '…', {SNIPPET_TOKENS})"
            rank = f"bm25({fts}, {', '.join(map(str, WEIGHTS))})"
        else:
            source = f"{self.t('docs')} d"
            snippet = f"substr(d.body, 1, {BROWSE_SNIPPET_CHARS + 1})"  # one more, so _clip sees a cut
            rank = "0"
            if sort == "relevance":
                sort = "newest"
        order = {"relevance": "rank, d.created_at DESC", "newest": "d.created_at DESC, d.rowid DESC",
                 "score": "d.score DESC, d.created_at DESC"}[sort]
        clause = " AND ".join(where)
        rows = self.conn.execute(
            f"SELECT d.summary_id, d.paper_id, d.title, d.authors_json, d.venue, d.year, d.score, d.created_at,"
            f" {snippet} AS snip, {rank} AS rank FROM {source} WHERE {clause} ORDER BY {order} LIMIT ? OFFSET ?",
            (*args, limit, offset),
        ).fetchall()
        groups = self.conn.execute(
            f"SELECT d.venue_key, MAX(d.venue), d.year, COUNT(*) FROM {source} WHERE {clause}"
            " GROUP BY d.venue_key, d.year",
            args,
        ).fetchall()
        total, by_venue, by_year = 0, {}, {}
        for venue_key, venue, year, n in groups:
            total += n
            if venue_key is not None:
                name, count = by_venue.get(venue_key, (venue, 0))
                by_venue[venue_key] = (name or venue, count + n)
            if year is not None:
                by_year[year] = by_year.get(year, 0) + n
        venue_facets = sorted(by_venue.items(), key=lambda kv: (-kv[1][1], kv[0]))[:FACET_LIMIT]
        year_facets = sorted(by_year.items(), key=lambda kv: -kv[0])[:FACET_LIMIT]
        hits = [
            SearchHit(
                summary_id=r[0], paper_id=r[1], title=r[2], authors=orjson.loads(r[3]), venue=r[4], year=r[5],
                score=r[6], created_at=datetime.fromisoformat(r[7]),
                snippet=render_snippet(r[8] if query.must else _clip(r[8])),
            )
            for r in rows
        ]
        return SearchResult(
            total=total,
            page=offset // limit + 1,
            size=limit,
            hits=hits,
            facets=Facets(
                venue=[VenueFacet(key=k, name=name or k, count=n) for k, (name, n) in venue_facets],
                year=[YearFacet(value=y, count=n) for y, n in year_facets],
            ),
        )

    async def suggest(self, words: list[str], limit: int) -> list[Suggestion]:
        if not words:
            return []
        match = " ".join(f'"{w}"' for w in words[:-1]) + f' "{words[-1]}"*'
        fts = self.t("titles_fts")
        rows = self.conn.execute(
            f"SELECT p.paper_id, p.title FROM {fts} JOIN {self.t('papers')} p ON p.rowid = {fts}.rowid"
            # Every paper, summarised or not: a suggestion leads to the paper's page,
            # where one can also write its first summary.
            f" WHERE {fts} MATCH ? ORDER BY rank LIMIT ?",
            (match, limit),
        ).fetchall()
        return [Suggestion(paper_id=r[0], title=r[1]) for r in rows]

    async def versions(self) -> dict[str, tuple[int, bool]]:
        rows = self.conn.execute(f"SELECT summary_id, version, visible FROM {self.t('docs')}").fetchall()
        return {r[0]: (r[1], bool(r[2])) for r in rows}

    async def get_doc(self, summary_id: str) -> SearchDoc | None:
        row = self.conn.execute(
            f"SELECT * FROM {self.t('docs')} WHERE summary_id=? AND visible=1", (summary_id,)
        ).fetchone()
        return _doc(row) if row else None

    async def count(self) -> int:
        return self.conn.execute(f"SELECT COUNT(*) FROM {self.t('docs')} WHERE visible=1").fetchone()[0]

    # -- rebuilds ---------------------------------------------------------------------

    def _drop(self, suffix: str) -> None:
        for name in _VOCABS + _TABLES:
            self.conn.execute(f"DROP TABLE IF EXISTS {name.format(s=suffix)}")

    async def shadow(self) -> "Fts5Index":
        with transaction(self.conn):
            self._drop("_next")
        shadow = Fts5Index(self.path, suffix="_next", conn=self.conn)
        shadow._create()
        return shadow

    async def swap_in(self, shadow: "Fts5Index") -> None:
        """One transaction: drop the live tables, rename the shadow's into their place.
        Readers see the old index or the new one, never a mix or nothing."""
        with transaction(self.conn):
            self._drop(self.suffix)
            for name in _TRIGGERS:
                self.conn.execute(f"DROP TRIGGER IF EXISTS {name.format(s=shadow.suffix)}")
            for name in _INDEXES:
                self.conn.execute(f"DROP INDEX IF EXISTS {name.format(s=shadow.suffix)}")
            for name in _VOCABS:
                self.conn.execute(f"DROP TABLE IF EXISTS {name.format(s=shadow.suffix)}")
            for name in _TABLES:
                self.conn.execute(
                    f"ALTER TABLE {name.format(s=shadow.suffix)} RENAME TO {name.format(s=self.suffix)}"
                )
            for statement in split_sql(_schema(self.suffix)):
                self.conn.execute(statement)


def _clip(text: str, limit: int = BROWSE_SNIPPET_CHARS) -> str:
    if len(text) <= limit:
        return text
    cut = text.rfind(" ", 0, limit)
    return text[: cut if cut > 0 else limit] + "…"
