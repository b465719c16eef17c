"""Paper identifiers (DOI, arXiv, DBLP), venue keys and title keys.

Pure functions: each takes what a user typed or pasted (bare id, prefixed id
or URL) and returns one canonical form, or raises InvalidIdentifier naming
the offending field. Canonical forms are fixed points: normalising a
normalised value returns it unchanged, so stored values can be re-checked.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from urllib.parse import unquote

from backbone.venues import fold
from backbone.venues import venue_key as shared_venue_key

MAX_INPUT_LENGTH = 256

DOI_FIELD = "identifiers.doi"
ARXIV_FIELD = "identifiers.arxiv"
DBLP_FIELD = "identifiers.dblp"
VENUE_FIELD = "venue"
TITLE_FIELD = "title"


class InvalidIdentifier(ValueError):
    """A value that cannot be read as the identifier its field expects."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message

    def __reduce__(self) -> tuple[type[InvalidIdentifier], tuple[str, str]]:
        # The default would call __init__ with the one formatted argument.
        return type(self), (self.field, self.message)


def _require_text(raw: str, field: str, what: str) -> str:
    """Reject empty and over-long input; return it stripped of whitespace."""
    if len(raw) > MAX_INPUT_LENGTH:
        raise InvalidIdentifier(
            field, f"{what} is too long ({len(raw)} characters, at most {MAX_INPUT_LENGTH})"
        )
    text = raw.strip()
    if not text:
        raise InvalidIdentifier(field, f"{what} is empty")
    return text


def _shown(text: str) -> str:
    return repr(text if len(text) <= 80 else text[:77] + "...")


# --- DOI -------------------------------------------------------------------

# Digits are spelled [0-9]: \d would also accept other scripts' digits.
_DOI_PREFIX = re.compile(
    r"^(?:doi:\s*|(?P<url>https?://(?:dx\.|www\.)?doi\.org/))", re.IGNORECASE
)
_DOI = re.compile(r"10\.[0-9]{4,9}(?:\.[0-9]+)*/(?P<suffix>\S+)")


def normalize_doi(raw: str) -> str:
    """'https://doi.org/10.1109/CVPR.2016.90' -> '10.1109/cvpr.2016.90'.

    DOIs are case-insensitive, so the canonical form is lower case.
    """
    text = _require_text(raw, DOI_FIELD, "DOI")
    prefix = _DOI_PREFIX.match(text)
    if prefix:
        text = text[prefix.end():]
        if prefix.group("url"):
            text = unquote(text)
    doi = text.lower()
    match = _DOI.fullmatch(doi)
    if not match or not match.group("suffix").isprintable():
        raise InvalidIdentifier(
            DOI_FIELD,
            f"{_shown(raw.strip())} is not a DOI; expected '10.<registrant>/<suffix>', "
            "e.g. 10.1109/CVPR.2016.90 or https://doi.org/10.1109/CVPR.2016.90",
        )
    if len(doi) > MAX_INPUT_LENGTH:
        raise InvalidIdentifier(DOI_FIELD, f"DOI is longer than {MAX_INPUT_LENGTH} characters")
    return doi


# --- arXiv -----------------------------------------------------------------

# Archives of the pre-April-2007 scheme; the list is closed, since that scheme is.
OLD_ARXIV_ARCHIVES = frozenset(
    {
        "acc-phys", "adap-org", "alg-geom", "ao-sci", "astro-ph", "atom-ph",
        "bayes-an", "chao-dyn", "chem-ph", "cmp-lg", "comp-gas", "cond-mat",
        "cs", "dg-ga", "funct-an", "gr-qc", "hep-ex", "hep-lat", "hep-ph",
        "hep-th", "math", "math-ph", "mtrl-th", "nlin", "nucl-ex", "nucl-th",
        "patt-sol", "physics", "plasm-ph", "q-alg", "q-bio", "quant-ph",
        "solv-int", "supr-con",
    }
)

