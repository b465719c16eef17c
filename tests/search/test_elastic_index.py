"""The Elasticsearch/OpenSearch adapter (services/search/adapters/elastic.py) beyond the
port's contract, which tests/contracts runs on it too: the alias and its rebuilds,
tombstones as the engine stores them, repairs of a damaged index through the service,
deep pages, the production refresh policy, and what start() and a search say when the
engine is out of reach. Damage is done with plain REST requests, as a hand-run request
might do it. The request bodies are checked without an engine: no user input is ever
query syntax."""

from __future__ import annotations

import asyncio
import socket
from urllib.parse import urlsplit

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from backbone.errors import EngineUnavailable, Unavailable
from backbone.eventlog.sqlite import SqliteEventLog
from services.search.adapters.elastic import ElasticIndex
from services.search.adapters.elastic_dsl import DEEPEST_HIT, search_body, suggest_body
from services.search.domain.query import parse_query
from services.search.handlers import SearchService
from tests.contracts.search_backends import distributed_index
from tests.engines import unique_prefix
from tests.helpers import eventually
from tests.search.factories import make_doc, make_paper, make_state, summary_envelope
from tests.search.test_search_events import evolve, found, hit, history, picture, states_of

ENGINE_TEXT = ("opensearch", "elasticsearch", "connection", "refused", "http://", "127.0.0.1")


@pytest.fixture
async def index(request):
    engine = request.getfixturevalue("search_engine")
    index = await distributed_index(request, engine.kind)
    yield index
    await index.drop()
    await index.close()


@pytest.fixture
def service(index) -> SearchService:
    return SearchService(index)


@pytest.fixture
async def rest(index):
    """Plain HTTP to the engine, for what no adapter would do."""
    async with httpx.AsyncClient(base_url=index.url, timeout=30) as client:
        yield client


async def search(index, q: str = "", **options):
    params = dict(venues=[], year_from=None, year_to=None, author=None, sort="relevance", offset=0, limit=10)
    params.update(options)
    return await index.search(parse_query(q), **params)


# -- the alias and rebuilds -------------------------------------------------------------


async def test_the_index_sits_behind_its_alias_and_a_rebuild_moves_the_alias(index):
    first = await index.engine.indices(index.name)
    assert list(first) == [f"{index.name}--initial"] and first[f"{index.name}--initial"] == [index.name]
    mapping = (await index.engine.mapping(index.name))[f"{index.name}--initial"]["mappings"]
    assert mapping["dynamic"] in ("false", False)

    shadow = await index.shadow()
    assert shadow.target != index.name and (await index.engine.indices(shadow.target))[shadow.target] == []
    await shadow.upsert(make_doc(body="rebuilt text"))
    await index.swap_in(shadow)

    assert await index.engine.indices(index.name) == {shadow.target: [index.name]}
    assert list(await index.engine.indices(f"{index.name}--*")) == [shadow.target]  # the old one is gone
    assert [h.snippet for h in (await search(index, "rebuilt")).hits] == ["<mark>rebuilt</mark> text"]


async def test_a_rebuild_deletes_the_shadow_an_abandoned_rebuild_left(index):
    abandoned = await index.shadow()
    await abandoned.upsert(make_doc(body="half done"))
    again = await index.shadow()
    assert set(await index.engine.indices(f"{index.name}--*")) == {f"{index.name}--initial", again.target}


async def test_a_tombstone_keeps_no_text_of_the_summary(index, rest):
    doc = make_doc(version=1, summary_id="s1", body="a confidential thought about quokkas", author_username="secretive")
    await index.upsert(doc)
    await index.remove("s1", 2)

    stored = (await rest.get(f"/{index.name}/_doc/summary:s1")).json()["_source"]
    assert stored == {"kind": "summary", "summary_id": "s1", "version": 2, "visible": False}
    anywhere = {"query": {"bool": {"should": [{"match": {"weighted": "quokkas"}}, {"match": {"body": "quokkas"}}]}}}
    assert (await rest.post(f"/{index.name}/_search", json=anywhere)).json()["hits"]["total"]["value"] == 0
    assert await index.versions() == {"s1": (2, False)}


# -- repairs through the service ---------------------------------------------------------


async def corrupt(rest, index, summary_id: str, **changes) -> None:
    """Overwrite a stored summary as a bad request would: no version check, stale text."""
    path = f"/{index.name}/_doc/summary:{summary_id}"
    source = (await rest.get(path)).json()["_source"]
    source.update(changes)
    assert (await rest.put(path, params={"refresh": "true"}, json=source)).status_code == 200


async def delete(rest, index, doc_id: str) -> None:
    assert (await rest.delete(f"/{index.name}/_doc/{doc_id}", params={"refresh": "true"})).status_code == 200


