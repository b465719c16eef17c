"""The request and document bodies of the Elasticsearch/OpenSearch adapter, written once
for both engines (elastic.py sends them through either client).

- One index holds the summaries (`kind: summary`) and the papers (`kind: paper`, for
  suggestions and for the newer copy of a paper).
- The mapping is explicit (`dynamic: false`): keyword fields for filters, sorts and facets;
  text analysed like the FTS5 tokenizer (letters and digits, lower-cased, accents folded,
  porter stems, no stopwords). Each word is indexed both stemmed and as written at one
  position (`keyword_repeat`): a query word matches by its stem, a prefix (`attentio*`)
  matches the words as written (porter indexes "attention" as "attent"), and one
  highlighter marks both.
- Ranking is BM25F, as FTS5's bm25 with column weights: a word's frequency counts more in
  the title than in the authors and keywords, the abstract, the summary. OpenSearch 2 has
  no `combined_fields` query, and per-field BM25 lets a field's own statistics outweigh its
  boost (a word in a sparse abstract field gets a small idf), so the BM25F document is
  indexed directly: a `weighted` field holding each field repeated by its weight, as in
  Robertson et al.'s definition of BM25F (kept out of `_source`). Prefix clauses score a
  constant, as Elasticsearch's prefix queries do; ties go to the newest.
- Every write is a compare-and-set on the stored source `version`, in a painless script:
  a stale or repeated event changes nothing (result `noop`), and `force` (reconcile) may
  write any version, which the engines' external versioning could not (it never goes
  back). A removed summary becomes a tombstone holding its id and version, no text.
- User text reaches the engine only as the analysed text of match queries or as a
  prefix's characters, never as query syntax (no `query_string`).
"""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import UTC, datetime, timedelta

from backbone.contracts.search import Facets, SearchHit, VenueFacet, YearFacet
from backbone.events import PaperSnapshot
from backbone.venues import fold
from services.search.adapters.snippets import ELLIPSIS, MARK_CLOSE, MARK_OPEN, clean, clip, render_snippet
from services.search.domain.document import SearchDoc
from services.search.domain.query import Clause, ParsedQuery

# BM25F field weights: the title above the authors and keywords, above the abstract,
# above the summary text (FTS5's column weights).
FIELD_WEIGHTS = (("title", 10), ("authors", 4), ("keywords", 3), ("abstract", 2), ("body", 1))
FACET_LIMIT = 20
DEEPEST_HIT = 10_000  # the engines' max_result_window: deeper pages have a total but no hits
SNIPPET_CHARS = 180  # about FTS5's 28 tokens
LAYOUT = 1  # recorded in the mapping's _meta; a new layout takes `shortscience reindex`
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)

ANALYSIS = {
    # A token is a run of letters and digits: what unicode61 and the query parser see.
    "tokenizer": {"words": {"type": "pattern", "pattern": "[^\\p{L}\\p{N}]+"}},
    "analyzer": {
        "words_indexed": {"type": "custom", "tokenizer": "words", "filter": [
            "lowercase", "asciifolding", "keyword_repeat", "porter_stem", "remove_duplicates"]},
        "words_stemmed": {"type": "custom", "tokenizer": "words", "filter": [
            "lowercase", "asciifolding", "porter_stem"]},
        "words_folded": {"type": "custom", "tokenizer": "words", "filter": ["lowercase", "asciifolding"]},
    },
}
_STEMMED_TEXT = {"type": "text", "analyzer": "words_indexed", "search_analyzer": "words_stemmed"}
MAPPING = {
    "dynamic": False,  # title, authors, abstract, created_at...: shown, stored, not indexed
    "_source": {"excludes": ["weighted"]},
    "_meta": {"layout": LAYOUT},
    "properties": {
        "kind": {"type": "keyword"},
        "summary_id": {"type": "keyword"},
        "paper_id": {"type": "keyword"},
        "visible": {"type": "boolean"},
        "version": {"type": "long"},
        "paper_version": {"type": "long"},
        # Facets: their global ordinals are built at refresh, not by the first search after it.
        "venue_key": {"type": "keyword", "eager_global_ordinals": True},
        "venue": {"type": "keyword", "eager_global_ordinals": True},
        "year": {"type": "integer"},
        "author_key": {"type": "keyword"},
        "score": {"type": "long"},
        "created_us": {"type": "long"},
        # Matching and ranking; array entries are kept apart so no phrase spans two.
        "weighted": {**_STEMMED_TEXT, "position_increment_gap": 100},
        # Snippets only: offsets make highlighting read the postings, not analyse the text again.
        "body": {**_STEMMED_TEXT, "index_options": "offsets", "norms": False},
        # Suggestions: title words as written, with their beginnings indexed.
        "suggest": {"type": "text", "analyzer": "words_folded", "index_prefixes": {"min_chars": 1, "max_chars": 10}},
        "snapshot": {"type": "object", "enabled": False},
    },
}
# Compare-and-set on the stored version: a stale or repeated write becomes a no-op.
COMPARE_AND_SET = (
    "def held = ctx._source.version;"
    " if (params.force || held == null || held < params.doc.version) {"
    " ctx._source.clear(); ctx._source.putAll(params.doc); }"
    " else { ctx.op = 'none'; }"
)
_PARTS = re.compile(r"[^\W_]+")  # the engine's tokens of a query word
SUMMARIES = {"term": {"kind": "summary"}}
VISIBLE = {"term": {"visible": True}}
_SHOWN = ["summary_id", "paper_id", "title", "authors", "venue", "year", "score", "created_at", "body"]


