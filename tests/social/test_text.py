"""X's weighted length, shortening, first sentences and composing, including properties
over CJK, emoji and URL-heavy titles (hypothesis)."""

from __future__ import annotations

import string
import unicodedata

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from services.social.domain.compose import DEFAULT_TEMPLATES, Composer, check_template, render
from services.social.domain.text import (
    ELLIPSIS,
    MAX_TWEET_WEIGHT,
    first_sentence,
    is_word_boundary,
    normalise,
    shorten,
    weighted_length,
)
from tests.social.conftest import PUBLIC_URL, summary_state

# -- weighted length ---------------------------------------------------------------------


@pytest.mark.parametrize(("text", "weight"), [
    ("a" * 280, 280),
    ("é" * 280, 280),                      # Latin-1 supplement weighs 1
    ("漢" * 140, 280),                     # CJK weighs 2
    ("こんにちは", 10),
    ("😀", 2),
    ("👍🏽", 4),                             # counted per code point: never less than X counts
    (ELLIPSIS, 2),                         # U+2026 is outside the light ranges
    ("\u2014", 1),                         # an em dash is general punctuation
    ("e\u0301", 1),                        # NFC first: one é
    ("https://shortscience.org/summaries/01hzzzzzzzzzzzzzzzzzzzzzzz", 23),
    ("see https://a.co.", 4 + 23 + 1),     # the full stop after a URL is not part of it
    ("arxiv.org", 23),                     # a bare domain counts as a URL at least
    ("http://localhost:8000/summaries/x", 33),  # no real domain: X would not shorten it
])
def test_weighted_length(text, weight):
    assert weighted_length(text) == weight


def test_shorten_keeps_whole_words_and_adds_an_ellipsis():
    assert shorten("The quick brown fox jumps over the lazy dog", 20) == "The quick brown" + ELLIPSIS
    assert shorten("fits as it is", 13) == "fits as it is"
    assert shorten("Supercalifragilisticexpialidocious", 10) == "Supercal" + ELLIPSIS  # one word: cut inside
    assert shorten("深度残差学习用于图像识别", 10) == "深度残差" + ELLIPSIS
    assert shorten("anything", 1) == ""


def test_shorten_never_splits_an_emoji_sequence_or_a_combining_mark():
    family = "\U0001F469\u200d\U0001F52C"  # woman scientist: three code points, one glyph
    cut = shorten(family * 10, 9)
    assert weighted_length(cut) <= 9
    assert not cut.removesuffix(ELLIPSIS).endswith("\u200d")
    assert cut.removesuffix(ELLIPSIS).count("\U0001F469") == cut.removesuffix(ELLIPSIS).count("\U0001F52C")


# -- the first sentence ------------------------------------------------------------------


@pytest.mark.parametrize(("body", "sentence"), [
    ("# Summary\n\nResNets add **identity** shortcuts. They train deeper.", "ResNets add identity shortcuts."),
    ("The loss is $L = \\sum_i x_i^2$ here. Next.", "The loss is L = \\sum_i x_i^2 here."),
    ("See [the paper](https://arxiv.org/abs/1512.03385), e.g. Fig. 3 and A. Turing's idea. Rest.",
     "See the paper, e.g. Fig. 3 and A. Turing's idea."),
    ("$$\\int f$$\n\nAfter the display. More.", "After the display."),
    ("```python\nx = 1. y\n```\nCode first. Then prose.", "Code first."),
    ("残差学习使深层网络易于训练。更多内容。", "残差学习使深层网络易于训练。"),
    ("No full stop at all", "No full stop at all"),
    ("- a list item starts it! then more", "a list item starts it!"),
])
def test_first_sentence(body, sentence):
    assert first_sentence(body) == sentence


# -- composing ---------------------------------------------------------------------------


def _composer() -> Composer:
    return Composer(DEFAULT_TEMPLATES, PUBLIC_URL)


def test_a_post_names_the_author_unless_the_summary_is_anonymous():
    named = _composer().compose(summary_state(author="zelda"), "twitter")
    assert "Summary by zelda" in named.text
    # Even if an event ever carried a name for an anonymous summary, no post shows it.
    leaky = summary_state(author="zelda").model_copy(update={"anonymous": True})
    for channel in ("twitter", "facebook"):
        composed = _composer().compose(leaky, channel)
        assert "zelda" not in composed.text and "Summary by" not in composed.text


def test_no_venue_or_year_leaves_no_empty_brackets():
    text = _composer().compose(summary_state(venue=None, year=None, title="Untitled Work"), "twitter").text
    assert text.splitlines()[0] == "Untitled Work"
    text = _composer().compose(summary_state(venue=None, year=2020, title="A (Brief) Note"), "facebook").text
    assert text.splitlines()[0] == "New summary: A (Brief) Note (2020)"


def test_a_venue_that_names_its_year_is_not_repeated():
    text = _composer().compose(summary_state(venue="ICLR 2020", year=2020), "twitter").text
    assert "(ICLR 2020)" in text and "2020 2020" not in text


def test_a_long_title_and_sentence_are_shortened_and_the_link_kept():
    state = summary_state(title=" ".join(["Representation"] * 60), body="word " * 400 + ".")
    composed = _composer().compose(state, "twitter")
    assert composed.weighted_length == weighted_length(composed.text) <= 280
    assert composed.text.endswith(f"{PUBLIC_URL}/summaries/{state.summary_id}")
    assert ELLIPSIS in composed.text and "Representation" in composed.text


