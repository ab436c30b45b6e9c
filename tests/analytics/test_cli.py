"""``callrouter analytics ...`` on a migrated SQLite file of its own."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from callrouter.cli import app
from crm_core.db import make_engine
from crm_core.migrations import upgrade
from crm_core.models import ClientStatus, Counterparty
from tests.analytics.factories import Crm

runner = CliRunner()


@pytest.fixture(scope="module")
def db_file(tmp_path_factory: pytest.TempPathFactory) -> str:
    url = f"sqlite:///{tmp_path_factory.mktemp('cli') / 'analytics.db'}"
    upgrade(url)
    engine = make_engine(url)
    with Session(engine) as session:
        crm = Crm(session)
        anna = crm.manager("Anna Petrova")
        today = date.today()
        regular = crm.counterparty("Regular Ltd", anna)
        crm.shipment(regular, today - timedelta(days=40), 900)
        crm.shipment(regular, today - timedelta(days=70), 900)
        crm.counterparty("Silent LLC", anna)
        session.commit()
    engine.dispose()
    return url


@pytest.fixture
def env(db_file: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    monkeypatch.setenv("CALLROUTER_ENV", "development")
    monkeypatch.setenv("CALLROUTER_DATABASE_URL", db_file)
    monkeypatch.setenv("CALLROUTER_COMPANY_TIMEZONE", "UTC")
    monkeypatch.chdir(Path(db_file.removeprefix("sqlite:///")).parent)
    yield db_file


def _status(url: str, name: str) -> ClientStatus:
    engine = make_engine(url)
    with Session(engine) as session:
        status = session.scalars(select(Counterparty.status).where(Counterparty.name == name)).one()
    engine.dispose()
    return status


def test_status_dry_run_then_saved(env: str) -> None:
    dry = runner.invoke(app, ["analytics", "status", "--dry-run"])
    assert dry.exit_code == 0, dry.output
    assert "1 of 2 clients changed status" in dry.output
    assert _status(env, "Regular Ltd") == ClientStatus.POTENTIAL

    saved = runner.invoke(app, ["analytics", "status"])
    assert saved.exit_code == 0, saved.output
    assert "potential" in saved.output and "regular" in saved.output
    assert _status(env, "Regular Ltd") == ClientStatus.REGULAR


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["abc", "--start", "2000-01-01", "--end", "2100-12-31"], "Regular Ltd"),
        (["rfm", "--start", "2000-01-01", "--end", "2100-12-31"], "Regular Ltd"),
        (["forgotten"], "Silent LLC"),
        (["kpi", "--start", "2000-01-01", "--end", "2100-12-31"], "1,800.00"),
    ],
)
def test_reports_print_tables(env: str, args: list[str], expected: str) -> None:
    result = runner.invoke(app, ["analytics", *args], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    assert expected in result.output


def test_reversed_period_is_a_clear_error(env: str) -> None:
    result = runner.invoke(app, ["analytics", "kpi", "--start", "2024-05-01", "--end", "2024-01-01"])
    assert result.exit_code == 2
    assert "after its end" in result.output
