"""Text rules: X's weighted length, shortening on a word boundary, a summary's first sentence.

X counts a post after NFC normalisation: code points in the Latin and general-punctuation
ranges weigh 1, every other code point (CJK, emoji, the ellipsis itself) weighs 2, and a
URL weighs 23 whatever its length; the limit is 280. Where this module cannot be sure
what X will see, it errs long, so a text it accepts is never refused:
- an emoji sequence is counted per code point (X counts a whole sequence as 2);
- a URL counts 23 only with a scheme and a host ending in a real-looking top-level domain,
  otherwise at its own weight; a bare `name.tld` counts the larger of 23 and its weight;
- punctuation that ends a URL is counted on its own.
"""

from __future__ import annotations

import re
import unicodedata

MAX_TWEET_WEIGHT = 280
URL_WEIGHT = 23
ELLIPSIS = "\u2026"

# twitter-text v3: the ranges (inclusive) whose code points weigh 1.
_LIGHT_RANGES = ((0x0000, 0x10FF), (0x2000, 0x200D), (0x2010, 0x201F), (0x2032, 0x2037))

_URL = re.compile(r"https?://[A-Za-z0-9\-._~:/?#\[\]@!$&'()*+,;=%]+", re.IGNORECASE)
_URL_TAIL = ".,;:!?)]}'\""
_HOST_WITH_TLD = re.compile(r"^https?://(?:[^/?#@]*@)?(?:[a-z0-9-]+\.)+[a-z]{2,63}(?::\d+)?(?:[/?#]|$)", re.IGNORECASE)
_BARE_DOMAIN = re.compile(r"(?<![\w@.\-/])(?:[a-z0-9-]+\.)+[a-z]{2,63}\b(?:/[A-Za-z0-9\-._~/?#%=&+]*)?", re.IGNORECASE)
_SPACE = re.compile(r"\s+")


def normalise(text: str) -> str:
    """NFC, and any run of whitespace (newlines too) as one space."""
    return _SPACE.sub(" ", unicodedata.normalize("NFC", text)).strip()


def char_weight(char: str) -> int:
    cp = ord(char)
    return 1 if any(lo <= cp <= hi for lo, hi in _LIGHT_RANGES) else 2


def _plain_weight(text: str) -> int:
    """Weight of text holding no scheme URL; bare domains count at least as a URL."""
    total, pos = 0, 0
    for m in _BARE_DOMAIN.finditer(text):
        total += sum(char_weight(c) for c in text[pos:m.start()])
        total += max(URL_WEIGHT, sum(char_weight(c) for c in m.group()))
        pos = m.end()
    return total + sum(char_weight(c) for c in text[pos:])


def _urls(text: str) -> list[tuple[int, int]]:
    spans = []
    for m in _URL.finditer(text):
        end = m.end()
        while end > m.start() and text[end - 1] in _URL_TAIL:
            end -= 1
        spans.append((m.start(), end))
    return spans


def weighted_length(text: str) -> int:
    text = unicodedata.normalize("NFC", text)
    total, pos = 0, 0
    for start, end in _urls(text):
        url = text[start:end]
        total += _plain_weight(text[pos:start])
        total += URL_WEIGHT if _HOST_WITH_TLD.match(url) else sum(char_weight(c) for c in url)
        pos = end
    return total + _plain_weight(text[pos:])


def _joins_next(text: str, i: int) -> bool:
    """True where cutting before text[i] would split one visible character."""
    if i <= 0 or i >= len(text):
        return False
    after, before = text[i], text[i - 1]
    return (unicodedata.combining(after) > 0 or after in "\u200d\ufe0e\ufe0f" or before == "\u200d"
            or unicodedata.category(after) == "Mn" or 0x1F3FB <= ord(after) <= 0x1F3FF)


def shorten(text: str, max_weight: int) -> str:
    """`text` if it fits in `max_weight`, else its longest prefix ending on a word boundary
    followed by an ellipsis; a text with no space to break at (one long word, CJK) is cut
    between characters. Returns "" when not even an ellipsis fits."""
    text = normalise(text)
    if weighted_length(text) <= max_weight:
        return text
    if max_weight < weighted_length(ELLIPSIS):
        return ""
    # Weight grows with the prefix (URL rules make it only nearly monotone, so the result
    # is checked again below): binary-search the longest prefix that fits.
    lo, hi = 0, len(text)
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if weighted_length(text[:mid].rstrip() + ELLIPSIS) <= max_weight:
            lo = mid
        else:
            hi = mid - 1
    cut = lo
    while cut > 0:
        result = _cut_at(text, cut)
        if weighted_length(result) <= max_weight:
            return result
        cut -= 1
    return ""


