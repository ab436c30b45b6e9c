"""Load, save and drop the persisted state of in-flight calls (the caller commits)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from crm_core.models.call_tracking import ActiveCall


def load_active_calls(session: Session, pbx: str) -> list[dict[str, Any]]:
    """Every persisted in-flight call state of ``pbx``."""
    return list(session.scalars(select(ActiveCall.state).where(ActiveCall.pbx_system == pbx)))


def load_active_call(session: Session, pbx: str, linkedid: str) -> dict[str, Any] | None:
    """The persisted state of one in-flight call, None when there is none."""
    stmt = select(ActiveCall.state).where(ActiveCall.pbx_system == pbx, ActiveCall.linkedid == linkedid)
    return session.scalars(stmt).first()


def save_active_call(session: Session, pbx: str, linkedid: str, state: dict[str, Any]) -> None:
    """Insert or replace the state of one in-flight call."""
    row = session.scalars(
        select(ActiveCall).where(ActiveCall.pbx_system == pbx, ActiveCall.linkedid == linkedid)
    ).first()
    if row is None:
        session.add(ActiveCall(pbx_system=pbx, linkedid=linkedid, state=state))
    else:
        row.state = state
    session.flush()


def drop_active_call(session: Session, pbx: str, linkedid: str) -> None:
    """Forget a call that has finished (no-op when it was never persisted)."""
    session.execute(delete(ActiveCall).where(ActiveCall.pbx_system == pbx, ActiveCall.linkedid == linkedid))
