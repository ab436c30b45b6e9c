"""Everything the routing policy reads from the database, as JSON-ready rows.

The rows are ``TypedDict``s of plain JSON values, so the routing cache can store them in Redis as they are
and ``routing.snapshot`` can turn them into typed snapshots; this module stays free of routing types
(``routing`` sits above ``crm_core``).

Per number: one indexed query (``phone_numbers.e164`` is unique) joined to the contact and the
counterparty, which yields the personal manager's id (none for an archived counterparty: it routes like a
stranger); many numbers at once: the same query with ``IN``. Managers, lists and the routing settings are
few; they are loaded whole, together, as the routing configuration.
"""

from __future__ import annotations

from typing import Any, TypedDict

from sqlalchemy import Connection, bindparam, case, func, or_, select
from sqlalchemy.orm import Session

from crm_core.models import ContactPerson, Counterparty, Manager, NumberList, PhoneNumber
from crm_core.models.routing_config import Holiday, RoutingSettings, RoutingTarget


class NumberRow(TypedDict):
    """Who owns one E.164 number; exactly one of the owner ids is set."""

    e164: str
    counterparty_id: int | None
    contact_person_id: int | None
    owner_manager_id: int | None
    number_list_id: int | None
    personal_manager_id: int | None


class ManagerRow(TypedDict):
    id: int
    name: str
    dial_target: str | None
    ring_timeout_s: int
    active: bool
    on_leave_until: str | None
    controller_id: int | None
    working_hours: dict[str, Any] | None


class ListRow(TypedDict):
    id: int
    name: str
    kind: str
    treatment: str
    target: str | None
    ring_timeout_s: int


class TargetRow(TypedDict):
    name: str
    dial_string: str
    ring_timeout_s: int


class SettingsRow(TypedDict):
    business_hours: dict[str, Any] | None
    default_target: TargetRow | None
    after_hours_target: TargetRow | None
    group_target: TargetRow | None
    manager_number_target: TargetRow | None
    reject_treatment: str
    fallback_to_controller: bool
    fallback_to_reception: bool
    cache_ttl_s: int
    negative_ttl_s: int


class RoutingConfigRow(TypedDict):
    """The routing settings (``None`` when no row exists yet), holidays, managers and lists."""

    settings: SettingsRow | None
    holidays: list[str]
    managers: list[ManagerRow]
    lists: list[ListRow]


_counterparty_id = func.coalesce(PhoneNumber.counterparty_id, ContactPerson.counterparty_id)
_OWNER = (
    select(
        PhoneNumber.counterparty_id,
        PhoneNumber.contact_person_id,
        PhoneNumber.manager_id,
        PhoneNumber.number_list_id,
        ContactPerson.counterparty_id,
        case((Counterparty.archived_at.is_(None), Counterparty.manager_id), else_=None),
        PhoneNumber.e164,
    )
    .outerjoin(ContactPerson, ContactPerson.id == PhoneNumber.contact_person_id)
    .outerjoin(Counterparty, Counterparty.id == _counterparty_id)
)
_NUMBER_OWNER = _OWNER.where(PhoneNumber.e164 == bindparam("e164"))
_NUMBERS_OWNERS = _OWNER.where(PhoneNumber.e164.in_(bindparam("e164s", expanding=True)))
"""Built once: their compiled forms are then found in the engine's statement cache without rebuilding."""


def load_number(db: Session | Connection, e164: str) -> NumberRow | None:
    """The owner of ``e164`` and the personal manager of its counterparty, or None for an unknown number.

    ``db`` may be a bare connection: the routing service's cold lookups skip the ORM session."""
    row = db.execute(_NUMBER_OWNER, {"e164": e164}).one_or_none()
    if row is None:
        return None
    return _number_row(tuple(row))


