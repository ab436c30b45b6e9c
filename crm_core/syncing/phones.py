"""Written phones of an outside object -> owned E.164 numbers (with extensions), problems reported."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from crm_core.models.phones import PhoneNumber
from crm_core.phone_numbers import NumberStatus, normalize_number
from crm_core.syncing.report import SyncReport


def read_phones(
    texts: Sequence[str], region: str, kind: str, ref: str, report: SyncReport
) -> dict[str, str | None]:
    """E.164 -> extension for every readable text; an unreadable one is reported with the object and text."""
    numbers: dict[str, str | None] = {}
    for text in texts:
        parsed = normalize_number(text, region)
        if parsed.e164 is None or parsed.status in (NumberStatus.INVALID, NumberStatus.WITHHELD):
            report.problem(kind, ref, f"unreadable phone {text!r}")
            continue
        numbers.setdefault(parsed.e164, parsed.extension)
    return numbers


def load_numbers(session: Session, e164s: Iterable[str]) -> dict[str, PhoneNumber]:
    """The stored numbers among ``e164s``, by E.164."""
    wanted = list(set(e164s))
    found: dict[str, PhoneNumber] = {}
    for start in range(0, len(wanted), 500):
        stmt = select(PhoneNumber).where(PhoneNumber.e164.in_(wanted[start : start + 500]))
        found.update((p.e164, p) for p in session.scalars(stmt))
    return found


def attach(
    session: Session,
    numbers: dict[str, str | None],
    stored: dict[str, PhoneNumber],
    owner: dict[str, int],
    kind: str,
    ref: str,
    report: SyncReport,
) -> bool:
    """Give ``owner`` (``{"counterparty_id": 5}``) these numbers; True when a number was added or changed.

    A number another owner holds is reported and left with that owner."""
    ((column, owner_id),) = owner.items()
    changed = False
    for e164, extension in numbers.items():
        phone = stored.get(e164)
        if phone is None:
            phone = stored[e164] = PhoneNumber(e164=e164, extension=extension, label="1C", **owner)
            session.add(phone)
            report.numbers_changed.add(e164)
            changed = True
        elif getattr(phone, column) != owner_id:
            report.problem(kind, ref, f"phone {e164} already belongs to another card")
        elif phone.extension != extension:
            phone.extension = extension
            report.numbers_changed.add(e164)
            changed = True
    return changed
