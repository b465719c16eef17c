"""The social service: posts each new public summary to X (Twitter) and Facebook.

It consumes the `summaries` topic as the consumer group `social`, keeps one post per
(summary, channel) in its own database, and sends them from a worker per channel, paced
and retried within each platform's rules; it emits `PostSent` / `PostFailed` on the
`social` topic. It never sees an anonymous author's identity: the events it consumes do
not carry it. Without credentials a channel runs dry (posts stored as `dry_run`).
"""
