"""Sales and returns -> shipment lines, idempotent by document reference and line number.

A line's ``external_id`` is ``<source>:<document ref>:<line number>``. A return is stored as a line with
negative quantity and amount (the shipments table has no kind of its own for it). An unposted, marked or
vanished document loses its lines here.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import date
from decimal import Decimal

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from crm_core.models.sales import Shipment
from crm_core.syncing.report import SyncReport
from crm_core.syncing.rows import ExternalDocument
from crm_core.syncing.state import all_local_ids, audit_change, remember, stored

KIND = "documents"
_DOC_REF = "document"
_CLIENT_REF = "client"


def _prefix(source: str, ref: str) -> str:
    return f"{source}:{ref}:"


def apply_documents(
    session: Session, source: str, documents: Sequence[ExternalDocument], report: SyncReport
) -> None:
    """Write the lines of every posted document of this batch, drop those of the others; never commits."""
    counts = report.of(KIND)
    known = stored(session, source, _DOC_REF, (d.ref for d in documents))
    clients = all_local_ids(session, source, _CLIENT_REF) if documents else {}
    for doc in documents:
        state = known.get(doc.ref)
        if doc.version and state is not None and state.data_version == doc.version:
            counts.unchanged += 1
            continue
        counterparty_id = clients.get(doc.client_ref) if doc.client_ref else None
        if doc.effective and counterparty_id is None:
            report.problem(KIND, doc.ref, f"client {doc.client_ref} is not synced")
            continue
        existing = {
            s.external_id: s
            for s in session.scalars(
                select(Shipment).where(
                    Shipment.external_id.startswith(_prefix(source, doc.ref), autoescape=True)
                )
            )
        }
        wanted = _lines(source, doc, counterparty_id) if doc.effective and counterparty_id else {}
        gone = [s for key, s in existing.items() if key not in wanted]
        changed = bool(gone)
        for shipment in gone:
            session.delete(shipment)
        for key, values in wanted.items():
            current = existing.get(key)
            if current is None:
                session.add(Shipment(external_id=key, **values))
                changed = True
            elif any(getattr(current, k) != v for k, v in values.items()):
                for name, value in values.items():
                    setattr(current, name, value)
                changed = True
        if not changed:
            counts.unchanged += 1
        elif not wanted:
            counts.removed += 1
            audit_change(session, "remove-lines", "document", doc.ref, {"lines": len(gone)}, None)
        else:
            counts.updated += 1 if existing else 0
            counts.created += 0 if existing else 1
            audit_change(
                session, "lines", "document", doc.ref, {"lines": len(existing)}, {"lines": len(wanted)}
            )
        remember(session, known, source, _DOC_REF, doc.ref, None, doc.version)
    session.flush()


def _lines(source: str, doc: ExternalDocument, counterparty_id: int) -> dict[str, dict[str, object]]:
    sign = Decimal(-1) if doc.is_return else Decimal(1)
    return {
        f"{_prefix(source, doc.ref)}{line.number}": {
            "counterparty_id": counterparty_id,
            "shipped_on": doc.on,
            "product": line.product[:300],
            "quantity": sign * abs(line.quantity),
            "amount": sign * abs(line.amount),
        }
        for line in doc.lines
    }


def remove_vanished_documents(
    session: Session, source: str, since: date, seen: Collection[str], report: SyncReport
) -> None:
    """Drop the lines dated from ``since`` whose document was not in the (complete) read of that window."""
    stmt = select(Shipment.external_id).where(
        Shipment.external_id.startswith(f"{source}:", autoescape=True), Shipment.shipped_on >= since
    )
    vanished = {key.split(":")[1] for key in session.scalars(stmt) if key and key.split(":")[1] not in seen}
    for ref in sorted(vanished):
        session.execute(
            delete(Shipment).where(Shipment.external_id.startswith(_prefix(source, ref), autoescape=True))
        )
        audit_change(session, "remove-lines", "document", ref, {"vanished": True}, None)
        report.of(KIND).removed += 1
    if vanished:
        known = stored(session, source, _DOC_REF, vanished)
        for obj in known.values():
            session.delete(obj)
