"""What a platform's answer means for a post: the error classes of X's API v2 and of the
Graph API, read from status codes, headers and JSON error bodies. Pure functions; the
channel adapters do the I/O and call these."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Sent:
    platform_post_id: str
    url: str
    pause_until: float | None = None  # the answer said the channel's quota is used up until then


@dataclass(frozen=True)
class Duplicate:
    """The platform already has this text: a lost earlier attempt went through."""

    detail: str


@dataclass(frozen=True)
class RateLimited:
    retry_at: float
    detail: str


@dataclass(frozen=True)
class Transient:
    detail: str


@dataclass(frozen=True)
class Rejected:
    """Permanent: retrying the same request cannot succeed (bad credentials, refused content)."""

    detail: str


SendResult = Sent | Duplicate | RateLimited | Transient | Rejected


def _header(headers: Mapping[str, str], name: str) -> str | None:
    for key, value in headers.items():
        if key.lower() == name:
            return value
    return None


def _int_header(headers: Mapping[str, str], name: str) -> int | None:
    value = _header(headers, name)
    try:
        return int(value) if value is not None else None
    except ValueError:
        return None


# -- X / Twitter API v2 ------------------------------------------------------------------

TWEET_URL = "https://x.com/i/web/status/{id}"
_TWITTER_24H = ("x-user-limit-24hour", "x-app-limit-24hour")


def _exhausted_24h(headers: Mapping[str, str]) -> list[int]:
    """Reset times of the 24-hour quotas (per user, per app) that have nothing left."""
    return [reset for prefix in _TWITTER_24H
            if _int_header(headers, f"{prefix}-remaining") == 0
            and (reset := _int_header(headers, f"{prefix}-reset")) is not None]


def _twitter_detail(status: int, body: Any) -> str:
    if isinstance(body, dict):
        parts = [str(body[k]) for k in ("title", "detail") if body.get(k)]
        for err in body.get("errors") or []:
            if isinstance(err, dict) and err.get("message"):
                parts.append(str(err["message"]))
        if parts:
            return f"{status} " + ": ".join(dict.fromkeys(parts))
    return f"{status} (no error body)"


def _twitter_duplicate(body: Any) -> bool:
    if not isinstance(body, dict):
        return False
    texts = [str(body.get("detail", ""))] + [str(e.get("message", "")) for e in body.get("errors") or []
                                             if isinstance(e, dict)]
    codes = [e.get("code") for e in body.get("errors") or [] if isinstance(e, dict)]
    return any("duplicate" in t.lower() for t in texts) or 187 in codes


def twitter_result(status: int, body: Any, headers: Mapping[str, str], *, now: float,
                   default_wait: float) -> SendResult:
    """Classify an answer to POST /2/tweets."""
    if 200 <= status < 300:
        data = body.get("data") if isinstance(body, dict) else None
        if not isinstance(data, dict) or not data.get("id"):
            return Transient(f"{status} without a tweet id in the answer")
        exhausted = _exhausted_24h(headers)
        return Sent(str(data["id"]), TWEET_URL.format(id=data["id"]), float(max(exhausted)) if exhausted else None)
    detail = _twitter_detail(status, body)
    if status == 429:
        resets = _exhausted_24h(headers)
        window_reset = _int_header(headers, "x-rate-limit-reset")
        if window_reset is not None and (not resets or _int_header(headers, "x-rate-limit-remaining") == 0):
            resets.append(window_reset)
        retry_at = float(max(resets)) if resets else now + default_wait
        return RateLimited(max(retry_at, now + 1.0), detail)
    if status == 403 and _twitter_duplicate(body):
        return Duplicate(detail)
    if status in (401, 403):
        hint = "the credentials were refused" if status == 401 else "X refused the post"
        return Rejected(f"{hint}: {detail}")
    if status >= 500:
        return Transient(detail)
    return Rejected(detail)


# -- Facebook Graph API ------------------------------------------------------------------

FACEBOOK_POST_URL = "https://www.facebook.com/{page}/posts/{post}"
FACEBOOK_THROTTLING = frozenset({4, 17, 32, 613, 341})
FACEBOOK_TRANSIENT = frozenset({1, 2})
FACEBOOK_EXPIRED_TOKEN = 190
FACEBOOK_DUPLICATE = 506
# Above this share of a usage quota (per cent) the channel pauses even after a success.
FACEBOOK_USAGE_CEILING = 95


def _json_header(headers: Mapping[str, str], name: str) -> Any:
    value = _header(headers, name)
    if not value:
        return None
    try:
        return json.loads(value)
    except ValueError:
        return None


def facebook_usage(headers: Mapping[str, str]) -> tuple[float, float]:
    """(highest usage percentage, minutes until access returns) from X-App-Usage,
    X-Page-Usage and X-Business-Use-Case-Usage; zeros where absent."""
    usages: list[dict] = []
    for name in ("x-app-usage", "x-page-usage"):
        value = _json_header(headers, name)
        if isinstance(value, dict):
            usages.append(value)
    buc = _json_header(headers, "x-business-use-case-usage")
    if isinstance(buc, dict):
        for entries in buc.values():
            if isinstance(entries, list):
                usages.extend(e for e in entries if isinstance(e, dict))
    percent = regain = 0.0
    for usage in usages:
        for key in ("call_count", "total_cputime", "total_time"):
            if isinstance(usage.get(key), (int, float)):
                percent = max(percent, float(usage[key]))
        if isinstance(usage.get("estimated_time_to_regain_access"), (int, float)):
            regain = max(regain, float(usage["estimated_time_to_regain_access"]))
    return percent, regain


def facebook_throttle_wait(headers: Mapping[str, str], default_wait: float) -> float:
    """Seconds to stay away after throttling: the platform's own estimate when it gives one;
    the full rolling hour when a quota is spent; otherwise the configured default."""
    percent, regain_minutes = facebook_usage(headers)
    if regain_minutes > 0:
        return regain_minutes * 60
    if percent >= 100:
        return 3600.0
    return default_wait


def _facebook_post_url(post_id: str) -> str:
    page, _, post = post_id.partition("_")
    return FACEBOOK_POST_URL.format(page=page, post=post) if post else f"https://www.facebook.com/{post_id}"


def facebook_result(status: int, body: Any, headers: Mapping[str, str], *, now: float,
                    default_wait: float) -> SendResult:
    """Classify an answer to POST /{version}/{page-id}/feed."""
    error = body.get("error") if isinstance(body, dict) else None
    if 200 <= status < 300 and not error:
        post_id = body.get("id") if isinstance(body, dict) else None
        if not post_id:
            return Transient(f"{status} without a post id in the answer")
        percent, regain = facebook_usage(headers)
        nearly_spent = percent >= FACEBOOK_USAGE_CEILING or regain > 0
        pause = now + facebook_throttle_wait(headers, default_wait) if nearly_spent else None
        return Sent(str(post_id), _facebook_post_url(str(post_id)), pause)
    if not isinstance(error, dict):
        detail = f"{status} (no Graph API error body)"
        return Transient(detail) if status >= 500 or status == 429 else Rejected(detail)
    code = error.get("code")
    detail = (f"{status} code {code}"
              + (f"/{error['error_subcode']}" if error.get("error_subcode") else "")
              + f" {error.get('type', '')}: {error.get('message', '')}"
              + (f" (fbtrace_id {error['fbtrace_id']})" if error.get("fbtrace_id") else ""))
    if code in FACEBOOK_THROTTLING:
        return RateLimited(now + facebook_throttle_wait(headers, default_wait), detail)
    if code == FACEBOOK_DUPLICATE:
        return Duplicate(detail)
    if code == FACEBOOK_EXPIRED_TOKEN:
        return Rejected(f"the page access token is invalid or expired: {detail}")
    if code in FACEBOOK_TRANSIENT or error.get("is_transient") is True or status >= 500:
        return Transient(detail)
    return Rejected(detail)
