"""The search-index port's contract, written once and run against every adapter
(the `search_index` fixture in tests/contracts/conftest.py). Documents come from the one
presenter, `to_search_doc`, as in the service."""

from __future__ import annotations

from dataclasses import replace

import pytest

from services.search.domain.query import parse_query
from tests.search.factories import make_doc, make_paper, make_state, with_body


async def search(index, q: str = "", *, venues=(), year_from=None, year_to=None, author=None, sort="relevance",
                 page: int = 1, size: int = 10, facets: bool = True):
    return await index.search(parse_query(q), venues=list(venues), year_from=year_from, year_to=year_to,
                              author=author, sort=sort, offset=(page - 1) * size, limit=size, facets=facets)


async def found(index, q: str = "", **filters) -> list[str]:
    """Summary ids of the first page, in the order the index ranks them."""
    return [h.summary_id for h in (await search(index, q, size=50, **filters)).hits]


async def put(index, *docs):
    for doc in docs:
        assert await index.upsert(doc) is True
    return docs


# -- indexing and matching -----------------------------------------------------------


@pytest.mark.parametrize("field, word, paper_values, body", [
    ("title", "residual", {"title": "Deep Residual Learning"}, "A fine summary."),
    ("authors", "zhang", {"authors": ["Kaiming He", "Xiangyu Zhang"]}, "A fine summary."),
    ("abstract", "framework", {"abstract": "We present a residual learning framework."}, "A fine summary."),
    ("keywords", "vision", {"keywords": ["residual networks", "vision"]}, "A fine summary."),
    ("body", "blocks", {}, "The key idea: **residual** blocks."),
])
async def test_a_summary_is_found_by_words_in_each_field(search_index, field, word, paper_values, body):
    (target,) = await put(search_index, make_doc(paper=make_paper(**paper_values), body=body))
    await put(search_index, make_doc(body="Nothing to see here."))

    result = await search(search_index, word)

    assert [h.summary_id for h in result.hits] == [target.summary_id], field
    assert result.total == 1
    hit = result.hits[0]
    assert (hit.paper_id, hit.title, hit.authors) == (target.paper_id, target.title, target.authors)
    assert (hit.venue, hit.year, hit.score, hit.created_at) == (target.venue, target.year, target.score,
                                                                 target.created_at)


async def test_every_word_of_a_query_must_match(search_index):
    both, only_one = await put(search_index, make_doc(body="graph neural networks"), make_doc(body="graph theory"))
    assert await found(search_index, "graph neural") == [both.summary_id]
    assert set(await found(search_index, "graph")) == {both.summary_id, only_one.summary_id}
    assert await found(search_index, "graph quantum") == []


async def test_a_title_match_ranks_above_a_body_match(search_index):
    # The body match is newer and indexed first, so neither tie-breaker favours the title match.
    in_body = make_doc(paper=make_paper(title="Unrelated Study of Things"), body="We apply transformers to text.",
                       minutes=60)
    in_title = make_doc(paper=make_paper(title="Graph Transformers"), body="We apply them to molecules here.",
                        minutes=1)
    await put(search_index, in_body, in_title)
    assert await found(search_index, "transformers") == [in_title.summary_id, in_body.summary_id]


async def test_a_phrase_matches_only_its_words_in_that_order(search_index):
    ordered, reversed_, apart = await put(
        search_index,
        make_doc(body="deep residual learning works"),
        make_doc(body="learning residual functions"),
        make_doc(body="residual connections help learning"),
    )
    assert await found(search_index, '"residual learning"') == [ordered.summary_id]
    assert await found(search_index, '"learning residual"') == [reversed_.summary_id]
    assert set(await found(search_index, "residual learning")) == {ordered.summary_id, reversed_.summary_id,
                                                                    apart.summary_id}


async def test_a_prefix_matches_the_beginnings_of_words(search_index):
    residual, transformer, other = await put(
        search_index,
        make_doc(body="residual blocks"),
        make_doc(body="transformers everywhere"),
        make_doc(body="presidential elections"),  # contains "sid", but no word starts with "resid"
    )
    assert await found(search_index, "resid*") == [residual.summary_id]
    assert await found(search_index, "transfo*") == [transformer.summary_id]
    assert await found(search_index, "sidual*") == []
    assert await found(search_index, "resid") == []  # without the star, a whole word
    assert other.summary_id in await found(search_index, "presid*")


