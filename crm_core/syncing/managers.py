"""Users of the outside system -> managers: by stored reference, else by one exact full name, else new.

Only the name is ever written to a linked manager: roles, passwords, dial targets and phones belong to
callrouter's admins. An ambiguous name is reported and the user left unlinked, never guessed.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from crm_core.models.people import Manager
from crm_core.syncing.report import SyncReport
from crm_core.syncing.rows import ExternalUser
from crm_core.syncing.state import USER, audit_change, is_current, remember, stored

KIND = "users"


def login_for(source: str, ref: str) -> str:
    """The login of a manager created from an outside user: derived from its reference, so stable."""
    return f"{source}-{ref}"[:64]


def apply_users(session: Session, source: str, users: Sequence[ExternalUser], report: SyncReport) -> None:
    """Link or create a manager for every user; never commits."""
    known = stored(session, source, USER, (u.ref for u in users))
    managers = {m.id: m for m in session.scalars(select(Manager))}
    by_name: dict[str, list[Manager]] = defaultdict(list)
    for stored_manager in managers.values():
        by_name[stored_manager.name].append(stored_manager)
    counts = report.of(KIND)
    for user in users:
        state = known.get(user.ref)
        manager: Manager | None = (
            managers.get(state.local_id) if state is not None and state.local_id is not None else None
        )
        if manager is not None and is_current(state, user.version):
            counts.unchanged += 1
            continue
        if manager is None:
            candidates = by_name.get(user.name, [])
            if len(candidates) > 1:
                ids = ", ".join(str(m.id) for m in candidates)
                report.problem(KIND, user.ref, f"{len(candidates)} managers are named {user.name!r} ({ids})")
                continue
            if candidates:
                manager = candidates[0]
                audit_change(session, "link", "manager", manager.id, None, {"ref": user.ref})
                counts.updated += 1
            elif user.deleted:
                counts.unchanged += 1
                remember(session, known, source, USER, user.ref, None, user.version)
                continue
            else:
                manager = Manager(name=user.name, login=login_for(source, user.ref))
                session.add(manager)
                session.flush()
                managers[manager.id] = manager
                audit_change(session, "create", "manager", manager.id, None, {"name": manager.name})
                report.config_changed = True
                counts.created += 1
        elif manager.name != user.name:
            audit_change(
                session, "update", "manager", manager.id, {"name": manager.name}, {"name": user.name}
            )
            manager.name = user.name
            report.config_changed = True
            counts.updated += 1
        else:
            counts.unchanged += 1
        remember(session, known, source, USER, user.ref, manager.id, user.version)
    session.flush()
