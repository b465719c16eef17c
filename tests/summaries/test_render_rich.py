"""The rich parts of the renderer: outline (anchors, toc, words), citations and their
resolver, figures, highlighted code and its stylesheet, the cache, and hostile input at
scale. Exact HTML per construct lives in the golden files (test_render_golden.py)."""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.papers.domain import identifiers as papers_ids
from services.summaries.domain import render as render_module
from services.summaries.domain.citations import (
    CitationKey,
    CitedPaper,
    cited_keys,
    parse_key,
)
from services.summaries.domain.highlight import MAX_HIGHLIGHT_CHARS, TOKEN_CLASSES
from services.summaries.domain.outline import TOC_MIN_WORDS, TocEntry, slug
from services.summaries.domain.render import (
    MAX_RENDER_CHARS,
    RENDERER_VERSION,
    RenderCache,
    RenderResult,
    body_hash,
    render,
    render_markdown,
    render_uncached,
)
from services.summaries.domain.styles import stylesheet
from tests.summaries.test_render import _PROPERTY_SETTINGS, assert_no_active_content, elements, tags

RESNET = CitedPaper("01hresnet0000000000000000", "Deep Residual Learning for Image Recognition")


def prose(words: int) -> str:
    return " ".join(f"word{i}" for i in range(words))


# --- outline: anchors, table of contents, words ------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Method", "method"),
        ("3.2 Results: fast!", "32-results-fast"),
        ("  spaced   out  ", "spaced-out"),
        ("Ünïcödé Straße", "ünïcödé-straße"),
        ("!!!", "section"),
        ("a" * 200, "a" * 60),
        ("snake_case and kebab-case", "snake_case-and-kebab-case"),
    ],
)
def test_slug(text: str, expected: str) -> None:
    assert slug(text) == expected


def test_anchors_are_stable_when_other_sections_change() -> None:
    before = render_uncached("## Intro\n\ntext\n\n## Method\n\nmore").html
    after = render_uncached("## Preface\n\n## Intro\n\nnew text\n\n## Method\n\nrewritten").html
    for html in (before, after):
        assert '<h2 id="sec-intro">' in html and '<h2 id="sec-method">' in html


def test_repeated_headings_get_distinct_anchors() -> None:
    html = render_uncached("## Intro\n\n## Intro\n\n## Intro 1\n\n## Intro").html
    ids = [attrs["id"] for tag, attrs in elements(html) if tag == "h2"]
    assert ids == ["sec-intro", "sec-intro-1", "sec-intro-1-1", "sec-intro-2"]


def test_no_toc_for_a_short_summary() -> None:
    result = render_uncached(f"## A\n\n{prose(200)}\n\n## B\n\n{prose(200)}")
    assert result.toc == () and result.toc_html == ""


def test_toc_for_a_long_summary_lists_every_heading() -> None:
    half = TOC_MIN_WORDS // 2 + 1
    result = render_uncached(f"# Title\n\n## First part\n\n{prose(half)}\n\n### Detail\n\n## Second\n\n{prose(half)}")
    assert result.words > TOC_MIN_WORDS
    assert result.toc == (
        TocEntry(1, "sec-title", "Title"),
        TocEntry(2, "sec-first-part", "First part"),
        TocEntry(3, "sec-detail", "Detail"),
        TocEntry(2, "sec-second", "Second"),
    )
    rel = 'rel="nofollow noopener ugc"'  # the sanitiser's, on every link
    assert result.toc_html == (
        f'<nav class="toc"><ol><li class="toc-1"><a href="#sec-title" {rel}>Title</a></li>'
        f'<li class="toc-2"><a href="#sec-first-part" {rel}>First part</a></li>'
        f'<li class="toc-3"><a href="#sec-detail" {rel}>Detail</a></li>'
        f'<li class="toc-2"><a href="#sec-second" {rel}>Second</a></li></ol></nav>\n'
    )
    # every toc link points at a heading of the body
    heading_ids = {attrs["id"] for tag, attrs in elements(result.html) if re.fullmatch(r"h[1-6]", tag)}
    assert {e.id for e in result.toc} == heading_ids


def test_a_long_summary_with_one_heading_needs_no_toc() -> None:
    assert render_uncached(f"## Only\n\n{prose(TOC_MIN_WORDS + 100)}").toc == ()


