"""BibTeX files (bibtexparser v2) to import records, streamed in batches of entries so
memory stays flat however long the file is.

Names: `and`-separated at brace depth 0, each `First von Last`, `von Last, First` or
`von Last, Jr, First`, shown as `First von Last Jr`; `others` (et al.) is dropped.
Identifiers: `doi`; `eprint` with `archivePrefix`/`eprinttype` arXiv; doi.org and
arxiv.org `url`s; the citation key when it has DBLP's shape (`DBLP:conf/iclr/RendaFC20`).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Iterator
from pathlib import Path

import bibtexparser
from bibtexparser.model import DuplicateBlockKeyBlock, Entry, ParsingFailedBlock

from services.papers.domain.identifiers import InvalidIdentifier, normalize_dblp, normalize_doi, parse_arxiv
from shortscience.imports.latex import latex_to_text
from shortscience.imports.records import ImportRecord, record, year_of

BATCH_ENTRIES = 500
_BLOCK_START = re.compile(r"^\s*@\s*([A-Za-z]+)")
_DBLP_KEY = re.compile(r"^(?:DBLP:)?(?:journals|conf|books|phd|series|reference|tr|ms)/\S+/\S+$")
_VENUE_FIELDS = ("booktitle", "journal", "school", "institution")

logging.getLogger("bibtexparser").setLevel(logging.ERROR)  # failures are reported per entry instead


# -- names ------------------------------------------------------------------------------


def _split_top(text: str, sep: re.Pattern[str]) -> list[str]:
    """Split on `sep` only outside braces."""
    parts, depth, start, i = [], 0, 0, 0
    while i < len(text):
        c = text[i]
        if c == "{":
            depth += 1
        elif c == "}":
            depth -= 1
        elif depth == 0 and (m := sep.match(text, i)):
            parts.append(text[start:i])
            start = i = m.end()
            continue
        i += 1
    parts.append(text[start:])
    return [p.strip() for p in parts]


_AND = re.compile(r"\s+and\s+", re.IGNORECASE)
_COMMA = re.compile(r",")


def split_authors(value: str) -> list[str]:
    names = []
    for raw in _split_top(value, _AND):
        if not raw or raw.lower() == "others":
            continue
        parts = [latex_to_text(p) for p in _split_top(raw, _COMMA)]
        if len(parts) == 1:
            name = parts[0]
        elif len(parts) == 2:  # von Last, First
            name = f"{parts[1]} {parts[0]}"
        else:  # von Last, Jr, First
            name = f"{parts[2]} {parts[0]} {parts[1]}"
        name = " ".join(name.split())
        if name:
            names.append(name)
    return names


# -- identifiers ------------------------------------------------------------------------


def _identifiers(key: str, fields: dict[str, str], urls: list[str]) -> dict[str, str]:
    ids: dict[str, str] = {}
    if doi := fields.get("doi", "").strip():
        ids["doi"] = doi  # normalised (and refused if malformed) by the papers service
    prefix = (fields.get("archiveprefix") or fields.get("eprinttype") or "").strip().lower()
    eprint = fields.get("eprint", "").strip()
    if eprint and (prefix == "arxiv" or (not prefix and _looks_arxiv(eprint))):
        ids["arxiv"] = eprint
    for url in list(urls):
        if "doi" not in ids and re.match(r"https?://(dx\.)?doi\.org/", url, re.IGNORECASE):
            ids["doi"] = url
        elif "arxiv" not in ids and re.match(r"https?://(www\.)?arxiv\.org/(abs|pdf)/", url, re.IGNORECASE):
            ids["arxiv"] = url
    if _DBLP_KEY.match(key):
        try:
            ids["dblp"] = normalize_dblp(key)
        except InvalidIdentifier:
            pass
    return ids


def _looks_arxiv(text: str) -> bool:
    try:
        parse_arxiv(text)
        return True
    except InvalidIdentifier:
        return False


# -- entries ----------------------------------------------------------------------------


def entry_to_record(entry: Entry, line: int) -> ImportRecord:
    fields = {k.lower(): str(f.value) for k, f in entry.fields_dict.items()}
    key = entry.key
    title = latex_to_text(fields.get("title", ""))
    if not title:
        return ImportRecord(key, line, error="no title")
    authors = split_authors(fields.get("author") or fields.get("editor") or "")
    if not authors:
        return ImportRecord(key, line, error="no author")
    urls = [u for u in re.split(r"\s+", fields.get("url", "").strip()) if re.match(r"https?://", u)]
    venue = next((latex_to_text(fields[f]) for f in _VENUE_FIELDS if fields.get(f, "").strip()), None)
    keywords = [latex_to_text(k) for k in re.split(r"[,;]", fields.get("keywords", "")) if k.strip()]
    try:
        identifiers = _identifiers(key, fields, urls)
        if "doi" in identifiers:
            normalize_doi(identifiers["doi"])
        if "arxiv" in identifiers:
            parse_arxiv(identifiers["arxiv"])
    except InvalidIdentifier as exc:
        return ImportRecord(key, line, error=exc.message)
    return record(key, line, {
        "title": title[:500],
        "authors": authors[:500],
        "venue": venue[:200] if venue else None,
        "year": year_of(fields.get("year") or fields.get("date")),
        "abstract": latex_to_text(fields.get("abstract", ""))[:20_000],
        "keywords": list(dict.fromkeys(k[:100] for k in keywords if k))[:50],
        "urls": urls[:20],
        "identifiers": identifiers,
    })


def _chunks(lines: Iterable[str]) -> Iterator[tuple[int, str, list[str]]]:
    """(first line number, kind, lines) for each `@kind{...}` block; text between blocks is dropped."""
    start, kind, block = 0, "", []
    for number, line in enumerate(lines, start=1):
        match = _BLOCK_START.match(line)
        if match:
            if block:
                yield start, kind, block
            start, kind, block = number, match.group(1).lower(), [line]
        elif block:
            block.append(line)
    if block:
        yield start, kind, block


def _parse_batch(strings: str, batch: list[tuple[int, str, list[str]]], seen: set[str]) -> Iterator[ImportRecord]:
    """Parse one batch of blocks with the file's @string definitions in front of it."""
    text = strings + "".join("".join(lines) for _, _, lines in batch)
    # bibtexparser numbers lines from 0 over `text`; map them back to the file's line numbers.
    offsets, at = [], strings.count("\n")
    for first, _, lines in batch:
        offsets.append((at, first))
        at += len(lines)

    def file_line(parsed: int) -> int:
        base, first = max((o for o in offsets if o[0] <= parsed), default=offsets[0])
        return first + parsed - base

    library = bibtexparser.parse_string(text)
    blocks = [(b.start_line, b) for b in library.entries]
    blocks += [(b.start_line, b) for b in library.failed_blocks]
    for parsed_line, block in sorted(blocks, key=lambda b: b[0]):
        line = file_line(parsed_line)
        if isinstance(block, DuplicateBlockKeyBlock) or (isinstance(block, Entry) and block.key in seen):
            yield ImportRecord(block.key, line, error=f"duplicate citation key {block.key}; the first one is kept")
        elif isinstance(block, ParsingFailedBlock):
            message = " ".join(str(block.error or "").split())
            reason = f"unreadable entry: {message[:200]}" if message else "unreadable entry"
            key = re.match(r"\s*@\s*\w+\s*[{(]\s*([^,\s]*)", block.raw or "")
            yield ImportRecord(key.group(1) if key and key.group(1) else None, line, error=reason)
        elif isinstance(block, Entry):
            seen.add(block.key)
            yield entry_to_record(block, line)


def read_bibtex(path: Path) -> Iterator[ImportRecord]:
    strings, batch, seen = "", [], set()
    with open(path, encoding="utf-8", errors="replace") as handle:
        for chunk in _chunks(handle):
            _, kind, lines = chunk
            if kind in ("comment", "preamble"):
                continue
            if kind == "string":
                strings += "".join(lines)
                continue
            batch.append(chunk)
            if len(batch) >= BATCH_ENTRIES:
                yield from _parse_batch(strings, batch, seen)
                batch = []
        if batch:
            yield from _parse_batch(strings, batch, seen)