async def test_a_prefix_longer_than_the_stem_of_its_words_still_matches(search_index):
    # Stemmed engines index "attention" as "attent" and "generalization" as "gener"; the
    # user's prefix is not a word and must not be stemmed to something no word begins with.
    attention, bounds, convolution, accents = await put(
        search_index,
        make_doc(paper=make_paper(title="Attention Heads"), body="multi heads"),
        make_doc(body="generalization bounds"),
        make_doc(body="convolutional layers"),
        make_doc(body="Régularisation matters"),
    )
    await put(search_index, make_doc(body="residence and presidential attendance"))
    assert await found(search_index, "attentio*") == [attention.summary_id]
    assert await found(search_index, "generaliz*") == [bounds.summary_id]
    assert await found(search_index, "generalizati*") == [bounds.summary_id]
    assert await found(search_index, "convolutio*") == [convolution.summary_id]
    assert await found(search_index, "régularis*") == [accents.summary_id]
    assert await found(search_index, "regularis*") == [accents.summary_id]
    assert await found(search_index, "heads attentio*") == [attention.summary_id]
    assert await found(search_index, "generalizati* -bounds") == []
    assert await found(search_index, "bounds -generalizati*") == []
    assert await found(search_index, "attentiox*") == []
    snippet = (await search(search_index, "convolutio*")).hits[0].snippet
    assert "<mark>convolutional</mark>" in snippet


async def test_an_excluded_word_or_phrase_removes_its_documents(search_index):
    cnn, rnn, both = await put(
        search_index,
        make_doc(body="convolutional networks for images"),
        make_doc(body="recurrent networks for text"),
        make_doc(body="convolutional and recurrent networks together"),
    )
    assert await found(search_index, "networks -recurrent") == [cnn.summary_id]
    assert set(await found(search_index, 'networks -"for images"')) == {rnn.summary_id, both.summary_id}
    # Exclusion alone browses everything else.
    assert await found(search_index, "-convolutional") == [rnn.summary_id]


async def test_words_are_stemmed(search_index):
    (doc,) = await put(search_index, make_doc(body="a network that learned to rank"))
    assert await found(search_index, "networks") == [doc.summary_id]
    assert await found(search_index, "learning") == [doc.summary_id]
    assert await found(search_index, "ranking networks") == [doc.summary_id]


# -- filters --------------------------------------------------------------------------


async def test_the_venue_filter_takes_a_list_of_keys(search_index):
    cvpr = make_paper(venue="CVPR", venue_key="cvpr", year=2016)
    iclr = make_paper(venue="ICLR", venue_key="iclr", year=2020)
    nips = make_paper(venue="NeurIPS", venue_key="neurips", year=2017)
    a, b, c = await put(search_index, *(make_doc(paper=p, body="gradient descent") for p in (cvpr, iclr, nips)))
    assert await found(search_index, "gradient", venues=["cvpr"]) == [a.summary_id]
    assert set(await found(search_index, "gradient", venues=["cvpr", "neurips"])) == {a.summary_id, c.summary_id}
    assert await found(search_index, "gradient", venues=["icml"]) == []
    assert set(await found(search_index, "gradient")) == {a.summary_id, b.summary_id, c.summary_id}


async def test_the_year_range_is_inclusive_and_each_end_is_optional(search_index):
    docs = {year: make_doc(paper=make_paper(year=year), body="attention") for year in (2015, 2017, 2019)}
    undated = make_doc(paper=make_paper(year=None), body="attention")
    await put(search_index, *docs.values(), undated)
    ids = {year: d.summary_id for year, d in docs.items()}
    assert set(await found(search_index, "attention", year_from=2017)) == {ids[2017], ids[2019]}
    assert set(await found(search_index, "attention", year_to=2017)) == {ids[2015], ids[2017]}
    assert await found(search_index, "attention", year_from=2016, year_to=2018) == [ids[2017]]
    assert await found(search_index, "attention", year_from=2017, year_to=2017) == [ids[2017]]
    assert await found(search_index, "attention", year_from=2020) == []
    assert undated.summary_id in await found(search_index, "attention")


async def test_the_author_filter_is_case_insensitive(search_index):
    mine, theirs = await put(search_index, make_doc(author_username="AdaL", body="kernels"),
                             make_doc(author_username="bob", body="kernels"))
    for spelling in ("AdaL", "adal", "ADAL"):
        assert await found(search_index, "kernels", author=spelling) == [mine.summary_id]
    assert await found(search_index, author="bob") == [theirs.summary_id]  # browsing by author
    assert await found(search_index, "kernels", author="nobody") == []


