"""arXiv API Atom responses saved to disk: id with version, title, authors, abstract,
primary category (kept as a keyword), published year, DOI when arXiv knows one."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path

from services.papers.domain.identifiers import InvalidIdentifier, parse_arxiv
from shortscience.imports.records import ImportRecord, record, squash, year_of

ATOM = "{http://www.w3.org/2005/Atom}"
ARXIV = "{http://arxiv.org/schemas/atom}"


def entry_to_record(entry: ET.Element) -> ImportRecord:
    raw_id = squash(entry.findtext(f"{ATOM}id") or "")
    try:
        arxiv = parse_arxiv(raw_id)
    except InvalidIdentifier as exc:
        return ImportRecord(raw_id or None, None, error=exc.message)
    primary = entry.find(f"{ARXIV}primary_category")
    ids = {"arxiv": str(arxiv)}
    if doi := squash(entry.findtext(f"{ARXIV}doi") or ""):
        ids["doi"] = doi
    return record(arxiv.base, None, {
        "title": squash(entry.findtext(f"{ATOM}title") or "")[:500],
        "authors": [squash(a.findtext(f"{ATOM}name") or "") for a in entry.findall(f"{ATOM}author")][:500],
        "venue": "arXiv",
        "year": year_of(entry.findtext(f"{ATOM}published")),
        "abstract": squash(entry.findtext(f"{ATOM}summary") or "")[:20_000],
        "keywords": [primary.get("term")] if primary is not None and primary.get("term") else [],
        "urls": [f"https://arxiv.org/abs/{arxiv}"],
        "identifiers": ids,
    })


def read_arxiv(path: Path) -> Iterator[ImportRecord]:
    try:
        for _, element in ET.iterparse(path, events=("end",)):
            if element.tag == f"{ATOM}entry":
                yield entry_to_record(element)
                element.clear()
    except ET.ParseError as exc:
        yield ImportRecord(None, exc.position[0], error=f"not well-formed XML ({exc}); the rest is skipped")
