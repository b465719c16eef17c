"""The social service's rules, free of I/O: posts and their statuses (`model`), composing
text within X's weighted length (`compose`, `text`), pacing and backoff (`pacing`), and
what each platform's answer means (`outcomes`)."""
