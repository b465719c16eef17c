"""The embedded search engine: SQLite FTS5 in the search service's own file.

- `docs` holds one narrow row per summary the index has heard of: ids, versions and what
  filters, sorts, facets and ranking bounds read (venue, year, author, score, a facet
  code, token statistics). A query matching most of the corpus looks up only these small
  rows, which stay in the page cache. Rows of summaries that are not public stay as
  tombstones (visible=0, no text) so a stale event can never bring a summary back.
- `docs_fts` holds the text of the visible summaries and nothing else: the indexed
  columns and, unindexed, what a hit shows. Text is read for the hits of a page only.
- Ranking is bm25 with column weights: the title above authors and keywords, above the
  abstract, above the summary text. bm25 costs about half a microsecond per matching
  row, too much for a word in most summaries, so such a query is ranked exactly in two
  steps: the most recently indexed few thousand matches give a score the page must
  reach, and only the summaries whose upper bound (from their token statistics, see
  fts5_tokens.py) reaches it are scored.
- Facet counts are one pass over the matched rows that concatenates their facet codes,
  counted in Python (a GROUP BY would sort them first), on a second connection in a
  worker thread while the first ranks.
- A prefix (`attentio*`) is matched by FTS5's own prefix query, which stems the prefix
  like a word (FTS5 keeps the stems' 3- and 4-character prefixes, so a short one reads
  one list, not hundreds), plus the whole words it begins whose stems do not begin like
  it: the porter table indexes "attention" as "attent", which "attentio" is not a prefix
  of. Those words come from the unstemmed words of the visible rows (a contentless FTS5
  table read through fts5vocab). A query of prefixes alone is not ranked by relevance,
  as Elasticsearch gives prefix queries a constant score: its matches come most recently
  indexed first.
- A rebuild fills a second set of tables (suffix `_next`) in large transactions and swaps
  them in with ALTER TABLE ... RENAME inside one transaction.
"""

from __future__ import annotations

import asyncio
import hashlib
import html
import sqlite3
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager, contextmanager
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from pathlib import Path

import orjson

from backbone.contracts.search import Facets, SearchHit, SearchResult, Suggestion, VenueFacet, YearFacet
from backbone.events import PaperSnapshot
from backbone.sqlite import connect, split_sql, transaction
from backbone.venues import fold
from services.search.domain.document import SearchDoc
from services.search.adapters import fts5_tokens as tokens
from services.search.domain.query import Clause, ParsedQuery

# The columns of docs_fts: what a hit shows and get_doc returns (unindexed), then the
# indexed text. Small columns first, so reading them never walks a long body.
SHOWN = ("authors_json", "keywords_json", "author_username", "created_at")
INDEXED = ("title", "authors", "keywords", "abstract", "body")
# bm25 weights, in column order: nothing for the unindexed columns, then the title above
# the authors and keywords, above the abstract, above the summary text.
INDEXED_WEIGHTS = (10, 4, 3, 2, 1)
WEIGHTS = (0,) * len(SHOWN) + INDEXED_WEIGHTS
BODY_COLUMN = len(SHOWN) + INDEXED.index("body")
MARK_OPEN, MARK_CLOSE = "\ue000", "\ue001"  # private-use characters, stripped from indexed text
SNIPPET_TOKENS = 28
BROWSE_SNIPPET_CHARS = 240
FACET_LIMIT = 20
PREFIX_EXPANSIONS = 32  # whole words added to a prefix query, at most
PREFIX_WORDS_READ = 256  # words read (in order) to find them: porter cuts into long prefixes, which begin few words
MIN_EXPANDED_PREFIX = 3  # a shorter prefix misses only words porter cuts to one or two characters
LONGEST_PORTER_CUT = 12  # characters porter takes off a word, at most ("generalizations" -> "gener" is 10)
SUGGEST_CANDIDATES = 500  # titles ranked for a suggestion: the newest papers matching the prefix
CACHE_KIB = 65_536  # page cache of each search connection: the narrow rows and the hot doclists
PRUNE_ABOVE = 5_000  # a word in more summaries than this is ranked in two steps
PRUNE_SAMPLE = 6_000  # the most recently indexed summaries, which give the first step's score
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_FACET_BASE = 0x100  # facet codes are characters from here on, skipping the surrogates
_SCHEMA = """
CREATE TABLE IF NOT EXISTS docs{s} (
    rowid INTEGER PRIMARY KEY,
    facet TEXT NOT NULL,
    tokens INTEGER,
    top_weight INTEGER,
    created INTEGER NOT NULL,
    score INTEGER NOT NULL,
    visible INTEGER NOT NULL,
    venue_key TEXT,
    year INTEGER,
    author_key TEXT,
    version INTEGER NOT NULL,
    paper_version INTEGER NOT NULL,
    text_hash INTEGER NOT NULL,
    venue TEXT,
    paper_id TEXT NOT NULL,
    summary_id TEXT NOT NULL UNIQUE
);
CREATE INDEX IF NOT EXISTS docs{s}_paper ON docs{s}(paper_id);
CREATE INDEX IF NOT EXISTS docs{s}_newest ON docs{s}(visible, created);
CREATE INDEX IF NOT EXISTS docs{s}_score ON docs{s}(visible, score, created);
CREATE INDEX IF NOT EXISTS docs{s}_venue ON docs{s}(venue_key, year);
CREATE INDEX IF NOT EXISTS docs{s}_author ON docs{s}(author_key);
CREATE TABLE IF NOT EXISTS facets{s} (
    id INTEGER PRIMARY KEY,
    ident TEXT NOT NULL UNIQUE,
    venue_key TEXT,
    venue TEXT,
    year INTEGER
);
CREATE VIRTUAL TABLE IF NOT EXISTS docs{s}_fts USING fts5(
    {columns},
    tokenize='{tokenizer}', prefix='3 4'
);
CREATE VIRTUAL TABLE IF NOT EXISTS docs{s}_vocab USING fts5vocab(docs{s}_fts, 'row');
CREATE VIRTUAL TABLE IF NOT EXISTS words{s}_fts USING fts5(
    words, content='', detail='none', tokenize='unicode61 remove_diacritics 2'
);
CREATE VIRTUAL TABLE IF NOT EXISTS words{s}_vocab USING fts5vocab(words{s}_fts, 'row');
CREATE TRIGGER IF NOT EXISTS docs{s}_ad AFTER DELETE ON docs{s} BEGIN
    INSERT INTO words{s}_fts(words{s}_fts, rowid, words)
    SELECT 'delete', rowid, {words} FROM docs{s}_fts WHERE rowid = old.rowid;
    DELETE FROM docs{s}_fts WHERE rowid = old.rowid;
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
"""