def test_toc_text_is_escaped() -> None:
    body = f"## <script>alert(1)</script> & co\n\n## B\n\n{prose(TOC_MIN_WORDS + 1)}"
    result = render_uncached(body)
    assert result.toc[0].text == "<script>alert(1)</script> & co"
    assert_no_active_content(result.toc_html)
    assert "&lt;script&gt;" in result.toc_html


@pytest.mark.parametrize(
    ("body", "words"),
    [
        ("", 0),
        ("One two three.", 3),
        ("Don't split e.g. 3,000 or state-of-the-art.", 6),
        ("Prose $x + y = z$ and more.", 3),  # formulas are not words
        ("Text\n\n```python\nnot counted at all\n```\n\n$$\nx\n$$", 1),
        ("| a b | c |\n|---|---|\n| d | e f |", 6),  # table cells count
        ("# Heading words\n\n- item one\n- item two", 6),
        ("Note[^1].\n\n[^1]: Footnote words here.", 4),
        ("See \\cite{arXiv:1512.03385} ![alt text](https://e.org/x.png).", 1),
    ],
)
def test_word_count(body: str, words: int) -> None:
    assert render_uncached(body).words == words


@pytest.mark.parametrize(("words", "minutes"), [(0, 0), (1, 1), (230, 1), (231, 2), (3000, 14)])
def test_reading_time_rounds_up_at_230_words_a_minute(words: int, minutes: int) -> None:
    result = render_uncached(prose(words))
    assert (result.words, result.minutes) == (words, minutes)


# --- citations --------------------------------------------------------------------------

# The same identifiers, as the papers service normalises them: a resolver keyed by what
# papers stores must find what summaries cite.
_ARXIV = ["1512.03385", "1512.03385v2", "0704.0001", "1501.00001V10", "hep-th/9901001", "math.AG/0601001v3",
          "HEP-TH/9901001", "cond-mat/0703999"]
_DOI = ["10.1109/CVPR.2016.90", "10.1145/3065386", "10.1000/a,b", "10.1002/(SICI)1097-4571(199806)49:8<693::AID>3.0.CO;2-O"]
_DBLP = ["conf/iclr/RendaFC20", "journals/corr/abs-1512-03385", "conf/cvpr/HeZRS16.html", "conf/nips/O'Neil20"]
_NOT_IDENTIFIERS = [("arxiv", "0703.0001"), ("arxiv", "1412.00001"), ("arxiv", "1501.0001"), ("arxiv", "1513.00001"),
                    ("arxiv", "foo/9901001"), ("arxiv", "hep-th/0704001"), ("arxiv", "1512.03385v0"),
                    ("doi", "11.1/x"), ("doi", "10.12/x"), ("doi", "10.1234/"), ("dblp", "conf/x"),
                    ("dblp", "nonsense/a/b"), ("dblp", "conf/a b/c")]


@pytest.mark.parametrize("raw", _ARXIV)
def test_arxiv_keys_normalise_as_the_papers_service_does(raw: str) -> None:
    assert parse_key(f"arXiv:{raw}") == CitationKey("arxiv", papers_ids.parse_arxiv(raw).base)


@pytest.mark.parametrize("raw", _DOI)
def test_doi_keys_normalise_as_the_papers_service_does(raw: str) -> None:
    assert parse_key(f"doi:{raw}") == CitationKey("doi", papers_ids.normalize_doi(raw))


@pytest.mark.parametrize("raw", _DBLP)
def test_dblp_keys_normalise_as_the_papers_service_does(raw: str) -> None:
    assert parse_key(f"dblp:{raw}") == CitationKey("dblp", papers_ids.normalize_dblp(raw))


@pytest.mark.parametrize(("kind", "raw"), _NOT_IDENTIFIERS)
def test_what_papers_refuses_is_no_citation(kind: str, raw: str) -> None:
    parse = {"arxiv": papers_ids.parse_arxiv, "doi": papers_ids.normalize_doi, "dblp": papers_ids.normalize_dblp}[kind]
    with pytest.raises(papers_ids.InvalidIdentifier):
        parse(raw)
    assert parse_key(f"{kind}:{raw}") is None
    assert "<a" not in render_uncached(f"\\cite{{{kind}:{raw}}}").html


