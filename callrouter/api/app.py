"""Build the FastAPI application around a :class:`~callrouter.wiring.Container`."""

from __future__ import annotations

from fastapi import FastAPI

from callrouter.api import health
from callrouter.wiring import Container


def create_app(container: Container) -> FastAPI:
    """The HTTP API with every router mounted; resources come from ``container``."""
    app = FastAPI(title="callrouter", version="0.1.0", description="Call routing and missed-call CRM API")
    app.state.container = container
    app.include_router(health.router)
    return app
