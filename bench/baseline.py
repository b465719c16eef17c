"""The baseline: a bare FastAPI app answering the benchmarked paths with the exact bytes the
gateway answered (read from BENCH_PAYLOAD_DIR), so the difference to the gateway is the
platform's own work: auth, routing to the service, storage, presenting."""

from __future__ import annotations

import os
from pathlib import Path

from fastapi import FastAPI, Response


def create_app() -> FastAPI:
    folder = Path(os.environ["BENCH_PAYLOAD_DIR"])
    summary = (folder / "summary.json").read_bytes()
    paper_summaries = (folder / "paper_summaries.json").read_bytes()
    app = FastAPI()

    @app.get("/readyz")
    async def readyz() -> Response:
        return Response(b'{"ready":true}', media_type="application/json")

    @app.get("/api/v1/summaries/{summary_id}")
    async def get_summary(summary_id: str) -> Response:
        return Response(summary, media_type="application/json")

    @app.get("/api/v1/papers/{paper_id}/summaries")
    async def get_paper_summaries(paper_id: str) -> Response:
        return Response(paper_summaries, media_type="application/json")

    return app
