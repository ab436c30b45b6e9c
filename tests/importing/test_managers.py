"""Manager import: create by login, link controllers (also defined later in the file), idempotence."""

# ruff: noqa: RUF001  (Cyrillic test data is intended)

from __future__ import annotations

import csv
import io

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from crm_core.importing import MANAGER_COLUMNS, ErrorCode, ImportReport, import_managers, read_csv
from crm_core.models.enums import ManagerRole
from crm_core.models.people import Manager
from tests.dial_string_cases import UNSAFE_DIAL_STRINGS

pytestmark = pytest.mark.usefixtures("db_url")
PBXS = ("main", "branch")  # as configured: CALLROUTER_PBX_NAME, then CALLROUTER_AMI_EXTRA_PBXS

FILE = """Логин;ФИО;Внутренний номер;Мобильный;Роль;Руководитель
ivanov;Иван Иванов;101;8 900 123-45-67;менеджер;petrov
petrov;Пётр Петров;102;;контролёр;
ghost;Призрак;103;;;nobody
shadow;Тень;104;;;ghost
ivanov;Снова Иван;105;;;
self;Сам себе;106;;;self
"""


def run(session: Session, text: str = FILE) -> ImportReport:
    return import_managers(session, read_csv(text.encode(), MANAGER_COLUMNS), region="RU", pbxs=PBXS)


def test_managers_are_created_and_linked_to_their_controller(session: Session) -> None:
    report = run(session)
    assert sorted((e.line, e.code, e.reason) for e in report.errors) == [
        (4, ErrorCode.UNKNOWN_MANAGER, "unknown controller login 'nobody'"),
        (5, ErrorCode.UNKNOWN_MANAGER, "unknown controller login 'ghost'"),
        (6, ErrorCode.DUPLICATE_IN_FILE, "login ivanov already on line 2"),
        (7, ErrorCode.BAD_VALUE, "a manager cannot be their own controller"),
    ]
    managers = {m.login: m for m in session.scalars(select(Manager))}
    assert sorted(managers) == ["ivanov", "petrov"]
    ivanov = managers["ivanov"]
    assert (ivanov.mobile, ivanov.extension, ivanov.role) == ("+79001234567", "101", ManagerRole.MANAGER)
    assert (ivanov.controller_id, managers["petrov"].role) == (managers["petrov"].id, ManagerRole.CONTROLLER)


def test_reimport_is_unchanged_and_a_changed_field_updates(session: Session) -> None:
    run(session)
    again = run(session)
    assert (again.created, again.updated, again.unchanged, again.rejected) == (0, 0, 2, 4)
    changed = run(session, "login,name,extension\nivanov,Иван Иванов,201\nsidorov,Сидор,301\n")
    assert (changed.created, changed.updated, changed.unchanged) == (1, 1, 0)
    ivanov = session.scalars(select(Manager).where(Manager.login == "ivanov")).one()
    assert (ivanov.extension, ivanov.controller_id is not None) == ("201", True)


@pytest.mark.parametrize("target", [t for t in UNSAFE_DIAL_STRINGS if t.strip()])
def test_an_undialable_target_is_a_line_error_and_the_rest_is_imported(session: Session, target: str) -> None:
    """The dial target FastAGI could not send is refused on its line; an empty cell is simply unset."""
    rows = [["login", "name", "dial_target"], ["ivanov", "Иван", target], ["petrov", "Пётр", "PJSIP/102"]]
    text = io.StringIO()
    csv.writer(text).writerows([*rows, ["sidorov", "Сидор", ""]])
    report = run(session, text.getvalue())
    assert [(e.line, e.code) for e in report.errors] == [(2, ErrorCode.BAD_VALUE)]
    assert "dial target" in report.errors[0].reason
    stored = {m.login: m.dial_target for m in session.scalars(select(Manager))}
    assert stored == {"petrov": "PJSIP/102", "sidorov": None}


def test_the_pbx_column_sets_a_configured_pbx_and_refuses_another(session: Session) -> None:
    """The PBX column (Russian header): where the phone is; an empty cell keeps the stored PBX."""
    report = run(session, "Логин;ФИО;Канал;АТС\nivanov;Иван;PJSIP/301;branch\npetrov;Пётр;PJSIP/102;ghost\n")
    assert [(e.line, e.code, e.reason) for e in report.errors] == [
        (3, ErrorCode.BAD_VALUE, "unknown PBX 'ghost' (configured: main, branch)")
    ]
    again = run(session, "login,name,pbx\nivanov,Иван,\nsidorov,Сидор,\n")
    assert (again.created, again.unchanged) == (1, 1)
    assert {m.login: m.pbx for m in session.scalars(select(Manager))} == {"ivanov": "branch", "sidorov": None}