_ARXIV_PREFIX = re.compile(
    r"^(?:arxiv:\s*|(?:https?://)?(?:www\.|export\.)?arxiv\.org/(?P<kind>abs|pdf)/)",
    re.IGNORECASE,
)
_ARXIV_VERSION = r"(?:[vV](?P<version>[0-9]{1,6}))?"
_ARXIV_NEW = re.compile(
    r"(?P<yy>[0-9]{2})(?P<mm>[0-9]{2})\.(?P<number>[0-9]{4,5})" + _ARXIV_VERSION
)
_ARXIV_OLD = re.compile(
    r"(?P<archive>[A-Za-z]+(?:-[A-Za-z]+)?)(?:\.(?P<subject>[A-Za-z]+(?:-[A-Za-z]+)?))?"
    r"/(?P<yy>[0-9]{2})(?P<mm>[0-9]{2})(?P<number>[0-9]{3})" + _ARXIV_VERSION
)
# Year-month bounds as yyyymm: the old scheme ran 1991-08..2007-03; the new one
# began 2007-04 with 4-digit numbers and moved to 5 digits in 2015-01.
_OLD_SCHEME = (199108, 200703)
_NEW_SCHEME_START = 200704
_FIVE_DIGITS_START = 201501


@dataclass(frozen=True)
class ArxivId:
    base: str
    version: int | None = None

    def __str__(self) -> str:
        return self.base if self.version is None else f"{self.base}v{self.version}"


def parse_arxiv(raw: str) -> ArxivId:
    """'arXiv:1512.03385v2' -> ArxivId('1512.03385', 2); also old 'hep-th/9901001'."""
    text = _require_text(raw, ARXIV_FIELD, "arXiv identifier")
    prefix = _ARXIV_PREFIX.match(text)
    if prefix:
        text = text[prefix.end():].strip()
        if prefix.group("kind") and prefix.group("kind").lower() == "pdf":
            text = re.sub(r"\.pdf$", "", text, flags=re.IGNORECASE)

    def invalid(reason: str) -> InvalidIdentifier:
        return InvalidIdentifier(ARXIV_FIELD, f"{_shown(raw.strip())} {reason}")

    if match := _ARXIV_NEW.fullmatch(text):
        year_month = _year_month(match, century=2000)
        if year_month is None:
            raise invalid(f"has month {match.group('mm')}; months run 01 to 12")
        digits = len(match.group("number"))
        if year_month < _NEW_SCHEME_START:
            raise invalid("predates the YYMM.NNNN arXiv scheme (April 2007)")
        if year_month < _FIVE_DIGITS_START and digits != 4:
            raise invalid("has a 5-digit number; arXiv used 4 digits until December 2014")
        if year_month >= _FIVE_DIGITS_START and digits != 5:
            raise invalid("has a 4-digit number; arXiv uses 5 digits since January 2015")
        base = f"{match.group('yy')}{match.group('mm')}.{match.group('number')}"
    elif match := _ARXIV_OLD.fullmatch(text):
        archive = match.group("archive").lower()
        if archive not in OLD_ARXIV_ARCHIVES:
            raise invalid(f"names an unknown arXiv archive {archive!r}")
        century = 1900 if match.group("yy") >= "91" else 2000
        year_month = _year_month(match, century=century)
        if year_month is None:
            raise invalid(f"has month {match.group('mm')}; months run 01 to 12")
        if not _OLD_SCHEME[0] <= year_month <= _OLD_SCHEME[1]:
            raise invalid("has a date outside the archive/YYMMNNN scheme (1991-08 to 2007-03)")
        subject = f".{match.group('subject')}" if match.group("subject") else ""
        base = f"{archive}{subject}/{match.group('yy')}{match.group('mm')}{match.group('number')}"
    else:
        raise invalid(
            "is not an arXiv identifier; expected e.g. 1512.03385, 1512.03385v2, "
            "arXiv:1706.03762 or hep-th/9901001"
        )

    version = match.group("version")
    if version is not None and int(version) == 0:
        raise invalid("has version v0; arXiv versions start at v1")
    return ArxivId(base=base, version=None if version is None else int(version))


