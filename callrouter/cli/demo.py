"""``callrouter demo ...``: seed demo data and place a routed demo call over FastAGI, no PBX needed."""

from __future__ import annotations

import asyncio

import typer

from callrouter.cli.common import load_settings
from callrouter.settings import split_bind
from crm_core.db import make_engine, make_session_factory
from crm_core.demo_data import seed_demo
from pbx_bridge.agi.client import place_request, request_block

app = typer.Typer(help="Try callrouter without a PBX.", no_args_is_help=True)

DEMO_DID = "+74951234567"


@app.command()
def seed() -> None:
    """Create a demo director, controller, manager, client and blacklist/job-candidate lists (idempotent)."""
    settings = load_settings()
    engine = make_engine(settings.database_url)
    try:
        with make_session_factory(engine)() as session:
            numbers = seed_demo(session)
            session.commit()
    finally:
        engine.dispose()
    typer.echo("demo data ready; try a call from:")
    typer.echo(
        f"  {numbers.client}  client of Maria Manager (PJSIP/101, then her controller, then reception)"
    )
    typer.echo(f"  {numbers.blacklisted}  blacklisted (rejected)")
    typer.echo(f"  {numbers.job_candidate}  job candidate (HR)")
    typer.echo("  anything else   unknown: reception, flagged for registration")


@app.command()
def call(
    caller: str = typer.Argument(..., help="Caller number as the trunk delivers it, or 'anonymous'"),
    did: str = typer.Option(DEMO_DID, help="The dialled number (DID)"),
) -> None:
    """Act as Asterisk: ask the running FastAGI server where a call goes and print the variables it set."""
    settings = load_settings()
    host, port = split_bind(settings.agi_bind)
    block = request_block(
        {
            "network": "yes",
            "network_script": "route",
            "request": f"agi://{host}:{port}/route",
            "channel": "PJSIP/trunk-00000001",
            "type": "PJSIP",
            "uniqueid": "1795876970.1",
            "callerid": caller,
            "calleridname": "unknown",
            "dnid": did,
            "context": "callrouter-inbound",
            "extension": did,
            "priority": "2",
        }
    )
    try:
        exchange = asyncio.run(place_request(host, port, block))
    except OSError as exc:
        typer.echo(f"no FastAGI server at {settings.agi_bind} ({exc}); start it with `make run`", err=True)
        raise typer.Exit(code=1) from None
    for name, value in exchange.variables.items():
        typer.echo(f"{name}={value}")