async def test_rebuild_from_the_log_restores_a_damaged_index(service, index, rest, tmp_path):
    log = SqliteEventLog(tmp_path / "events.db", poll_interval=0.01)
    await log.start()
    try:
        envelopes, _ = history()
        for envelope in envelopes:
            await service.handle(envelope)
        healthy = await picture(index)
        assert [h["summary_id"] for h in healthy["searches"]["residual", "newest"]["hits"]] == ["s-e", "s-a"]
        await log.publish(envelopes)

        await corrupt(rest, index, "s-a", body="corrupted garbage", weighted=["corrupted garbage"], score=99)
        await delete(rest, index, "summary:s-b")
        await delete(rest, index, "summary:s-c")  # its tombstone
        await corrupt(rest, index, "s-e", weighted=[])  # its text lost
        paper = (await rest.get(f"/{index.name}/_doc/paper:paper-attention")).json()["_source"]
        paper["snapshot"]["title"] = paper["suggest"] = "Garbled"
        await rest.put(f"/{index.name}/_doc/paper:paper-attention", params={"refresh": "true"}, json=paper)
        assert await picture(index) != healthy
        assert await found(service, "garbage") == ["s-a"] and await found(service, "musings") == []

        applied = await service.rebuild(log)

        assert applied == len(envelopes)
        assert await picture(index) == healthy
        later = make_state(body="residual after the rebuild", minutes=9)
        await service.handle(summary_envelope(later, 1))
        assert later.summary_id in await found(service, "rebuild")
    finally:
        await log.close()


async def test_reconcile_repairs_each_difference_and_reports_it(service, index, rest):
    envelopes, truth = history()
    for envelope in envelopes:
        await service.handle(envelope)
    await corrupt(rest, index, "s-a", body="corrupted garbage", weighted=["corrupted garbage"])
    await delete(rest, index, "summary:s-b")
    await index.upsert(make_doc(body="ghost residual", summary_id="s-ghost"))
    f1 = make_state(summary_id="s-f", body="residual then private", minutes=6)
    await service.handle(summary_envelope(f1, 1))
    truth["s-f"] = (evolve(f1, visibility="private"), 2)
    truth["s-e"] = (truth["s-e"][0], 4)

    report = await service.reconcile(states_of(truth))

    assert (report.checked, report.updated, report.added) == (6, ["s-a"], ["s-b"])
    assert sorted(report.removed) == ["s-f", "s-ghost"]
    assert await found(service, "garbage") == [] and await found(service, "shortcuts") == ["s-a"]
    assert await found(service, "heads") == ["s-b"]
    assert (await hit(service, "s-a")).title == "Deep Residual Learning for Image Recognition"
    again = await service.reconcile(states_of(truth))
    assert (again.fixed, again.checked) == (0, 6)


# -- reads ---------------------------------------------------------------------------------


