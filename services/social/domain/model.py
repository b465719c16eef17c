"""A post: one summary on one channel, and the only ways its status may change.

    pending ──claim──▶ sending ──▶ sent
       ▲  │              │ ├────▶ pending (transient failure or rate limit: retried later)
       │  │              │ └────▶ failed  (refused, or out of attempts; an operator may retry)
       │  └─▶ cancelled ◀┘ (the summary was deleted, hidden or made private first)
       └────────────── failed / cancelled (operator retry; summary public again)
    dry_run: composed and stored, never sent (the channel has no credentials)

A post is claimed (its attempt recorded) before anything is sent. A `sending` post whose
lease ran out belongs to a process that died mid-send: it is claimed again with its
outcome `uncertain`, and its text is never recomposed, so the platform's duplicate check
can tell us that the lost attempt went through.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Literal

Status = Literal["pending", "sending", "sent", "failed", "cancelled", "dry_run"]
STATUSES: tuple[str, ...] = ("pending", "sending", "sent", "failed", "cancelled", "dry_run")
CHANNELS: tuple[str, ...] = ("twitter", "facebook")

_TRANSITIONS: dict[str, frozenset[str]] = {
    "pending": frozenset({"sending", "cancelled", "pending"}),
    "sending": frozenset({"sending", "sent", "pending", "failed", "cancelled"}),
    "failed": frozenset({"pending", "cancelled"}),
    "cancelled": frozenset({"pending"}),
    "sent": frozenset(),
    "dry_run": frozenset(),
}


class InvalidTransition(ValueError):
    def __init__(self, post: "Post", target: str) -> None:
        super().__init__(f"a {post.status} post cannot become {target}")
        self.status = post.status
        self.target = target


@dataclass(frozen=True)
class Post:
    id: str
    summary_id: str
    channel: str
    status: str
    text: str
    link: str
    created_at: float
    updated_at: float
    next_attempt_at: float | None = None
    attempts: int = 0  # sends started (the attempt log has one row each)
    failures: int = 0  # transient failures since the last success or operator retry
    uncertain: bool = False  # an earlier attempt's outcome was lost in a crash
    sending_until: float | None = None
    platform_post_id: str | None = None
    url: str | None = None
    last_error: str | None = None
    duplicate: bool = False
    sent_at: float | None = None
    version: int = 1

    @classmethod
    def new(cls, *, id: str, summary_id: str, channel: str, text: str, link: str, live: bool, now: float) -> "Post":
        status = "pending" if live else "dry_run"
        return cls(id=id, summary_id=summary_id, channel=channel, status=status, text=text, link=link,
                   created_at=now, updated_at=now, next_attempt_at=now if live else None)

    def _to(self, status: str, now: float, **changes) -> "Post":
        if status not in _TRANSITIONS[self.status]:
            raise InvalidTransition(self, status)
        return replace(self, status=status, updated_at=now, version=self.version + 1, **changes)

    # -- the sender ---------------------------------------------------------------------

    def is_due(self, now: float) -> bool:
        if self.status == "pending":
            return self.next_attempt_at is not None and self.next_attempt_at <= now
        return self.status == "sending" and self.sending_until is not None and self.sending_until <= now

    def claim(self, now: float, lease: float) -> "Post":
        """Record an attempt before sending. Reclaiming an expired `sending` post means the
        earlier attempt's outcome is unknown."""
        if not self.is_due(now):
            raise InvalidTransition(self, "sending")
        lost = self.status == "sending"
        return self._to("sending", now, attempts=self.attempts + 1, sending_until=now + lease,
                        uncertain=self.uncertain or lost)

    def mark_sent(self, now: float, platform_post_id: str | None, url: str | None, *,
                  duplicate: bool = False) -> "Post":
        return self._to("sent", now, platform_post_id=platform_post_id, url=url, duplicate=duplicate,
                        sent_at=now, sending_until=None, next_attempt_at=None, last_error=None)

    def retry_at(self, now: float, when: float, error: str, *, counts: bool, max_failures: int) -> "Post":
        """Try again at `when`. A transient failure `counts` towards the limit; a rate limit
        does not (the platform said when to come back)."""
        failures = self.failures + 1 if counts else self.failures
        if failures >= max_failures:
            return self.fail(now, f"gave up after {failures} failed attempts; last error: {error}",
                             failures=failures)
        return self._to("pending", now, failures=failures, next_attempt_at=when, sending_until=None,
                        last_error=error)

    def fail(self, now: float, error: str, **changes) -> "Post":
        return self._to("failed", now, last_error=error, sending_until=None, next_attempt_at=None, **changes)

    # -- the summary's fate -------------------------------------------------------------

    @property
    def cancellable(self) -> bool:
        """Only what has not started sending: an in-flight send finishes and is recorded
        as it went (the sender checks the summary again before each claim)."""
        return self.status in ("pending", "failed")

    def cancel(self, now: float, reason: str) -> "Post":
        return self._to("cancelled", now, next_attempt_at=None, sending_until=None, last_error=reason)

    def revive(self, now: float, text: str | None = None) -> "Post":
        """A cancelled post's summary is public again. The text is refreshed only if no
        attempt was ever made (an attempt's text must stay as sent, for duplicate checks)."""
        changes = {"text": text} if text is not None and self.attempts == 0 else {}
        return self._to("pending", now, next_attempt_at=now, failures=0, last_error=None, **changes)

    def recompose(self, now: float, text: str, link: str) -> "Post":
        """Fresh text for a post that was never attempted (e.g. the summary was revised)."""
        if self.attempts or self.status not in ("pending", "dry_run") or (text, link) == (self.text, self.link):
            return self
        return replace(self, text=text, link=link, updated_at=now, version=self.version + 1)

    # -- operators ----------------------------------------------------------------------

    def requeue(self, now: float) -> "Post":
        """An operator's retry: a failed post starts over; a waiting one is due at once."""
        if self.status not in ("failed", "pending"):
            raise InvalidTransition(self, "pending")
        return self._to("pending", now, failures=0, next_attempt_at=now, last_error=self.last_error)


@dataclass(frozen=True)
class Attempt:
    post_id: str
    n: int
    channel: str
    started_at: float
    finished_at: float | None
    outcome: str | None  # sent | duplicate | rate_limited | transient | rejected | unknown; None while in flight
    detail: str | None
