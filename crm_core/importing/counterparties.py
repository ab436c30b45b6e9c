"""Import counterparties and their phone numbers in batches of bulk statements.

Per batch: parse the rows, load what the database holds for their keys and numbers (:mod:`lookup`), decide
each row in memory (create, update, unchanged or reject), then write with a few executemany statements
(new rows get ids reserved up front, so no per-row RETURNING round trip). A number's written extension
(``доб. 12``) is stored beside it, and replaces the stored one when the file gives another.
A rejected row writes nothing, so no row is ever half-written; the caller commits once or rolls back.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import func, insert, select, update
from sqlalchemy.orm import Session

from crm_core.importing.csv_source import CsvSource, Record
from crm_core.importing.lookup import StoredCounterparty, StoredState, load_state
from crm_core.importing.report import ErrorCode, ImportReport, Outcome, RowError
from crm_core.importing.rows import CounterpartyRow, parse_counterparty
from crm_core.models.base import utcnow
from crm_core.models.counterparties import Counterparty
from crm_core.models.enums import ClientStatus
from crm_core.models.people import Manager
from crm_core.models.phones import PhoneNumber

DEFAULT_BATCH_SIZE = 2000
_UPDATABLE = ("name", "external_id", "tax_id", "region", "status", "notes", "last_contact_on")

_COUNTERPARTIES = Counterparty.metadata.tables[Counterparty.__tablename__]
_NUMBERS = PhoneNumber.metadata.tables[PhoneNumber.__tablename__]

Progress = Callable[[int], None]


@dataclass
class _FileClaims:
    """Keys and numbers taken by accepted rows earlier in the file, with the line that took them."""

    external_ids: dict[str, int] = field(default_factory=dict)
    tax_ids: dict[str, int] = field(default_factory=dict)
    numbers: dict[str, int] = field(default_factory=dict)
    targets: dict[int, int] = field(default_factory=dict)

    def conflicts(self, row: CounterpartyRow) -> list[RowError]:
        """Keys or numbers an earlier line of the file took."""
        found = []
        for label, value, taken in (
            ("external id", row.external_id, self.external_ids),
            ("tax id", row.tax_id, self.tax_ids),
        ):
            if value and value in taken:
                found.append(f"{label} {value} already on line {taken[value]}")
        found += [f"number {n} already on line {self.numbers[n]}" for n in row.phones if n in self.numbers]
        return [RowError(row.line, ErrorCode.DUPLICATE_IN_FILE, reason) for reason in found]

    def target_taken(self, row: CounterpartyRow, target: StoredCounterparty | None) -> list[RowError]:
        """The stored counterparty this row matched was already matched by an earlier line."""
        if target is None or target.id not in self.targets:
            return []
        reason = f"counterparty {target.name!r} already updated on line {self.targets[target.id]}"
        return [RowError(row.line, ErrorCode.DUPLICATE_IN_FILE, reason)]

    def claim(self, row: CounterpartyRow, target: StoredCounterparty | None) -> None:
        if target is not None:
            self.targets[target.id] = row.line
        if row.external_id:
            self.external_ids[row.external_id] = row.line
        if row.tax_id:
            self.tax_ids[row.tax_id] = row.line
        for number in row.phones:
            self.numbers[number] = row.line


@dataclass
class _Writes:
    """The statements one batch will execute: plain executemany, no RETURNING, no per-row round trip."""

    inserts: list[tuple[dict[str, Any], list[dict[str, Any]]]] = field(default_factory=list)
    updates: list[dict[str, Any]] = field(default_factory=list)
    numbers: list[dict[str, Any]] = field(default_factory=list)
    extensions: list[dict[str, Any]] = field(default_factory=list)

    def flush(self, session: Session) -> None:
        if self.inserts:
            ids = _reserve_ids(session, len(self.inserts))
            for cp_id, (values, numbers) in zip(ids, self.inserts, strict=True):
                values["id"] = cp_id
                self.numbers += [number | {"counterparty_id": cp_id} for number in numbers]
            session.execute(insert(_COUNTERPARTIES), [values for values, _ in self.inserts])
        if self.updates:
            session.execute(update(Counterparty), self.updates)
        if self.extensions:
            session.execute(update(PhoneNumber), self.extensions)
        if self.numbers:
            session.execute(insert(_NUMBERS), self.numbers)


def _reserve_ids(session: Session, count: int) -> list[int]:
    """Primary keys for ``count`` new counterparties, so their numbers can be inserted in the same batch.

    PostgreSQL draws them from the column's sequence. SQLite takes the ones after the highest id: a
    concurrent writer taking one first makes the insert fail and the whole import roll back, never a
    partial row.
    """
    if session.get_bind().dialect.name == "postgresql":
        sequence = func.pg_get_serial_sequence(_COUNTERPARTIES.name, "id")
        series = func.generate_series(1, count)
        return list(session.scalars(select(func.nextval(sequence)).select_from(series)))
    highest = session.scalar(select(func.coalesce(func.max(_COUNTERPARTIES.c.id), 0))) or 0
    return list(range(highest + 1, highest + count + 1))


def import_counterparties(
    session: Session,
    source: CsvSource,
    *,
    region: str,
    today: date | None = None,
    batch_size: int = DEFAULT_BATCH_SIZE,
    on_progress: Progress | None = None,
) -> ImportReport:
    """Import every record of ``source``; never commits. ``region`` reads numbers without a country code;
    ``today`` (company timezone) refuses last contact days more than a day ahead."""
    report = ImportReport()
    managers = {login: id_ for login, id_ in session.execute(select(Manager.login, Manager.id))}
    claims = _FileClaims()
    for batch in _chunks(source.records, batch_size):
        rows: list[CounterpartyRow] = []
        for record in batch:
            parsed = parse_counterparty(record, region, today)
            if isinstance(parsed, CounterpartyRow):
                rows.append(parsed)
            else:
                report.reject(parsed)
        _import_batch(session, rows, managers, claims, report)
        if on_progress is not None:
            on_progress(len(batch))
    return report


def _import_batch(
    session: Session,
    rows: list[CounterpartyRow],
    managers: dict[str, int],
    claims: _FileClaims,
    report: ImportReport,
) -> None:
    state = load_state(
        session,
        (r.external_id for r in rows if r.external_id),
        (r.tax_id for r in rows if r.tax_id),
        (n for r in rows for n in r.phones),
    )
    writes = _Writes()
    for row in rows:
        target = _match(row, state)
        problems = claims.conflicts(row) or _conflicts(row, target, state) or claims.target_taken(row, target)
        if row.manager_login and row.manager_login not in managers:
            reason = f"unknown manager login {row.manager_login!r}"
            problems.append(RowError(row.line, ErrorCode.UNKNOWN_MANAGER, reason))
        if problems:
            report.reject(problems)
            continue
        claims.claim(row, target)
        report.count(_plan(row, target, state, managers, writes), row.warnings)
    writes.flush(session)


def _match(row: CounterpartyRow, state: StoredState) -> StoredCounterparty | None:
    """The stored counterparty this row describes: by external id, else tax id, else exact name + number."""
    if row.external_id and row.external_id in state.by_external_id:
        return state.by_external_id[row.external_id]
    if row.tax_id and row.tax_id in state.by_tax_id:
        return state.by_tax_id[row.tax_id]
    for number in row.phones:
        owner = state.numbers.get(number)
        if owner is None or owner.counterparty_id is None:
            continue
        stored = state.by_id[owner.counterparty_id]
        if stored.name == row.name and _same_or_unset(stored, row, "external_id", "tax_id"):
            return stored
    return None


def _same_or_unset(stored: StoredCounterparty, row: CounterpartyRow, *fields: str) -> bool:
    return all(
        getattr(row, f) is None or getattr(stored, f) is None or getattr(row, f) == getattr(stored, f)
        for f in fields
    )


def _conflicts(row: CounterpartyRow, target: StoredCounterparty | None, state: StoredState) -> list[RowError]:
    """Keys and numbers that the database gives to someone other than ``target``."""
    found: list[tuple[ErrorCode, str]] = []
    holder = state.by_tax_id.get(row.tax_id) if row.tax_id else None
    if holder is not None and holder is not target:
        found.append((ErrorCode.KEY_TAKEN, f"tax id {row.tax_id} belongs to counterparty {holder.name!r}"))
    if target is not None and not _same_or_unset(target, row, "external_id"):
        found.append(
            (
                ErrorCode.KEY_TAKEN,
                f"tax id {row.tax_id} belongs to counterparty {target.name!r} "
                f"with external id {target.external_id}",
            )
        )
    for number in row.phones:
        owner = state.numbers.get(number)
        if owner is not None and (target is None or owner.counterparty_id != target.id):
            found.append((ErrorCode.NUMBER_TAKEN, f"number {number} belongs to {state.describe(owner)}"))
    return [RowError(row.line, code, reason) for code, reason in found]


def _plan(
    row: CounterpartyRow,
    target: StoredCounterparty | None,
    state: StoredState,
    managers: dict[str, int],
    writes: _Writes,
) -> Outcome:
    manager_id = managers[row.manager_login] if row.manager_login else None
    new_numbers = [
        {"e164": n, "extension": row.extensions.get(n)} for n in row.phones if n not in state.numbers
    ]
    if target is None:
        values = {f: getattr(row, f) for f in _UPDATABLE} | {"manager_id": manager_id}
        values["status"] = row.status or ClientStatus.POTENTIAL
        writes.inserts.append((values, new_numbers))
        return Outcome.CREATED
    new_extensions = [
        {"id": owner.phone_id, "extension": extension}
        for number, extension in row.extensions.items()
        if (owner := state.numbers.get(number)) is not None and owner.extension != extension
    ]
    writes.extensions += new_extensions
    changes = {
        f: getattr(row, f)
        for f in _UPDATABLE
        if getattr(row, f) is not None and getattr(row, f) != getattr(target, f)
    }
    if manager_id is not None and manager_id != target.manager_id:
        changes["manager_id"] = manager_id
    if changes:
        writes.updates.append({"id": target.id, "updated_at": utcnow(), **changes})
    writes.numbers += [number | {"counterparty_id": target.id} for number in new_numbers]
    return Outcome.UPDATED if changes or new_numbers or new_extensions else Outcome.UNCHANGED


def _chunks(records: Sequence[Record], size: int) -> Iterator[Sequence[Record]]:
    for start in range(0, len(records), size):
        yield records[start : start + size]
