"""The venue-key rule, shared: papers store venues by it, and every filter by venue
(summaries lists, search) accepts what a user types ('CVPR 2016', 'cvpr') through it."""

from __future__ import annotations

import re
import unicodedata

_PARENTHESISED = re.compile(r"\(([^()]*)\)")
_SHORT_YEAR = re.compile(r"['\u2018\u2019][0-9]{2}\b")
_WORD = re.compile(r"[^\W_]+")
_YEAR = re.compile(r"(?:19|20)[0-9]{2}")
_ORDINAL = re.compile(r"[0-9]+(?:st|nd|rd|th)")
_ACRONYM = re.compile(r"[A-Za-z0-9][A-Za-z0-9&+-]*")
_LEADING_NOISE = frozenset({"proceedings", "proc", "of", "the", "in"})


def venue_key(name: str) -> str:
    """A lower-case slug grouping spellings of one venue.

    'CVPR 2016', 'cvpr' and 'Conference on Computer Vision ... (CVPR)' all give 'cvpr'.
    Years and ordinals are dropped; a parenthesised acronym wins over the long name.
    """
    text = name.strip()
    acronym = _parenthesised_acronym(text)
    words = _venue_words(acronym) if acronym else []
    if not words:
        words = _venue_words(text)
    if not words:
        raise ValueError("has no name left once years and ordinals are removed")
    return "-".join(words)


def _parenthesised_acronym(text: str) -> str | None:
    """The first '(XYZ)' or '(XYZ 2016)' group that looks like an acronym."""
    for group in _PARENTHESISED.findall(text):
        candidate = _SHORT_YEAR.sub("", group)
        candidate = " ".join(
            w for w in candidate.split() if not (_YEAR.fullmatch(w) or _ORDINAL.fullmatch(w))
        )
        # Two capitals tell 'ICLR', 'NeurIPS', 'CoRL' from '(Online)' or '(Volume 1)'.
        if _ACRONYM.fullmatch(candidate) and sum(c.isupper() for c in candidate) >= 2:
            return candidate
    return None


def _venue_words(text: str) -> list[str]:
    words = [
        w
        for w in _WORD.findall(fold(_SHORT_YEAR.sub(" ", text)))
        if not (_YEAR.fullmatch(w) or _ORDINAL.fullmatch(w))
    ]
    while words and words[0] in _LEADING_NOISE:
        words.pop(0)
    return words


def fold(text: str) -> str:
    """Casefold and strip accents ('É' -> 'e'); compatibility forms unfold ('ﬁ' -> 'fi')."""
    # Decompose on both sides of casefold: '𝐀' only becomes 'A' (then 'a') through
    # NFKD, and casefold can itself emit combining marks ('ΐ').
    decomposed = unicodedata.normalize(
        "NFKD", unicodedata.normalize("NFKD", text).casefold()
    )
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def venue_filter(name: str | None, field: str = "venue") -> str | None:
    """The key a filter value ('ICLR', 'iclr 2020') stands for; Invalid if it names nothing."""
    from backbone.errors import Invalid

    if name is None:
        return None
    try:
        return venue_key(name)
    except ValueError as exc:
        raise Invalid(f"{name!r} {exc}", field=field) from None
