"""What a paper page tells other sites: identifier links, OpenGraph and JSON-LD."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import quote

from backbone.contracts.papers import PaperRead
from backbone.contracts.summaries import SummaryRead


@dataclass(frozen=True)
class IdentifierLink:
    label: str
    value: str
    url: str


def identifier_links(paper: PaperRead) -> list[IdentifierLink]:
    ids = paper.identifiers
    links = []
    if ids.doi:
        links.append(IdentifierLink("DOI", ids.doi, "https://doi.org/" + quote(ids.doi, safe="/:;()._-")))
    if ids.arxiv:
        version = f"v{ids.arxiv_version}" if ids.arxiv_version else ""
        links.append(IdentifierLink("arXiv", ids.arxiv + version,
                                    "https://arxiv.org/abs/" + quote(ids.arxiv + version, safe="/.-")))
    if ids.dblp:
        links.append(IdentifierLink("DBLP", ids.dblp, "https://dblp.org/rec/" + quote(ids.dblp, safe="/._-")))
    return links


def is_public(summary: SummaryRead) -> bool:
    return summary.visibility == "public" and not summary.hidden


def description(paper: PaperRead, top: SummaryRead | None, limit: int = 300) -> str:
    text = " ".join((top.body if top is not None else paper.abstract).split())
    if len(text) > limit:
        text = text[: limit - 1].rsplit(" ", 1)[0] + "…"
    return text or paper.title


def open_graph(paper: PaperRead, url: str, text: str) -> dict[str, str]:
    return {
        "og:type": "article",
        "og:site_name": "ShortScience",
        "og:title": paper.title,
        "og:description": text,
        "og:url": url,
        "twitter:card": "summary",
    }


def scholarly_article(paper: PaperRead, url: str, summaries: list[SummaryRead]) -> dict:
    """schema.org ScholarlyArticle for the paper; its public summaries as reviews (an
    anonymous one without an author)."""
    data: dict = {
        "@context": "https://schema.org",
        "@type": "ScholarlyArticle",
        "@id": url,
        "url": url,
        "headline": paper.title[:110],
        "name": paper.title,
        "author": [{"@type": "Person", "name": name} for name in paper.authors],
    }
    if paper.year:
        data["datePublished"] = str(paper.year)
    if paper.venue:
        data["isPartOf"] = {"@type": "Periodical" if "journal" in paper.venue.lower() else "PublicationEvent",
                            "name": paper.venue}
    if paper.abstract:
        data["abstract"] = paper.abstract
    if paper.keywords:
        data["keywords"] = ", ".join(paper.keywords)
    same_as = [link.url for link in identifier_links(paper)]
    if same_as:
        data["sameAs"] = same_as
    ids = paper.identifiers
    identifiers = [{"@type": "PropertyValue", "propertyID": name, "value": value}
                   for name, value in (("DOI", ids.doi), ("arXiv", ids.arxiv), ("DBLP", ids.dblp)) if value]
    if identifiers:
        data["identifier"] = identifiers
    reviews = []
    for s in summaries:
        if not is_public(s):
            continue
        review: dict = {"@type": "Review", "url": f"{url}#summary-{s.id}", "datePublished": s.created_at.isoformat(),
                        "reviewBody": s.body[:5000]}
        if s.author is not None and not s.anonymous:
            review["author"] = {"@type": "Person", "name": s.author.username}
        reviews.append(review)
    if reviews:
        data["review"] = reviews
    return data
