"""Reads of the answered legs of call records."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from crm_core.models.calls import CallLeg


def legs_by_record(session: Session, record_ids: Sequence[int]) -> dict[int, list[CallLeg]]:
    """The legs of each of ``record_ids`` in answer order (one query for a whole page)."""
    if not record_ids:
        return {}
    stmt = (
        select(CallLeg)
        .where(CallLeg.call_record_id.in_(record_ids))
        .order_by(CallLeg.call_record_id, CallLeg.position)
    )
    legs: dict[int, list[CallLeg]] = {}
    for leg in session.scalars(stmt):
        legs.setdefault(leg.call_record_id, []).append(leg)
    return legs
