"""Escalation policy administration: read it, replace the whole ordered policy at once (admin; audited).

The escalation worker reads the policy from the database on every scheduling pass, so a replacement
applies to missed calls scheduled after the commit; steps already scheduled keep their plan.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from itertools import pairwise
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from crm_core.models import ManagerRole
from crm_core.models.escalation import EscalationPolicyStep, NotificationGroup
from crm_core.repositories.scoped import Viewer
from crm_core.services import audit
from crm_core.services.errors import InvalidInput, PermissionDenied
from crm_core.services.escalation import GROUP_PREFIX, PolicyStep, load_policy, set_policy


@dataclass(frozen=True, slots=True)
class StoredPolicy:
    """The policy in force and whether it is the built-in default (nothing stored yet)."""

    steps: tuple[PolicyStep, ...]
    is_default: bool


def read_policy(session: Session) -> StoredPolicy:
    stored = session.scalar(select(func.count(EscalationPolicyStep.id))) or 0
    return StoredPolicy(load_policy(session), stored == 0)


def _as_json(policy: StoredPolicy) -> dict[str, Any]:
    steps = [
        {
            "position": i,
            "delay_seconds": s.delay_seconds,
            "business_hours_only": s.business_hours_only,
            "recipients": list(s.recipients),
            "channels": list(s.channels),
        }
        for i, s in enumerate(policy.steps)
    ]
    return {"is_default": policy.is_default, "steps": steps}


def _check(session: Session, steps: Sequence[PolicyStep]) -> None:
    """Delays never decrease along the order, and every named group exists (422 naming the field)."""
    if not steps:
        raise InvalidInput("empty-policy", {"field": "steps", "message": "a policy needs at least one step"})
    for i, (prev, step) in enumerate(pairwise(steps), start=1):
        if step.delay_seconds < prev.delay_seconds:
            raise InvalidInput(
                "steps-out-of-order",
                {
                    "field": f"steps.{i}.delay_seconds",
                    "message": "delays must not decrease from step to step",
                },
            )
    known = set(session.scalars(select(NotificationGroup.name)))
    for i, step in enumerate(steps):
        missing = [
            r for r in step.recipients if r.startswith(GROUP_PREFIX) and r[len(GROUP_PREFIX) :] not in known
        ]
        if missing:
            raise InvalidInput(
                "no-such-notification-group", {"field": f"steps.{i}.recipients", "groups": missing}
            )


def replace_policy(session: Session, viewer: Viewer, steps: Sequence[PolicyStep]) -> StoredPolicy:
    """Replace the whole ordered policy in the caller's transaction; audited with before/after."""
    if viewer.role is not ManagerRole.ADMIN:
        raise PermissionDenied("forbidden-role", "only an admin changes the escalation policy")
    _check(session, steps)
    before = read_policy(session)
    set_policy(session, steps)
    after = read_policy(session)
    audit.record(
        session, viewer.manager_id, "replace", "escalation-policy", None, _as_json(before), _as_json(after)
    )
    return after
