"""``callrouter import`` end to end on SQLite and PostgreSQL: every phone column, extensions, warnings, and
an ``--errors-csv`` that cannot be written."""

# ruff: noqa: RUF001  (Cyrillic test data is intended)

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from callrouter.cli import app
from crm_core.db import make_engine
from crm_core.importing import ImportReport
from crm_core.migrations import upgrade
from crm_core.models.counterparties import Counterparty
from crm_core.models.phones import PhoneNumber
from tests.conftest import _create_pg_database, _drop_pg_database

CLIENTS = """Код;Наименование;Телефон;Телефон 2;Мобильный;Рабочий телефон;phone
A1;ООО Ромашка;8 (843) 123-45-67;+7 843 123-45-68, доб. 12;8 900 123-45-67;+7 843 1234569 ext. 7;
A2;ИП Сидоров;;;8 (930) 000-30-11;;+7 843 1234570 x5
A3;Лютик;+7 999 1234567890;;;;
"""


@pytest.fixture(params=["sqlite", "postgres"])
def database(
    request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[str]:
    """A fresh migrated database of each backend that the CLI uses through its settings."""
    name = None
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'cli.db'}"
    else:
        name, url = _create_pg_database()
    try:
        upgrade(url)
        monkeypatch.setenv("CALLROUTER_DATABASE_URL", url)
        monkeypatch.setenv("CALLROUTER_ENV", "development")
        yield url
    finally:
        if name is not None:
            _drop_pg_database(name)


def stored_numbers(url: str) -> dict[str, list[tuple[str, str | None]]]:
    """Each counterparty's numbers with their extensions."""
    engine = make_engine(url)
    query = (
        select(Counterparty.name, PhoneNumber.e164, PhoneNumber.extension)
        .join(PhoneNumber)
        .order_by(PhoneNumber.e164)
    )
    with engine.connect() as conn:
        found: dict[str, list[tuple[str, str | None]]] = {}
        for name, e164, extension in conn.execute(query):
            found.setdefault(name, []).append((e164, extension))
    engine.dispose()
    return found


def test_every_phone_column_and_extension_is_kept_and_warnings_are_reported(
    database: str, tmp_path: Path
) -> None:
    clients = tmp_path / "clients.csv"
    clients.write_text(CLIENTS, encoding="utf-8")
    errors_csv = tmp_path / "errors.csv"
    result = CliRunner().invoke(app, ["import", str(clients), "--errors-csv", str(errors_csv)])
    assert result.exit_code == 1, result.output
    assert result.stdout.strip() == "2 created, 0 updated, 0 unchanged, 1 rejected, 1 warning"
    assert "ignored columns" not in result.stderr
    assert "line 3: warning: number +79300003011 ('8 (930) 000-30-11') is in no known allocated range" in (
        result.stderr
    )
    assert stored_numbers(database) == {
        "ООО Ромашка": [
            ("+78431234567", None),
            ("+78431234568", "12"),
            ("+78431234569", "7"),
            ("+79001234567", None),
        ],
        "ИП Сидоров": [("+78431234570", "5"), ("+79300003011", None)],
    }
    assert errors_csv.read_text(encoding="utf-8").splitlines() == [
        "line,code,reason",
        "3,possible-number,number +79300003011 ('8 (930) 000-30-11') is in no known allocated range; "
        "imported all the same",
        "4,bad-number,bad number '+7 999 1234567890'",
    ]
    again = CliRunner().invoke(app, ["import", str(clients)])
    assert again.stdout.strip() == "0 created, 0 updated, 2 unchanged, 1 rejected, 1 warning"


def test_errors_csv_into_a_missing_folder_is_refused_up_front(database: str, tmp_path: Path) -> None:
    clients = tmp_path / "clients.csv"
    clients.write_text(CLIENTS, encoding="utf-8")
    target = tmp_path / "no-such-folder[1]" / "errors.csv"
    result = CliRunner().invoke(app, ["import", str(clients), "--errors-csv", str(target)])
    assert result.exit_code == 2
    assert result.stderr.strip().splitlines() == [
        f"cannot write --errors-csv {target}: No such file or directory"
    ]
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert stored_numbers(database) == {}
    assert not target.parent.exists()


def test_an_errors_csv_that_fails_while_written_leaves_nothing_committed(
    database: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def disk_full(_report: ImportReport, _out: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(ImportReport, "write_errors_csv", disk_full)
    clients = tmp_path / "clients.csv"
    clients.write_text(CLIENTS, encoding="utf-8")
    result = CliRunner().invoke(app, ["import", str(clients), "--errors-csv", str(tmp_path / "e.csv")])
    assert result.exit_code == 2
    assert "import aborted, nothing written" in result.stderr
    assert "Traceback" not in result.output
    assert stored_numbers(database) == {}
