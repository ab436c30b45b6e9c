"""Deal stage history: every stage a deal enters is kept, and won/lost close it."""

from __future__ import annotations

from sqlalchemy.orm import Session

from crm_core.models import Deal, DealStage, DealStageName
from crm_core.models.base import utcnow
from crm_core.repositories.scoped import Viewer

CLOSING = frozenset({DealStageName.WON, DealStageName.LOST})


def track_stage(session: Session, viewer: Viewer, deal: Deal, previous: DealStageName | None) -> None:
    """Record the deal's stage if it is new (``previous`` is None on creation) and set ``closed_at``."""
    stage = DealStageName(deal.stage or DealStageName.LEAD)
    if stage == previous:
        return
    session.add(DealStage(deal_id=deal.id, stage=stage, changed_by_manager_id=viewer.manager_id))
    deal.closed_at = utcnow() if stage in CLOSING else None
    session.flush()
