"""The social service follows the `summaries` topic as its own consumer group: a public
summary gets its posts, a deleted, hidden or private one has its unsent posts cancelled."""

from __future__ import annotations

from backbone.events import SUMMARIES

GROUP = "social"
TOPICS = (SUMMARIES,)