async def test_an_anonymous_summary_is_never_found_by_its_author(search_index):
    anonymous = make_doc(author_username="shyauthor", anonymous=True, body="variational inference")
    assert anonymous.author_username is None  # the presenter drops the author
    signed = make_doc(author_username="shyauthor", paper=make_paper(), body="variational bayes")
    await put(search_index, anonymous, signed)

    assert await found(search_index, "variational", author="shyauthor") == [signed.summary_id]
    assert await found(search_index, author="shyauthor") == [signed.summary_id]
    assert await found(search_index, "variational inference") == [anonymous.summary_id]
    assert await found(search_index, "shyauthor") == []  # the username is not indexed text
    assert (await search_index.get_doc(anonymous.summary_id)).author_username is None


async def test_an_empty_query_with_filters_browses_newest_first(search_index):
    older, newer = await put(search_index, make_doc(minutes=1), make_doc(minutes=2))
    other_venue = make_doc(paper=make_paper(venue="CVPR", venue_key="cvpr"), minutes=3)
    await put(search_index, other_venue)
    assert await found(search_index, venues=["iclr"]) == [newer.summary_id, older.summary_id]
    assert await found(search_index) == [other_venue.summary_id, newer.summary_id, older.summary_id]
    assert (await search(search_index, venues=["iclr"])).total == 2


# -- sorting --------------------------------------------------------------------------


async def test_relevance_ranks_by_the_field_the_word_is_in(search_index):
    in_body = make_doc(paper=make_paper(title="Study One"), body="about diffusion models", minutes=30)
    in_abstract = make_doc(paper=make_paper(title="Study Two", abstract="about diffusion models"),
                           body="other words here", minutes=20)
    in_title = make_doc(paper=make_paper(title="Diffusion Models"), body="other words here", minutes=10)
    await put(search_index, in_body, in_abstract, in_title)
    assert await found(search_index, "diffusion", sort="relevance") == [
        in_title.summary_id, in_abstract.summary_id, in_body.summary_id]


async def test_newest_sorts_by_creation_time(search_index):
    docs = [make_doc(body="boosting", minutes=m) for m in (5, 50, 20)]
    await put(search_index, *docs)
    assert await found(search_index, "boosting", sort="newest") == [docs[1].summary_id, docs[2].summary_id,
                                                                     docs[0].summary_id]


async def test_score_sorts_by_votes_highest_first(search_index):
    docs = [make_doc(body="bagging", score=s) for s in (5, -1, 12)]
    await put(search_index, *docs)
    result = await search(search_index, "bagging", sort="score")
    assert [h.summary_id for h in result.hits] == [docs[2].summary_id, docs[0].summary_id, docs[1].summary_id]
    assert [h.score for h in result.hits] == [12, 5, -1]


# -- facets and pages -----------------------------------------------------------------


async def test_facets_count_venues_and_years_of_all_matches(search_index):
    cvpr16, cvpr17 = make_paper(venue="CVPR", venue_key="cvpr", year=2016), make_paper(venue="CVPR",
                                                                                       venue_key="cvpr", year=2017)
    iclr20 = make_paper(venue="ICLR", venue_key="iclr", year=2020)
    no_venue = make_paper(venue=None, venue_key=None, year=None)
    papers = [cvpr16, cvpr16, cvpr17, iclr20, iclr20, no_venue]
    await put(search_index, *(make_doc(paper=p, body="segmentation") for p in papers))
    await put(search_index, make_doc(paper=iclr20, body="unrelated"))

    result = await search(search_index, "segmentation", size=2)  # facets cover every match, not the page

    assert result.total == 6 and len(result.hits) == 2
    assert [(f.key, f.name, f.count) for f in result.facets.venue] == [("cvpr", "CVPR", 3), ("iclr", "ICLR", 2)]
    assert {f.value: f.count for f in result.facets.year} == {2016: 2, 2017: 1, 2020: 2}
    assert sum(f.count for f in result.facets.venue) == result.total - 1  # one match has no venue

    filtered = await search(search_index, "segmentation", year_from=2017)
    assert filtered.total == 3
    assert [(f.key, f.count) for f in filtered.facets.venue] == [("iclr", 2), ("cvpr", 1)]
    assert sum(f.count for f in filtered.facets.year) == filtered.total


async def test_no_match_gives_an_empty_result(search_index):
    await put(search_index, make_doc(body="something"))
    result = await search(search_index, "absent")
    assert (result.total, result.hits, result.facets.venue, result.facets.year) == (0, [], [], [])


