"""The social service: posts each new public summary to Twitter/X and Facebook.

Not built yet (its own issue). When it is, it consumes the `summaries` topic as the
consumer group `social`, keeps its own outbox of posts, and never sees an anonymous
author's identity because the events it consumes do not carry it.
"""
