"""Process lifecycle: start every configured service on one asyncio loop and stop them together."""

from __future__ import annotations

import logging

import uvicorn

from callrouter.api.app import create_app
from callrouter.settings import split_bind
from callrouter.wiring import Container
from pbx_bridge.agi.handlers import default_decision, default_handler, routing_handler
from pbx_bridge.agi.server import FastAgiServer

log = logging.getLogger(__name__)


def build_agi_server(container: Container) -> FastAgiServer:
    """The FastAGI server asking the routing service (the default route alone when there is none)."""
    settings = container.settings
    default = default_decision(settings.default_route, settings.default_route_timeout_s)
    handler = routing_handler(container.routing) if container.routing else default_handler(default)
    return FastAgiServer(handler, default, container.metrics, deadline_s=settings.agi_deadline_ms / 1000)


async def run_services(container: Container) -> None:
    """Serve the API and FastAGI (and the other configured services) until cancelled."""
    host, port = split_bind(container.settings.api_bind)
    config = uvicorn.Config(create_app(container), host=host, port=port, log_config=None, access_log=False)
    server = uvicorn.Server(config)
    if container.routing is not None:
        await container.routing.start()
    agi = build_agi_server(container)
    await agi.start(*split_bind(container.settings.agi_bind))
    log.info("serving FastAGI", extra={"bind": container.settings.agi_bind})
    try:
        log.info("serving API", extra={"bind": container.settings.api_bind})
        await server.serve()
    finally:
        await agi.close()
        await container.aclose()
