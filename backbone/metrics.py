"""Prometheus metrics shared by every service (labelled by service, so an all-in-one
process exposes one coherent registry)."""

from __future__ import annotations

from prometheus_client import CONTENT_TYPE_LATEST, Counter, Gauge, Histogram, generate_latest

HTTP_REQUESTS = Counter(
    "shortscience_http_requests_total", "HTTP requests answered", ["service", "method", "route", "status"]
)
HTTP_LATENCY = Histogram(
    "shortscience_http_request_seconds",
    "HTTP request latency",
    ["service", "route"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5),
)
EVENTS_PUBLISHED = Counter("shortscience_events_published_total", "Events moved from an outbox to the log", ["service"])
EVENTS_CONSUMED = Counter(
    "shortscience_events_consumed_total", "Events handled by a consumer group", ["group", "type", "outcome"]
)
CONSUMER_LAG = Gauge("shortscience_consumer_lag", "Records behind the end of the log", ["group", "topic"])
DEAD_LETTERS = Counter("shortscience_dead_letters_total", "Events sent to the dead-letter store", ["group"])
SOCIAL_ATTEMPTS = Counter(
    "shortscience_social_attempts_total", "Posts sent to a social platform, by what came of them", ["channel", "outcome"]
)
OUTBOX_PENDING = Gauge("shortscience_outbox_pending", "Events waiting in an outbox", ["service"])


def render_metrics() -> tuple[bytes, str]:
    return generate_latest(), CONTENT_TYPE_LATEST
