"""``callrouter serve``: API, FastAGI, AMI consumers and the escalation worker in one process."""

from __future__ import annotations

import asyncio

import typer

from callrouter.cli.common import load_settings
from callrouter.event_loop import new_event_loop
from callrouter.logging_setup import configure_logging
from callrouter.runtime import run_services
from callrouter.startup_errors import StartupError
from callrouter.wiring import build_container


def serve() -> None:
    """Run every service of this process until interrupted."""
    settings = load_settings()
    configure_logging(settings.log_level)
    container = build_container(settings)
    try:
        with asyncio.Runner(loop_factory=new_event_loop) as runner:
            runner.run(run_services(container))
    except KeyboardInterrupt:
        pass
    except StartupError as exc:
        typer.echo(f"callrouter: {exc.message}", err=True)
        raise typer.Exit(code=exc.exit_code) from None
    finally:
        container.close()