def index_body(*, shards: int, replicas: int | None, refresh_interval: str, aliases: dict | None = None) -> dict:
    """A new index's settings and mapping (and the alias it starts behind, if any)."""
    settings = {"number_of_shards": shards, "refresh_interval": refresh_interval, "max_result_window": DEEPEST_HIT,
                "analysis": ANALYSIS}
    if replicas is not None:
        settings["number_of_replicas"] = replicas
    body = {"settings": {"index": settings}, "mappings": MAPPING}
    if aliases:
        body["aliases"] = aliases
    return body


# -- the query DSL, written once ----------------------------------------------------------


def prefix_query(field: str, word: str) -> dict:
    """Words beginning with `word`, as written (accents and case folded as indexed)."""
    parts = _PARTS.findall(fold(word))
    if not parts:
        return {"match_none": {}}
    if len(parts) == 1:  # every word with that beginning, however many
        return {"prefix": {field: {"value": parts[0]}}}
    # "foo_ba*": the words in order, the last one a prefix
    return {"match_phrase_prefix": {field: {"query": " ".join(parts), "analyzer": "words_folded"}}}


def clause_query(clause: Clause, field: str) -> dict:
    """One clause of the parsed query: a prefix, or a word or phrase matched by stems (a word
    the engine splits, like "state_of", is a phrase of its parts; one it drops matches nothing)."""
    if clause.prefix:
        return prefix_query(field, clause.words[0])
    return {"match_phrase": {field: {"query": " ".join(clause.words)}}}


def filter_queries(venues: list[str], year_from: int | None, year_to: int | None, author: str | None) -> list[dict]:
    """Visible summaries only, then the user's filters."""
    filters = [SUMMARIES, VISIBLE]
    if venues:
        filters.append({"terms": {"venue_key": list(venues)}})
    if year_from is not None or year_to is not None:
        bounds = {"gte": year_from, "lte": year_to}
        filters.append({"range": {"year": {k: v for k, v in bounds.items() if v is not None}}})
    if author:
        filters.append({"term": {"author_key": author.casefold()}})
    return filters


def sort_order(query: ParsedQuery, sort: str) -> list[dict]:
    newest = [{"created_us": "desc"}, {"summary_id": "desc"}]
    if sort == "score":
        return [{"score": "desc"}, *newest]
    if sort == "relevance" and query.must:
        return [{"_score": "desc"}, *newest]
    return newest  # "newest", and browsing without words


def search_body(query: ParsedQuery, *, venues: list[str], year_from: int | None, year_to: int | None,
                author: str | None, sort: str, offset: int, limit: int, facets: bool) -> dict:
    """The whole search request. User text only ever reaches the engine as analysed text of
    match queries or as a prefix's characters, never as query syntax."""
    query_dsl: dict = {"filter": filter_queries(venues, year_from, year_to, author)}
    if query.must:
        query_dsl["must"] = [clause_query(c, "weighted") for c in query.must]
    if query.must_not:
        query_dsl["must_not"] = [clause_query(c, "weighted") for c in query.must_not]
    size = max(0, min(limit, DEEPEST_HIT - offset))
    body: dict = {
        "query": {"bool": query_dsl},
        "from": offset if size else 0,
        "size": size,
        "sort": sort_order(query, sort),
        "track_total_hits": True,
        "_source": _SHOWN,
    }
    if query.must and size:
        body["highlight"] = {
            "pre_tags": [MARK_OPEN], "post_tags": [MARK_CLOSE],
            "fields": {"body": {
                "type": "unified", "number_of_fragments": 1, "fragment_size": SNIPPET_CHARS,
                "highlight_query": {"bool": {"should": [clause_query(c, "body") for c in query.must]}},
            }},
        }
    if facets:
        body["aggs"] = {
            # Count order, then key: the most frequent venues; each with its (greatest) name.
            "venue": {"terms": {"field": "venue_key", "size": FACET_LIMIT},
                      "aggs": {"name": {"terms": {"field": "venue", "size": 1, "order": {"_key": "desc"}}}}},
            "year": {"terms": {"field": "year", "size": FACET_LIMIT, "order": {"_key": "desc"}}},
        }
    return body


def suggest_body(words: list[str], limit: int) -> dict:
    """Paper titles holding the earlier words whole and a word beginning with the last."""
    must = [{"match": {"suggest": {"query": w, "operator": "and"}}} for w in words[:-1]]
    must.append(prefix_query("suggest", words[-1]))
    return {
        "query": {"bool": {"filter": [{"term": {"kind": "paper"}}], "must": must}},
        "size": limit,
        "sort": [{"_score": "desc"}, {"paper_id": "asc"}],
        "track_total_hits": False,
        "_source": ["paper_id", "title"],
    }