_TABLES = ("docs{s}", "facets{s}", "docs{s}_fts", "words{s}_fts", "papers{s}", "titles{s}_fts")
_VOCABS = ("docs{s}_vocab", "words{s}_vocab")  # name their table: dropped and made again, never renamed
_INDEXES = ("docs{s}_paper", "docs{s}_newest", "docs{s}_score", "docs{s}_venue", "docs{s}_author")
_TRIGGERS = ("docs{s}_ad",)
# Of earlier layouts. Writes in a rebuild avoid statements that open a statement journal
# (triggers, INSERT ... SELECT, RETURNING): each one makes FTS5 flush its pending terms
# as a new segment.
_OLD_TRIGGERS = ("docs{s}_ai", "docs{s}_au", "papers{s}_ai", "papers{s}_au")
_WORDS_OF_ROW = " || ' ' || ".join(INDEXED)  # a docs_fts row's text, for the unstemmed words table


def _schema(suffix: str) -> str:
    columns = ", ".join([f"{c} UNINDEXED" for c in SHOWN] + list(INDEXED))
    return _SCHEMA.format(s=suffix, columns=columns, words=_WORDS_OF_ROW, tokenizer=tokens.TOKENIZER)


@lru_cache(maxsize=8192)
def _snapshot(stored: str) -> PaperSnapshot:
    """Parse each stored paper once: many summaries share a paper, and snapshots are immutable."""
    return PaperSnapshot.model_validate_json(stored)


def _clean(text: str) -> str:
    return text.replace(MARK_OPEN, "").replace(MARK_CLOSE, "")