async def test_page_two_continues_page_one_and_keeps_the_total(search_index):
    docs = [make_doc(body="clustering", minutes=m) for m in range(1, 8)]
    await put(search_index, *docs)
    newest_first = [d.summary_id for d in reversed(docs)]

    first = await search(search_index, "clustering", sort="newest", page=1, size=3)
    second = await search(search_index, "clustering", sort="newest", page=2, size=3)
    last = await search(search_index, "clustering", sort="newest", page=3, size=3)
    beyond = await search(search_index, "clustering", sort="newest", page=4, size=3)

    assert [h.summary_id for h in first.hits + second.hits + last.hits] == newest_first
    assert (first.total, second.total, last.total, beyond.total) == (7, 7, 7, 7)
    assert (second.page, second.size) == (2, 3)
    assert beyond.hits == []


# -- snippets -------------------------------------------------------------------------


async def test_the_snippet_marks_the_matched_terms(search_index):
    (doc,) = await put(search_index, make_doc(body="Residual blocks ease the training of very deep networks."))
    snippet = (await search(search_index, "residual network")).hits[0].snippet
    assert "<mark>Residual</mark>" in snippet
    assert "<mark>networks</mark>" in snippet  # stemmed match, marked as written
    assert "training" in snippet and "<mark>training</mark>" not in snippet


@pytest.mark.parametrize("body", [
    "Before <script>alert(1)</script> the residual trick & more",
    'The residual trick <img src=x onerror="alert(1)"> & more',
    "Fake <mark>residual</mark> marks & <b>bold</b>",
    "Private markers \ue000residual\ue001 & the engine's own \ue000",
])
async def test_the_snippet_escapes_everything_but_its_marks(search_index, body):
    (doc,) = await put(search_index, with_body(make_doc(), body))
    for q in ("residual", ""):  # a match, and a browse
        snippet = (await search(search_index, q)).hits[0].snippet
        assert "<script" not in snippet and "<img" not in snippet and "<b>" not in snippet
        assert "&amp;" in snippet
        without_marks = snippet.replace("<mark>", "").replace("</mark>", "")
        assert "<" not in without_marks and ">" not in without_marks, snippet
        assert snippet.count("<mark>") == snippet.count("</mark>") == (1 if q else 0), snippet
    if "script" in body:
        assert "&lt;script&gt;" in snippet


async def test_a_browse_snippet_is_the_start_of_the_text_cut_at_a_word(search_index):
    body = " ".join(f"word{i}" for i in range(100))  # far longer than a snippet
    (doc,) = await put(search_index, with_body(make_doc(), body))
    snippet = (await search(search_index)).hits[0].snippet
    assert snippet.endswith("…") and 40 < len(snippet) <= 241
    shown = snippet[:-1]
    assert body.startswith(shown) and body[len(shown)] == " ", snippet
    (short,) = await put(search_index, with_body(make_doc(), "A short body."))
    assert (await search(search_index, author=short.author_username)).hits[0].snippet == "A short body."


async def test_html_in_a_summary_never_reaches_the_snippet_as_markup(search_index):
    # Through the presenter, as the service indexes it.
    await put(search_index, make_doc(body="See <script>alert(1)</script> and <img src=x onerror=alert(1)> residual"))
    for q in ("residual", "alert", ""):
        snippet = (await search(search_index, q)).hits[0].snippet
        assert "<script" not in snippet and "<img" not in snippet, snippet
        assert "<" not in snippet.replace("<mark>", "").replace("</mark>", ""), snippet


# -- updates, deletes and versions ----------------------------------------------------


async def test_an_older_or_equal_version_is_ignored(search_index):
    state = make_state(body="alpha version")
    doc2 = make_doc(version=2, body="alpha version", summary_id=state.summary_id)
    assert await search_index.upsert(doc2) is True

    assert await search_index.upsert(with_body(make_doc(version=1, summary_id=state.summary_id), "beta")) is False
    assert await search_index.upsert(with_body(make_doc(version=2, summary_id=state.summary_id), "gamma")) is False

    assert await found(search_index, "alpha") == [state.summary_id]
    assert await found(search_index, "beta") == [] and await found(search_index, "gamma") == []
    assert (await search_index.get_doc(state.summary_id)).version == 2

    assert await search_index.upsert(replace(doc2, version=3, body="delta")) is True
    assert await found(search_index, "delta") == [state.summary_id] and await found(search_index, "alpha") == []


