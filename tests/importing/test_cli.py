"""``callrouter import`` end to end on a migrated SQLite file."""

# ruff: noqa: RUF001  (Cyrillic test data is intended)

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from callrouter.cli import app
from crm_core.db import make_engine
from crm_core.importing.counterparties import _Writes
from crm_core.migrations import upgrade
from crm_core.models.counterparties import Counterparty
from crm_core.models.phones import PhoneNumber

MANAGERS = "login,name,extension\nivanov,Иван Иванов,101\n"
CLIENTS = """Код;Наименование;ИНН;Телефоны;Менеджер
A1;ООО Ромашка;7701234567;8 (843) 123-45-67, +7 843 1234568;ivanov
A2;ИП Сидоров;;+7 843 1234567;
A3;Лютик;;88431234569;nobody
"""


@pytest.fixture
def database(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    upgrade(url)
    monkeypatch.setenv("CALLROUTER_DATABASE_URL", url)
    monkeypatch.setenv("CALLROUTER_ENV", "development")
    return url


def write(tmp_path: Path, name: str, text: str, encoding: str = "utf-8") -> str:
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    return str(path)


def stored(url: str) -> tuple[int, int]:
    engine = make_engine(url)
    with engine.connect() as conn:
        result = (
            conn.scalar(select(func.count()).select_from(Counterparty)) or 0,
            conn.scalar(select(func.count()).select_from(PhoneNumber)) or 0,
        )
    engine.dispose()
    return result


def test_import_reports_lines_writes_errors_csv_and_is_idempotent(database: str, tmp_path: Path) -> None:
    runner = CliRunner()
    managers = runner.invoke(app, ["import", write(tmp_path, "m.csv", MANAGERS), "--kind", "managers"])
    assert (managers.exit_code, managers.stdout.strip()) == (
        0,
        "1 created, 0 updated, 0 unchanged, 0 rejected",
    )
    clients = write(tmp_path, "c.csv", CLIENTS)
    errors_csv = tmp_path / "errors.csv"
    first = runner.invoke(app, ["import", clients, "--errors-csv", str(errors_csv)])
    assert first.exit_code == 1
    assert first.stdout.strip() == "1 created, 0 updated, 0 unchanged, 2 rejected"
    assert "line 3: number +78431234567 already on line 2" in first.stderr
    assert "line 4: unknown manager login 'nobody'" in first.stderr
    assert errors_csv.read_text().splitlines() == [
        "line,code,reason",
        "3,duplicate-in-file,number +78431234567 already on line 2",
        "4,unknown-manager,unknown manager login 'nobody'",
    ]
    second = runner.invoke(app, ["import", clients])
    assert second.stdout.strip() == "0 created, 0 updated, 1 unchanged, 2 rejected"
    assert stored(database) == (1, 2)


def test_wrong_encoding_is_refused_and_cp1251_is_accepted_when_named(database: str, tmp_path: Path) -> None:
    runner = CliRunner()
    path = write(tmp_path, "c.csv", "Наименование,Телефон\nРомашка,+78431234568\n", encoding="cp1251")
    refused = runner.invoke(app, ["import", path])
    assert refused.exit_code == 2
    assert "not valid UTF-8" in refused.stderr and "--encoding cp1251" in refused.stderr
    assert stored(database) == (0, 0)
    accepted = runner.invoke(app, ["import", path, "--encoding", "cp1251"])
    assert (accepted.exit_code, stored(database)) == (0, (1, 1))


def test_dry_run_writes_nothing(database: str, tmp_path: Path) -> None:
    result = CliRunner().invoke(
        app, ["import", write(tmp_path, "c.csv", "name,phone\nA,+78431234567\n"), "--dry-run"]
    )
    assert result.stdout.strip() == "dry run, nothing written: 1 created, 0 updated, 0 unchanged, 0 rejected"
    assert stored(database) == (0, 0)


def test_a_failure_after_writing_leaves_no_row(
    database: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    original = _Writes.flush

    def flush_then_fail(self: _Writes, session: Session) -> None:
        original(self, session)
        raise OperationalError("INSERT", {}, Exception("disk I/O error"))

    monkeypatch.setattr(_Writes, "flush", flush_then_fail)
    result = CliRunner().invoke(app, ["import", write(tmp_path, "c.csv", "name,phone\nA,+78431234567\n")])
    assert result.exit_code == 2
    assert "import aborted, nothing written" in result.stderr
    assert stored(database) == (0, 0)


def test_a_managers_file_with_an_undialable_target_reports_the_line(database: str, tmp_path: Path) -> None:
    text = 'login,name,dial_target\nivanov,Иван,"PJSIP/101,20"\npetrov,Пётр,PJSIP/102\n'
    result = CliRunner().invoke(app, ["import", write(tmp_path, "m.csv", text), "--kind", "managers"])
    assert (result.exit_code, result.stdout.strip()) == (1, "1 created, 0 updated, 0 unchanged, 1 rejected")
    assert "line 2: dial target contains ','" in result.stderr
