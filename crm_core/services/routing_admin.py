"""Routing administration: named targets, the settings row, holidays.

Admin-only writes under allow-lists (:mod:`crm_core.services.records`), each audited with before/after.
The caller commits and then invalidates the routing configuration cache, so the change applies to the
next call. Working-hours JSON is validated by the caller (``routing.calendar`` sits above this layer).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from crm_core.models import ManagerRole
from crm_core.models.routing_config import Holiday, RoutingSettings, RoutingTarget
from crm_core.repositories.scoped import Viewer
from crm_core.services import records
from crm_core.services.dial_targets import require_dialable
from crm_core.services.errors import Conflict, InvalidInput, NotFound

_ADMIN = frozenset({ManagerRole.ADMIN})
TARGETS = records.WritePolicy(
    common=frozenset({"name", "dial_string", "ring_timeout_s"}), roles=_ADMIN, delete_roles=_ADMIN
)
HOLIDAYS = records.WritePolicy(common=frozenset({"day", "name"}), roles=_ADMIN, delete_roles=_ADMIN)
TARGET_FIELDS = (
    "default_target_id",
    "after_hours_target_id",
    "group_target_id",
    "manager_number_target_id",
)
SETTINGS = records.WritePolicy(
    common=frozenset(
        {
            *TARGET_FIELDS,
            "business_hours",
            "reject_treatment",
            "fallback_to_controller",
            "fallback_to_reception",
            "cache_ttl_s",
            "negative_ttl_s",
        }
    ),
    roles=_ADMIN,
    delete_roles=frozenset(),
)


# targets ----------------------------------------------------------------------------------------------


def get_target(session: Session, target_id: int) -> RoutingTarget:
    target = session.get(RoutingTarget, target_id)
    if target is None:
        raise NotFound("no-such-routing-target", {"id": target_id})
    return target


def _name_free(session: Session, name: str | None, own_id: int | None = None) -> None:
    if name is None:
        return
    taken = session.scalar(select(RoutingTarget.id).where(RoutingTarget.name == name))
    if taken is not None and taken != own_id:
        raise Conflict("routing-target-name-taken", {"field": "name", "name": name})


def create_target(session: Session, viewer: Viewer, values: dict[str, Any]) -> RoutingTarget:
    """Add a named dial string (audited)."""
    records.ensure_writable(TARGETS, viewer, set(values))
    _name_free(session, values.get("name"))
    require_dialable(values, "dial_string")
    return records.create(session, viewer, RoutingTarget, TARGETS, values)


def update_target(
    session: Session, viewer: Viewer, target: RoutingTarget, values: dict[str, Any]
) -> RoutingTarget:
    """Change a target's name, dial string or timeout (audited with before/after)."""
    records.ensure_writable(TARGETS, viewer, set(values))
    _name_free(session, values.get("name"), target.id)
    require_dialable(values, "dial_string")
    return records.update(session, viewer, target, TARGETS, values)


def delete_target(session: Session, viewer: Viewer, target: RoutingTarget) -> None:
    """Delete a target the settings do not use (a route never silently disappears)."""
    records.ensure_writable(TARGETS, viewer, set())
    row = session.get(RoutingSettings, 1)
    used_by = [name for name in TARGET_FIELDS if row is not None and getattr(row, name) == target.id]
    if used_by:
        raise Conflict("routing-target-in-use", {"id": target.id, "fields": used_by})
    records.delete(session, viewer, target, TARGETS)


# settings ---------------------------------------------------------------------------------------------


def _column_defaults() -> dict[str, Any]:
    """The model's scalar column defaults: what routing uses while no settings row exists."""
    return {
        column.key: column.default.arg
        for column in RoutingSettings.__table__.columns
        if column.default is not None and column.default.is_scalar
    }


def current_settings(session: Session) -> RoutingSettings:
    """The settings row, or an unsaved row holding the built-in defaults when none was stored."""
    row = session.get(RoutingSettings, 1)
    return row if row is not None else RoutingSettings(**_column_defaults())


def _check_targets(session: Session, values: dict[str, Any]) -> None:
    for name in TARGET_FIELDS:
        target_id = values.get(name)
        if target_id is not None and session.get(RoutingTarget, target_id) is None:
            raise InvalidInput("no-such-routing-target", {"field": name, "id": target_id})


def update_settings(session: Session, viewer: Viewer, values: dict[str, Any]) -> RoutingSettings:
    """Change the given settings (the row is created with defaults first if missing); audited."""
    records.ensure_writable(SETTINGS, viewer, set(values))
    _check_targets(session, values)
    row = session.get(RoutingSettings, 1)
    if row is None:
        row = RoutingSettings(**_column_defaults())
        session.add(row)
        session.flush()
    return records.update(session, viewer, row, SETTINGS, values)


# holidays ---------------------------------------------------------------------------------------------


def get_holiday(session: Session, holiday_id: int) -> Holiday:
    holiday = session.get(Holiday, holiday_id)
    if holiday is None:
        raise NotFound("no-such-holiday", {"id": holiday_id})
    return holiday


def create_holiday(session: Session, viewer: Viewer, values: dict[str, Any]) -> Holiday:
    """Add a company holiday (one per day; audited)."""
    records.ensure_writable(HOLIDAYS, viewer, set(values))
    if session.scalar(select(Holiday.id).where(Holiday.day == values.get("day"))) is not None:
        raise Conflict("holiday-exists", {"field": "day", "day": str(values.get("day"))})
    return records.create(session, viewer, Holiday, HOLIDAYS, values)


def delete_holiday(session: Session, viewer: Viewer, holiday: Holiday) -> None:
    records.delete(session, viewer, holiday, HOLIDAYS)