def _year_month(match: re.Match[str], *, century: int) -> int | None:
    """yyyymm, or None when the month is not 01-12."""
    month = int(match.group("mm"))
    if not 1 <= month <= 12:
        return None
    return (century + int(match.group("yy"))) * 100 + month


# --- DBLP ------------------------------------------------------------------

DBLP_KEY_KINDS = frozenset(
    {
        "journals", "conf", "books", "phd", "series", "reference", "tr",
        "homepages", "persons", "ms", "www",
    }
)

_DBLP_PREFIX = re.compile(
    r"^(?:dblp:\s*|(?P<url>(?:https?://)?(?:www\.)?dblp\.(?:org|uni-trier\.de)/rec/))",
    re.IGNORECASE,
)
# Repeated so that 'x.html.bib' loses both; otherwise a second pass would change it.
_DBLP_PAGE_SUFFIX = re.compile(r"(?:\.(?:html|bib|xml))+$", re.IGNORECASE)
# Real keys use letters, digits and - _ ' . (e.g. journals/corr/abs-1512-03385).
_DBLP_SEGMENT = re.compile(r"[A-Za-z0-9_'.-]*[A-Za-z0-9][A-Za-z0-9_'.-]*")


def normalize_dblp(raw: str) -> str:
    """'https://dblp.org/rec/conf/cvpr/HeZRS16.html' -> 'conf/cvpr/HeZRS16'.

    DBLP keys are case-sensitive, so the case is kept.
    """
    text = _require_text(raw, DBLP_FIELD, "DBLP key")
    prefix = _DBLP_PREFIX.match(text)
    if prefix:
        text = text[prefix.end():].strip()
        if prefix.group("url"):
            text = unquote(re.split(r"[?#]", text, maxsplit=1)[0])
    text = _DBLP_PAGE_SUFFIX.sub("", text)

    segments = text.split("/")
    if len(segments) < 3 or not all(_DBLP_SEGMENT.fullmatch(s) for s in segments):
        raise InvalidIdentifier(
            DBLP_FIELD,
            f"{_shown(raw.strip())} is not a DBLP key; expected slash-separated parts "
            "such as conf/cvpr/HeZRS16 or journals/corr/HeZRS15",
        )
    if segments[0] not in DBLP_KEY_KINDS:
        raise InvalidIdentifier(
            DBLP_FIELD,
            f"DBLP keys start with one of {', '.join(sorted(DBLP_KEY_KINDS))}, "
            f"not {segments[0]!r}",
        )
    return text


# --- venues and titles ---------------------------------------------------

def venue_key(name: str) -> str:
    """A lower-case slug grouping spellings of one venue (the rule is shared: see
    backbone.venues); raises InvalidIdentifier naming the `venue` field."""
    text = _require_text(name, VENUE_FIELD, "venue")
    try:
        return shared_venue_key(text)
    except ValueError as exc:
        raise InvalidIdentifier(VENUE_FIELD, f"{_shown(text)} {exc}") from None


_APOSTROPHES = frozenset("'\u2018\u2019\u02bc")


def normalize_title(title: str) -> str:
    """A key for spotting duplicate papers: 'Deep Residual Learning...' -> 'deep residual learning...'.

    Apostrophes vanish ("Don't" -> 'dont'); other punctuation separates words,
    so 'Self-Attention' and 'Self Attention' agree.
    """
    text = _require_text(title, TITLE_FIELD, "title")
    folded = fold(text)
    spaced = "".join(
        c if c.isalnum() else "" if c in _APOSTROPHES else " " for c in folded
    )
    key = " ".join(spaced.split())
    if not key:
        raise InvalidIdentifier(TITLE_FIELD, f"{_shown(text)} has no letters or digits")
    return key
