"""The escalation policy: read it (admin, director), replace the whole ordered policy (admin; audited).

No cache to invalidate: the escalation worker reads the policy from the database on every pass, so the
replacement applies to missed calls scheduled after the commit.
"""

from __future__ import annotations

from fastapi import APIRouter

from callrouter.api.deps import AdminUser, DbSession, ManagementUser
from callrouter.api.errors import ERROR_RESPONSES
from callrouter.api.schemas.escalation_admin import EscalationPolicyPut, EscalationPolicyRead, PolicyStepBody
from crm_core.services import escalation_admin
from crm_core.services.escalation_admin import StoredPolicy

router = APIRouter(prefix="/api/v1/escalation-policy", tags=["escalation policy"], responses=ERROR_RESPONSES)


def _read(policy: StoredPolicy) -> EscalationPolicyRead:
    return EscalationPolicyRead(
        steps=[PolicyStepBody.of(step) for step in policy.steps], is_default=policy.is_default
    )


@router.get("", summary="The ordered escalation steps in force (admin, director)")
def get_policy(_user: ManagementUser, session: DbSession) -> EscalationPolicyRead:
    return _read(escalation_admin.read_policy(session))


@router.put(
    "",
    summary="Replace the whole escalation policy atomically (admin; audited; applies to new missed calls)",
)
def put_policy(body: EscalationPolicyPut, user: AdminUser, session: DbSession) -> EscalationPolicyRead:
    steps = [step.to_step() for step in body.steps]
    return _read(escalation_admin.replace_policy(session, user.viewer, steps))
