"""The user's query language (services/search/domain/query.py) and its FTS5 compilation:
whatever a user types is words, phrases, exclusions or prefixes, never engine syntax."""

from __future__ import annotations

import asyncio
import sqlite3
from functools import cache

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from backbone.contracts.search import SearchRequest
from services.search.adapters.fts5 import Fts5Index, compile_clause, compile_match
from services.search.domain.query import MAX_CLAUSES, Clause, ParsedQuery, parse_query
from services.search.handlers import SearchService
from tests.search.factories import make_doc

SYNTAX = ['"', "'", "-", "*", "(", ")", ":", "^", "~", "{", "}", "[", "]", "+", "!", "?", "\\", "/", "&", "|",
          "<", ">", "=", ",", ".", ";", "NEAR", "AND", "OR", "NOT", "near", "title", "body", "\x00", "\ue000"]


def word(*words: str, prefix: bool = False) -> Clause:
    return Clause(tuple(words), prefix=prefix)


# -- the language ---------------------------------------------------------------------


def test_words_are_lowercased_clauses_that_must_all_match():
    assert parse_query("Deep  Residual\tLearning") == ParsedQuery(
        must=(word("deep"), word("residual"), word("learning")))
    assert parse_query("Deep Residual").terms() == ["deep", "residual"]


def test_a_quoted_phrase_is_one_clause_of_its_words_in_order():
    q = parse_query('"Residual Learning" for images')
    assert q.must == (word("residual", "learning"), word("for"), word("images"))
    assert q.must[0].is_phrase and not q.must[1].is_phrase
    assert q.must_not == ()


def test_a_minus_excludes_a_word_or_a_phrase():
    q = parse_query('networks -recurrent -"long short"')
    assert q.must == (word("networks"),)
    assert q.must_not == (word("recurrent"), word("long", "short"))
    assert q.terms() == ["networks"]  # excluded words are not terms to highlight


def test_a_trailing_star_makes_a_prefix():
    assert parse_query("resid*").must == (word("resid", prefix=True),)
    assert parse_query("resid**").must == (word("resid", prefix=True),)
    assert parse_query("-resid*").must_not == (word("resid", prefix=True),)
    assert parse_query("*resid").must == (word("resid"),)  # a leading star is not syntax


def test_a_hyphenated_word_is_a_phrase_and_a_lone_minus_is_nothing():
    assert parse_query("state-of-the-art").must == (word("state", "of", "the", "art"),)
    assert parse_query("a - b") == ParsedQuery(must=(word("a"), word("b")))
    assert parse_query("a*b").must == (word("a", "b"),)  # a star inside is not a prefix


@pytest.mark.parametrize("text, expected_words", [
    ('"unbalanced', ["unbalanced"]),
    ('a "b c', ["a", "b", "c"]),
    ('a "b c" "d', ["a", "b", "c", "d"]),  # one stray quote makes every quote a plain character
    ('say "hi', ["say", "hi"]),
])
def test_an_unbalanced_quote_is_a_plain_character(text, expected_words):
    q = parse_query(text)
    assert q.must == tuple(word(w) for w in expected_words)
    assert q.must_not == ()


@pytest.mark.parametrize("text", ["", "   ", "*", "-", "--", '""', '-""', '"   "', "()", "-*", "^~:{}[]", "\x00"])
def test_input_without_words_is_an_empty_query(text):
    q = parse_query(text)
    assert q.is_empty and q == ParsedQuery()


@pytest.mark.parametrize("text, must", [
    ("AND OR NOT", [("and",), ("or",), ("not",)]),
    ("cats NEAR dogs", [("cats",), ("near",), ("dogs",)]),
    ("NEAR(cats dogs, 3)", [("near", "cats"), ("dogs",), ("3",)]),
    ("title:attention", [("title", "attention")]),
    ("a^2 b~ {c} [d]", [("a", "2"), ("b",), ("c",), ("d",)]),
    ("(neural OR symbolic)", [("neural",), ("or",), ("symbolic",)]),
    ("C++ c# f(x)=y", [("c",), ("c",), ("f", "x", "y")]),
    ("x: ^y +z !w", [("x",), ("y",), ("z",), ("w",)]),
    ('foo"bar"baz', [("foo", "bar", "baz")]),
])
def test_engine_syntax_characters_are_plain_text(text, must):
    q = parse_query(text)
    assert [c.words for c in q.must] == must
    assert all(not c.prefix for c in q.must) and q.must_not == ()


