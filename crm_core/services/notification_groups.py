"""Named notification groups an escalation step can address as ``group:<name>`` (admin; audited)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from crm_core.models import Manager, ManagerRole
from crm_core.models.escalation import EscalationPolicyStep, NotificationGroup, NotificationGroupMember
from crm_core.repositories.scoped import Viewer
from crm_core.services import audit
from crm_core.services.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from crm_core.services.escalation import GROUP_PREFIX


@dataclass(frozen=True, slots=True)
class Group:
    name: str
    member_ids: tuple[int, ...]


def _admin_only(viewer: Viewer) -> None:
    if viewer.role is not ManagerRole.ADMIN:
        raise PermissionDenied("forbidden-role", "only an admin changes notification groups")


def _members(session: Session, group_id: int) -> tuple[int, ...]:
    query = select(NotificationGroupMember.manager_id).where(NotificationGroupMember.group_id == group_id)
    return tuple(sorted(session.scalars(query)))


def list_groups(session: Session) -> list[Group]:
    """Every group with its members, by name."""
    groups = session.scalars(select(NotificationGroup).order_by(NotificationGroup.name))
    return [Group(g.name, _members(session, g.id)) for g in groups]


def put_group(session: Session, viewer: Viewer, name: str, member_ids: Sequence[int]) -> Group:
    """Create the group or replace its members (every member must be an existing manager)."""
    _admin_only(viewer)
    wanted = sorted(set(member_ids))
    known = set(session.scalars(select(Manager.id).where(Manager.id.in_(wanted))))
    unknown = [m for m in wanted if m not in known]
    if unknown:
        raise InvalidInput("no-such-manager", {"field": "member_ids", "ids": unknown})
    group = session.scalar(select(NotificationGroup).where(NotificationGroup.name == name))
    before = None
    if group is None:
        group = NotificationGroup(name=name)
        session.add(group)
        session.flush()
    else:
        before = {"name": name, "member_ids": list(_members(session, group.id))}
        session.execute(delete(NotificationGroupMember).where(NotificationGroupMember.group_id == group.id))
    session.add_all(NotificationGroupMember(group_id=group.id, manager_id=m) for m in wanted)
    session.flush()
    after = Group(name, tuple(wanted))
    audit.record(
        session,
        viewer.manager_id,
        "update" if before else "create",
        "notification-group",
        group.id,
        before,
        {"name": name, "member_ids": wanted},
    )
    return after


def delete_group(session: Session, viewer: Viewer, name: str) -> None:
    """Remove a group the escalation policy does not name (409 ``notification-group-in-use`` otherwise)."""
    _admin_only(viewer)
    group = session.scalar(select(NotificationGroup).where(NotificationGroup.name == name))
    if group is None:
        raise NotFound("no-such-notification-group", {"name": name})
    address = f"{GROUP_PREFIX}{name}"
    steps = session.scalars(select(EscalationPolicyStep)).all()
    if any(address in step.recipients for step in steps):
        raise Conflict("notification-group-in-use", {"name": name, "in": "escalation policy"})
    before = {"name": name, "member_ids": list(_members(session, group.id))}
    session.delete(group)
    session.flush()
    audit.record(session, viewer.manager_id, "delete", "notification-group", group.id, before, None)