def _micros(moment: datetime) -> int:
    """A sortable instant; a naive time is taken as UTC."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return (moment - EPOCH) // timedelta(microseconds=1)


def _facet_char(facet_id: int) -> str:
    code = _FACET_BASE + facet_id
    return chr(code if code < 0xD800 else code + 0x800)


def _facet_id(char: str) -> int:
    code = ord(char)
    return (code if code < 0xD800 else code - 0x800) - _FACET_BASE


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


def _texts(doc: SearchDoc) -> tuple:
    """The docs_fts columns of a document, in order."""
    return (
        orjson.dumps(doc.authors).decode(), orjson.dumps(doc.keywords).decode(), doc.author_username,
        doc.created_at.isoformat(), _clean(doc.title), _clean(" ; ".join(doc.authors)),
        _clean(" ; ".join(doc.keywords)), _clean(doc.abstract), _clean(doc.body),
    )


def _text_hash(texts: tuple) -> int:
    """Tells whether an update changes the text (a vote does not), so only then is it re-indexed."""
    joined = "\x1f".join("\x00" if t is None else t for t in texts)
    return int.from_bytes(hashlib.blake2b(joined.encode(), digest_size=8).digest(), "big", signed=True)


class Fts5Index:
    def __init__(self, path: Path | str, *, suffix: str = "", conn: sqlite3.Connection | None = None) -> None:
        self.path = path
        self.suffix = suffix
        self._conn = conn
        self._owns_conn = conn is None
        self._bulk = False
        # Facet counts run on a connection of their own in this thread, beside the ranking.
        self._facet_pool: ThreadPoolExecutor | None = None
        self._facet_conn: sqlite3.Connection | None = None
        # Facets are counted on a second connection while this one ranks. No write of this
        # process may commit in between, or the two would read different snapshots (seen in
        # CI: a total of 2 with no hits): searches and writes take turns through this gate.
        self._gate: asyncio.Lock | None = None

    def t(self, name: str) -> str:
        """A table name of this index's set (the live one, or the `_next` shadow)."""
        if name.endswith("_fts") or name.endswith("_vocab"):
            stem, _, kind = name.rpartition("_")
            return f"{stem}{self.suffix}_{kind}"
        return f"{name}{self.suffix}"

    def _connect(self) -> sqlite3.Connection:
        conn = connect(self.path)
        conn.execute(f"PRAGMA cache_size=-{CACHE_KIB}")
        return conn

    async def start(self) -> None:
        if self._conn is None:
            self._conn = self._connect()
        self._create()
        if self._owns_conn and str(self.path) != ":memory:":
            self._facet_pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="search-facets")

    def _create(self) -> None:
        with transaction(self.conn):
            old = self._old_layout()
            for name in _OLD_TRIGGERS:
                self.conn.execute(f"DROP TRIGGER IF EXISTS {name.format(s=self.suffix)}")
            for statement in split_sql(_schema(self.suffix)):
                self.conn.execute(statement)
            if old is not None:
                self._write_old(old)

    def _old_layout(self) -> list[sqlite3.Row] | None:
        """An index of the earlier layout (its text in `docs`, its rowids in insertion
        order): its rows, with its tables dropped, so they can be written again."""
        columns = {r[1] for r in self.conn.execute(f"PRAGMA table_info({self.t('docs')})")}
        if "body" not in columns:
            return None
        rows = self.conn.execute(f"SELECT * FROM {self.t('docs')}").fetchall()
        self.conn.execute(f"DROP TRIGGER IF EXISTS {_TRIGGERS[0].format(s=self.suffix)}")
        for name in _VOCABS + ("docs{s}", "facets{s}", "docs{s}_fts", "words{s}_fts"):
            self.conn.execute(f"DROP TABLE IF EXISTS {name.format(s=self.suffix)}")
        return rows

    def _write_old(self, rows: list[sqlite3.Row]) -> None:
        for row in rows:
            if not row["visible"]:
                self._remove(row["summary_id"], row["version"], force=True)
                continue
            self._upsert(SearchDoc(
                summary_id=row["summary_id"], paper_id=row["paper_id"], title=row["title"],
                authors=orjson.loads(row["authors_json"]), venue=row["venue"], venue_key=row["venue_key"],
                year=row["year"], abstract=row["abstract"], keywords=orjson.loads(row["keywords_json"]),
                body=row["body"], author_username=row["author_username"], score=row["score"],
                created_at=datetime.fromisoformat(row["created_at"]), version=row["version"],
                paper_version=row["paper_version"],
            ), force=True)

    async def close(self) -> None:
        if self._facet_pool is not None:
            self._facet_pool.shutdown(wait=True)
            self._facet_pool = None
        if self._facet_conn is not None:
            self._facet_conn.close()
            self._facet_conn = None
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

    @contextmanager
    def _writing(self):
        """One transaction per write, or none inside `bulk()`: a savepoint per write would
        make FTS5 flush its pending terms as a new segment every time."""
        if self._bulk:
            yield
        else:
            with transaction(self.conn):
                yield

    def _facet(self, venue_key: str | None, venue: str | None, year: int | None) -> str:
        ident = orjson.dumps([venue_key, venue, year]).decode()
        row = self.conn.execute(f"SELECT id FROM {self.t('facets')} WHERE ident=?", (ident,)).fetchone()
        if row is None:
            return _facet_char(self.conn.execute(
                f"INSERT INTO {self.t('facets')}(ident, venue_key, venue, year) VALUES (?,?,?,?)",
                (ident, venue_key, venue, year),
            ).lastrowid)
        return _facet_char(row[0])

    def _index_text(self, rowid: int, texts: tuple) -> None:
        fts, words = self.t("docs_fts"), self.t("words_fts")
        self.conn.execute(
            f"INSERT INTO {fts}(rowid, {', '.join(SHOWN + INDEXED)}) VALUES (?{',?' * len(texts)})", (rowid, *texts)
        )
        self.conn.execute(f"INSERT INTO {words}(rowid, words) VALUES (?, ?)", (rowid, " ".join(texts[len(SHOWN):])))

    def _unindex_text(self, rowid: int) -> None:
        fts, words = self.t("docs_fts"), self.t("words_fts")
        held = self.conn.execute(f"SELECT {_WORDS_OF_ROW} FROM {fts} WHERE rowid = ?", (rowid,)).fetchone()
        if held is None:
            return
        self.conn.execute(f"INSERT INTO {words}({words}, rowid, words) VALUES ('delete', ?, ?)", (rowid, held[0]))
        self.conn.execute(f"DELETE FROM {fts} WHERE rowid = ?", (rowid,))

    def _upsert(self, doc: SearchDoc, *, force: bool) -> bool:
        docs = self.t("docs")
        held = self.conn.execute(
            f"SELECT rowid, version, visible, text_hash FROM {docs} WHERE summary_id=?", (doc.summary_id,)
        ).fetchone()
        if held is not None and not (held[1] < doc.version or force):
            return False
        texts = _texts(doc)
        text_hash = _text_hash(texts)
        narrow = (
            doc.paper_id, doc.venue, doc.venue_key, doc.year,
            doc.author_username.casefold() if doc.author_username else None, doc.score, _micros(doc.created_at),
            doc.version, doc.paper_version, self._facet(doc.venue_key, doc.venue, doc.year), text_hash,
        )
        if held is None:
            rowid = self.conn.execute(
                f"INSERT INTO {docs}(paper_id, venue, venue_key, year, author_key, score, created, version,"
                " paper_version, facet, text_hash, tokens, top_weight, summary_id, visible)"
                " VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,1)",
                (*narrow, *tokens.token_stats(texts[len(SHOWN):], INDEXED_WEIGHTS), doc.summary_id),
            ).lastrowid
            self._index_text(rowid, texts)
            return True
        rowid, _, visible, held_hash = held
        # A vote or a comment changes no text: the FTS row stays. Reconcile (`force`)
        # rewrites it whatever the hash says, since it repairs what the hash cannot see.
        if visible and not force and held_hash == text_hash:
            self.conn.execute(
                f"UPDATE {docs} SET paper_id=?, venue=?, venue_key=?, year=?, author_key=?, score=?, created=?,"
                " version=?, paper_version=?, facet=?, text_hash=? WHERE rowid=?",
                (*narrow, rowid),
            )
            return True
        self.conn.execute(
            f"UPDATE {docs} SET paper_id=?, venue=?, venue_key=?, year=?, author_key=?, score=?, created=?,"
            " version=?, paper_version=?, facet=?, text_hash=?, tokens=?, top_weight=?, visible=1 WHERE rowid=?",
            (*narrow, *tokens.token_stats(texts[len(SHOWN):], INDEXED_WEIGHTS), rowid),
        )
        self._unindex_text(rowid)
        self._index_text(rowid, texts)
        return True

    def _turn(self) -> asyncio.Lock:
        if self._gate is None:
            self._gate = asyncio.Lock()
        return self._gate

    async def upsert(self, doc: SearchDoc, *, force: bool = False) -> bool:
        async with self._turn():
            with self._writing():
                return self._upsert(doc, force=force)

    def _remove(self, summary_id: str, version: int, *, force: bool) -> bool:
        docs = self.t("docs")
        held = self.conn.execute(
            f"SELECT rowid, version, visible FROM {docs} WHERE summary_id=?", (summary_id,)
        ).fetchone()
        if held is None:
            self.conn.execute(
                f"INSERT INTO {docs}(summary_id, paper_id, score, created, version, paper_version, visible, facet,"
                " text_hash) VALUES (?, '', 0, 0, ?, 0, 0, '', 0)",
                (summary_id, version),
            )
            return True
        if not (held[1] < version or force):
            return False
        # A tombstone keeps the id and version only: the text of a private or deleted
        # summary does not stay behind in the search file.
        self.conn.execute(
            f"UPDATE {docs} SET visible=0, version=?, author_key=NULL, facet='', text_hash=0, tokens=NULL,"
            " top_weight=NULL WHERE rowid=?",
            (version, held[0]),
        )
        if held[2] or force:
            self._unindex_text(held[0])
        return True

    async def remove(self, summary_id: str, version: int, *, force: bool = False) -> bool:
        async with self._turn():
            with self._writing():
                return self._remove(summary_id, version, force=force)

    async def get_paper(self, paper_id: str) -> PaperSnapshot | None:
        row = self.conn.execute(f"SELECT snapshot FROM {self.t('papers')} WHERE paper_id=?", (paper_id,)).fetchone()
        return _snapshot(row[0]) if row else None

    async def upsert_paper(self, paper: PaperSnapshot) -> bool:
        async with self._turn():
            return self._upsert_paper(paper)

    def _upsert_paper(self, paper: PaperSnapshot) -> bool:
        snapshot = paper.model_dump_json()
        papers, titles, title = self.t("papers"), self.t("titles_fts"), _clean(paper.title)
        with self._writing():
            held = self.conn.execute(f"SELECT rowid, version, title FROM {papers} WHERE paper_id=?",
                                     (paper.paper_id,)).fetchone()
            if held is None:
                rowid = self.conn.execute(
                    f"INSERT INTO {papers}(paper_id, title, snapshot, version) VALUES (?,?,?,?)",
                    (paper.paper_id, title, snapshot, paper.version),
                ).lastrowid
                self.conn.execute(f"INSERT INTO {titles}(rowid, title) VALUES (?, ?)", (rowid, title))
            elif held[1] < paper.version:
                self.conn.execute(f"UPDATE {papers} SET title=?, snapshot=?, version=? WHERE rowid=?",
                                  (title, snapshot, paper.version, held[0]))
                if held[2] != title:
                    self.conn.execute(f"DELETE FROM {titles} WHERE rowid = ?", (held[0],))
                    self.conn.execute(f"INSERT INTO {titles}(rowid, title) VALUES (?, ?)", (held[0], title))
            else:
                return False
            # Every visible summary of the paper shows the newer paper (few rows: a paper
            # has a handful of summaries).
            rowids = [r[0] for r in self.conn.execute(
                f"SELECT rowid FROM {self.t('docs')} WHERE paper_id=? AND paper_version<? AND visible=1",
                (paper.paper_id, paper.version),
            )]
            for rowid in rowids:
                doc = self._doc_at(rowid)
                if doc is None:  # no text (a damaged index): reconcile or a rebuild restores it
                    continue
                self._upsert(replace(
                    doc, paper_id=paper.paper_id, title=paper.title, authors=list(paper.authors), venue=paper.venue,
                    venue_key=paper.venue_key, year=paper.year, abstract=paper.abstract,
                    keywords=list(paper.keywords), paper_version=paper.version,
                ), force=True)
        return True

    # -- reads ------------------------------------------------------------------------

    @contextmanager
    def _snapshot_read(self, conn: sqlite3.Connection | None = None):
        """The statements of one answer read one snapshot of the file."""
        conn = conn or self.conn
        if conn.in_transaction:
            yield
            return
        conn.execute("BEGIN")
        try:
            yield
        finally:
            conn.execute("COMMIT")

    @staticmethod
    def _filters(venues, year_from, year_to, author) -> tuple[list[str], list]:
        where, args = [], []
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
        return where, args

    def _compile(self, clause: Clause) -> str:
        """A clause in FTS5 syntax; a prefix with the whole words it begins that FTS5's own
        prefix query misses (their stems do not begin with the stemmed prefix)."""
        prefix = fold(clause.words[0])  # as unicode61 with remove_diacritics stores words
        if not clause.prefix or clause.is_phrase or len(prefix) < MIN_EXPANDED_PREFIX:
            return compile_clause(clause)
        # Only words at most a porter cut longer than the prefix can lose its beginning.
        # fts5vocab counts every word it reads, so the read stops after a bound.
        words = [term for (term,) in self.conn.execute(
            f"SELECT term FROM {self.t('words_vocab')} WHERE term >= ? AND term < ? LIMIT ?",
            (prefix, prefix + "\U0010ffff", PREFIX_WORDS_READ),
        ) if len(term) <= len(prefix) + LONGEST_PORTER_CUT]
        stems = tokens.stems([prefix, *words])
        stemmed_prefix, seen, extra = stems[prefix], set(), []
        for word in words:  # the first word of each stem stands for it
            stem = stems[word]
            if not stem.startswith(stemmed_prefix) and stem not in seen:
                seen.add(stem)
                extra.append('"' + word.replace('"', '""') + '"')
                if len(extra) == PREFIX_EXPANSIONS:
                    break
        return "(" + " OR ".join([compile_clause(clause), *extra]) + ")" if extra else compile_clause(clause)

    def _match(self, query: ParsedQuery) -> str:
        match = compile_match(query.must, self._compile)
        if query.must_not:  # FTS5's NOT: excluded phrases match nothing in a hit, so add nothing to bm25
            match = f"({match}) NOT ({' OR '.join(self._compile(c) for c in query.must_not)})"
        return match

    async def search(
        self, query: ParsedQuery, *, venues: list[str], year_from: int | None, year_to: int | None,
        author: str | None, sort: str, offset: int, limit: int, facets: bool = True,
    ) -> SearchResult:
        fts, docs = self.t("docs_fts"), self.t("docs")
        where, args = self._filters(venues, year_from, year_to, author)
        filtered = bool(where)
        if query.must:
            # The match drives: FTS5 yields the matching rowids, each looked up in `docs`.
            # Only visible summaries have FTS rows.
            source = f"{fts} CROSS JOIN {docs} d ON d.rowid = {fts}.rowid"
            where.insert(0, f"{fts} MATCH ?")
            args.insert(0, self._match(query))
            if all(c.prefix for c in query.must) and sort == "relevance":
                sort = "indexed"  # prefixes alone are not ranked (see the module's docstring)
        else:
            source = f"{docs} d"
            where.append("d.visible=1")
            if query.must_not:
                where.append(f"d.rowid NOT IN (SELECT rowid FROM {fts} WHERE {fts} MATCH ?)")
                args.append(" OR ".join(self._compile(c) for c in query.must_not))
            if sort == "relevance":
                sort = "newest"
        clause = " AND ".join(where)
        async with self._turn():  # no write of this process between the two reads
            return await self._answer(query, source, clause, args, filtered, sort, offset, limit, facets)

    async def _answer(self, query, source, clause, args, filtered, sort, offset, limit, facets) -> SearchResult:
        counting = self._count_facets if facets else self._count
        count_args = (query, source, clause, args, filtered)
        pool = self._facet_pool if facets else None
        counted = asyncio.get_running_loop().run_in_executor(pool, self._on_facet_conn, counting, count_args) \
            if pool is not None else None
        try:
            with self._snapshot_read():
                page = self._ranked(query, source, clause, args, sort, offset, limit, filtered)
                if counted is None:
                    total, counts = counting(self.conn, *count_args)
                hits = self._hits(page, args[0] if query.must else None)
        except BaseException:
            if counted is not None:
                counted.cancel()
            raise
        if counted is not None:
            total, counts = await counted
        return SearchResult(total=total, page=offset // limit + 1, size=limit, hits=hits,
                            facets=self._facets(counts) if facets else Facets())

    def _on_facet_conn(self, counting, count_args):
        if self._facet_conn is None:
            self._facet_conn = self._connect()
        with self._snapshot_read(self._facet_conn):
            return counting(self._facet_conn, *count_args)

    def _count(self, conn, query, source, clause, args, filtered) -> tuple[int, Counter]:
        if query.must and not filtered:  # the FTS index alone knows
            fts = self.t("docs_fts")
            return conn.execute(f"SELECT count(*) FROM {fts} WHERE {fts} MATCH ?", args[:1]).fetchone()[0], Counter()
        return conn.execute(f"SELECT count(*) FROM {source} WHERE {clause}", args).fetchone()[0], Counter()

    def _count_facets(self, conn, query, source, clause, args, filtered) -> tuple[int, Counter]:
        codes = conn.execute(f"SELECT group_concat(d.facet, '') FROM {source} WHERE {clause}", args).fetchone()[0]
        return len(codes or ""), Counter(codes or "")

    def _ranked(self, query, source, clause, args, sort, offset, limit, filtered) -> dict[int, str | None]:
        """The rowids of the page, in order, with their snippets when they came along."""
        fts = self.t("docs_fts")
        if sort == "indexed":
            # Most recently indexed first: FTS5 walks the match backwards and stops at the
            # page's end, so the snippets cost no more than the page.
            return dict(self.conn.execute(
                f"SELECT {fts}.rowid, {self._snippet()} FROM {source} WHERE {clause}"
                f" ORDER BY {fts}.rowid DESC LIMIT ? OFFSET ?",
                (*args, limit, offset),
            ))
        if sort == "relevance":
            rank = f"bm25({fts}, {', '.join(map(str, WEIGHTS))})"
            if not filtered:
                floor = self._prune_floor(query, args[0], rank, offset + limit)
                if floor is not None:  # only the summaries that can reach the page are scored
                    clause += " AND (d.top_weight IS NULL OR d.top_weight >= ? + ? * d.tokens)"
                    args = [*args, *floor]
            order = f"{rank}, d.created DESC, d.rowid DESC"
        else:
            order = {"newest": "d.created DESC, d.rowid DESC", "score": "d.score DESC, d.created DESC, d.rowid DESC"}[sort]
        return dict.fromkeys(r[0] for r in self.conn.execute(
            f"SELECT d.rowid FROM {source} WHERE {clause} ORDER BY {order} LIMIT ? OFFSET ?", (*args, limit, offset)
        ))

    def _prune_floor(self, query: ParsedQuery, match: str, rank: str, depth: int) -> tuple[float, float] | None:
        """For a query of words found in many summaries: (a, b) such that a summary can
        only reach the first `depth` hits if its top_weight >= a + b * tokens (see
        fts5_tokens.floor): the depth-th best score among the most recently indexed
        matches is a score the page's last hit reaches at least. None when every match
        is to be scored: a prefix adds up many words, the statistics leave stopwords out,
        and a phrase's idf would first take counting its matches."""
        if any(c.prefix or c.is_phrase for c in query.must):
            return None
        fts = self.t("docs_fts")
        words = [fold(c.words[0]) for c in query.must]
        stems = tokens.stems(words)
        if any(not w.isascii() or stems[w] in tokens.stop_stems() for w in words):
            return None
        hits = []
        for word in words:
            row = self.conn.execute(f"SELECT doc FROM {self.t('docs_vocab')} WHERE term = ?", (stems[word],)).fetchone()
            hits.append(row[0] if row else 0)
        if min(hits) <= PRUNE_ABOVE:
            return None
        record = self.conn.execute(f"SELECT block FROM {fts}_data WHERE id = 1").fetchone()
        rows, total_tokens = tokens.averages(record[0]) if record else (0, 0)
        sample = self.conn.execute(
            f"SELECT rowid FROM {self.t('docs')} NOT INDEXED WHERE visible=1 ORDER BY rowid DESC LIMIT 1 OFFSET ?",
            (PRUNE_SAMPLE - 1,),
        ).fetchone()
        if rows <= 0 or sample is None:
            return None
        worst = self.conn.execute(
            f"SELECT {rank} AS r FROM {fts} WHERE {fts} MATCH ? AND rowid >= ? ORDER BY r LIMIT 1 OFFSET ?",
            (match, sample[0], depth - 1),
        ).fetchone()
        if worst is None:
            return None
        return tokens.floor(worst[0], sum(tokens.idf(rows, n) for n in hits), total_tokens / rows)

    def _facets(self, counts: Counter) -> Facets:
        """Facets from the matched rows' counts by facet code."""
        if not counts:
            return Facets()
        by_id = {_facet_id(c): n for c, n in counts.items()}
        ids = list(by_id)
        by_venue: dict[str, list] = {}
        by_year: dict[int, int] = {}
        for start in range(0, len(ids), 500):
            chunk = ids[start:start + 500]
            for facet_id, venue_key, venue, year in self.conn.execute(
                f"SELECT id, venue_key, venue, year FROM {self.t('facets')} WHERE id IN ({','.join('?' * len(chunk))})",
                chunk,
            ):
                n = by_id[facet_id]
                if venue_key is not None:
                    entry = by_venue.setdefault(venue_key, [venue, 0])
                    entry[0] = max(entry[0] or "", venue or "") or None
                    entry[1] += n
                if year is not None:
                    by_year[year] = by_year.get(year, 0) + n
        venue_facets = sorted(by_venue.items(), key=lambda kv: (-kv[1][1], kv[0]))[:FACET_LIMIT]
        year_facets = sorted(by_year.items(), key=lambda kv: -kv[0])[:FACET_LIMIT]
        return Facets(
            venue=[VenueFacet(key=k, name=name or k, count=n) for k, (name, n) in venue_facets],
            year=[YearFacet(value=y, count=n) for y, n in year_facets],
        )

    def _snippet(self) -> str:
        fts = self.t("docs_fts")
        return f"snippet({fts}, {BODY_COLUMN}, '{MARK_OPEN}', '{MARK_CLOSE}', '…', {SNIPPET_TOKENS})"

    def _hits(self, page: dict[int, str | None], match: str | None) -> list[SearchHit]:
        """The page's hits, in rank order: their text is read for them alone."""
        if not page:
            return []
        fts, docs = self.t("docs_fts"), self.t("docs")
        rowids = list(page)
        rows = {r[0]: r for r in self.conn.execute(
            f"SELECT d.rowid, d.summary_id, d.paper_id, d.venue, d.year, d.score, f.title, f.authors_json,"
            f" f.created_at, substr(f.body, 1, {BROWSE_SNIPPET_CHARS + 1})"
            f" FROM {docs} d JOIN {fts} f ON f.rowid = d.rowid WHERE d.rowid IN ({','.join('?' * len(rowids))})",
            rowids,
        )}
        if match is not None and None in page.values():
            page = {rowid: self.conn.execute(f"SELECT {self._snippet()} FROM {fts} WHERE {fts} MATCH ? AND rowid = ?",
                                             (match, rowid)).fetchone()[0] for rowid in rowids}
        hits = []
        for rowid, snippet in page.items():
            r = rows.get(rowid)
            if r is None:
                continue
            # Browsing shows the summary's beginning (one more character than shown, so _clip sees a cut).
            hits.append(SearchHit(
                summary_id=r[1], paper_id=r[2], title=r[6], authors=orjson.loads(r[7]), venue=r[3], year=r[4],
                score=r[5], created_at=datetime.fromisoformat(r[8]),
                snippet=render_snippet(_clip(r[9]) if match is None else snippet or ""),
            ))
        return hits

    async def suggest(self, words: list[str], limit: int) -> list[Suggestion]:
        if not words:
            return []
        match = " ".join(f'"{w}"' for w in words[:-1]) + f' "{words[-1]}"*'
        fts = self.t("titles_fts")
        with self._snapshot_read():
            # Ranked among the newest matching papers: a short prefix matches most titles,
            # and ranking them all would take longer than a keystroke.
            floor = self.conn.execute(
                f"SELECT rowid FROM {fts} WHERE {fts} MATCH ? ORDER BY rowid DESC LIMIT 1 OFFSET ?",
                (match, SUGGEST_CANDIDATES - 1),
            ).fetchone()
            rows = self.conn.execute(
                # Every paper, summarised or not: a suggestion leads to the paper's page,
                # where one can also write its first summary.
                f"SELECT p.paper_id, p.title FROM {fts} CROSS JOIN {self.t('papers')} p ON p.rowid = {fts}.rowid"
                f" WHERE {fts} MATCH ? AND {fts}.rowid >= ? ORDER BY rank LIMIT ?",
                (match, floor[0] if floor else 0, limit),
            ).fetchall()
        return [Suggestion(paper_id=r[0], title=r[1]) for r in rows]

    async def versions(self) -> dict[str, tuple[int, bool]]:
        rows = self.conn.execute(f"SELECT summary_id, version, visible FROM {self.t('docs')}").fetchall()
        return {r[0]: (r[1], bool(r[2])) for r in rows}

    def _doc_at(self, rowid: int) -> SearchDoc | None:
        row = self.conn.execute(
            f"SELECT d.summary_id, d.paper_id, d.venue, d.venue_key, d.year, d.score, d.version, d.paper_version,"
            f" {', '.join('f.' + c for c in SHOWN + INDEXED)}"
            f" FROM {self.t('docs')} d JOIN {self.t('docs_fts')} f ON f.rowid = d.rowid"
            " WHERE d.rowid = ? AND d.visible = 1",
            (rowid,),
        ).fetchone()
        if row is None:
            return None
        (summary_id, paper_id, venue, venue_key, year, score, version, paper_version,
         authors_json, keywords_json, author_username, created_at, title, _, _, abstract, body) = row
        return SearchDoc(
            summary_id=summary_id, paper_id=paper_id, title=title, authors=orjson.loads(authors_json), venue=venue,
            venue_key=venue_key, year=year, abstract=abstract, keywords=orjson.loads(keywords_json), body=body,
            author_username=author_username, score=score, created_at=datetime.fromisoformat(created_at),
            version=version, paper_version=paper_version,
        )

    async def get_doc(self, summary_id: str) -> SearchDoc | None:
        row = self.conn.execute(f"SELECT rowid FROM {self.t('docs')} WHERE summary_id=?", (summary_id,)).fetchone()
        return self._doc_at(row[0]) if row else None

    async def count(self) -> int:
        return self.conn.execute(f"SELECT COUNT(*) FROM {self.t('docs')} WHERE visible=1").fetchone()[0]

    # -- rebuilds ---------------------------------------------------------------------

    @asynccontextmanager
    async def bulk(self):
        """Many writes in one transaction (a rebuild's batch)."""
        if self._bulk:
            yield
            return
        with transaction(self.conn):
            self._bulk = True
            try:
                yield
            finally:
                self._bulk = False

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
