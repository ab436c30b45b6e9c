"""A manager's answer to a missed call: acknowledge it (keep it open) or close it, with a comment."""

from __future__ import annotations

from typing import Literal

from sqlalchemy.orm import Session

from crm_core.models import MissedCall, MissedStatus
from crm_core.models.base import utcnow
from crm_core.repositories.scoped import Viewer
from crm_core.services import audit
from crm_core.services.errors import Conflict


def resolve(
    session: Session,
    viewer: Viewer,
    missed: MissedCall,
    action: Literal["acknowledge", "close"],
    comment: str,
) -> MissedCall:
    """Write the comment; ``close`` ends the missed call. A closed one cannot be changed again."""
    if missed.status is MissedStatus.CLOSED:
        raise Conflict("missed-call-closed", {"id": missed.id, "closed_at": str(missed.closed_at)})
    before = audit.snapshot(missed)
    missed.comment = comment
    if action == "close":
        missed.status = MissedStatus.CLOSED
        missed.closed_at = utcnow()
    session.flush()
    audit.record(session, viewer.manager_id, action, "missed-call", missed.id, before, audit.snapshot(missed))
    return missed
