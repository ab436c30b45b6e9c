"""``callrouter analytics needs`` and ``funnel`` on a migrated SQLite file of their own, with ``--as-of``."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from callrouter.cli import app
from crm_core.db import make_engine
from crm_core.migrations import upgrade
from crm_core.models import Deal, DealStage, DealStageName, Need
from tests.analytics.factories import Crm

runner = CliRunner()
WIDE = {"COLUMNS": "200"}


@pytest.fixture(scope="module")
def db_file(tmp_path_factory: pytest.TempPathFactory) -> str:
    url = f"sqlite:///{tmp_path_factory.mktemp('cli-sales') / 'sales.db'}"
    upgrade(url)
    engine = make_engine(url)
    with Session(engine) as session:
        crm = Crm(session)
        anna = crm.manager("Anna Petrova")
        client = crm.counterparty("Cement Buyer", anna)
        for product, quantity, probability, created in (
            ("Cement", "200", 50, datetime(2024, 1, 10, tzinfo=UTC)),
            ("Sand", "80", 100, datetime(2024, 6, 10, tzinfo=UTC)),
        ):
            session.add(
                Need(
                    counterparty_id=client.id,
                    product=product,
                    quantity=Decimal(quantity),
                    probability=probability,
                    created_at=created,
                )
            )
        for stages in ((DealStageName.LEAD, DealStageName.PROPOSAL), (DealStageName.LEAD,)):
            deal = Deal(
                counterparty_id=client.id,
                manager_id=anna.id,
                title="d",
                stage=stages[-1],
                created_at=datetime(2024, 5, 2, tzinfo=UTC),
            )
            session.add(deal)
            session.flush()
            for day, stage in enumerate(stages, start=2):
                session.add(
                    DealStage(deal_id=deal.id, stage=stage, entered_at=datetime(2024, 5, day, tzinfo=UTC))
                )
        session.commit()
    engine.dispose()
    return url


@pytest.fixture
def env(db_file: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    monkeypatch.setenv("CALLROUTER_ENV", "development")
    monkeypatch.setenv("CALLROUTER_DATABASE_URL", db_file)
    monkeypatch.setenv("CALLROUTER_COMPANY_TIMEZONE", "Europe/Moscow")
    monkeypatch.chdir(Path(db_file.removeprefix("sqlite:///")).parent)
    yield db_file


def test_needs_as_of_a_day_reads_only_older_needs(env: str) -> None:
    early = runner.invoke(app, ["analytics", "needs", "--by", "product", "--as-of", "2024-05-31"], env=WIDE)
    late = runner.invoke(app, ["analytics", "needs", "--by", "product", "--as-of", "2024-06-30"], env=WIDE)

    assert early.exit_code == 0, early.output
    assert "Cement" in early.output and "100.000" in early.output and "Sand" not in early.output
    assert "1 groups" in early.output
    assert "Sand" in late.output and "80.000" in late.output and "2 groups" in late.output


def test_needs_filters(env: str) -> None:
    sand = runner.invoke(app, ["analytics", "needs", "--product", "Sand", "--as-of", "2024-06-30"], env=WIDE)
    nobody = runner.invoke(app, ["analytics", "needs", "--region", "Nowhere"], env=WIDE)
    assert sand.exit_code == 0, sand.output
    assert "Sand" in sand.output and "Cement" not in sand.output and "1 groups" in sand.output
    assert "0 groups" in nobody.output


def test_funnel_prints_stages_with_conversion(env: str) -> None:
    result = runner.invoke(app, ["analytics", "funnel", "--as-of", "2024-05-31", "--months", "1"], env=WIDE)

    assert result.exit_code == 0, result.output
    cells = [
        [cell.strip() for cell in line.split("│")[1:-1]]
        for line in result.output.splitlines()
        if line.startswith("│")
    ]
    assert cells == [
        ["all", "Anna Petrova", "lead", "2", "-"],
        ["all", "Anna Petrova", "qualification", "1", "50%"],  # the proposal deal passed qualification
        ["all", "Anna Petrova", "proposal", "1", "100%"],
        ["all", "Anna Petrova", "negotiation", "0", "0%"],
        ["all", "Anna Petrova", "won", "0", "-"],  # after an empty stage: no conversion
        ["all", "Anna Petrova", "lost", "0", "-"],
    ]


def test_funnel_of_another_manager_is_empty(env: str) -> None:
    result = runner.invoke(
        app, ["analytics", "funnel", "--as-of", "2024-05-31", "--manager-id", "999"], env=WIDE
    )
    assert result.exit_code == 0, result.output
    assert not [line for line in result.output.splitlines() if line.startswith("│")]


def test_funnel_refuses_a_bad_grouping(env: str) -> None:
    result = runner.invoke(app, ["analytics", "funnel", "--per", "week"])
    assert result.exit_code == 2
