"""Composing a post from a template: paper title, venue, year, the summary's first
sentence and a link to the summary's page.

On X the text must fit 280 weighted characters: the sentence is shortened first (to a
readable start), then the title, then both further, then the venue and the byline, each
on a word boundary with an ellipsis; the link is never cut. An anonymous summary has no author to name: its events carry none,
and the byline is empty even if they did.
"""

from __future__ import annotations

import re
import string
from dataclasses import dataclass

from backbone.events import SummaryState
from services.social.domain.text import MAX_TWEET_WEIGHT, first_sentence, normalise, shorten, weighted_length

FIELDS = ("title", "venue", "year", "venue_year", "sentence", "author", "byline", "link")
# (field, the weight it may be shortened to at that step): the sentence gives way first,
# but keeps a readable start until the title has been shortened too.
SHRINK_STEPS = (("sentence", 90), ("title", 90), ("sentence", 0), ("title", 0), ("venue_year", 0), ("venue", 0),
                ("byline", 0), ("author", 0))
DEFAULT_TEMPLATES = {
    "twitter": "{title} ({venue_year})\n\n{sentence}\n\n{byline}\n{link}",
    # The link is in the message too, not only attached: it makes every message unique,
    # so Graph's duplicate check (code 506) only ever fires for a real second send.
    "facebook": "New summary: {title} ({venue_year})\n\n{sentence}\n\n{byline}\n{link}",
}
# A Facebook message may hold 63,206 characters; a feed post should stay far shorter.
FACEBOOK_MAX_MESSAGE = 2000
# A template's own words and the link must leave room for the title and the sentence.
MAX_SKELETON_WEIGHT = 200

_EMPTY = "\x00"  # stands for an empty field while its line is tidied
_EMPTY_PARENS = re.compile(r"\s*[(\[]\s*\x00\s*[)\]]")
_SPACES = re.compile(r"[ \t]+")
_BLANK_RUN = re.compile(r"\n{3,}")
_SAMPLE_LINK = "https://example.org/summaries/01hxxxxxxxxxxxxxxxxxxxxxxx"


def _placeholders(template: str) -> list[str]:
    names = []
    for _, name, spec, conversion in string.Formatter().parse(template):
        if name is None:
            continue
        if spec or conversion:
            raise ValueError(f"template field {{{name}}}: no format specs or conversions")
        if name not in FIELDS:
            raise ValueError(f"unknown template field {{{name}}}; known: {', '.join(FIELDS)}")
        names.append(name)
    return names


def render(template: str, values: dict[str, str]) -> str:
    """Fill a template; a line left empty by its fields disappears, and so do brackets
    around an empty field ("Title ()" when a paper has no venue or year)."""
    marked = {k: v or _EMPTY for k, v in values.items()}
    lines = []
    for line in template.split("\n"):
        filled = _EMPTY_PARENS.sub("", line.format_map(marked)).replace(_EMPTY, "")
        filled = _SPACES.sub(" ", filled).strip()
        if filled or not _placeholders(line):
            lines.append(filled)
    return _BLANK_RUN.sub("\n\n", "\n".join(lines)).strip()


def check_template(template: str, *, require_link: bool) -> None:
    names = _placeholders(template)
    if require_link:
        if "link" not in names:
            raise ValueError("the X template must contain {link}")
        skeleton = render(template, {**dict.fromkeys(FIELDS, ""), "link": _SAMPLE_LINK})
        if weighted_length(skeleton) > MAX_SKELETON_WEIGHT:
            raise ValueError(f"the X template's fixed text is too long (over {MAX_SKELETON_WEIGHT} weighted)")


@dataclass(frozen=True)
class Composed:
    channel: str
    text: str
    link: str
    weighted_length: int
    max_length: int | None


def _venue_year(venue: str, year: str) -> str:
    if venue and year and year in venue:
        return venue
    return " ".join(p for p in (venue, year) if p)


class Composer:
    def __init__(self, templates: dict[str, str], public_url: str) -> None:
        self.templates = templates
        self.public_url = public_url.rstrip("/")

    def link(self, summary_id: str) -> str:
        return f"{self.public_url}/summaries/{summary_id}"

    def fields(self, state: SummaryState) -> dict[str, str]:
        author = None if state.anonymous else state.author_username
        venue = normalise(state.paper.venue or "")
        year = str(state.paper.year) if state.paper.year else ""
        return {
            "title": normalise(state.paper.title),
            "venue": venue,
            "year": year,
            "venue_year": _venue_year(venue, year),
            "sentence": first_sentence(state.body),
            "author": author or "",
            "byline": f"Summary by {author}" if author else "",
            "link": self.link(state.summary_id),
        }

    def compose(self, state: SummaryState, channel: str) -> Composed:
        values = self.fields(state)
        template = self.templates[channel]
        if channel == "twitter":
            text = fit(template, values, MAX_TWEET_WEIGHT)
            return Composed(channel, text, values["link"], weighted_length(text), MAX_TWEET_WEIGHT)
        values["sentence"] = shorten(values["sentence"], FACEBOOK_MAX_MESSAGE // 2)
        text = render(template, values)
        return Composed(channel, text, values["link"], weighted_length(text), None)


def fit(template: str, values: dict[str, str], limit: int) -> str:
    """Render, shortening fields by SHRINK_STEPS until the text weighs at most `limit`.
    Each step may shorten its field down to its floor only, so a long title and a long
    sentence share the room before either is dropped."""
    values = dict(values)
    originals = dict(values)
    for field, floor in SHRINK_STEPS:
        if weighted_length(render(template, values)) <= limit:
            break
        if not values[field]:
            continue
        budget = max(limit - weighted_length(render(template, {**values, field: ""})), floor)
        while True:
            values[field] = shorten(originals[field], budget) if budget > 0 else ""
            over = weighted_length(render(template, values)) - limit
            if over <= 0 or not values[field] or budget <= floor:
                break
            budget = max(budget - over, floor)
    text = render(template, values)
    if weighted_length(text) > limit:  # only a template far past the checked skeleton gets here
        text = values["link"]
    return text
