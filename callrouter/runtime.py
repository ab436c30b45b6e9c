"""Process lifecycle: start every configured service on one asyncio loop and stop them together.

``callrouter serve`` runs, in one process: the HTTP API, the FastAGI server (asking the routing service),
the AMI links of every configured PBX (feeding call tracking), the escalation worker and, when
``CALLROUTER_1C_URL`` is set, the periodic 1C sync.
"""

from __future__ import annotations

import asyncio
import logging
from contextlib import AsyncExitStack

import uvicorn

from callrouter import analytics_daily
from callrouter.ami_links import attach_ami
from callrouter.api.app import create_app
from callrouter.escalation import build_escalation_worker
from callrouter.onec_sync import configured as onec_configured
from callrouter.onec_sync import run_periodically as run_onec_sync
from callrouter.settings import split_bind
from callrouter.startup_errors import ExitCode, StartupError, listen_error, listening_socket
from callrouter.systemd_notify import announce
from callrouter.wiring import Container
from pbx_bridge.agi.handlers import default_decision, default_handler, routing_handler
from pbx_bridge.agi.server import FastAgiServer

log = logging.getLogger(__name__)
GRACEFUL_SHUTDOWN_S = 3


def build_agi_server(container: Container) -> FastAgiServer:
    """The FastAGI server asking the routing service (the default route alone when there is none)."""
    settings = container.settings
    default = default_decision(settings.default_route, settings.default_route_timeout_s)
    handler = routing_handler(container.routing) if container.routing else default_handler(default)
    return FastAgiServer(handler, default, container.metrics, deadline_s=settings.agi_deadline_ms / 1000)


async def _start_escalation_worker(container: Container, stack: AsyncExitStack) -> None:
    try:
        worker = build_escalation_worker(container)
    except ValueError as exc:  # a notification channel half configured
        raise StartupError(ExitCode.CONFIGURATION, f"configuration error: {exc}") from None
    stop = asyncio.Event()
    task = asyncio.create_task(worker.run(stop), name="escalation-worker")

    async def _stop() -> None:
        stop.set()
        await task

    stack.push_async_callback(_stop)


def _start_onec_sync(container: Container, stack: AsyncExitStack) -> None:
    if not onec_configured(container.settings):
        return
    stop = asyncio.Event()
    task = asyncio.create_task(run_onec_sync(container, stop), name="onec-sync")

    async def _stop() -> None:
        stop.set()
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)

    stack.push_async_callback(_stop)
    log.info("1C sync scheduled", extra={"interval_s": container.settings.onec_interval_s})


async def _exit_when(stop: asyncio.Event, server: uvicorn.Server) -> None:
    await stop.wait()
    server.should_exit = True


async def run_services(container: Container, stop: asyncio.Event | None = None) -> None:
    """Serve API, FastAGI, AMI links and the escalation worker until interrupted (or ``stop`` is set);
    then stop them in reverse order. A port that cannot be listened on is a :class:`StartupError`."""
    settings = container.settings
    host, port = split_bind(settings.api_bind)
    config = uvicorn.Config(
        create_app(container),
        host=host,
        port=port,
        log_config=None,
        access_log=False,
        timeout_graceful_shutdown=GRACEFUL_SHUTDOWN_S,  # open event streams never end by themselves
        proxy_headers=False,  # the app reads X-Forwarded-For from CALLROUTER_TRUSTED_PROXIES only
    )
    server = uvicorn.Server(config)
    async with AsyncExitStack() as stack:
        api_socket = listening_socket("API", settings.api_bind, host, port)  # uvicorn would sys.exit
        stack.callback(api_socket.close)
        stack.push_async_callback(container.aclose)
        await container.events.start()
        if container.routing is not None:
            await container.routing.start()
        agi = build_agi_server(container)
        try:
            await agi.start(*split_bind(settings.agi_bind))
        except OSError as exc:
            raise listen_error("FastAGI", settings.agi_bind, exc) from None
        stack.push_async_callback(agi.close)
        log.info("serving FastAGI", extra={"bind": settings.agi_bind})
        ami = attach_ami(container)
        if ami is not None:
            await ami.start()
            stack.push_async_callback(ami.stop)
            log.info("AMI links started", extra={"pbxs": ami.pbxs})
        await _start_escalation_worker(container, stack)
        _start_onec_sync(container, stack)
        analytics_daily.start(container, stack)
        if stop is not None:
            watcher = asyncio.create_task(_exit_when(stop, server))
            stack.callback(watcher.cancel)
        notify = asyncio.create_task(announce(lambda: server.started), name="systemd-notify")
        stack.callback(notify.cancel)
        log.info("serving API", extra={"bind": settings.api_bind})
        await server.serve(sockets=[api_socket])
