"""``callrouter sync 1c`` end to end: a migrated SQLite file, the stand-in, exit codes and output."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import create_engine, func, select, update
from typer.testing import CliRunner

from callrouter.cli import app
from crm_core.migrations import upgrade
from crm_core.models import Counterparty
from crm_core.models.external_sync import SyncRun
from erp_bridge.onec.profiles import UT11
from erp_bridge.onec.standin import StandIn1C
from tests.onec.conftest import LOGIN, PASSWORD, fill


@pytest.fixture
def standin() -> Iterator[StandIn1C]:
    with StandIn1C(base="/ut11", username=LOGIN, password=PASSWORD) as server:
        fill(server, UT11)
        yield server


@pytest.fixture
def database(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, standin: StandIn1C) -> str:
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    upgrade(url)
    monkeypatch.setenv("CALLROUTER_DATABASE_URL", url)
    monkeypatch.setenv("CALLROUTER_ENV", "development")
    monkeypatch.setenv("CALLROUTER_1C_URL", standin.url)
    monkeypatch.setenv("CALLROUTER_1C_USERNAME", LOGIN)
    monkeypatch.setenv("CALLROUTER_1C_PASSWORD", PASSWORD)
    return url


def counterparties(url: str) -> int:
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return conn.execute(select(func.count()).select_from(Counterparty)).scalar_one()
    finally:
        engine.dispose()


def test_sync_completes_with_warnings_and_exit_zero(database: str) -> None:
    dry = CliRunner().invoke(app, ["sync", "1c", "--dry-run"])
    assert dry.exit_code == 0, dry.output
    assert "dry run, nothing written" in dry.output and counterparties(database) == 0
    result = CliRunner().invoke(app, ["sync", "1c"])
    assert result.exit_code == 0, result.output
    assert "clients: 2 new" in result.output and "unreadable phone 'звонить Ивану'" in result.output
    assert counterparties(database) == 2


def run_kinds(url: str) -> list[str | None]:
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return list(conn.execute(select(SyncRun.kind).order_by(SyncRun.id)).scalars())
    finally:
        engine.dispose()


def test_first_run_is_full_then_incremental_and_full_on_request(
    database: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CALLROUTER_1C_FULL_AT", "")  # no nightly full run: the clock cannot matter
    for args in (["sync", "1c"], ["sync", "1c"], ["sync", "1c", "--full"]):
        result = CliRunner().invoke(app, args)
        assert result.exit_code == 0, result.output
    assert run_kinds(database) == ["full", "incremental", "full"]


def test_nightly_full_run_is_due_after_the_configured_time(
    database: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert CliRunner().invoke(app, ["sync", "1c"]).exit_code == 0
    engine = create_engine(database)
    with engine.begin() as conn:  # the last full run was two days ago
        conn.execute(update(SyncRun).values(started_at=datetime.now(UTC) - timedelta(days=2)))
    engine.dispose()
    monkeypatch.setenv("CALLROUTER_1C_FULL_AT", "00:00")
    assert CliRunner().invoke(app, ["sync", "1c"]).exit_code == 0
    assert CliRunner().invoke(app, ["sync", "1c"]).exit_code == 0
    assert run_kinds(database) == ["full", "full", "incremental"]


def test_wrong_password_exits_non_zero_with_a_clear_message(
    database: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CALLROUTER_1C_PASSWORD", "wrong")
    result = CliRunner().invoke(app, ["sync", "1c"])
    assert result.exit_code == 1
    assert "wrong-password" in result.output and counterparties(database) == 0


def test_missing_configuration_exits_two(database: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CALLROUTER_1C_URL")
    assert CliRunner().invoke(app, ["sync", "1c"]).exit_code == 2