def test_unicode_words_are_kept():
    assert parse_query("Schrödinger équation 量子").must == (word("schrödinger"), word("équation"), word("量子"))


def test_the_number_of_clauses_is_capped():
    words = [f"w{i}" for i in range(MAX_CLAUSES + 10)]
    q = parse_query(" ".join(words) + " " + " ".join(f"-n{i}" for i in range(MAX_CLAUSES + 10)))
    assert [c.words[0] for c in q.must] == words[:MAX_CLAUSES]
    assert len(q.must_not) == MAX_CLAUSES


# -- compiling to FTS5 ----------------------------------------------------------------


def test_every_clause_compiles_to_a_quoted_fts5_string():
    assert compile_clause(word("residual")) == '"residual"'
    assert compile_clause(word("resid", prefix=True)) == '"resid"*'
    assert compile_clause(word("residual", "learning")) == '"residual learning"'
    assert compile_match(parse_query('deep "residual learning" net*').must) == \
        '"deep" AND "residual learning" AND "net"*'


@cache
def fts5_table() -> sqlite3.Connection:
    conn = sqlite3.connect(":memory:", check_same_thread=False)
    conn.execute("CREATE VIRTUAL TABLE t USING fts5(title, body, tokenize='porter unicode61 remove_diacritics 2')")
    conn.execute("INSERT INTO t VALUES ('Deep Residual Learning', 'and or not near the art of networks')")
    return conn


def run_match(expression: str) -> list:
    return fts5_table().execute("SELECT rowid FROM t WHERE t MATCH ?", (expression,)).fetchall()


@pytest.mark.parametrize("text", ["AND", "OR", "NOT", "NEAR", "near(a b)", "title:deep", "^deep", "deep*",
                                  '"and"', "a AND b OR NOT c", "{deep}", "*deep", "deep^2", "-deep OR"])
def test_syntax_compiles_without_an_engine_error(text):
    q = parse_query(text)
    assert q.must or q.must_not
    for clauses in (q.must, q.must_not):
        if clauses:
            run_match(compile_match(clauses))  # raises sqlite3.OperationalError on bad syntax


def test_operator_words_are_searched_as_words_not_obeyed():
    assert run_match(compile_match(parse_query("and or not near").must)) == [(1,)]  # all four are in the body
    assert run_match(compile_match(parse_query("deep OR quantum").must)) == []  # OR is a word here, not in the row
    assert run_match("deep OR quantum") == [(1,)]  # (what FTS5 itself would have made of it)
    assert run_match(compile_match(parse_query("body:deep").must)) == []  # not a column filter
    assert run_match("body:networks") == [(1,)]


# Words of the indexed document, whole and as prefixes (which the adapter expands).
INDEXED = ["deep", "residual", "networks", "x", "deep*", "resid*", "networ*", "-deep*", "nea*", "dee*p"]

query_text = st.one_of(
    st.text(max_size=200),
    st.lists(st.sampled_from(SYNTAX + INDEXED + ["*", " ", '"', "-"]), max_size=40).map("".join),
    st.lists(st.sampled_from(SYNTAX + INDEXED), max_size=20).map(" ".join),
)

PROPERTY = settings(max_examples=300, deadline=None, database=None,
                    suppress_health_check=[HealthCheck.too_slow])


@PROPERTY
@given(query_text)
def test_any_text_parses_and_compiles_to_a_valid_fts5_query(text):
    q = parse_query(text)
    clauses = q.must + q.must_not
    assert all(c.words for c in clauses)
    assert all(w and '"' not in w and not any(ch.isspace() for ch in w) for c in clauses for w in c.words)
    if q.must:
        run_match(compile_match(q.must))
    if q.must_not:
        run_match(" OR ".join(compile_clause(c) for c in q.must_not))


@cache
def service() -> SearchService:
    index = Fts5Index(":memory:")
    asyncio.run(index.start())
    asyncio.run(index.upsert(make_doc(body="deep residual networks and or not near")))
    return SearchService(index)


@PROPERTY
@given(query_text, st.sampled_from(["relevance", "newest", "score"]), st.booleans())
def test_any_text_searches_the_real_index_without_an_engine_error(text, sort, filtered):
    filters = {"venue": ["iclr"], "year_from": 2000, "author": text[:64] or None} if filtered else {}
    request = SearchRequest(q=text, sort=sort, **filters)
    result = asyncio.run(service().search(request))  # raises OperationalError on bad syntax
    assert result.total == len(result.hits) <= 1
