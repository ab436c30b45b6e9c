"""``callrouter analytics ...`` on a migrated SQLite file of its own."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
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
        crm.call(datetime.now(UTC) - timedelta(days=40), cp=regular, by=anna)  # contact, a shipment is not
        crm.counterparty("Silent LLC", anna)
        crm.counterparty("Imported Ltd", anna, last_contact_on=date(2001, 1, 15))
        regular.refined_at, regular.refined_by_id = (
            datetime(2001, 2, 28, 21, tzinfo=UTC),
            anna.id,
        )  # 1 March MSK
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
    assert "1 of 3 clients changed status" in dry.output
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


def test_status_as_of_a_past_day(env: str) -> None:
    """Before its first purchase the client was potential; between the two it was a fresh one-timer."""
    before = (date.today() - timedelta(days=71)).isoformat()
    between = (date.today() - timedelta(days=50)).isoformat()
    assert runner.invoke(app, ["analytics", "status"]).exit_code == 0
    assert _status(env, "Regular Ltd") == ClientStatus.REGULAR
    wide = {"COLUMNS": "200"}
    early = runner.invoke(app, ["analytics", "status", "--dry-run", "--as-of", before], env=wide)
    assert early.exit_code == 0, early.output
    assert f"on {before}" in early.output and "1 of 3 clients changed status" in early.output
    assert "│ regular │ potential " in early.output
    middle = runner.invoke(app, ["analytics", "status", "--dry-run", "--as-of", between], env=wide)
    assert "│ regular │ one_time_fresh " in middle.output and "1 of 3" in middle.output
    assert _status(env, "Regular Ltd") == ClientStatus.REGULAR


@pytest.mark.parametrize(
    ("args", "absent", "present"),
    [
        (["rfm"], "Regular Ltd", "RFM"),
        (["kpi"], "1,800.00", "Anna Petrova"),
    ],
)
def test_reports_as_of_a_day_before_any_purchase(
    env: str, args: list[str], absent: str, present: str
) -> None:
    as_of = (date.today() - timedelta(days=100)).isoformat()
    result = runner.invoke(app, ["analytics", *args, "--as-of", as_of], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    assert present in result.output and absent not in result.output


def test_abc_as_of_picks_the_twelve_months_before(env: str) -> None:
    result = runner.invoke(app, ["analytics", "abc", "--as-of", "2001-03-15"], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    assert "2000-03-01..2001-02-28" in result.output


def test_forgotten_as_of_a_day_before_any_contact(env: str) -> None:
    today = runner.invoke(app, ["analytics", "forgotten"], env={"COLUMNS": "200"})
    as_of = (date.today() - timedelta(days=100)).isoformat()
    then = runner.invoke(app, ["analytics", "forgotten", "--as-of", as_of], env={"COLUMNS": "200"})
    assert today.exit_code == then.exit_code == 0, then.output
    assert "Regular Ltd" not in today.output and "Regular Ltd" in then.output


@pytest.mark.parametrize(
    ("language", "heading", "column", "never"),
    [
        ("en", "Forgotten clients (over 90 days)", "days silent", "never contacted"),
        ("ru", "Забытые клиенты (больше 90 дн.)", "дней без контакта", "ни разу не было контакта"),
    ],
)
def test_forgotten_speaks_the_company_language(
    env: str, language: str, heading: str, column: str, never: str
) -> None:
    result = runner.invoke(
        app, ["analytics", "forgotten"], env={"COLUMNS": "250", "CALLROUTER_LANGUAGE": language}
    )
    assert result.exit_code == 0, result.output
    assert heading in result.output and column in result.output
    silent = next(line for line in result.output.splitlines() if "Silent LLC" in line)
    assert never in silent
    imported = next(line for line in result.output.splitlines() if "Imported Ltd" in line)
    assert "2001-01-15" in imported and ("imported" if language == "en" else "из импорта") in imported


@pytest.mark.parametrize(
    ("month", "refined"),
    [("2001-03", "1"), ("2001-02", "0")],
)
def test_kpi_month_prints_refined_cards_in_the_company_timezone(env: str, month: str, refined: str) -> None:
    wide = {"COLUMNS": "250", "CALLROUTER_LANGUAGE": "en", "CALLROUTER_COMPANY_TIMEZONE": "Europe/Moscow"}
    result = runner.invoke(app, ["analytics", "kpi", "--month", month], env=wide)
    assert result.exit_code == 0, result.output
    assert "refined cards" in result.output and "refined contacts" in result.output
    assert f"{month}-01.." in result.output
    anna = next(line for line in result.output.splitlines() if "Anna Petrova" in line)
    assert [cell.strip() for cell in anna.split("│")][2:4] == [refined, "0"]


def test_kpi_month_excludes_a_period(env: str) -> None:
    result = runner.invoke(app, ["analytics", "kpi", "--month", "2001-03", "--as-of", "2001-03-05"])
    assert result.exit_code == 2 and "--month replaces" in result.output
