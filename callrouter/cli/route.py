"""``callrouter route NUMBER``: the routing dry-run ("why would this call go there?")."""

from __future__ import annotations

import asyncio
from datetime import datetime

import typer

from callrouter.cli.common import load_settings
from callrouter.wiring import Container, build_container
from crm_core.dial_strings import dial_string_problem
from pbx_bridge.agi.variables import chain_problem
from routing.decision import RouteDecision

INVALID_CHAIN_EXIT = 1  # the chain shown is not what a real call would get


def parse_at(value: str | None) -> datetime | None:
    """``--at`` as ISO 8601; without an offset it is company wall-clock time."""
    if value is None:
        return None
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        raise typer.BadParameter(
            f"expected an ISO 8601 time such as 2026-03-04T11:30, got {value!r}"
        ) from None


def render(decision: RouteDecision) -> str:
    """The decision as the lines the CLI prints."""
    ids = [
        f"{name} #{value}"
        for name, value in (("counterparty", decision.counterparty_id), ("manager", decision.manager_id))
        if value is not None
    ]
    lines = [f"decision: {decision.kind}" + (f"  ({', '.join(ids)})" if ids else "")]
    lines.append(f"reason:   {decision.reason}")
    if decision.treatment:
        lines.append(f"reject:   {decision.treatment}")
    if decision.steps:
        lines.append("chain:")
        for i, s in enumerate(decision.steps, 1):
            problem = dial_string_problem(s.target)
            lines.append(
                f"  {i}. {s.target!r}  INVALID: {problem}"
                if problem
                else f"  {i}. {s.target}  {s.timeout_s} s"
            )
    lines.extend(f"note:     {note}" for note in decision.notes)
    flags = [
        name
        for name, on in (("register_number", decision.register_number), ("after_hours", decision.after_hours))
        if on
    ]
    if decision.degraded:
        flags.append(f"degraded={decision.degraded}")
    if flags:
        lines.append(f"flags:    {', '.join(flags)}")
    if (error := chain_problem(decision)) is not None:
        lines.append(
            f"ERROR:    FastAGI cannot send this chain ({error}); a real call gets the default route"
        )
    return "\n".join(lines)


async def _decide(container: Container, number: str, at: datetime | None) -> RouteDecision:
    assert container.routing is not None
    try:
        await container.routing.start()
        return await container.routing.decide(number, at=at)
    finally:
        await container.aclose()


def route(
    number: str = typer.Argument(..., help="Caller id as Asterisk would deliver it"),
    at: str | None = typer.Option(None, "--at", help="ISO time of the call (default: now)"),
) -> None:
    """Show where a call from NUMBER goes, its fallback chain with timeouts, and why."""
    when = parse_at(at)
    container = build_container(load_settings())
    try:
        decision = asyncio.run(_decide(container, number, when))
    finally:
        container.close()
    typer.echo(render(decision))
    if chain_problem(decision) is not None:
        raise typer.Exit(INVALID_CHAIN_EXIT)