def test_templates_are_checked():
    with pytest.raises(ValueError, match="unknown template field"):
        check_template("{title} {doi}", require_link=False)
    with pytest.raises(ValueError, match="must contain"):
        check_template("{title}", require_link=True)
    with pytest.raises(ValueError, match="too long"):
        check_template("x" * 250 + " {link}", require_link=True)
    with pytest.raises(ValueError, match="format specs"):
        check_template("{title!r} {link}", require_link=True)
    assert render("{title}\n{byline}\n{link}", {"title": "T", "byline": "", "link": "L"}) == "T\nL"


# -- properties --------------------------------------------------------------------------

_LATIN = st.text(alphabet=string.ascii_letters + "éüßçø-'", min_size=1, max_size=14)
_CJK = st.text(alphabet=st.characters(min_codepoint=0x4E00, max_codepoint=0x9FFF), min_size=1, max_size=40)
_KANA = st.text(alphabet=st.characters(min_codepoint=0x3041, max_codepoint=0x30FF), min_size=1, max_size=20)
_EMOJI = st.sampled_from(["😀", "🧠", "🚀", "\U0001F469\u200d\U0001F52C", "🇯🇵", "❤️", "👍🏽", "✨"])
_URL = st.builds(lambda host, path: f"https://{host}.org/{path}",
                 st.text(alphabet=string.ascii_lowercase, min_size=1, max_size=12),
                 st.text(alphabet=string.ascii_lowercase + string.digits + "/-_", max_size=60))
_BARE = st.sampled_from(["arxiv.org", "github.com/openai/gpt-2", "doi.org/10.1000/xyz", "a.co"])
_PUNCT = st.sampled_from([",", ":", "—", "(", ")", "?", "&", "·"])
_TOKEN = st.one_of(_LATIN, _LATIN, _CJK, _KANA, _EMOJI, _URL, _BARE, _PUNCT)
_TEXT = st.lists(_TOKEN, min_size=1, max_size=70).map(" ".join)
_PLAIN_TOKEN = st.one_of(_LATIN, _CJK, _KANA, _EMOJI, st.sampled_from([",", ":", "—", "(", ")", "&", "·"]))
_LONG_PLAIN = st.lists(_PLAIN_TOKEN, min_size=1, max_size=150).map(" ".join)

_STRIPPED = " ,;:-\u2013\u2014"


def _reference_weight(text: str, link: str) -> int:
    """X's rule written independently, for texts whose only URL is the link."""
    text = unicodedata.normalize("NFC", text)
    assert text.count(link) == 1
    rest = text.replace(link, "")
    light = ((0, 4351), (8192, 8205), (8208, 8223), (8242, 8247))
    return 23 + sum(1 if any(lo <= ord(c) <= hi for lo, hi in light) else 2 for c in rest)


def _assert_cut_well(original: str, shown: str) -> None:
    """`shown` is all of `original`, or a prefix cut on a word boundary plus an ellipsis
    (between characters only when the prefix holds no boundary at all)."""
    original = normalise(original)
    if shown == original:
        return
    if shown == "":
        return
    assert shown.endswith(ELLIPSIS), shown
    prefix = shown[: -len(ELLIPSIS)]
    assert original.startswith(prefix), (original, shown)
    cut = len(prefix)
    while cut < len(original) and original[cut] in _STRIPPED and not is_word_boundary(original, cut):
        cut += 1
    candidates = range(len(prefix), cut + 1)
    boundary_anywhere = any(is_word_boundary(original, i) for i in range(1, len(prefix)))
    assert any(is_word_boundary(original, i) for i in candidates) or not boundary_anywhere, (original, shown)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(title=_TEXT, body=_TEXT, venue=st.one_of(st.none(), _LATIN, _CJK), anonymous=st.booleans())
def test_any_tweet_fits_and_keeps_its_link(title, body, venue, anonymous):
    state = summary_state(title=title, body=body, venue=venue, anonymous=anonymous, author="ada")
    composed = _composer().compose(state, "twitter")
    link = f"{PUBLIC_URL}/summaries/{state.summary_id}"
    assert weighted_length(composed.text) <= MAX_TWEET_WEIGHT
    assert composed.text.endswith("\n" + link) and composed.text.count(link) == 1
    # The author's name is looked for before the link: the link's random summary id may spell "ada".
    shown = composed.text.removesuffix("\n" + link)
    assert ("ada" in shown) != anonymous or "ada" in title + body + (venue or "")


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(title=_LONG_PLAIN, body=_LONG_PLAIN)
def test_title_and_sentence_are_cut_on_word_boundaries(title, body):
    template = "T: {title}\nS: {sentence}\n{link}"
    state = summary_state(title=title, body=body)
    composed = Composer({"twitter": template, "facebook": template}, PUBLIC_URL).compose(state, "twitter")
    lines = composed.text.split("\n")
    assert lines[0].startswith("T:") and lines[1].startswith("S:") and len(lines) == 3
    assert _reference_weight(composed.text, composed.link) <= MAX_TWEET_WEIGHT
    _assert_cut_well(title, lines[0].removeprefix("T:").strip())
    _assert_cut_well(first_sentence(body), lines[1].removeprefix("S:").strip())


@settings(max_examples=200, deadline=None)
@given(text=_TEXT, limit=st.integers(min_value=0, max_value=300))
def test_shorten_always_fits(text, limit):
    result = shorten(text, limit)
    assert weighted_length(result) <= limit
    _assert_cut_well(text, result)