def test_prefixes_are_case_insensitive_and_may_be_spaced() -> None:
    assert parse_key(" ARXIV : 1512.03385 ") == parse_key("arXiv:1512.03385") == CitationKey("arxiv", "1512.03385")
    assert parse_key("Paper:01hresnet0000000000000000") == CitationKey("paper", "01hresnet0000000000000000")


def test_a_resolver_sees_each_key_once_and_only_normalised_keys() -> None:
    asked: list[CitationKey] = []

    def resolver(key: CitationKey) -> CitedPaper | None:
        asked.append(key)
        return RESNET if key == CitationKey("arxiv", "1512.03385") else None

    body = "\\cite{arXiv:1512.03385v2} \\cite{arxiv:1512.03385, doi:10.1145/3065386} \\cite{DOI:10.1145/3065386}"
    result = render_uncached(body, resolver)
    assert asked == [CitationKey("arxiv", "1512.03385"), CitationKey("doi", "10.1145/3065386")]
    assert [(str(c.key), c.paper) for c in result.citations] == [
        ("arXiv:1512.03385", RESNET), ("doi:10.1145/3065386", None)
    ]  # fmt: skip


def test_known_citation_links_to_the_paper_page_with_its_short_title() -> None:
    long_title = CitedPaper("p1", "A " + "very " * 30 + "long title")
    html = render_uncached("\\cite{arXiv:1512.03385}", {CitationKey("arxiv", "1512.03385"): long_title}.get).html
    link = next(attrs for tag, attrs in elements(html) if tag == "a")
    assert link["href"] == "/papers/p1" and link["class"] == "cite" and link["title"] == "arXiv:1512.03385"
    text = re.sub(r"<[^>]+>", "", html).strip()
    assert text.startswith("[A very") and text.endswith("…]")
    assert len(text) <= 82


@pytest.mark.parametrize(
    ("key", "href"),
    [
        ("arXiv:1706.03762v5", "https://arxiv.org/abs/1706.03762"),
        ("arXiv:hep-th/9901001", "https://arxiv.org/abs/hep-th/9901001"),
        ("doi:10.1145/3065386", "https://doi.org/10.1145/3065386"),
        ("doi:10.1000/x?y#z", "https://doi.org/10.1000/x%3Fy%23z"),
        ("dblp:conf/iclr/RendaFC20", "https://dblp.org/rec/conf/iclr/RendaFC20"),
        ("paper:01hunknown", "/papers/01hunknown"),
    ],
)
def test_unknown_citation_links_out_by_identifier(key: str, href: str) -> None:
    html = render_uncached(f"\\cite{{{key}}}").html
    assert [attrs["href"] for tag, attrs in elements(html) if tag == "a"] == [href]


def test_a_known_paper_id_from_the_resolver_is_url_encoded() -> None:
    html = render_uncached("\\cite{arXiv:1512.03385}", lambda key: CitedPaper('x/"><script>', "T")).html
    assert_no_active_content(html)
    assert [attrs["href"] for tag, attrs in elements(html) if tag == "a"] == ["/papers/x%2F%22%3E%3Cscript%3E"]


def test_cited_keys_lists_what_the_render_cites() -> None:
    body = "A \\cite{arXiv:1512.03385, dblp:conf/iclr/RendaFC20}.\n\n> \\cite{doi:10.1145/3065386}\n\n\\cite{bad}"
    rendered = [c.key for c in render_uncached(body).citations]
    assert cited_keys(body) == rendered == [
        CitationKey("arxiv", "1512.03385"), CitationKey("dblp", "conf/iclr/RendaFC20"),
        CitationKey("doi", "10.1145/3065386"),
    ]  # fmt: skip


def test_citations_inside_code_and_math_are_not_citations() -> None:
    result = render_uncached("`\\cite{arXiv:1512.03385}` and $\\cite{x}$\n\n```\n\\cite{arXiv:1512.03385}\n```")
    assert result.citations == ()


# --- the cache ------------------------------------------------------------------------------


def test_a_repeated_render_is_served_from_the_cache() -> None:
    body = "# Cached\n\nA body rendered twice, $x^2$, unique " + body_hash("cache-test")
    first = render(body)
    assert render(body) is first
    assert render_markdown(body) == first.html  # the uncached path agrees


