"""Backends for the port contract suites: each port's fixture lives in its own module."""

from tests.contracts.eventlog_backends import event_log_factory  # noqa: F401
from tests.contracts.search_backends import search_index  # noqa: F401