def older_paper_copies(paper: PaperSnapshot) -> dict:
    """The visible summaries holding an older copy of `paper`."""
    return {"bool": {"filter": [SUMMARIES, VISIBLE, {"term": {"paper_id": paper.paper_id}},
                                {"range": {"paper_version": {"lt": paper.version}}}]}}


# -- documents -------------------------------------------------------------------------------


def summary_doc_id(summary_id: str) -> str:
    return f"summary:{summary_id}"


def paper_doc_id(paper_id: str) -> str:
    return f"paper:{paper_id}"


def _micros(moment: datetime) -> int:
    """A sortable instant; a naive time is taken as UTC."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return (moment - EPOCH) // timedelta(microseconds=1)


def summary_source(doc: SearchDoc) -> dict:
    """The stored document of a visible summary (from the one presenter's SearchDoc)."""
    texts = {"title": [clean(doc.title)], "authors": [clean(a) for a in doc.authors],
             "keywords": [clean(k) for k in doc.keywords], "abstract": [clean(doc.abstract)], "body": [clean(doc.body)]}
    weighted = [text for field, weight in FIELD_WEIGHTS for _ in range(weight) for text in texts[field] if text]
    return {
        "kind": "summary", "summary_id": doc.summary_id, "paper_id": doc.paper_id, "visible": True,
        "version": doc.version, "paper_version": doc.paper_version,
        "title": texts["title"][0], "authors": list(doc.authors), "keywords": list(doc.keywords),
        "abstract": texts["abstract"][0], "body": texts["body"][0],
        "venue": doc.venue, "venue_key": doc.venue_key, "year": doc.year,
        "author_username": doc.author_username,
        "author_key": doc.author_username.casefold() if doc.author_username else None,
        "score": doc.score, "created_at": doc.created_at.isoformat(), "created_us": _micros(doc.created_at),
        "weighted": weighted,
    }


def tombstone_source(summary_id: str, version: int) -> dict:
    """What stays of a summary that is not public: its id and version, no text."""
    return {"kind": "summary", "summary_id": summary_id, "version": version, "visible": False}


def paper_source(paper: PaperSnapshot) -> dict:
    return {"kind": "paper", "paper_id": paper.paper_id, "version": paper.version, "title": clean(paper.title),
            "suggest": clean(paper.title), "snapshot": paper.model_dump(mode="json")}


def doc_from_source(src: dict) -> SearchDoc:
    return SearchDoc(
        summary_id=src["summary_id"], paper_id=src["paper_id"], title=src["title"], authors=src["authors"],
        venue=src["venue"], venue_key=src["venue_key"], year=src["year"], abstract=src["abstract"],
        keywords=src["keywords"], body=src["body"], author_username=src["author_username"], score=src["score"],
        created_at=datetime.fromisoformat(src["created_at"]), version=src["version"],
        paper_version=src["paper_version"],
    )


def with_paper(doc: SearchDoc, paper: PaperSnapshot) -> SearchDoc:
    return replace(doc, paper_id=paper.paper_id, title=paper.title, authors=list(paper.authors), venue=paper.venue,
                   venue_key=paper.venue_key, year=paper.year, abstract=paper.abstract, keywords=list(paper.keywords),
                   paper_version=paper.version)


def cas_body(source: dict, force: bool) -> dict:
    """An update request body: write `source` unless the stored version is as new (or `force`)."""
    return {"scripted_upsert": True, "upsert": {},
            "script": {"lang": "painless", "source": COMPARE_AND_SET, "params": {"doc": source, "force": force}}}


# -- answers ------------------------------------------------------------------------------


def snippet_of(body: str, fragment: str | None) -> str:
    """The hit's snippet: the highlighted passage, with an ellipsis where it cuts the text,
    or the text's beginning; escaped, with only the marks left as markup."""
    if fragment is None:  # nothing matched in the summary text (a title match), or browsing
        return render_snippet(clip(body))
    plain = clean(fragment)
    start = body.find(plain)
    lead = "" if start == 0 else ELLIPSIS
    trail = "" if start >= 0 and not body[start + len(plain):].strip() else ELLIPSIS
    return render_snippet(lead + fragment + trail)


def hit_from(hit: dict) -> SearchHit:
    src = hit["_source"]
    fragments = hit.get("highlight", {}).get("body")
    return SearchHit(
        summary_id=src["summary_id"], paper_id=src["paper_id"], title=src["title"], authors=src["authors"],
        venue=src["venue"], year=src["year"], score=src["score"], created_at=datetime.fromisoformat(src["created_at"]),
        snippet=snippet_of(src["body"], fragments[0] if fragments else None),
    )


def facets_from(aggregations: dict) -> Facets:
    venues = []
    for bucket in aggregations["venue"]["buckets"]:
        names = bucket["name"]["buckets"]
        venues.append(VenueFacet(key=bucket["key"], name=names[0]["key"] if names else bucket["key"],
                                 count=bucket["doc_count"]))
    years = [YearFacet(value=int(b["key"]), count=b["doc_count"]) for b in aggregations["year"]["buckets"]]
    return Facets(venue=venues, year=years)
