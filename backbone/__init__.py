"""The backbone every ShortScience service imports.

Event envelope and schemas, the event-log port and its adapters, the outbox relay and
consumer runner, settings, identity headers, errors as problem+json, and the app factory.
Services import this package and never each other.
"""
