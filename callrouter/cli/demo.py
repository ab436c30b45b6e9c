"""``callrouter demo ...``: seed demo data and place a routed demo call over FastAGI, no PBX needed."""

from __future__ import annotations

import asyncio
import secrets

import typer

from callrouter.cli.common import load_settings
from callrouter.demo_pbx.recording import load_recording
from callrouter.demo_pbx.script import DemoAddress, play_demo
from callrouter.demo_pbx.server import DemoPbx
from callrouter.settings import Settings, split_bind
from crm_core.db import make_engine, make_session_factory
from crm_core.demo_data import DEMO_LOGINS, seed_demo, set_demo_passwords
from crm_core.i18n import Localizer
from crm_core.services.passwords import hash_password
from pbx_bridge.agi.client import place_request, request_block

app = typer.Typer(help="Try callrouter without a PBX.", no_args_is_help=True)

DEMO_DID = "+74951234567"


@app.command()
def seed(
    new_password: bool = typer.Option(False, "--new-password", help="Give the demo staff a new password"),
) -> None:
    """Create a demo director, controller, manager, reception, client and two lists (idempotent).

    The demo staff get one random password, printed once (there is never a default password).
    """
    settings = load_settings()
    l10n = Localizer.of(settings.language, settings.company_timezone)
    password = secrets.token_urlsafe(9)
    engine = make_engine(settings.database_url)
    try:
        with make_session_factory(engine)() as session:
            numbers = seed_demo(session)
            changed = set_demo_passwords(session, hash_password(password), replace=new_password)
            session.commit()
    finally:
        engine.dispose()
    if changed:
        logins = ", ".join(changed)
        typer.echo(
            l10n.gettext(
                "workspace logins %(logins)s, password: %(password)s", logins=logins, password=password
            )
        )
    else:
        logins = ", ".join(DEMO_LOGINS)
        typer.echo(
            l10n.gettext(
                "workspace logins %(logins)s keep their password (--new-password sets a new one)",
                logins=logins,
            )
        )
    lines = [
        l10n.gettext("demo data ready; try a call from:"),
        "  "
        + l10n.gettext(
            "%(number)s  client of Maria Manager (PJSIP/101, then her controller, then reception)",
            number=numbers.client,
        ),
        "  " + l10n.gettext("%(number)s  blacklisted (rejected)", number=numbers.blacklisted),
        "  " + l10n.gettext("%(number)s  job candidate (HR)", number=numbers.job_candidate),
        "  " + l10n.gettext("anything else   unknown: reception, flagged for registration"),
    ]
    typer.echo("\n".join(lines))


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


@app.command()
def pbx(
    wait: float = typer.Option(90.0, help="Seconds to wait for `callrouter serve` to log in"),
    pause: float = typer.Option(2.0, help="Seconds between two calls"),
) -> None:
    """Act as the PBX: serve AMI where CALLROUTER_AMI_HOST/_PORT point and play recorded calls to serve.

    serve (started with the same CALLROUTER_AMI_* settings, as `make run` does) logs in, and each call is
    routed by serve's FastAGI and replayed from a real Asterisk recording: screen pop, missed call, record.
    """
    settings = load_settings()
    l10n = Localizer.of(settings.language, settings.company_timezone)
    if not (settings.ami_host and settings.ami_username and settings.ami_secret):
        typer.echo(
            l10n.gettext("set CALLROUTER_AMI_HOST, _USERNAME and _SECRET (make demo sets them)"), err=True
        )
        raise typer.Exit(code=2)
    raise typer.Exit(code=asyncio.run(_run_pbx(settings, l10n, wait, pause)))


async def _run_pbx(settings: Settings, l10n: Localizer, wait: float, pause: float) -> int:
    host, port = settings.ami_host or "", settings.ami_port
    secret = settings.ami_secret.get_secret_value() if settings.ami_secret else ""
    booted = load_recording("s1").fully_booted
    try:
        server = await DemoPbx(host, port, settings.ami_username or "", secret, booted).start()
    except OSError as exc:
        typer.echo(
            l10n.gettext(
                "the demo PBX cannot listen on %(address)s: %(error)s",
                address=f"{host}:{port}",
                error=exc.strerror or exc,
            ),
            err=True,
        )
        return 3
    try:
        typer.echo(
            l10n.gettext(
                "demo PBX (AMI) on %(address)s: waiting for serve to log in (it retries within 30 s)...",
                address=f"{host}:{port}",
            )
        )
        if not await server.wait_until_listed(wait):
            typer.echo(
                l10n.gettext(
                    "callrouter serve did not log in within %(seconds)s s: is `make run` serving?",
                    seconds=int(wait),
                ),
                err=True,
            )
            return 1
        agi_host, agi_port = split_bind(settings.agi_bind)
        try:
            await play_demo(server, DemoAddress(agi_host, agi_port), l10n, typer.echo, pause=pause)
        except (OSError, TimeoutError) as exc:
            typer.echo(
                l10n.gettext(
                    "no FastAGI server at %(address)s (%(error)s); start it with `make run`",
                    address=settings.agi_bind,
                    error=exc,
                ),
                err=True,
            )
            return 1
        await asyncio.sleep(1.0)  # let serve read the last events before the link closes
    finally:
        await server.close()
    typer.echo(l10n.gettext("done: the calls are in the workspace (/workspace) and in GET /api/v1/calls"))
    return 0
