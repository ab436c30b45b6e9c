"""Load, save and drop the persisted state of in-flight calls (the caller commits).

Saving and dropping take many calls at once: a batch of events writes each call it changed with one
statement (an upsert on (PBX, Linkedid)) whatever the number of events it folded.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from crm_core.models.base import utcnow
from crm_core.models.call_tracking import ActiveCall

ROWS_PER_STATEMENT = 500  # 4 parameters a row: far below SQLite's and PostgreSQL's limits


def load_active_calls(session: Session, pbx: str) -> list[dict[str, Any]]:
    """Every persisted in-flight call state of ``pbx``."""
    return list(session.scalars(select(ActiveCall.state).where(ActiveCall.pbx_system == pbx)))


def load_active_call(session: Session, pbx: str, linkedid: str) -> dict[str, Any] | None:
    """The persisted state of one in-flight call, None when there is none."""
    stmt = select(ActiveCall.state).where(ActiveCall.pbx_system == pbx, ActiveCall.linkedid == linkedid)
    return session.scalars(stmt).first()


def save_active_call(session: Session, pbx: str, linkedid: str, state: dict[str, Any]) -> None:
    """Insert or replace the state of one in-flight call."""
    save_active_calls(session, pbx, {linkedid: state})


def save_active_calls(session: Session, pbx: str, states: Mapping[str, dict[str, Any]]) -> None:
    """Insert or replace the states of in-flight calls (Linkedid -> state): one multi-row statement per
    :data:`ROWS_PER_STATEMENT` calls (an executemany would cost a round trip per row on psycopg2)."""
    insert = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
    now = utcnow()
    rows = [{"pbx_system": pbx, "linkedid": lid, "state": s, "updated_at": now} for lid, s in states.items()]
    for start in range(0, len(rows), ROWS_PER_STATEMENT):
        stmt = insert(ActiveCall).values(rows[start : start + ROWS_PER_STATEMENT])
        stmt = stmt.on_conflict_do_update(
            index_elements=[ActiveCall.pbx_system, ActiveCall.linkedid],
            set_={"state": stmt.excluded.state, "updated_at": stmt.excluded.updated_at},
        )
        session.execute(stmt)


def drop_active_call(session: Session, pbx: str, linkedid: str) -> None:
    """Forget a call that has finished (no-op when it was never persisted)."""
    drop_active_calls(session, pbx, [linkedid])


def drop_active_calls(session: Session, pbx: str, linkedids: Collection[str]) -> None:
    """Forget calls that have finished, in one statement (those never persisted are ignored)."""
    if linkedids:
        where = (ActiveCall.pbx_system == pbx, ActiveCall.linkedid.in_(linkedids))
        session.execute(delete(ActiveCall).where(*where), execution_options={"synchronize_session": False})
