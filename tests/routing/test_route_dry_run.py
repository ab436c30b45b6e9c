"""The dry-run: ``callrouter route`` and ``GET /routing/dry-run`` explain a decision."""

from __future__ import annotations

import typing
from types import SimpleNamespace

import httpx
import pytest
from fastapi import FastAPI
from routing_helpers import MakeService, World
from sqlalchemy.orm import Session, sessionmaker
from typer.testing import CliRunner

from callrouter.api.deps import CurrentUser, Principal
from callrouter.api.routing_dry_run import router
from callrouter.cli import app as cli_app
from callrouter.cli.route import render
from crm_core.models import ManagerRole
from routing.decision import RouteDecision, RouteKind, RouteStep


def test_render_shows_kind_reason_chain_and_flags() -> None:
    decision = RouteDecision(
        RouteKind.FALLBACK,
        (RouteStep("PJSIP/102", 25), RouteStep("PJSIP/100", 30)),
        counterparty_id=7,
        manager_id=3,
        reason="manager is on leave",
        notes=("controller skipped",),
        after_hours=True,
        degraded="redis",
    )
    assert render(decision).splitlines() == [
        "decision: fallback  (counterparty #7, manager #3)",
        "reason:   manager is on leave",
        "chain:",
        "  1. PJSIP/102  25 s",
        "  2. PJSIP/100  30 s",
        "note:     controller skipped",
        "flags:    after_hours, degraded=redis",
    ]


def test_cli_route_prints_the_decision(sqlite_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CALLROUTER_ENV", "development")
    monkeypatch.setenv("CALLROUTER_DATABASE_URL", sqlite_url)
    monkeypatch.setenv("CALLROUTER_DEFAULT_ROUTE", "PJSIP/desk")
    monkeypatch.delenv("CALLROUTER_REDIS_URL", raising=False)
    result = CliRunner().invoke(cli_app, ["route", "anonymous", "--at", "2026-03-04T11:00"])
    assert result.exit_code == 0, result.output
    assert "decision: unknown" in result.output
    assert "1. PJSIP/desk  30 s" in result.output
    bad = CliRunner().invoke(cli_app, ["route", "+79001234567", "--at", "yesterday"])
    assert bad.exit_code == 2
    assert "ISO 8601" in bad.output


async def test_api_dry_run_explains_the_route(
    sessions: sessionmaker[Session], world: World, make_service: MakeService
) -> None:
    app = FastAPI()
    app.include_router(router)
    app.state.container = SimpleNamespace(routing=await make_service(sessions))
    guard = typing.get_args(CurrentUser)[1].dependency
    app.dependency_overrides[guard] = lambda: Principal(1, ManagerRole.MANAGER, via_api_token=False)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url="http://t") as client:
        ok = await client.get("/routing/dry-run", params={"number": "89001110001", "at": "2026-03-04T11:00"})
        too_long = await client.get("/routing/dry-run", params={"number": "9" * 65})
    assert ok.status_code == 200
    body = ok.json()
    assert (body["kind"], body["target"], body["manager_id"]) == ("manager", "PJSIP/101", world.ann)
    assert [s["target"] for s in body["steps"]] == ["PJSIP/101", "PJSIP/102", "PJSIP/200", "PJSIP/100"]
    assert "personal manager Ann" in body["reason"]
    assert too_long.status_code == 422
