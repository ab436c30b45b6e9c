"""Sales and returns -> shipment lines, idempotent by document reference and line number.

A line's ``external_id`` is ``<source>:<document ref>:<line number>``; the document reference is also its
``document_number`` (so the analytics count a document as one purchase). A return is stored as a ``return``
line with the amounts as 1C shows them (never negative: a return reduces revenue by its kind). An unposted,
marked or vanished document loses its lines here.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import date

from sqlalchemy import delete, insert, select, update
from sqlalchemy.orm import Session

from crm_core.models.enums import ShipmentKind
from crm_core.models.sales import Shipment
from crm_core.syncing.report import SyncReport
from crm_core.syncing.rows import ExternalDocument
from crm_core.syncing.state import CLIENT, DOCUMENT, all_local_ids, audit_change, is_current, remember, stored

KIND = "documents"


def _prefix(source: str, ref: str) -> str:
    return f"{source}:{ref}:"


def apply_documents(
    session: Session, source: str, documents: Sequence[ExternalDocument], report: SyncReport
) -> None:
    """Write the lines of every posted document of this batch, drop those of the others; never commits.

    The stored state of a document keeps its highest line number, so its lines are found by their exact
    keys (one indexed ``IN`` query per batch) and written with bulk statements."""
    counts = report.of(KIND)
    known = stored(session, source, DOCUMENT, (d.ref for d in documents))
    todo = [d for d in documents if not is_current(known.get(d.ref), d.version)]
    counts.unchanged += len(documents) - len(todo)
    if not todo:
        return
    clients = all_local_ids(session, source, CLIENT)
    wanted: dict[str, dict[str, dict[str, object]]] = {}
    for doc in todo:
        counterparty_id = clients.get(doc.client_ref) if doc.client_ref else None
        if doc.effective and counterparty_id is None:
            report.problem(KIND, doc.ref, f"client {doc.client_ref} is not synced")
            continue
        wanted[doc.ref] = _lines(source, doc, counterparty_id) if doc.effective and counterparty_id else {}
    keys = [
        f"{_prefix(source, ref)}{n}"
        for ref in wanted
        for n in range(1, (known[ref].local_id or 0) + 1 if ref in known else 1)
    ] + [key for lines in wanted.values() for key in lines]
    existing = _existing(session, keys)
    inserts: list[dict[str, object]] = []
    updates: list[dict[str, object]] = []
    gone: list[int] = []
    for doc in todo:
        if doc.ref not in wanted:
            continue
        lines = wanted[doc.ref]
        prefix = _prefix(source, doc.ref)
        old = {key: row for key, row in existing.items() if key.startswith(prefix)}
        stale = [int(str(row["id"])) for key, row in old.items() if key not in lines]
        gone += stale
        changed = bool(stale)
        for key, values in lines.items():
            current = old.get(key)
            if current is None:
                inserts.append({"external_id": key, **values})
                changed = True
            elif any(current[k] != v for k, v in values.items()):
                updates.append({"id": current["id"], **values})
                changed = True
        if not changed:
            counts.unchanged += 1
        elif not lines:
            counts.removed += 1
            audit_change(session, "remove-lines", "document", doc.ref, {"lines": len(old)}, None)
        else:
            if old:
                counts.updated += 1
            else:
                counts.created += 1
            audit_change(session, "lines", "document", doc.ref, {"lines": len(old)}, {"lines": len(lines)})
        last_line = max((line.number for line in doc.lines), default=0) if lines else 0
        remember(session, known, source, DOCUMENT, doc.ref, last_line, doc.version)
    for start in range(0, len(gone), 500):
        session.execute(delete(Shipment).where(Shipment.id.in_(gone[start : start + 500])))
    if updates:
        session.execute(update(Shipment), updates)
    if inserts:
        session.execute(insert(Shipment), inserts)
    session.flush()


_COMPARED = (
    "id",
    "external_id",
    "counterparty_id",
    "shipped_on",
    "product",
    "quantity",
    "amount",
    "kind",
    "document_number",
    "line_number",
)


def _existing(session: Session, keys: list[str]) -> dict[str, dict[str, object]]:
    """The stored lines with these keys, as plain rows."""
    found: dict[str, dict[str, object]] = {}
    columns = [getattr(Shipment, name) for name in _COMPARED]
    unique = list(dict.fromkeys(keys))
    for start in range(0, len(unique), 500):
        stmt = select(*columns).where(Shipment.external_id.in_(unique[start : start + 500]))
        for row in session.execute(stmt):
            values = dict(zip(_COMPARED, row, strict=True))
            found[str(values["external_id"])] = values
    return found


def _lines(source: str, doc: ExternalDocument, counterparty_id: int) -> dict[str, dict[str, object]]:
    kind = ShipmentKind.RETURN if doc.is_return else ShipmentKind.SALE
    return {
        f"{_prefix(source, doc.ref)}{line.number}": {
            "counterparty_id": counterparty_id,
            "shipped_on": doc.on,
            "product": line.product[:300],
            "quantity": abs(line.quantity),
            "amount": abs(line.amount),
            "kind": kind,
            "document_number": doc.ref,
            "line_number": line.number,
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
        known = stored(session, source, DOCUMENT, vanished)
        for obj in known.values():
            session.delete(obj)
