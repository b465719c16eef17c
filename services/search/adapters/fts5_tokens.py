"""What FTS5's porter tokenizer and bm25 make of a text, computed in Python exactly as
FTS5 does, for the two-step ranking in fts5.py:

- `stems`: porter stems of words, from FTS5's own tokenizer on a private in-memory table;
- `token_stats`: a summary's token count and `top_weight`, the highest column-weighted
  count of any one stem outside the stopwords (no query word can weigh more in it);
- `averages`: the row count and token total FTS5 keeps for bm25's idf and average length;
- `floor`: from the score a page must reach, the bound a summary's statistics must reach.
"""

from __future__ import annotations

import math
import sqlite3
import threading
from collections import Counter
from collections.abc import Iterable, Sequence
from functools import lru_cache
from itertools import chain

BM25_K1, BM25_B = 1.2, 0.75  # FTS5's constants
# Words the token statistics leave out, so that "the" (ten times in any summary) does not
# loosen every bound. A query with one of them is scored in full.
STOPWORDS = frozenset("""
a about above after again against all also am an and any are as at be because been before being below between
both but by can could did do does doing down during each either few for from further had has have having he
her here hers him his how however i if in into is it its itself just least less many may me might more most
much must my no nor not now of off often on once one only or other our ours out over own per same shall she
should since so some such than that the their theirs them then there therefore these they this those through
thus to too two under until up upon us very was we well were what when where whether which while who whom
whose why will with within without would yet you your yours
""".split())
TOKENIZER = "porter unicode61 remove_diacritics 2"


class _Porter:
    """Each word is stemmed once: a stem never changes."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._conn: sqlite3.Connection | None = None
        self.known: dict[str, str] = {}

    def stems(self, words: Iterable[str]) -> dict[str, str]:
        words = list(words)
        new = [w for w in words if w not in self.known]
        if new:
            with self._lock:
                if self._conn is None:
                    self._conn = sqlite3.connect(":memory:", check_same_thread=False)
                    self._conn.execute(f"CREATE VIRTUAL TABLE w USING fts5(word, tokenize='{TOKENIZER}')")
                    self._conn.execute("CREATE VIRTUAL TABLE v USING fts5vocab(w, 'instance')")
                self._conn.executemany("INSERT INTO w(rowid, word) VALUES (?, ?)", enumerate(new))
                stemmed = dict(self._conn.execute("SELECT doc, term FROM v"))  # a word is one token
                self._conn.execute("DELETE FROM w")
                if len(self.known) > 500_000:
                    self.known.clear()
                self.known.update((w, stemmed.get(i, w)) for i, w in enumerate(new))
        return {w: self.known[w] for w in words}


_porter = _Porter()
stems = _porter.stems


@lru_cache(maxsize=1)
def stop_stems() -> frozenset[str]:
    """A query word with one of these stems may weigh more than top_weight says (it
    counts no stopword, and a stopword may share the word's stem)."""
    return frozenset(stems(sorted(STOPWORDS)).values())


# unicode61 on ASCII text: letters and digits make tokens, everything else separates them.
_ASCII_SEPARATORS = str.maketrans({chr(c): " " for c in range(128) if not chr(c).isalnum()})
_KEYS: dict[str, str] = {}  # word -> its stem, or "" for a stopword


def _learn_keys(words: set[str]) -> None:
    if len(_KEYS) > 500_000:
        _KEYS.clear()
    new = [w for w in words if w not in _KEYS]
    stemmed = stems(new)
    _KEYS.update((w, "" if w in STOPWORDS else stemmed[w]) for w in new)


def token_stats(columns: Sequence[str], weights: Sequence[int]) -> tuple[int | None, int | None]:
    """(tokens, top_weight) of a summary's indexed columns. Unknown (None) for text that is
    not ASCII, which Python cannot tokenize exactly as unicode61 does."""
    if not all(map(str.isascii, columns)):
        return None, None
    words = [c.lower().translate(_ASCII_SEPARATORS).split() for c in columns]
    # Each column's words repeated by its weight, so that one count weighs them all.
    weighted = list(chain.from_iterable(column * weight for column, weight in zip(words, weights)))
    try:
        counts = Counter(map(_KEYS.__getitem__, weighted))
    except KeyError:
        _learn_keys(set(weighted))
        counts = Counter(map(_KEYS.__getitem__, weighted))
    counts.pop("", None)
    return sum(map(len, words)), max(counts.values(), default=0)


def averages(record: bytes) -> tuple[int, int]:
    """(rows, tokens in all columns) from FTS5's averages record: SQLite varints, the row
    count first, then one total per column."""
    numbers, i = [], 0
    while i < len(record):
        value = 0
        for n in range(9):
            byte = record[i]
            i += 1
            if n == 8:  # the ninth byte of a varint carries eight bits
                value = (value << 8) | byte
                break
            value = (value << 7) | (byte & 0x7F)
            if byte < 0x80:
                break
        numbers.append(value)
    return (numbers[0], sum(numbers[1:])) if numbers else (0, 0)


def idf(rows: int, hits: int) -> float:
    """bm25's idf as FTS5 computes it (never below a millionth)."""
    return max(math.log((rows - hits + 0.5) / (hits + 0.5)), 1e-6)


def floor(worst: float, idfs: float, avgdl: float) -> tuple[float, float] | None:
    """(a, b): a summary of D tokens whose top_weight < a + b * D scores worse than `worst`
    (bm25 as FTS5 gives it: negative, lower is better) for a query of words whose idfs
    sum to `idfs`. None when any summary may reach it.

    A word of weighted count f scores idf * (k1 + 1) * f / (f + K(D)) with
    K(D) = k1 * (1 - b + b * D / avgdl), which grows with f; f <= top_weight."""
    # The share f / (f + K) a summary needs; a little less, so that rounding never leaves
    # out a summary that ties.
    share = -worst / (idfs * (BM25_K1 + 1)) * (1 - 1e-9)
    if share <= 0:
        return None
    share = min(share, 1 - 1e-12)
    scale = share / (1 - share) * BM25_K1  # top_weight >= scale * K(D) / k1
    return scale * (1 - BM25_B), scale * BM25_B / avgdl
