"""The gateway process of a split deployment (services in their own processes)."""

from __future__ import annotations

from fastapi import FastAPI

from gateway.bootstrap import create_http_gateway
from gateway.config import GatewaySettings


def create_gateway() -> FastAPI:
    settings = GatewaySettings()
    hooks = []
    if settings.demo_data:
        from shortscience.demo import load_demo_data

        async def demo(app: FastAPI) -> None:
            await load_demo_data(app.state.gateway)

        hooks.append(demo)
    return create_http_gateway(settings, on_started=hooks)