async def test_a_page_beyond_the_deepest_hit_has_the_total_and_no_hits(index):
    await index.upsert(make_doc(body="deep paging"))
    await index.upsert(make_doc(paper=make_paper(venue="CVPR", venue_key="cvpr"), body="deep paging"))
    beyond = await search(index, "paging", offset=DEEPEST_HIT, limit=10)
    assert (beyond.total, beyond.hits, beyond.page) == (2, [], DEEPEST_HIT // 10 + 1)
    assert sum(f.count for f in beyond.facets.venue) == 2
    straddling = await search(index, "paging", offset=DEEPEST_HIT - 5, limit=10)
    assert (straddling.total, straddling.hits) == (2, [])


async def test_with_the_production_refresh_policy_a_write_becomes_searchable_on_its_own(search_engine):
    index = ElasticIndex(search_engine.kind, search_engine.url, unique_prefix("fresh").rstrip("_"))
    await index.start()
    try:
        doc = make_doc(body="eventually visible")
        assert await index.upsert(doc) is True  # returns before a refresh

        async def visible():
            return [h.summary_id for h in (await search(index, "eventually")).hits]

        assert await eventually(visible) == [doc.summary_id]
        assert await index.get_doc(doc.summary_id) == doc  # real time, refreshed or not
    finally:
        await index.drop()
        await index.close()


# -- an engine out of reach ------------------------------------------------------------------


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.mark.parametrize("kind, product", [("opensearch", "OpenSearch"), ("elasticsearch", "Elasticsearch")])
async def test_start_names_the_engine_and_its_address_when_it_does_not_answer(kind, product):
    port = _closed_port()
    index = ElasticIndex(kind, f"http://ops:s3cret@127.0.0.1:{port}", "nowhere")
    for _ in range(2):  # the runtime keeps trying: each attempt says the same
        with pytest.raises(EngineUnavailable) as raised:
            await index.start()
        assert (raised.value.engine, raised.value.url) == (product, f"http://ops:***@127.0.0.1:{port}")
        assert "s3cret" not in str(raised.value) and raised.value.reason
    assert await index.ping() is False
    await index.close()


async def test_each_client_refuses_the_other_engine(search_engine):
    other = {"opensearch": ("elasticsearch", "Elasticsearch"), "elasticsearch": ("opensearch", "OpenSearch")}
    kind, product = other[search_engine.kind]
    index = ElasticIndex(kind, search_engine.url, unique_prefix("wrong").rstrip("_"))
    try:
        with pytest.raises(EngineUnavailable) as raised:
            await index.start()
        assert raised.value.engine == product and f"not {product}" in raised.value.reason
    finally:
        if await index.ping():  # it should not have started; if it did, leave nothing behind
            await index.drop()
            await index.close()


class Forwarder:
    """A TCP path to the engine that can be cut, as a failing network would."""

    def __init__(self, url: str) -> None:
        parts = urlsplit(url)
        self.host, self.port = parts.hostname, parts.port
        self.links: list[asyncio.StreamWriter] = []
        self.tasks: set[asyncio.Task] = set()

    async def __aenter__(self) -> str:
        self.server = await asyncio.start_server(self._link, "127.0.0.1", 0)
        return f"http://127.0.0.1:{self.server.sockets[0].getsockname()[1]}"

    async def _link(self, reader, writer) -> None:
        self.tasks.add(asyncio.current_task())
        up_reader, up_writer = await asyncio.open_connection(self.host, self.port)
        self.links += [writer, up_writer]

        async def pipe(source, sink):
            try:
                while data := await source.read(65536):
                    sink.write(data)
                    await sink.drain()
            except ConnectionError:
                pass
            finally:
                sink.close()

        await asyncio.gather(pipe(reader, up_writer), pipe(up_reader, writer), return_exceptions=True)

    async def cut(self) -> None:
        self.server.close()
        for writer in self.links:
            writer.close()
        for task in self.tasks:
            task.cancel()
        await asyncio.gather(*self.tasks, return_exceptions=True)
        await self.server.wait_closed()

    async def __aexit__(self, *exc) -> None:
        if self.server.is_serving():
            await self.cut()


async def test_a_search_while_the_engine_is_away_is_unavailable_and_names_no_engine(search_engine):
    name = unique_prefix("away").rstrip("_")
    forwarder = Forwarder(search_engine.url)
    async with forwarder as url:
        index = ElasticIndex(search_engine.kind, url, name, refresh="true")
        await index.start()
        try:
            await index.upsert(make_doc(body="reachable for now"))
            assert (await search(index, "reachable")).total == 1
            await forwarder.cut()

            with pytest.raises(Unavailable) as raised:
                await search(index, "reachable")
            assert not [t for t in ENGINE_TEXT if t in raised.value.detail.casefold()]
            with pytest.raises(Unavailable):
                await index.suggest(["reach"], 10)
            assert await index.ping() is False
        finally:
            await index.close()
    direct = ElasticIndex(search_engine.kind, search_engine.url, name)
    await direct.start()
    await direct.drop()
    await direct.close()


# -- the request bodies, without an engine ------------------------------------------------------

QUERY_TYPES = {"bool", "match_phrase", "match_phrase_prefix", "prefix", "match_none", "match", "term", "terms",
               "range"}
CLAUSE_LISTS = {"must", "must_not", "should", "filter"}


def query_types(query: dict) -> set[str]:
    """Every query type in a query tree."""
    found = set()
    for kind, spec in query.items():
        found.add(kind)
        if kind == "bool":
            for clauses in (spec.get(k, []) for k in CLAUSE_LISTS):
                for clause in clauses:
                    found |= query_types(clause)
    return found


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(list('ab"-*()[]{}:^~\\/!?&|<>= _é1') + ["OR", "AND", "NOT", "title:", "é"]),
                max_size=40).map("".join),
       st.sampled_from(["relevance", "newest", "score"]), st.booleans())
def test_no_input_reaches_the_engine_as_query_syntax(text, sort, facets):
    body = search_body(parse_query(text), venues=["cvpr"], year_from=2000, year_to=None, author="Ada", sort=sort,
                       offset=0, limit=10, facets=facets)
    assert query_types(body["query"]) <= QUERY_TYPES
    highlight = body.get("highlight", {}).get("fields", {}).get("body", {}).get("highlight_query")
    if highlight:
        assert query_types(highlight) <= QUERY_TYPES
    words = [w for w in text.split() if w.strip('"-*')]
    if words:
        assert query_types(suggest_body(words, 10)["query"]) <= QUERY_TYPES


def test_each_clause_becomes_a_query_on_the_weighted_field():
    body = search_body(parse_query('residual "deep learning" attentio* -recurrent -"for images"'), venues=[],
                       year_from=None, year_to=None, author=None, sort="relevance", offset=20, limit=10, facets=False)
    query = body["query"]["bool"]
    assert query["must"] == [{"match_phrase": {"weighted": {"query": "residual"}}},
                             {"match_phrase": {"weighted": {"query": "deep learning"}}},
                             {"prefix": {"weighted": {"value": "attentio"}}}]
    assert query["must_not"] == [{"match_phrase": {"weighted": {"query": "recurrent"}}},
                                 {"match_phrase": {"weighted": {"query": "for images"}}}]
    assert (body["from"], body["size"], "aggs" in body) == (20, 10, False)
    assert body["sort"][0] == {"_score": "desc"}
