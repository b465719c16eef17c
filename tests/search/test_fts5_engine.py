"""The FTS5 engine's shortcuts give the answers the plain way gives: the two-step ranking
of words found in many summaries, the token statistics it rests on, facets counted on a
second connection, prefixes alone listed most recently indexed first, and an index of
the earlier layout (its text in `docs`) migrated in place."""

from __future__ import annotations

import random
import sqlite3
from dataclasses import replace

import pytest

from services.search.adapters import fts5
from services.search.adapters.fts5 import INDEXED, INDEXED_WEIGHTS, SHOWN, Fts5Index, _texts
from services.search.adapters.fts5_tokens import stop_stems, token_stats
from services.search.domain.query import parse_query
from tests.search.factories import make_doc, make_paper

COMMON = ("learning", "networks", "network", "graph", "attention", "models", "modelling", "training", "trains",
          "deep", "sparse", "kernels", "data")
RARE = tuple(f"term{i}" for i in range(60))
FILLER = ("the", "of", "and", "a", "in", "to", "is", "for", "that", "with", "we", "this", "are", "doing")


def sentence(rng: random.Random, n: int) -> str:
    pool = [*COMMON * 3, *RARE, *FILLER * 4]
    return " ".join(rng.choice(pool) for _ in range(n))


def corpus(n: int = 400, seed: int = 11):
    rng = random.Random(seed)
    docs = []
    for i in range(n):
        paper = make_paper(title=sentence(rng, rng.randint(2, 8)).title(), abstract=sentence(rng, rng.randint(0, 30)),
                           keywords=[rng.choice(COMMON + RARE) for _ in range(rng.randint(0, 3))],
                           venue=rng.choice(["ICLR", "CVPR", "NeurIPS"]), year=rng.randint(2015, 2024))
        paper = paper.model_copy(update={"venue_key": paper.venue.lower()})
        body = " ".join(sentence(rng, rng.randint(3, 25)) + "." for _ in range(rng.randint(1, 8)))
        body += " learning graph" * (i % 3 == 0)  # a frequent phrase
        if i % 50 == 0:  # text that is not ASCII has no statistics, and must still rank
            body += " Régularisation learning learning learning learning learning."
        docs.append(make_doc(paper=paper, body=body, minutes=rng.randint(0, 10_000), score=rng.randint(0, 9)))
    return docs


@pytest.fixture
async def index(tmp_path):
    index = Fts5Index(tmp_path / "search.db")
    await index.start()
    for doc in corpus():
        assert await index.upsert(doc)
    yield index
    await index.close()


async def page(index, q: str, *, page: int = 1, size: int = 10, facets: bool = True, venues=()):
    return await index.search(parse_query(q), venues=list(venues), year_from=None, year_to=None, author=None,
                              sort="relevance", offset=(page - 1) * size, limit=size, facets=facets)


@pytest.mark.parametrize("q", ["learning", "graph", "networks", "learning graph", "attention -sparse",
                               "deep data models"])
async def test_the_two_step_ranking_gives_the_pages_full_scoring_gives(index, monkeypatch, q):
    monkeypatch.setattr(fts5, "PRUNE_ABOVE", 20)
    monkeypatch.setattr(fts5, "PRUNE_SAMPLE", 60)
    rank = f"bm25({index.t('docs_fts')}, {', '.join(map(str, fts5.WEIGHTS))})"
    query = parse_query(q)
    floor = index._prune_floor(query, index._match(query), rank, 10)
    assert floor is not None, "the two-step ranking applies to these words"
    shortcut = [await page(index, q, page=n, size=7) for n in (1, 2, 3)]

    monkeypatch.setattr(Fts5Index, "_prune_floor", lambda *args: None)
    for n, answer in enumerate(shortcut, start=1):
        assert answer == await page(index, q, page=n, size=7), (q, n)


