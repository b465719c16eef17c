"""DBLP XML (dblp.xml and its excerpts) streamed with iterparse in constant memory.

DBLP's DTD declares its character entities (`&uuml;`, `&eacute;`, ...); it is not
available offline, so the same names are declared from `html.entities` (DBLP's set is the
ISO Latin-1 and HTML 4 names, all there) in an internal DTD subset prepended to the
stream, and expat resolves them. Inline markup in titles (`<i>`, `<sub>`, `<sup>`, `<tt>`)
is kept as its text, tails included, so a title is never truncated at a tag.
"""

from __future__ import annotations

import html.entities
import io
import re
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path

from shortscience.imports.records import ImportRecord, record, squash, year_of

RECORD_TAGS = frozenset({"article", "inproceedings", "proceedings", "book", "incollection", "phdthesis",
                         "mastersthesis", "www", "data"})
_SKIP = frozenset({"proceedings", "www", "data"})  # volumes, person pages, data sets: not papers
_DOCTYPE = re.compile(rb"<!DOCTYPE[^>\[]*(\[.*?\])?\s*>", re.DOTALL)


def _entity_subset(root: str) -> bytes:
    names = "".join(
        f'<!ENTITY {name} "&#{ord(char)};">' for name, char in
        ((n, html.entities.html5[n + ";"]) for n in html.entities.name2codepoint)
        if len(char) == 1 and name not in ("lt", "gt", "amp", "quot", "apos")
    )
    return f"<!DOCTYPE {root} [{names}]>".encode()


class _WithEntities(io.RawIOBase):
    """The file with its external DOCTYPE replaced by one declaring the entities."""

    def __init__(self, path: Path) -> None:
        self.handle = open(path, "rb")
        head = self.handle.read(4096)
        match = _DOCTYPE.search(head)
        subset = _entity_subset("dblp")
        if match:
            head = head[:match.start()] + subset + head[match.end():]
        else:
            decl = re.match(rb"<\?xml[^>]*\?>\s*", head)
            cut = decl.end() if decl else 0
            head = head[:cut] + subset + head[cut:]
        self.pending = head

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        data = self.pending or self.handle.read(len(buffer))
        self.pending = self.pending[len(buffer):] if self.pending else b""
        data = data[:len(buffer)]
        buffer[:len(data)] = data
        return len(data)

    def close(self) -> None:
        self.handle.close()
        super().close()


def _text(element: ET.Element) -> str:
    return squash("".join(element.itertext()))


def element_to_record(element: ET.Element, line: int | None) -> ImportRecord:
    key = element.get("key")
    fields: dict[str, list[str]] = {}
    for child in element:
        fields.setdefault(child.tag, []).append(_text(child))
    title = (fields.get("title") or [""])[0].rstrip(".")
    if not title:
        return ImportRecord(key, line, error="no title")
    authors = fields.get("author") or fields.get("editor") or []
    # DBLP disambiguates homonyms with a 4-digit suffix: "Wei Wang 0001".
    authors = [re.sub(r"\s+\d{4}$", "", a) for a in authors]
    if not authors:
        return ImportRecord(key, line, error="no author")
    ids: dict[str, str] = {"dblp": key} if key else {}
    urls = []
    for ee in fields.get("ee", []):
        if re.match(r"https?://(dx\.)?doi\.org/", ee, re.IGNORECASE) and "doi" not in ids:
            ids["doi"] = ee
        elif re.match(r"https?://(www\.)?arxiv\.org/abs/", ee, re.IGNORECASE) and "arxiv" not in ids:
            ids["arxiv"] = ee
        if ee.startswith(("http://", "https://")):
            urls.append(ee)
    venue = (fields.get("booktitle") or fields.get("journal") or fields.get("school") or [None])[0]
    return record(key, line, {
        "title": title[:500], "authors": authors[:500], "venue": venue[:200] if venue else None,
        "year": year_of((fields.get("year") or [""])[0]), "urls": urls[:20], "identifiers": ids,
    })


def read_dblp(path: Path) -> Iterator[ImportRecord]:
    source = _WithEntities(path)
    parser = ET.XMLPullParser(events=("start", "end"))
    depth, root = 0, None
    try:
        while chunk := source.read(1 << 16):
            try:
                parser.feed(chunk)
                for event, element in parser.read_events():
                    if event == "start":
                        depth += 1
                        if root is None:
                            root = element
                        continue
                    depth -= 1
                    if depth == 1 and element.tag in RECORD_TAGS:
                        if element.tag not in _SKIP:
                            yield element_to_record(element, None)
                        root.clear()  # constant memory: drop the records already read
            except ET.ParseError as exc:
                yield ImportRecord(None, exc.position[0] if exc.position else None,
                                   error=f"the XML stops being well-formed here ({exc}); the rest is skipped")
                return
    finally:
        source.close()

