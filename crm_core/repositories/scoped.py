"""Object-level authorization in one place: every read of a CRM entity goes through :func:`scoped`.

A manager sees their own counterparties (and everything hanging off them), a controller sees their own
and their managers', a director or admin sees everything. Reception and controllers also see the shared
queue: missed calls from numbers in no card that nobody was assigned. An entity outside the scope is simply
not in the result, so the API answers 404 and never tells "exists but forbidden" apart from "does not exist".
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, TypeVar

from sqlalchemy import ColumnElement, Select, and_, exists, false, or_, select, true
from sqlalchemy.orm import InstrumentedAttribute, Session, aliased

from crm_core.models import (
    CallRecord,
    ContactPerson,
    Counterparty,
    Deal,
    DealStage,
    Interaction,
    Manager,
    ManagerRole,
    MissedCall,
    Need,
    NumberList,
    PhoneNumber,
    Shipment,
)
from crm_core.services.errors import NotFound

T = TypeVar("T")

SEE_ALL = frozenset({ManagerRole.DIRECTOR, ManagerRole.ADMIN})
# Roles that see and assign the shared queue: missed calls from numbers in no card that nobody was assigned.
QUEUE_KEEPERS = frozenset(
    {ManagerRole.RECEPTION, ManagerRole.CONTROLLER, ManagerRole.DIRECTOR, ManagerRole.ADMIN}
)


@dataclass(frozen=True, slots=True)
class Viewer:
    """Who is asking: the authenticated manager's id and role."""

    manager_id: int
    role: ManagerRole

    @property
    def sees_all(self) -> bool:
        return self.role in SEE_ALL


def managed_by(viewer: Viewer, column: InstrumentedAttribute[int | None] | Any) -> ColumnElement[bool]:
    """``column`` (a manager id) is the viewer, or one of the viewer's managers for a controller."""
    if viewer.sees_all:
        return true()
    if viewer.role is ManagerRole.CONTROLLER:
        team = select(Manager.id).where(Manager.controller_id == viewer.manager_id)
        return or_(column == viewer.manager_id, column.in_(team))
    return column == viewer.manager_id


def in_shared_queue() -> ColumnElement[bool]:
    """A missed call from a number in no card that nobody was assigned (the shared queue)."""
    return and_(MissedCall.assigned_manager_id.is_(None), MissedCall.counterparty_id.is_(None))


def keeps_queue(viewer: Viewer) -> bool:
    """The viewer sees the shared queue of unknown numbers."""
    return viewer.role in QUEUE_KEEPERS


def visible_counterparty_ids(viewer: Viewer) -> Select[int]:
    return select(Counterparty.id).where(managed_by(viewer, Counterparty.manager_id))


def _visibility(viewer: Viewer, model: type[Any]) -> ColumnElement[bool]:
    """The WHERE clause that keeps only the rows of ``model`` the viewer may see."""
    if viewer.sees_all or model is NumberList:
        return true()
    cps = visible_counterparty_ids(viewer)
    if model is Counterparty:
        return managed_by(viewer, Counterparty.manager_id)
    if model is Manager:
        return managed_by(viewer, Manager.id)
    if model in (ContactPerson, Interaction, Deal, Need, Shipment):
        return model.counterparty_id.in_(cps)
    if model is DealStage:
        return DealStage.deal_id.in_(select(Deal.id).where(Deal.counterparty_id.in_(cps)))
    if model is PhoneNumber:
        contacts = select(ContactPerson.id).where(ContactPerson.counterparty_id.in_(cps))
        return or_(
            PhoneNumber.number_list_id.is_not(None),
            PhoneNumber.counterparty_id.in_(cps),
            PhoneNumber.contact_person_id.in_(contacts),
            managed_by(viewer, PhoneNumber.manager_id),
        )
    if model is MissedCall:
        queue = in_shared_queue() if keeps_queue(viewer) else false()
        return or_(
            managed_by(viewer, MissedCall.assigned_manager_id), MissedCall.counterparty_id.in_(cps), queue
        )
    if model is CallRecord:
        missed = aliased(MissedCall)
        missed_mine = exists().where(
            missed.call_record_id == CallRecord.id, managed_by(viewer, missed.assigned_manager_id)
        )
        return or_(
            managed_by(viewer, CallRecord.answered_by_manager_id),
            CallRecord.counterparty_id.in_(cps),
            missed_mine,
        )
    raise TypeError(f"no visibility rule for {model.__name__}")


def scoped(viewer: Viewer, model: type[T]) -> Select[T]:
    """``SELECT model`` restricted to what ``viewer`` may see; add filters, order and paging to it."""
    return select(model).where(_visibility(viewer, model))


def get_visible(session: Session, viewer: Viewer, model: type[T], entity_id: int) -> T:
    """The entity if the viewer may see it, else :class:`NotFound` (same answer as a missing row)."""
    row = session.scalars(scoped(viewer, model).where(model.id == entity_id)).first()  # type: ignore[attr-defined]
    if row is None:
        raise NotFound(f"no-such-{kebab(model.__name__)}", {"id": entity_id})
    return row


def kebab(name: str) -> str:
    """``ContactPerson`` -> ``contact-person`` (for stable error ids).

    >>> kebab("ContactPerson")
    'contact-person'
    """
    return re.sub(r"(?<!^)(?=[A-Z])", "-", name).lower()