async def test_the_first_step_leaves_summaries_that_cannot_make_the_page_unscored(tmp_path, monkeypatch):
    # Long summaries mentioning the word once cannot outrank short ones about it.
    monkeypatch.setattr(fts5, "PRUNE_ABOVE", 20)
    monkeypatch.setattr(fts5, "PRUNE_SAMPLE", 100)
    rng = random.Random(3)
    index = Fts5Index(tmp_path / "search.db")
    await index.start()
    try:
        for i in range(400):
            if i % 4 == 0:
                doc = make_doc(paper=make_paper(title="Learning to learn"), body="learning by learning")
            else:
                doc = make_doc(paper=make_paper(title=f"Study {i}"), body=sentence(rng, 60) + " learning")
            await index.upsert(doc)
        query = parse_query("learning")
        rank = f"bm25({index.t('docs_fts')}, {', '.join(map(str, fts5.WEIGHTS))})"
        a, b = index._prune_floor(query, index._match(query), rank, 10)
        matching, scored = index.conn.execute(
            "SELECT count(*), sum(d.top_weight IS NULL OR d.top_weight >= ? + ? * d.tokens)"
            " FROM docs_fts CROSS JOIN docs d ON d.rowid = docs_fts.rowid WHERE docs_fts MATCH 'learning'",
            (a, b),
        ).fetchone()
        assert matching == 400 and scored <= 100
    finally:
        await index.close()


@pytest.mark.parametrize("q", ["the", "doing", "term1*", '"learning graph"', "learning term2*"])
async def test_stopwords_prefixes_and_phrases_are_scored_in_full(index, monkeypatch, q):
    monkeypatch.setattr(fts5, "PRUNE_ABOVE", 1)
    query = parse_query(q)
    assert index._prune_floor(query, index._match(query), "rank", 10) is None


def test_token_statistics_are_what_fts5_counts():
    conn = sqlite3.connect(":memory:")
    conn.execute(f"CREATE VIRTUAL TABLE t USING fts5({', '.join(INDEXED)}, tokenize='porter unicode61 remove_diacritics 2')")
    conn.execute("CREATE VIRTUAL TABLE v USING fts5vocab(t, 'instance')")
    docs = corpus(60) + [
        make_doc(paper=make_paper(title="C++ and x86-64: e.g. U.S.A. models", authors=["Sinéad O'Neil"]),
                 body="don't model; modelling 3.14 models__trained <b>bold</b> MODELS"),
        make_doc(paper=make_paper(title="Doing the things", keywords=["does", "did"]), body="doing done do"),
    ]
    stopped = stop_stems()
    for rowid, doc in enumerate(docs, start=1):
        texts = _texts(doc)
        conn.execute(f"INSERT INTO t(rowid, {', '.join(INDEXED)}) VALUES (?,?,?,?,?,?)",
                     (rowid, *texts[len(SHOWN):]))
        tokens, top_weight = token_stats(texts[len(SHOWN):], INDEXED_WEIGHTS)
        weights, counted = {}, 0
        for term, column in conn.execute("SELECT term, col FROM v WHERE doc = ?", (rowid,)):
            counted += 1
            if term not in stopped:
                weights[term] = weights.get(term, 0) + INDEXED_WEIGHTS[INDEXED.index(column)]
        if not all(t.isascii() for t in texts[len(SHOWN):]):
            assert (tokens, top_weight) == (None, None)
            continue
        assert tokens == counted, doc.body
        assert top_weight == max(weights.values(), default=0), doc.body


async def test_facets_counted_beside_the_ranking_are_those_counted_after_it(index, tmp_path):
    assert index._facet_pool is not None  # a file: facets are counted on a second connection
    serial = Fts5Index(tmp_path / "search.db")
    await serial.start()
    serial._facet_pool.shutdown()
    serial._facet_pool = None
    try:
        for q in ("learning", "graph -deep", "term3*", ""):
            assert await page(index, q) == await page(serial, q)
            assert await page(index, q, venues=["iclr"]) == await page(serial, q, venues=["iclr"])
            without = await page(index, q, facets=False)
            assert without.total == (await page(index, q)).total and not without.facets.venue
    finally:
        await serial.close()


async def test_prefixes_alone_list_the_most_recently_indexed_first(tmp_path):
    index = Fts5Index(tmp_path / "search.db")
    await index.start()
    try:
        docs = [make_doc(body=f"residual block {i}", minutes=m) for i, m in enumerate((30, 10, 20))]
        for doc in docs:
            await index.upsert(doc)
        assert [h.summary_id for h in (await page(index, "resid*")).hits] == [d.summary_id for d in reversed(docs)]
        hit = (await page(index, "resid*")).hits[0]
        assert "<mark>residual</mark>" in hit.snippet
    finally:
        await index.close()


async def test_a_vote_leaves_the_text_indexed_as_it_was(tmp_path):
    index = Fts5Index(tmp_path / "search.db")
    await index.start()
    try:
        doc = make_doc(body="sparse kernels")
        await index.upsert(doc)
        writes = []
        index.conn.set_trace_callback(writes.append)
        await index.upsert(replace(doc, score=7, version=2))
        index.conn.set_trace_callback(None)
        assert not [w for w in writes if "docs_fts" in w and ("INSERT" in w or "DELETE" in w)]
        assert (await page(index, "kernels")).hits[0].score == 7
    finally:
        await index.close()


