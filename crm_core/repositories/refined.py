"""Refined cards per manager: who confirmed or completed counterparties and contact persons, and when."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from crm_core.models import ContactPerson, Counterparty


def refined_per_manager(
    session: Session, model: type[Counterparty] | type[ContactPerson], start: datetime, end: datetime
) -> dict[int, int]:
    """Cards of ``model`` refined in ``[start, end)``, per manager who refined them."""
    stmt = (
        select(model.refined_by_id, func.count())
        .where(model.refined_by_id.is_not(None), model.refined_at >= start, model.refined_at < end)
        .group_by(model.refined_by_id)
    )
    return {mid: n for mid, n in session.execute(stmt) if mid is not None}
