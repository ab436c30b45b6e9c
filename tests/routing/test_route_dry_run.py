"""The dry-run: ``callrouter route`` and ``GET /routing/dry-run`` explain a decision."""

from __future__ import annotations

import typing
from pathlib import Path
from types import SimpleNamespace

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy.orm import Session, sessionmaker
from typer.testing import CliRunner

from callrouter.api.deps import CurrentUser, Principal
from callrouter.api.routing_dry_run import router
from callrouter.cli import app as cli_app
from callrouter.cli.route import INVALID_CHAIN_EXIT, render
from crm_core.db import make_engine
from crm_core.migrations import upgrade
from crm_core.models import ManagerRole, PhoneNumber
from routing.decision import RouteDecision, RouteKind, RouteStep
from tests.api.conftest import add_counterparty, add_manager
from tests.routing.routing_helpers import MakeService, World


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


def test_render_flags_a_chain_fastagi_would_refuse() -> None:
    decision = RouteDecision(RouteKind.MANAGER, (RouteStep('PJSIP/"101"', 20), RouteStep("PJSIP/100", 30)))
    lines = render(decision).splitlines()
    assert lines[3:5] == [
        "  1. 'PJSIP/\"101\"'  INVALID: contains '\"', which Dial() treats as argument syntax",
        "  2. PJSIP/100  30 s",
    ]
    assert lines[-1].startswith("ERROR:    FastAGI cannot send this chain")
    assert "default route" in lines[-1]


def test_cli_route_exits_non_zero_on_a_stored_chain_fastagi_would_refuse(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = f"sqlite:///{tmp_path / 'route.db'}"
    upgrade(url)
    engine = make_engine(url)
    with Session(engine) as session:  # written before the rule existed, or behind the API's back
        ann = add_manager(session, "ann", ManagerRole.MANAGER, dial_target="PJSIP/101~20")
        session.add(
            PhoneNumber(e164="+79001110001", counterparty_id=add_counterparty(session, "Acme", ann).id)
        )
        session.commit()
    engine.dispose()
    monkeypatch.setenv("CALLROUTER_ENV", "development")
    monkeypatch.setenv("CALLROUTER_DATABASE_URL", url)
    monkeypatch.delenv("CALLROUTER_REDIS_URL", raising=False)
    result = CliRunner().invoke(cli_app, ["route", "89001110001", "--at", "2026-03-04T11:00"])
    assert result.exit_code == INVALID_CHAIN_EXIT != 0, result.output
    assert "1. 'PJSIP/101~20'  INVALID: contains '~'" in result.output
    assert "ERROR:    FastAGI cannot send this chain" in result.output