def _wide_letter(char: str) -> bool:
    """CJK ideographs, kana, hangul: scripts written without spaces between words."""
    return unicodedata.category(char) == "Lo" and char_weight(char) == 2


def is_word_boundary(text: str, i: int) -> bool:
    if i <= 0 or i >= len(text):
        return True
    return text[i].isspace() or text[i - 1].isspace() or _wide_letter(text[i - 1]) or _wide_letter(text[i])


def _cut_at(text: str, cut: int) -> str:
    while _joins_next(text, cut):
        cut -= 1
    boundary = cut
    while boundary > 0 and not is_word_boundary(text, boundary):
        boundary -= 1
    if boundary > 0:  # else one unbroken word: cut it between characters
        cut = boundary
    prefix = text[:cut].rstrip(" ,;:-\u2013\u2014")
    return prefix + ELLIPSIS if prefix else ""


# -- the first sentence of a summary -----------------------------------------------------

_FENCE = re.compile(r"^(```|~~~).*?^\1[^\n]*$", re.MULTILINE | re.DOTALL)
_DISPLAY_MATH = re.compile(r"\$\$.*?\$\$", re.DOTALL)
_INLINE_MATH = re.compile(r"(?<![\\$])\$([^$\n]+?)\$")
_IMAGE = re.compile(r"!\[([^\]]*)\]\([^)]*\)")
_LINK = re.compile(r"\[([^\]]+)\]\([^)]*\)")
_HTML_TAG = re.compile(r"<[^>\n]+>")
_LINE_PREFIX = re.compile(r"^\s{0,3}(?:>\s?|[-*+]\s+|\d+[.)]\s+)+")
_HEADING = re.compile(r"^\s{0,3}#{1,6}\s")
_EMPHASIS = re.compile(r"(\*{1,3}|_{1,3}|`+|~~)(?=\S)(.+?)(?<=\S)\1")
_ABBREVIATIONS = ("e.g.", "i.e.", "et al.", "etc.", "vs.", "cf.", "fig.", "eq.", "sec.", "resp.", "approx.",
                  "no.", "dr.", "prof.")
_SENTENCE_END = re.compile(r"[.!?](?=[\"'\u201d\u2019)\]]*\s)|[\u3002\uff01\uff1f]")


def plain_text(markdown: str) -> str:
    """Markdown with LaTeX as one line of readable text (math kept as its TeX source)."""
    text = _FENCE.sub(" ", markdown)
    text = _DISPLAY_MATH.sub(" ", text)
    lines = []
    for line in text.splitlines():
        if _HEADING.match(line) or set(line.strip()) <= set("-*_=|: ") and line.strip():
            continue  # headings and rules are not prose
        lines.append(_LINE_PREFIX.sub("", line))
    text = "\n".join(lines)
    math: list[str] = []  # TeX is kept as written: its _ and * are not emphasis

    def _stash(m: re.Match) -> str:
        math.append(m.group(1))
        return f"\x01{len(math) - 1}\x01"

    text = _INLINE_MATH.sub(_stash, text)
    text = _IMAGE.sub(r"\1", text)
    text = _LINK.sub(r"\1", text)
    text = _HTML_TAG.sub("", text)
    for _ in range(3):
        text = _EMPHASIS.sub(r"\2", text)
    text = re.sub("\x01(\\d+)\x01", lambda m: math[int(m.group(1))], text)
    return normalise(text)


def first_sentence(markdown: str) -> str:
    text = plain_text(markdown)
    for m in _SENTENCE_END.finditer(text):
        head = text[:m.end()]
        if head.lower().endswith(_ABBREVIATIONS) or re.search(r"\b[A-Z]\.$", head):
            continue  # "e.g.", "A. Turing" and "Fig. 3" do not end a sentence
        return head.strip()
    return text