# The layout before this one kept each summary's text in `docs`, with triggers copying it
# into the FTS tables.
OLD_LAYOUT = """
CREATE TABLE docs (
    rowid INTEGER PRIMARY KEY, summary_id TEXT NOT NULL UNIQUE, paper_id TEXT NOT NULL, title TEXT NOT NULL,
    authors TEXT NOT NULL, keywords TEXT NOT NULL, abstract TEXT NOT NULL, body TEXT NOT NULL,
    authors_json TEXT NOT NULL, keywords_json TEXT NOT NULL, venue TEXT, venue_key TEXT, year INTEGER,
    author_key TEXT, author_username TEXT, score INTEGER NOT NULL, created_at TEXT NOT NULL,
    version INTEGER NOT NULL, paper_version INTEGER NOT NULL, visible INTEGER NOT NULL
);
CREATE INDEX docs_newest ON docs(visible, created_at);
CREATE VIRTUAL TABLE docs_fts USING fts5(title, authors, keywords, abstract, body,
    tokenize='porter unicode61 remove_diacritics 2');
CREATE VIRTUAL TABLE words_fts USING fts5(words, content='', detail='none',
    tokenize='unicode61 remove_diacritics 2');
CREATE VIRTUAL TABLE words_vocab USING fts5vocab(words_fts, 'row');
CREATE TRIGGER docs_ai AFTER INSERT ON docs WHEN new.visible = 1 BEGIN
    INSERT INTO docs_fts(rowid, title, authors, keywords, abstract, body)
    VALUES (new.rowid, new.title, new.authors, new.keywords, new.abstract, new.body);
    INSERT INTO words_fts(rowid, words) VALUES (new.rowid, new.title || ' ' || new.body);
END;
CREATE TABLE papers (rowid INTEGER PRIMARY KEY, paper_id TEXT NOT NULL UNIQUE, title TEXT NOT NULL,
    snapshot TEXT NOT NULL, version INTEGER NOT NULL);
CREATE VIRTUAL TABLE titles_fts USING fts5(title, tokenize='unicode61 remove_diacritics 2', prefix='2 3 4');
CREATE TRIGGER papers_ai AFTER INSERT ON papers BEGIN
    INSERT INTO titles_fts(rowid, title) VALUES (new.rowid, new.title);
END;
"""


async def test_an_index_of_the_earlier_layout_is_migrated_in_place(tmp_path):
    paper = make_paper(title="Deep Residual Learning", venue="CVPR", venue_key="cvpr", year=2016)
    doc = make_doc(paper=paper, body="identity shortcuts", author_username="kaiming", score=3)
    conn = sqlite3.connect(tmp_path / "search.db")
    conn.executescript(OLD_LAYOUT)
    conn.execute(
        "INSERT INTO docs VALUES (NULL,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,1)",
        (doc.summary_id, doc.paper_id, doc.title, " ; ".join(doc.authors), "", doc.abstract, doc.body,
         '["' + '","'.join(doc.authors) + '"]', "[]", doc.venue, doc.venue_key, doc.year, "kaiming", "kaiming",
         doc.score, doc.created_at.isoformat(), doc.version, doc.paper_version),
    )
    conn.execute("INSERT INTO docs VALUES (NULL,'gone','','','','','','','[]','[]',NULL,NULL,NULL,NULL,NULL,0,"
                 "'1970-01-01T00:00:00+00:00',4,0,0)")
    conn.execute("INSERT INTO papers VALUES (NULL,?,?,?,1)", (paper.paper_id, paper.title, paper.model_dump_json()))
    conn.commit()
    conn.close()

    index = Fts5Index(tmp_path / "search.db")
    await index.start()
    try:
        assert await index.versions() == {doc.summary_id: (doc.version, True), "gone": (4, False)}
        assert await index.get_doc(doc.summary_id) == doc
        result = await page(index, "shortcuts")
        assert [h.summary_id for h in result.hits] == [doc.summary_id] and result.facets.venue[0].key == "cvpr"
        assert [h.summary_id for h in (await page(index, "shortcu*")).hits] == [doc.summary_id]
        assert [s.title for s in await index.suggest(["resid"], 10)] == [paper.title]
        assert await index.remove("gone", 3) is False  # the tombstone still holds its version
    finally:
        await index.close()
