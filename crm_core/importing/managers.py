"""Import managers (matched by login), then link each to its controller by login.

A managers file is small (tens to hundreds of rows), so plain ORM objects and one flush are used.
"""

from __future__ import annotations

from collections.abc import Callable, Collection

from sqlalchemy import select
from sqlalchemy.orm import Session

from crm_core.dial_strings import dial_string_problem
from crm_core.importing.csv_source import CsvSource
from crm_core.importing.report import ErrorCode, ImportReport, Outcome, RowError
from crm_core.importing.rows import ManagerRow, parse_manager
from crm_core.models.people import Manager

_FIELDS = ("name", "extension", "dial_target", "pbx", "mobile", "email", "role")


def import_managers(
    session: Session,
    source: CsvSource,
    *,
    region: str,
    pbxs: Collection[str],
    on_progress: Callable[[int], None] | None = None,
) -> ImportReport:
    """Create or update the managers of ``source``; never commits. ``pbxs``: the configured PBX names."""
    report = ImportReport()
    rows = _accepted_rows(source, region, pbxs, report)
    stored = {m.login: m for m in session.scalars(select(Manager))}
    _reject_unknown_controllers(rows, stored.keys(), report)
    outcomes: dict[str, Outcome] = {}
    for row in rows.values():
        manager = stored.get(row.login)
        if manager is None:
            manager = stored[row.login] = Manager(login=row.login, name=row.name)
            session.add(manager)
            outcomes[row.login] = Outcome.CREATED
        changed = _apply(manager, row)
        outcomes.setdefault(row.login, Outcome.UPDATED if changed else Outcome.UNCHANGED)
    session.flush()
    for row in rows.values():
        manager = stored[row.login]
        controller_id = stored[row.controller_login].id if row.controller_login else manager.controller_id
        if controller_id != manager.controller_id:
            manager.controller_id = controller_id
            if outcomes[row.login] is Outcome.UNCHANGED:
                outcomes[row.login] = Outcome.UPDATED
    session.flush()
    for login, outcome in outcomes.items():
        report.count(outcome, rows[login].warnings)
    if on_progress is not None:
        on_progress(len(source.records))
    return report


def _accepted_rows(
    source: CsvSource, region: str, pbxs: Collection[str], report: ImportReport
) -> dict[str, ManagerRow]:
    """Valid rows by login, in file order; a repeated login, an undialable target, a PBX that is not
    configured or self-control: refused."""
    rows: dict[str, ManagerRow] = {}
    for record in source.records:
        parsed = parse_manager(record, region)
        if isinstance(parsed, list):
            report.reject(parsed)
        elif parsed.login in rows:
            reason = f"login {parsed.login} already on line {rows[parsed.login].line}"
            report.reject([RowError(parsed.line, ErrorCode.DUPLICATE_IN_FILE, reason)])
        elif parsed.dial_target and (problem := dial_string_problem(parsed.dial_target)):
            report.reject([RowError(parsed.line, ErrorCode.BAD_VALUE, f"dial target {problem}")])
        elif parsed.pbx and parsed.pbx not in pbxs:
            reason = f"unknown PBX {parsed.pbx!r} (configured: {', '.join(pbxs)})"
            report.reject([RowError(parsed.line, ErrorCode.BAD_VALUE, reason)])
        elif parsed.controller_login == parsed.login:
            reason = "a manager cannot be their own controller"
            report.reject([RowError(parsed.line, ErrorCode.BAD_VALUE, reason)])
        else:
            rows[parsed.login] = parsed
    return rows


def _reject_unknown_controllers(
    rows: dict[str, ManagerRow], stored_logins: Collection[str], report: ImportReport
) -> None:
    """Drop rows whose controller is neither stored nor accepted, until none is left (rejections cascade)."""
    while bad := [
        r
        for r in rows.values()
        if r.controller_login and r.controller_login not in rows and r.controller_login not in stored_logins
    ]:
        for row in bad:
            del rows[row.login]
            reason = f"unknown controller login {row.controller_login!r}"
            report.reject([RowError(row.line, ErrorCode.UNKNOWN_MANAGER, reason)])


def _apply(manager: Manager, row: ManagerRow) -> bool:
    """Copy the row's non-empty fields onto ``manager``; True when something changed."""
    changed = False
    for name in _FIELDS:
        value = getattr(row, name)
        if value is not None and value != getattr(manager, name):
            setattr(manager, name, value)
            changed = True
    return changed