def load_numbers(db: Session | Connection, e164s: list[str]) -> dict[str, NumberRow]:
    """The owners of the known numbers among ``e164s`` (one query; unknown numbers are absent)."""
    rows = db.execute(_NUMBERS_OWNERS, {"e164s": e164s})
    return {row[-1]: _number_row(tuple(row)) for row in rows}


def load_all_numbers(db: Session | Connection, limit: int) -> list[tuple[str, NumberRow]]:
    """Up to ``limit`` numbers with their owners (the routing table a service holds in memory)."""
    rows = db.execute(_OWNER.order_by(PhoneNumber.id).limit(limit))
    return [(row[-1], _number_row(tuple(row))) for row in rows]


def _number_row(row: tuple[Any, ...]) -> NumberRow:
    own_cp, contact_id, owner_manager_id, list_id, contact_cp, personal_manager_id, e164 = row
    return NumberRow(
        e164=e164,
        counterparty_id=own_cp if own_cp is not None else contact_cp,
        contact_person_id=contact_id,
        owner_manager_id=owner_manager_id,
        number_list_id=list_id,
        personal_manager_id=personal_manager_id,
    )


def numbers_of_counterparty(session: Session, counterparty_id: int) -> list[str]:
    """Every number routed via ``counterparty_id`` (its own and its contacts'): what to invalidate when
    the counterparty's manager changes or the counterparty is deleted."""
    contacts = select(ContactPerson.id).where(ContactPerson.counterparty_id == counterparty_id)
    stmt = select(PhoneNumber.e164).where(
        or_(PhoneNumber.counterparty_id == counterparty_id, PhoneNumber.contact_person_id.in_(contacts))
    )
    return list(session.scalars(stmt))


def _manager_row(m: Manager) -> ManagerRow:
    return ManagerRow(
        id=m.id,
        name=m.name,
        dial_target=m.dial_target,
        ring_timeout_s=m.ring_timeout_s,
        active=m.active,
        on_leave_until=m.on_leave_until.isoformat() if m.on_leave_until else None,
        controller_id=m.controller_id,
        working_hours=m.working_hours,
    )


def _list_row(nl: NumberList) -> ListRow:
    return ListRow(
        id=nl.id,
        name=nl.name,
        kind=str(nl.kind),
        treatment=str(nl.treatment),
        target=nl.target,
        ring_timeout_s=nl.ring_timeout_s,
    )


def _settings_row(s: RoutingSettings, targets: dict[int, RoutingTarget]) -> SettingsRow:
    def target(target_id: int | None) -> TargetRow | None:
        t = targets.get(target_id) if target_id is not None else None
        if t is None:
            return None
        return TargetRow(name=t.name, dial_string=t.dial_string, ring_timeout_s=t.ring_timeout_s)

    return SettingsRow(
        business_hours=s.business_hours,
        default_target=target(s.default_target_id),
        after_hours_target=target(s.after_hours_target_id),
        group_target=target(s.group_target_id),
        manager_number_target=target(s.manager_number_target_id),
        reject_treatment=str(s.reject_treatment),
        fallback_to_controller=s.fallback_to_controller,
        fallback_to_reception=s.fallback_to_reception,
        cache_ttl_s=s.cache_ttl_s,
        negative_ttl_s=s.negative_ttl_s,
    )


def load_routing_config(session: Session) -> RoutingConfigRow:
    """The whole routing configuration: settings with their targets, holidays, every manager and list."""
    settings = session.get(RoutingSettings, 1)
    targets = {t.id: t for t in session.scalars(select(RoutingTarget))}
    return RoutingConfigRow(
        settings=_settings_row(settings, targets) if settings is not None else None,
        holidays=[d.isoformat() for d in session.scalars(select(Holiday.day).order_by(Holiday.day))],
        managers=[_manager_row(m) for m in session.scalars(select(Manager).order_by(Manager.id))],
        lists=[_list_row(nl) for nl in session.scalars(select(NumberList).order_by(NumberList.id))],
    )