def test_a_citation_link_updates_once_the_cited_paper_is_known() -> None:
    body = "Builds on \\cite{arXiv:1512.03385}. " + body_hash("late-paper")
    known: dict[CitationKey, CitedPaper] = {}
    before = render(body, known.get)
    assert before.citations[0].paper is None and "arxiv.org/abs/1512.03385" in before.html
    assert render(body, known.get) is before  # nothing changed: cached

    known[CitationKey("arxiv", "1512.03385")] = RESNET  # the paper's event arrived
    after = render(body, known.get)
    assert after is not before
    assert after.citations[0].paper == RESNET and 'href="/papers/01hresnet0000000000000000"' in after.html
    assert render(body, known.get) is after


def test_cache_entries_belong_to_one_renderer_version(monkeypatch: pytest.MonkeyPatch) -> None:
    cache = RenderCache()
    result = render_uncached("x")
    cache.put("digest", result)
    assert cache.get("digest") is result
    monkeypatch.setattr(render_module, "RENDERER_VERSION", RENDERER_VERSION + "-next")
    assert cache.get("digest") is None


def test_cache_is_bounded_by_entries_least_recently_used_first() -> None:
    cache = RenderCache(max_entries=2)
    a, b, c = (RenderResult(html=t, toc=(), words=0, minutes=0, citations=()) for t in "abc")
    cache.put("a", a)
    cache.put("b", b)
    assert cache.get("a") is a  # a is now the most recent
    cache.put("c", c)
    assert len(cache) == 2 and cache.get("b") is None and cache.get("a") is a and cache.get("c") is c


def test_cache_is_bounded_by_size() -> None:
    cache = RenderCache(max_entries=100, max_chars=100)
    results = [RenderResult(html=str(i) * 20, toc=(), words=0, minutes=0, citations=()) for i in range(10)]
    for i, result in enumerate(results):
        cache.put(str(i), result)
    assert len(cache) == 5 and cache.get("4") is None and cache.get("9") is results[9]
    cache.put("huge", RenderResult(html="x" * 26, toc=(), words=0, minutes=0, citations=()))
    assert cache.get("huge") is None and len(cache) == 5  # over a quarter of the budget: not kept


# --- figures ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "source",
    ["data:image/png;base64,AAAA", "/static/x.png", "x.png", "//evil.example/x.png", "ftp://example.org/x.png",
     "https:///nohost.png"],
)
def test_images_from_anywhere_but_the_web_are_dropped(source: str) -> None:
    html = render_uncached(f"![the alt]({source})").html
    assert "<img" not in html and "the alt" in html


def test_an_image_alone_in_a_tight_list_stays_inline() -> None:
    html = render_uncached("- ![a](https://e.org/a.png)\n- b").html
    assert "<figure" not in html and tags(html) == ["ul", "li", "img", "li"]


@pytest.mark.parametrize(
    "line",
    ["https://e.org/a.PNG", "http://e.org/a.jpeg?x=1", "https://e.org/dir/a.avif#frag", "https://e.org/a.gif"],
)
def test_bare_image_urls_become_figures(line: str) -> None:
    html = render_uncached(f"{line}\n").html
    assert tags(html) == ["figure", "img"]


@pytest.mark.parametrize(
    "line",
    ["see https://e.org/a.png", "https://e.org/a.png and more", "https://e.org/page.html", "`https://e.org/a.png`",
     "[x](https://e.org/a.png)", "https://e.org/a.png.exe"],
)
def test_other_urls_are_not_figures(line: str) -> None:
    assert "<img" not in render_uncached(line).html


# --- code -------------------------------------------------------------------------------


def test_highlighted_code_uses_classes_only() -> None:
    html = render_uncached("```python\nimport os\nprint(os.sep)  # x\n```").html
    spans = [attrs for tag, attrs in elements(html) if tag == "span"]
    assert spans and all(set(attrs) == {"class"} and attrs["class"] in TOKEN_CLASSES for attrs in spans)
    assert "style=" not in html


def test_language_names_are_case_insensitive_and_aliases_work() -> None:
    for fence in ("Python", "py", "PY3"):
        assert '<pre class="highlight">' in render_uncached(f"```{fence}\nx = 1\n```").html