async def test_remove_leaves_a_tombstone_that_a_stale_upsert_cannot_pass(search_index):
    doc = make_doc(version=1, body="ephemeral")
    await put(search_index, doc)

    assert await search_index.remove(doc.summary_id, 2) is True
    assert await found(search_index, "ephemeral") == []
    assert await search_index.get_doc(doc.summary_id) is None

    assert await search_index.upsert(doc) is False  # version 1, redelivered after the delete
    assert await found(search_index, "ephemeral") == []
    assert await search_index.remove(doc.summary_id, 2) is False  # the same delete again

    newer = with_body(make_doc(version=3, summary_id=doc.summary_id), "resurrected")
    assert await search_index.upsert(newer) is True  # e.g. made public again
    assert await found(search_index, "resurrected") == [doc.summary_id]
    assert (await search_index.get_doc(doc.summary_id)).version == 3


async def test_a_remove_before_the_summary_arrives_still_wins(search_index):
    doc = make_doc(version=1, body="early bird")
    assert await search_index.remove(doc.summary_id, 4) is True  # the delete overtook the publish
    assert await search_index.upsert(doc) is False
    assert await found(search_index, "early") == []
    assert await search_index.versions() == {doc.summary_id: (4, False)}


async def test_an_older_remove_is_ignored(search_index):
    doc = make_doc(version=5, body="durable")
    await put(search_index, doc)
    assert await search_index.remove(doc.summary_id, 3) is False
    assert await found(search_index, "durable") == [doc.summary_id]


async def test_force_writes_whatever_version_the_index_holds(search_index):
    doc = make_doc(version=5, body="indexed text")
    await put(search_index, doc)
    truth = with_body(make_doc(version=4, summary_id=doc.summary_id), "owner text")
    assert await search_index.upsert(truth, force=True) is True
    assert await found(search_index, "owner") == [doc.summary_id] and await found(search_index, "indexed") == []
    assert await search_index.remove(doc.summary_id, 4, force=True) is True
    assert await found(search_index, "owner") == []
    assert (await search_index.versions())[doc.summary_id] == (4, False)


async def test_a_newer_paper_refreshes_all_its_summaries_and_an_older_one_is_ignored(search_index):
    paper = make_paper(title="Old Heading", authors=["Ann Author"], venue="ICLR", venue_key="iclr", year=2020)
    assert await search_index.upsert_paper(paper) is True
    first, second = await put(search_index, make_doc(paper=paper, body="one"), make_doc(paper=paper, body="two"))
    bystander = make_doc(paper=make_paper(title="Old Heading Elsewhere"), body="three")
    await put(search_index, bystander)

    corrected = paper.model_copy(update={"title": "Corrected Heading", "authors": ["Ann Writer"], "version": 2})
    assert await search_index.upsert_paper(corrected) is True

    assert set(await found(search_index, "corrected")) == {first.summary_id, second.summary_id}
    assert await found(search_index, "old") == [bystander.summary_id]
    assert set(await found(search_index, "writer")) == {first.summary_id, second.summary_id}
    hits = (await search(search_index, "corrected")).hits
    assert {(h.title, tuple(h.authors)) for h in hits} == {("Corrected Heading", ("Ann Writer",))}
    assert (await search_index.get_doc(first.summary_id)).paper_version == 2
    assert (await search_index.get_paper(paper.paper_id)) == corrected

    stale = paper.model_copy(update={"title": "Stale Heading", "version": 1})
    assert await search_index.upsert_paper(stale) is False
    assert await search_index.upsert_paper(corrected) is False  # the same version again
    assert await found(search_index, "stale") == []
    assert (await search_index.get_paper(paper.paper_id)).title == "Corrected Heading"
    assert (await search_index.get_doc(second.summary_id)).title == "Corrected Heading"


async def test_versions_and_get_doc_return_what_was_indexed(search_index):
    kept = make_doc(version=2, paper=make_paper(abstract="An abstract.", keywords=["k1", "k2"]), body="kept", score=3)
    gone = make_doc(version=1, body="gone")
    await put(search_index, kept, gone)
    await search_index.remove(gone.summary_id, 3)

    assert await search_index.get_doc(kept.summary_id) == kept
    assert await search_index.get_doc(gone.summary_id) is None
    assert await search_index.get_doc("never-seen") is None
    assert await search_index.versions() == {kept.summary_id: (2, True), gone.summary_id: (3, False)}
    assert await search_index.ping() is True


