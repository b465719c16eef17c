"""Benchmark harness: `make bench` (or `python -m bench.run`) starts the platform in both
topologies, a bare FastAPI baseline serving the same JSON, and measures the gateway's read
path against it. See `bench.run` for the options."""
