"""Turn one CSV record into a validated, typed row, or into the list of its problems (pure functions)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import TypeVar

from crm_core.importing.columns import ROLE_VALUES, STATUS_VALUES
from crm_core.importing.csv_source import Record, header_key
from crm_core.importing.report import ErrorCode, RowError, WarningCode
from crm_core.importing.shipment_rows import parse_day
from crm_core.models.enums import ClientStatus, ManagerRole
from crm_core.phone_numbers import EXTENSION_MARK, NumberStatus, normalize_number

# ``,`` ``;`` or a line break separate numbers, except before an extension (``8 843 123-45-67, доб. 12``)
_NUMBER_SEPARATORS = re.compile(rf"[,;\n](?!\s*\(?\s*{EXTENSION_MARK})", re.IGNORECASE)
_E = TypeVar("_E")


@dataclass(frozen=True, slots=True)
class Numbers:
    """The E.164 numbers of a cell in order and the extensions written after some of them."""

    e164s: tuple[str, ...]
    extensions: dict[str, str]


@dataclass(frozen=True, slots=True)
class CounterpartyRow:
    """A counterparty line; ``None`` fields were empty and leave stored values as they are."""

    line: int
    name: str
    external_id: str | None
    tax_id: str | None
    phones: tuple[str, ...]
    region: str | None
    manager_login: str | None
    status: ClientStatus | None
    notes: str | None
    extensions: dict[str, str] = field(default_factory=dict)
    """The extension written after a number, by its E.164 form (numbers without one are absent)."""
    warnings: tuple[RowError, ...] = ()
    last_contact_on: date | None = None
    """The last contact before the CRM (a day as 1C writes it); ``None``: leave the stored one."""


@dataclass(frozen=True, slots=True)
class ManagerRow:
    """A manager line; ``controller_login`` names another manager (in the file or the database)."""

    line: int
    login: str
    name: str
    extension: str | None
    dial_target: str | None
    pbx: str | None
    mobile: str | None
    email: str | None
    role: ManagerRole | None
    controller_login: str | None
    warnings: tuple[RowError, ...] = ()


class _Checker:
    """Collects the problems of one record while its cells are read."""

    def __init__(self, record: Record) -> None:
        self.record = record
        self.problems: list[RowError] = []
        self.warnings: list[RowError] = []

    def fail(self, code: ErrorCode, reason: str) -> None:
        self.problems.append(RowError(self.record.line, code, reason))

    def warn(self, code: WarningCode, reason: str) -> None:
        self.warnings.append(RowError(self.record.line, code, reason))

    def text(self, column: str, max_len: int, *, required: bool = False) -> str | None:
        value = " ".join(self.record.get(column).split())
        if not value:
            if required:
                self.fail(ErrorCode.MISSING_VALUE, f"missing {column}")
            return None
        if len(value) > max_len:
            self.fail(ErrorCode.BAD_VALUE, f"{column} longer than {max_len} characters")
            return None
        return value

    def choice(self, column: str, values: Mapping[str, _E]) -> _E | None:
        raw = self.record.get(column)
        if not raw:
            return None
        found = values.get(header_key(raw))
        if found is None:
            self.fail(ErrorCode.BAD_VALUE, f"unknown {column} {raw!r}")
        return found

    def day(self, column: str, today: date | None) -> date | None:
        """A 1C date (``31.12.2025``, maybe with a time) or ISO; at most a day after ``today``."""
        raw = self.record.get(column).strip()
        if not raw:
            return None
        day = parse_day(raw)
        if day is None:
            self.fail(ErrorCode.BAD_VALUE, f"{column} {raw!r} is not a date like 31.12.2025")
        elif today is not None and day > today + timedelta(days=1):
            self.fail(ErrorCode.BAD_VALUE, f"{column} {raw!r} is in the future")
            return None
        return day

    def numbers(self, column: str, region: str) -> Numbers:
        """Every number of the cell; a possible but unallocated one is kept with a warning."""
        found: dict[str, None] = {}
        extensions: dict[str, str] = {}
        for part in filter(None, (p.strip() for p in _NUMBER_SEPARATORS.split(self.record.get(column)))):
            normalized = normalize_number(part, region)
            if normalized.e164 is None:
                self.fail(ErrorCode.BAD_NUMBER, f"bad number {part!r}")
                continue
            if normalized.status is NumberStatus.POSSIBLE and normalized.e164 not in found:
                self.warn(
                    WarningCode.POSSIBLE_NUMBER,
                    f"number {normalized.e164} ({part!r}) is in no known allocated range; "
                    "imported all the same",
                )
            found[normalized.e164] = None
            if normalized.extension is not None:
                extensions.setdefault(normalized.e164, normalized.extension)
        return Numbers(tuple(found), extensions)


def parse_counterparty(
    record: Record, region: str, today: date | None = None
) -> CounterpartyRow | list[RowError]:
    """Validate a counterparty record; numbers become E.164 (duplicates within the cell collapse).

    ``today`` (company timezone) bounds the last contact day: more than a day later is refused.

    Several phone columns arrive as one cell (see :func:`~crm_core.importing.csv_source.read_csv`).
    """
    check = _Checker(record)
    numbers = check.numbers("phones", region)
    row = CounterpartyRow(
        line=record.line,
        name=check.text("name", 300, required=True) or "",
        external_id=check.text("external_id", 64),
        tax_id=_compact(check.text("tax_id", 32)),
        phones=numbers.e164s,
        region=check.text("region", 100),
        manager_login=check.text("manager", 64),
        status=check.choice("status", STATUS_VALUES),
        notes=record.get("notes") or None,
        extensions=numbers.extensions,
        warnings=tuple(check.warnings),
        last_contact_on=check.day("last_contact_on", today),
    )
    if not (row.external_id or row.tax_id or row.phones or check.problems):
        check.fail(
            ErrorCode.NO_MATCH_KEY, "no external id, tax id or phone: a re-import could not recognise it"
        )
    return check.problems or row


def parse_manager(record: Record, region: str) -> ManagerRow | list[RowError]:
    """Validate a manager record; the mobile number becomes E.164."""
    check = _Checker(record)
    numbers = check.numbers("mobile", region)
    mobiles = numbers.e164s
    if len(mobiles) > 1:
        check.fail(ErrorCode.BAD_VALUE, "more than one mobile number")
    if numbers.extensions:
        check.fail(ErrorCode.BAD_NUMBER, "a mobile number has no extension")
    email = check.text("email", 254)
    if email and "@" not in email:
        check.fail(ErrorCode.BAD_VALUE, f"bad email {email!r}")
    row = ManagerRow(
        line=record.line,
        login=check.text("login", 64, required=True) or "",
        name=check.text("name", 200, required=True) or "",
        extension=check.text("extension", 32),
        dial_target=check.text("dial_target", 128),
        pbx=check.text("pbx", 64),
        mobile=mobiles[0] if mobiles else None,
        email=email,
        role=check.choice("role", ROLE_VALUES),
        controller_login=check.text("controller", 64),
        warnings=tuple(check.warnings),
    )
    return check.problems or row


def _compact(tax_id: str | None) -> str | None:
    """Tax ids are compared without inner spaces (``77 01 234567`` is ``7701234567``)."""
    return tax_id.replace(" ", "") if tax_id else None