async def test_facets_can_be_left_out_of_an_answer(search_index):
    await put(search_index, make_doc(body="gradient boosting"),
              make_doc(paper=make_paper(venue="CVPR", venue_key="cvpr", year=2016), body="gradient descent"),
              make_doc(body="unrelated"))
    for q, filters in (("gradient", {}), ("gradient", {"venues": ["cvpr"]}), ("", {"year_from": 2016})):
        full = await search(search_index, q, **filters)
        lean = await search(search_index, q, facets=False, **filters)
        assert (lean.total, lean.hits) == (full.total, full.hits) and full.facets.venue
        assert lean.facets.venue == [] and lean.facets.year == []


# -- suggestions ----------------------------------------------------------------------


async def test_suggestions_complete_the_prefix_of_any_title_word(search_index):
    titles = ["Deep Residual Learning for Image Recognition", "Residual Attention Network",
              "Attention Is All You Need", "Densely Connected Networks"]
    papers = [make_paper(title=t) for t in titles]
    for p in papers:
        assert await search_index.upsert_paper(p) is True

    async def titles_for(*words, limit=10):
        return {s.title for s in await search_index.suggest(list(words), limit)}

    assert await titles_for("resid") == {titles[0], titles[1]}
    assert await titles_for("net") == {titles[1], titles[3]}
    assert await titles_for("attention", "is", "a") == {titles[2]}  # earlier words whole, the last a prefix
    assert await titles_for("deep", "resid") == {titles[0]}
    assert await titles_for("resid", "deep") == set()  # only the last word is a prefix
    assert await titles_for("quantum") == set()
    assert await titles_for() == set()
    assert await titles_for("n") == {titles[1], titles[2], titles[3]}
    assert len(await search_index.suggest(["n"], 2)) == 2
    suggestion = (await search_index.suggest(["dense"], 10))[0]
    assert (suggestion.paper_id, suggestion.title) == (papers[3].paper_id, titles[3])


async def test_suggestions_follow_a_corrected_title(search_index):
    paper = make_paper(title="Generative Adversial Nets")
    await search_index.upsert_paper(paper)
    await search_index.upsert_paper(paper.model_copy(update={"title": "Generative Adversarial Nets", "version": 2}))
    assert [s.title for s in await search_index.suggest(["adversar"], 10)] == ["Generative Adversarial Nets"]
    assert await search_index.suggest(["adversia"], 10) == []


# -- rebuilds -------------------------------------------------------------------------


async def test_a_shadow_is_built_apart_and_swapped_in(search_index):
    old_paper, new_paper = make_paper(title="Original Paper"), make_paper(title="Rebuilt Paper")
    await search_index.upsert_paper(old_paper)
    old = make_doc(paper=old_paper, body="original content")
    await put(search_index, old)

    shadow = await search_index.shadow()
    assert await shadow.upsert_paper(new_paper) is True
    rebuilt = make_doc(paper=new_paper, body="rebuilt content")
    assert await shadow.upsert(rebuilt) is True
    # Until the swap, each answers from its own content.
    assert await found(search_index, "content") == [old.summary_id]
    assert await found(shadow, "content") == [rebuilt.summary_id]

    await search_index.swap_in(shadow)

    assert await found(search_index, "content") == [rebuilt.summary_id]
    assert await found(search_index, "original") == []
    assert await search_index.versions() == {rebuilt.summary_id: (1, True)}
    assert [s.title for s in await search_index.suggest(["rebu"], 10)] == ["Rebuilt Paper"]
    assert await search_index.suggest(["orig"], 10) == []
    assert await search_index.get_paper(new_paper.paper_id) == new_paper

    # Writing continues after the swap, through every path.
    later = make_doc(body="later content")
    await put(search_index, later)
    assert set(await found(search_index, "content")) == {rebuilt.summary_id, later.summary_id}
    assert await search_index.remove(rebuilt.summary_id, 2) is True
    assert await found(search_index, "content") == [later.summary_id]
    assert await search_index.upsert_paper(new_paper.model_copy(update={"title": "Renamed Paper", "version": 2}))
    assert [s.title for s in await search_index.suggest(["renam"], 10)] == ["Renamed Paper"]

    # And a second rebuild works like the first.
    again = await search_index.shadow()
    await again.upsert(later)
    await search_index.swap_in(again)
    assert await found(search_index, "content") == [later.summary_id]
    assert await search_index.versions() == {later.summary_id: (1, True)}
