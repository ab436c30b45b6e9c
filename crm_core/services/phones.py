"""Phone numbers: add, move and remove, always normalized to E.164 and audited.

A number belongs to exactly one card or list. Writing a number that another owner holds is refused with
``number-owned-elsewhere`` unless the caller asks for ``reassign`` explicitly; the move is audited with the
old and the new owner.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from crm_core.models import ContactPerson, Counterparty, Manager, ManagerRole, NumberList, PhoneNumber
from crm_core.models.phones import OWNER_COLUMNS
from crm_core.phone_numbers import normalize_number
from crm_core.repositories.scoped import Viewer, get_visible, scoped
from crm_core.services import audit, refining
from crm_core.services.errors import Conflict, InvalidInput, PermissionDenied

LIST_KEEPERS = frozenset({ManagerRole.CONTROLLER, ManagerRole.DIRECTOR, ManagerRole.ADMIN})
OWNER_MODELS: Mapping[str, type[Any]] = {
    "counterparty_id": Counterparty,
    "contact_person_id": ContactPerson,
    "manager_id": Manager,
    "number_list_id": NumberList,
}


def to_e164(raw: str, region: str) -> str:
    """The E.164 form of a written number, or ``invalid-phone-number`` naming what was given."""
    number = normalize_number(raw, region)
    if number.e164 is None:
        raise InvalidInput("invalid-phone-number", {"number": raw, "status": str(number.status)})
    return number.e164


def owner_of(phone: PhoneNumber) -> dict[str, int]:
    """The one owner column that is set, e.g. ``{"counterparty_id": 7}``."""
    return {name: getattr(phone, name) for name in OWNER_COLUMNS if getattr(phone, name) is not None}


def _check_owner(session: Session, viewer: Viewer, owner: Mapping[str, int]) -> None:
    if len(owner) != 1 or next(iter(owner)) not in OWNER_MODELS:
        raise InvalidInput("one-owner-required", f"give exactly one of {', '.join(OWNER_COLUMNS)}")
    ((name, owner_id),) = owner.items()
    get_visible(session, viewer, OWNER_MODELS[name], owner_id)


def assign(
    session: Session,
    viewer: Viewer,
    raw: str,
    owner: Mapping[str, int],
    *,
    region: str,
    reassign: bool = False,
    label: str | None = None,
    note: str | None = None,
    extension: str | None = None,
) -> PhoneNumber:
    """Add the number to ``owner``, or move it there from another owner when ``reassign`` is true.

    ``extension`` defaults to the one written after the number (``8 843 123-45-67 доб. 12``). A number
    that completes a contact person (and so maybe its counterparty) refines them (:mod:`refining`).
    """
    e164 = to_e164(raw, region)
    extension = extension or normalize_number(raw, region).extension
    _check_owner(session, viewer, owner)
    contact = session.get(ContactPerson, owner["contact_person_id"]) if "contact_person_id" in owner else None
    card = session.get(Counterparty, contact.counterparty_id) if contact else None
    before = refining.observe(session, card, contact) if card else None
    phone = _write(session, viewer, e164, owner, reassign, label, note, extension)
    if before is not None:
        refining.refine_if_completed(session, viewer, before)
    return phone


def _write(
    session: Session,
    viewer: Viewer,
    e164: str,
    owner: Mapping[str, int],
    reassign: bool,
    label: str | None,
    note: str | None,
    extension: str | None,
) -> PhoneNumber:
    phone = session.scalars(select(PhoneNumber).where(PhoneNumber.e164 == e164)).first()
    if phone is None:
        phone = PhoneNumber(e164=e164, extension=extension, label=label, note=note, **owner)
        session.add(phone)
        session.flush()
        audit.record(session, viewer.manager_id, "add", "phone-number", phone.id, None, audit.snapshot(phone))
        return phone
    before = audit.snapshot(phone)
    if owner_of(phone) != dict(owner):
        visible = session.scalars(scoped(viewer, PhoneNumber).where(PhoneNumber.id == phone.id)).first()
        if not reassign:
            raise Conflict(
                "number-owned-elsewhere",
                {"e164": e164, "owner": owner_of(phone) if visible else "another card", "hint": "reassign"},
            )
        if visible is None:
            raise PermissionDenied("reassign-forbidden", {"e164": e164, "reason": "owner not in your scope"})
        ensure_may_change(viewer, phone)
        for name in OWNER_COLUMNS:
            setattr(phone, name, owner.get(name))
    if extension is not None:
        phone.extension = extension
    if label is not None:
        phone.label = label
    if note is not None:
        phone.note = note
    session.flush()
    action = "move" if owner_of(phone) != _owner_in(before) else "update"
    audit.record(session, viewer.manager_id, action, "phone-number", phone.id, before, audit.snapshot(phone))
    return phone


def _owner_in(snap: Mapping[str, Any]) -> dict[str, int]:
    return {name: snap[name] for name in OWNER_COLUMNS if snap.get(name) is not None}


def ensure_may_change(viewer: Viewer, phone: PhoneNumber) -> None:
    """Every role may add to a list; taking a number off a list needs a controller or above."""
    if phone.number_list_id is not None and viewer.role not in LIST_KEEPERS:
        raise PermissionDenied(
            "forbidden-role", "only a controller, director or admin takes numbers off a list"
        )


def remove(session: Session, viewer: Viewer, phone: PhoneNumber) -> str:
    """Delete a number the viewer can see; returns its E.164 for cache invalidation."""
    ensure_may_change(viewer, phone)
    before = audit.snapshot(phone)
    session.delete(phone)
    session.flush()
    audit.record(session, viewer.manager_id, "remove", "phone-number", before["id"], before, None)
    return phone.e164


def numbers_of_counterparty(session: Session, counterparty_id: int) -> list[str]:
    """Every E.164 number of a counterparty and its contacts (routing follows the counterparty)."""
    contacts = select(ContactPerson.id).where(ContactPerson.counterparty_id == counterparty_id)
    stmt = select(PhoneNumber.e164).where(
        or_(PhoneNumber.counterparty_id == counterparty_id, PhoneNumber.contact_person_id.in_(contacts))
    )
    return list(session.scalars(stmt))