def test_a_huge_code_block_is_plain() -> None:
    code = "x = 1\n" * (MAX_HIGHLIGHT_CHARS // 6 + 1)
    html = render_uncached(f"```python\n{code}```").html
    assert html.startswith('<pre><code class="language-python">x = 1\n') and "<span" not in html


def test_highlighting_stops_after_a_total_budget() -> None:
    block = "```python\n" + "x = 1\n" * 3000 + "```\n\n"  # 18 kB each
    html = render_uncached(block * 5).html
    assert html.count('<pre class="highlight">') == 3 and html.count("<pre><code") == 2


def test_stylesheet_themes_code_light_and_dark_and_lets_long_lines_scroll() -> None:
    css = stylesheet()
    assert css is stylesheet()  # computed once
    assert ".highlight .k {" in css  # light keywords
    assert "@media (prefers-color-scheme: dark)" in css
    assert ':root[data-theme="dark"] .highlight .k' in css and ':root:not([data-theme="light"]) .highlight .k' in css
    assert re.search(r"\bpre \{[^}]*overflow-x: auto", css)
    assert re.search(r"img\.figure-img \{[^}]*max-width: 100%", css)
    assert ".math-display {" in css and ".table-wrap {" in css


# --- hostile input at scale ---------------------------------------------------------------------


def test_a_10_mb_table_renders_in_bounded_time_and_stays_sane() -> None:
    row = "| cell $x$ | 12.5 | **b** |\n"
    body = "| a | b | c |\n|---|--:|:-:|\n" + row * (10_000_000 // len(row))
    result = render_uncached(body)
    assert result.truncated
    assert result.html.startswith('<div class="table-wrap"><table>')
    assert result.html.endswith('</table>\n</div>\n<p class="render-truncated">…</p>\n')
    rows = result.html.count("<tr>")
    assert 1000 < rows <= MAX_RENDER_CHARS // len(row) + 1  # only the first MAX_RENDER_CHARS
    assert result.html.count("<math") == rows - 1  # every body row's formula, converted


def test_a_body_just_under_the_limit_is_whole() -> None:
    body = ("word " * 19 + "\n") * (MAX_RENDER_CHARS // 100)
    assert len(body) <= MAX_RENDER_CHARS
    result = render_uncached(body)
    assert not result.truncated and result.words == 19 * (MAX_RENDER_CHARS // 100)


@pytest.mark.parametrize("depth", [10, 30, 200])
def test_deep_nesting_keeps_the_text_after_it(depth: int) -> None:
    for nested in (
        "".join("  " * d + f"- level{d}\n" for d in range(depth)),
        "".join("   " * d + f"1. level{d}\n" for d in range(depth)),
        "> " * depth + "level\n",
        "- " * depth + "level\n",
    ):
        html = render_uncached(nested + "\nafter the list\n").html
        assert html.endswith("<p>after the list</p>\n")
        assert_no_active_content(html)
    words = render_uncached("".join("  " * d + f"- level{d}\n" for d in range(depth))).html
    assert all(f"level{d}" in words for d in range(depth))


# --- properties ---------------------------------------------------------------------------------

_RICH_FRAGMENTS = st.sampled_from(
    [
        "\\cite{", "}", "arXiv:1512.03385", "doi:10.1/x", ", ", "paper:", "dblp:conf/a/b", "![", "](", ")",
        "https://e.org/a.png", "javascript:alert(1)", "data:image/png;base64,AA", "\n", "\n\n", "```python\n",
        "```\n", "# ", "## ", "| a | b |\n|---|---|\n", "| ", " |", "$", "$$", "\\(", "\\)", "\\[", "\\]",
        "<script>", "\" onerror=\"alert(1)", "'", "<img src=x onerror=alert(1)>", "[^1]", "[^1]: ", "- ", "> ",
        "x", " ", "&#x6A;avascript:", "<svg onload=alert(1)>", "\\text{<b>}", "*", "_", "`",
    ]
)  # fmt: skip


@_PROPERTY_SETTINGS
@given(st.lists(_RICH_FRAGMENTS, max_size=60).map("".join), st.booleans())
def test_any_mix_of_rich_constructs_renders_without_active_content(body: str, known: bool) -> None:
    resolver = (lambda key: CitedPaper('p"><script>', "<script>alert(1)</script>")) if known else None
    result = render_uncached(body, resolver)
    assert_no_active_content(result.html)
    assert_no_active_content(result.toc_html)
    assert "javascript:" not in " ".join(
        value or "" for _, attrs in elements(result.html) for value in attrs.values()
    ).lower()
    assert render_uncached(body, resolver) == result
