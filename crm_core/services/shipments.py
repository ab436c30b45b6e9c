"""Shipment rules and the bulk import (from 1C or a script): upsert by external id, one audit per batch.

A line may be dated at most :data:`DAYS_AHEAD` day after today (company timezone): 1C documents are
sometimes dated tomorrow, but a date further ahead is a typo that would keep a client "fresh" for years.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from crm_core.models import Counterparty, Shipment
from crm_core.repositories.scoped import Viewer, scoped
from crm_core.services import audit, crm_policies, records
from crm_core.services.errors import InvalidInput, NotFound

DAYS_AHEAD = 1


def check_shipped_on(values: Mapping[str, Any], today: date) -> None:
    """Refuse a ``shipped_on`` more than :data:`DAYS_AHEAD` day after ``today``."""
    day = values.get("shipped_on")
    latest = today + timedelta(days=DAYS_AHEAD)
    if day is not None and day > latest:
        raise InvalidInput(
            "shipment-date-in-future",
            {"field": "shipped_on", "value": day.isoformat(), "latest": latest.isoformat()},
        )


def bulk_upsert(
    session: Session, viewer: Viewer, rows: Sequence[dict[str, Any]], today: date
) -> tuple[int, int]:
    """Insert new shipments and update those whose ``external_id`` exists; returns (inserted, updated)."""
    for row in rows:
        records.ensure_writable(crm_policies.SHIPMENTS, viewer, set(row))
        check_shipped_on(row, today)
    wanted = {row["counterparty_id"] for row in rows}
    known = set(
        session.scalars(
            scoped(viewer, Counterparty).with_only_columns(Counterparty.id).where(Counterparty.id.in_(wanted))
        )
    )
    if missing := sorted(wanted - known):
        raise NotFound("no-such-counterparty", {"ids": missing[:20]})
    external_ids = [row["external_id"] for row in rows if row.get("external_id")]
    existing = {
        s.external_id: s
        for s in session.scalars(select(Shipment).where(Shipment.external_id.in_(external_ids)))
    }
    inserted = updated = 0
    for row in rows:
        current = existing.get(row.get("external_id") or "")
        if current is None:
            shipment = Shipment(**row)
            session.add(shipment)
            if shipment.external_id:
                existing[shipment.external_id] = shipment
            inserted += 1
        else:
            for name, value in row.items():
                setattr(current, name, value)
            updated += 1
    session.flush()
    audit.record(
        session,
        viewer.manager_id,
        "bulk-import",
        "shipment",
        None,
        None,
        {"inserted": inserted, "updated": updated},
    )
    return inserted, updated
