"""The only public entry: routing, identity, auth, rate limits (and later the web pages)."""
