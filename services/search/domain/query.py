"""The user's query language, parsed once into a structure every engine compiles.

    words            all must match (stemmed)
    "a phrase"       the words in this order
    -word, -"phr"    must not match
    word*            prefix

Anything else (FTS or Lucene operators, stray quotes, brackets) is plain text: the parser
keeps only word characters, so no input can reach an engine as syntax.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

MAX_QUERY_CHARS = 512
MAX_CLAUSES = 32

_WORD = re.compile(r"\w+", re.UNICODE)
_TOKEN = re.compile(r'(-?)"([^"]*)"|(\S+)')


@dataclass(frozen=True)
class Clause:
    words: tuple[str, ...]  # one word, or a phrase
    prefix: bool = False

    @property
    def is_phrase(self) -> bool:
        return len(self.words) > 1


@dataclass(frozen=True)
class ParsedQuery:
    must: tuple[Clause, ...] = field(default_factory=tuple)
    must_not: tuple[Clause, ...] = field(default_factory=tuple)

    @property
    def is_empty(self) -> bool:
        return not self.must and not self.must_not

    def terms(self) -> list[str]:
        return [w for c in self.must for w in c.words]


def _words(text: str) -> tuple[str, ...]:
    return tuple(w.lower() for w in _WORD.findall(text))


def parse_query(text: str) -> ParsedQuery:
    if text.count('"') % 2:  # an unbalanced quote is just a character
        text = text.replace('"', " ")
    must: list[Clause] = []
    must_not: list[Clause] = []
    for negated, phrase, bare in _TOKEN.findall(text):
        if phrase or (negated and not bare):
            words = _words(phrase)
            target = must_not if negated else must
            if words:
                target.append(Clause(words))
            continue
        negated = bare.startswith("-") and len(bare) > 1
        token = bare[1:] if negated else bare
        prefix = token.endswith("*") and len(token.rstrip("*")) > 0
        words = _words(token)
        if not words:
            continue
        target = must_not if negated else must
        if len(words) == 1:
            target.append(Clause(words, prefix=prefix))
        else:  # "state-of-the-art" and the like: the words in order
            target.append(Clause(words, prefix=False))
    return ParsedQuery(tuple(must[:MAX_CLAUSES]), tuple(must_not[:MAX_CLAUSES]))
