"""The stored versions of outside objects: read a batch's, write what was applied."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from sqlalchemy import select
from sqlalchemy.orm import Session

from crm_core.models.external_sync import ExternalObject
from crm_core.services import audit

ACTOR_ACTION = "sync-1c"
"""The audit action prefix of every change the 1C sync makes (the actor is the sync, not a manager)."""

USER, CLIENT, CONTACT, DOCUMENT = "user", "client", "contact", "document"
"""The outside object kinds whose state ``external_objects`` keeps."""


def stored(session: Session, source: str, kind: str, refs: Iterable[str]) -> dict[str, ExternalObject]:
    """The stored state of these references of ``kind``, by reference."""
    refs = list(refs)
    found: dict[str, ExternalObject] = {}
    for start in range(0, len(refs), 500):
        chunk = refs[start : start + 500]
        stmt = select(ExternalObject).where(
            ExternalObject.source == source, ExternalObject.kind == kind, ExternalObject.ref.in_(chunk)
        )
        found.update((o.ref, o) for o in session.scalars(stmt))
    return found


def is_current(state: ExternalObject | None, version: str | None) -> bool:
    """Whether ``version`` (1C's ``DataVersion``) is the one last applied for this stored state."""
    return bool(version) and state is not None and state.data_version == version


def applied_versions(session: Session, source: str, kind: str) -> dict[str, str | None]:
    """Every stored reference of ``kind`` with the ``DataVersion`` last applied (what a run may skip)."""
    stmt = select(ExternalObject.ref, ExternalObject.data_version).where(
        ExternalObject.source == source, ExternalObject.kind == kind
    )
    return {ref: version for ref, version in session.execute(stmt)}


def all_local_ids(session: Session, source: str, kind: str) -> dict[str, int]:
    """Every stored reference of ``kind`` with the local row it maps to."""
    stmt = select(ExternalObject.ref, ExternalObject.local_id).where(
        ExternalObject.source == source, ExternalObject.kind == kind, ExternalObject.local_id.is_not(None)
    )
    return {ref: local_id for ref, local_id in session.execute(stmt) if local_id is not None}


def remember(
    session: Session,
    known: dict[str, ExternalObject],
    source: str,
    kind: str,
    ref: str,
    local_id: int | None,
    version: str | None,
    code: str | None = None,
) -> None:
    """Store that ``ref`` maps to ``local_id`` and was applied at ``version``."""
    obj = known.get(ref)
    if obj is None:
        obj = known[ref] = ExternalObject(source=source, kind=kind, ref=ref)
        session.add(obj)
    obj.local_id, obj.data_version, obj.code = local_id, version, code


def audit_change(
    session: Session,
    verb: str,
    entity: str,
    entity_id: object,
    before: Mapping[str, object] | None,
    after: Mapping[str, object] | None,
) -> None:
    """One audit entry made by the sync (no manager as actor; the action names the sync)."""
    audit.record(
        session,
        None,
        f"{ACTOR_ACTION}:{verb}",
        entity,
        entity_id,
        None if before is None else dict(before),
        None if after is None else dict(after),
    )
