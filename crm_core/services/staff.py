"""Managers (staff accounts): creation by an admin, updates under per-role allow-lists, passwords."""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from crm_core.models import Manager, ManagerRole
from crm_core.repositories.scoped import Viewer
from crm_core.services import api_tokens, audit, records
from crm_core.services.dial_targets import require_dialable
from crm_core.services.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from crm_core.services.passwords import hash_password, verify_password

SELF_FIELDS = frozenset({"name", "email", "mobile"})
SUPERVISED_FIELDS = frozenset(
    {"on_leave_until", "working_hours", "dial_target", "pbx", "extension", "ring_timeout_s"}
)
ADMIN_FIELDS = SELF_FIELDS | SUPERVISED_FIELDS | {"role", "active", "controller_id"}

ADMIN_POLICY = records.WritePolicy(common=ADMIN_FIELDS, roles=frozenset({ManagerRole.ADMIN}))
SELF_POLICY = records.WritePolicy(common=SELF_FIELDS)
SUPERVISOR_POLICY = records.WritePolicy(common=SUPERVISED_FIELDS, roles=records.SUPERVISORS)


def _check_controller(session: Session, controller_id: int | None) -> None:
    if controller_id is not None and session.get(Manager, controller_id) is None:
        raise NotFound("no-such-manager", {"controller_id": controller_id})


def _check_pbx(values: dict[str, Any], pbxs: Collection[str]) -> None:
    """422 ``unknown-pbx`` when ``values["pbx"]`` is set and is none of the configured PBXs ``pbxs``."""
    pbx = values.get("pbx")
    if pbx is not None and pbx not in pbxs:
        raise InvalidInput("unknown-pbx", {"field": "pbx", "pbx": pbx, "configured": list(pbxs)})


def create(
    session: Session,
    viewer: Viewer,
    values: dict[str, Any],
    password: str | None,
    *,
    pbxs: Collection[str],
) -> Manager:
    """An admin creates a staff account (the bootstrap admin comes from the CLI instead).

    ``pbxs`` are the configured PBX names a manager's ``pbx`` may take."""
    if viewer.role is not ManagerRole.ADMIN:
        raise PermissionDenied("forbidden-role", "only an admin creates accounts")
    if session.scalars(select(Manager.id).where(Manager.login == values["login"])).first() is not None:
        raise Conflict("login-taken", {"login": values["login"]})
    _check_controller(session, values.get("controller_id"))
    require_dialable(values, "dial_target")
    _check_pbx(values, pbxs)
    manager = Manager(**values, password_hash=hash_password(password) if password else None)
    session.add(manager)
    session.flush()
    audit.record(session, viewer.manager_id, "create", "manager", manager.id, None, audit.snapshot(manager))
    return manager


def policy_for(viewer: Viewer, target: Manager) -> records.WritePolicy:
    """Admin: every field; yourself: your contact details; a supervisor: their team's availability."""
    if viewer.role is ManagerRole.ADMIN:
        return ADMIN_POLICY
    if target.id == viewer.manager_id:
        return SELF_POLICY
    return SUPERVISOR_POLICY


def update(
    session: Session, viewer: Viewer, target: Manager, values: dict[str, Any], *, pbxs: Collection[str]
) -> Manager:
    """Change a visible manager within the viewer's allow-list (nobody raises their own role)."""
    _check_controller(session, values.get("controller_id"))
    if values.get("controller_id") == target.id:
        raise Conflict("own-controller", "a manager cannot be their own controller")
    require_dialable(values, "dial_target")
    _check_pbx(values, pbxs)
    return records.update(session, viewer, target, policy_for(viewer, target), values)


def set_password(
    session: Session, viewer: Viewer, target: Manager, new_password: str, current_password: str | None
) -> None:
    """Change a password: your own with the current one, anyone's as an admin.

    Every session of ``target`` ends: access tokens issued before are refused (the session version
    moves on) and their API tokens are revoked."""
    if target.id == viewer.manager_id:
        if not verify_password(target.password_hash, current_password or ""):
            raise PermissionDenied("wrong-password", "the current password does not match")
    elif viewer.role is not ManagerRole.ADMIN:
        raise PermissionDenied("forbidden-role", "only an admin sets another user's password")
    target.password_hash = hash_password(new_password)
    target.session_version += 1
    revoked = api_tokens.revoke_all(session, target.id)
    session.flush()
    audit.record(
        session,
        viewer.manager_id,
        "set-password",
        "manager",
        target.id,
        None,
        {"api_tokens_revoked": revoked},
    )
