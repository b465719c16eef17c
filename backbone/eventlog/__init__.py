"""The event-log port (`port.EventLog`) and its adapters (`sqlite`, later `kafka`)."""

from backbone.eventlog.port import Consumer, DeadLetter, EventLog, Record

__all__ = ["Consumer", "DeadLetter", "EventLog", "Record"]
