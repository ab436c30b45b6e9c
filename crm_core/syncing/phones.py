"""Written phones of an outside object -> owned E.164 numbers (with extensions), problems reported.

A number the sync creates carries the source as its ``origin``; only such numbers are removed when the
outside object no longer lists them. A number a person or a CSV import added (no origin) is never removed.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Iterable, Mapping, Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from crm_core.models.phones import PhoneNumber
from crm_core.phone_numbers import NumberStatus, normalize_number
from crm_core.syncing.report import SyncReport
from crm_core.syncing.state import audit_change


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
    origin: str,
) -> bool:
    """Give ``owner`` (``{"counterparty_id": 5}``) these numbers; True when a number was added or changed.

    A new number is marked as created by ``origin``; a number another owner holds is reported and left
    with that owner."""
    ((column, owner_id),) = owner.items()
    changed = False
    for e164, extension in numbers.items():
        phone = stored.get(e164)
        if phone is None:
            phone = stored[e164] = PhoneNumber(
                e164=e164, extension=extension, label="1C", origin=origin, **owner
            )
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


def prune(
    session: Session,
    origin: str,
    column: str,
    owners: Mapping[str, int],
    listed: Mapping[str, Mapping[str, str | None]],
    stored: dict[str, PhoneNumber],
    report: SyncReport,
) -> set[str]:
    """Remove the numbers ``origin`` created that their outside object no longer lists.

    ``owners`` maps an outside reference to its local owner id (in ``column``), ``listed`` the reference
    to the numbers it lists now. Returns the references that lost a number; flushes, so the removed
    numbers may be attached to another owner next."""
    synced = _synced_numbers(session, column, owners.values(), origin)
    changed = {
        ref
        for ref, owner_id in owners.items()
        if _detach_vanished(session, synced.get(owner_id, []), listed.get(ref, {}), stored, report)
    }
    session.flush()
    return changed


def _synced_numbers(
    session: Session, column: str, owner_ids: Collection[int], origin: str
) -> dict[int, list[PhoneNumber]]:
    """The numbers ``origin`` created for each of these owners (``column`` is ``counterparty_id``...)."""
    owner_column = getattr(PhoneNumber, column)
    wanted = list(owner_ids)
    found: dict[int, list[PhoneNumber]] = defaultdict(list)
    for start in range(0, len(wanted), 500):
        stmt = select(PhoneNumber).where(
            owner_column.in_(wanted[start : start + 500]), PhoneNumber.origin == origin
        )
        for phone in session.scalars(stmt):
            found[getattr(phone, column)].append(phone)
    return found


def _detach_vanished(
    session: Session,
    synced: Sequence[PhoneNumber],
    listed: Mapping[str, str | None],
    stored: dict[str, PhoneNumber],
    report: SyncReport,
) -> bool:
    """Remove the synced numbers the outside object no longer lists; True when one was removed.

    Removed numbers leave ``stored`` so another owner in the same batch may take them; the caller flushes
    before it attaches (the E.164 is unique)."""
    removed = False
    for phone in synced:
        if phone.e164 in listed:
            continue
        owner = {c: getattr(phone, c) for c in ("counterparty_id", "contact_person_id") if getattr(phone, c)}
        audit_change(session, "delete", "phone_number", phone.id, {"e164": phone.e164, **owner}, None)
        report.numbers_changed.add(phone.e164)
        stored.pop(phone.e164, None)
        session.delete(phone)
        removed = True
    return removed
