"""Process lifecycle: start every configured service on one asyncio loop and stop them together."""

from __future__ import annotations

import logging

import uvicorn

from callrouter.api.app import create_app
from callrouter.settings import split_bind
from callrouter.wiring import Container

log = logging.getLogger(__name__)


async def run_services(container: Container) -> None:
    """Serve the API (and the other configured services) until cancelled."""
    host, port = split_bind(container.settings.api_bind)
    config = uvicorn.Config(create_app(container), host=host, port=port, log_config=None, access_log=False)
    server = uvicorn.Server(config)
    log.info("serving API", extra={"bind": container.settings.api_bind})
    await server.serve()
