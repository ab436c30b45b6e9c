"""Contacts, interactions, deals (+ stage history), needs and shipments (+ bulk import)."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query
from sqlalchemy import ColumnElement, select
from sqlalchemy.orm import Session

from callrouter.api.deps import CurrentUser, DbSession
from callrouter.api.errors import ERROR_RESPONSES
from callrouter.api.routes.crud import CompanyToday, Resource, crud_router
from callrouter.api.schemas import crm
from callrouter.api.schemas.common import MAX_ID
from crm_core.models import (
    ContactPerson,
    Deal,
    DealStage,
    DealStageName,
    Interaction,
    InteractionKind,
    Need,
    Shipment,
)
from crm_core.repositories.scoped import Viewer, get_visible
from crm_core.repositories.text_match import contains_text
from crm_core.services import crm_policies, deals, refining, shipments

ManagerFilter = Annotated[int | None, Query(ge=1, le=MAX_ID, description="Responsible manager")]


def _contact_filters(
    q: Annotated[str | None, Query(max_length=200, description="Part of the name")] = None,
) -> list[ColumnElement[bool]]:
    return [contains_text(ContactPerson.name, q)] if q else []


def _interaction_filters(
    manager_id: ManagerFilter = None,
    kind: Annotated[InteractionKind | None, Query()] = None,
    since: Annotated[date | None, Query(description="From this day (inclusive)")] = None,
    until: Annotated[date | None, Query(description="Before this day (exclusive)")] = None,
) -> list[ColumnElement[bool]]:
    clauses: list[ColumnElement[bool]] = []
    if manager_id is not None:
        clauses.append(Interaction.manager_id == manager_id)
    if kind is not None:
        clauses.append(Interaction.kind == kind)
    if since is not None:
        clauses.append(Interaction.occurred_at >= _midnight(since))
    if until is not None:
        clauses.append(Interaction.occurred_at < _midnight(until))
    return clauses


def _midnight(day: date) -> datetime:
    return datetime.combine(day, time(), tzinfo=UTC)


def _deal_filters(
    manager_id: ManagerFilter = None, stage: Annotated[DealStageName | None, Query()] = None
) -> list[ColumnElement[bool]]:
    clauses: list[ColumnElement[bool]] = []
    if manager_id is not None:
        clauses.append(Deal.manager_id == manager_id)
    if stage is not None:
        clauses.append(Deal.stage == stage)
    return clauses


def _shipment_filters(
    since: Annotated[date | None, Query(description="Shipped on or after")] = None,
    until: Annotated[date | None, Query(description="Shipped before")] = None,
) -> list[ColumnElement[bool]]:
    clauses: list[ColumnElement[bool]] = []
    if since is not None:
        clauses.append(Shipment.shipped_on >= since)
    if until is not None:
        clauses.append(Shipment.shipped_on < until)
    return clauses


def _refine_completed_contact(
    session: Session, viewer: Viewer, contact: Any, before: dict[str, Any] | None
) -> None:
    if before is not None and "name" in before:
        refining.contact_edited(session, viewer, contact, before["name"])


def _track_deal_stage(session: Session, viewer: Viewer, deal: Any, before: dict[str, Any] | None) -> None:
    if before is None or "stage" in before:
        deals.track_stage(session, viewer, deal, None if before is None else before["stage"])


RESOURCES = (
    Resource(
        "contacts",
        "contact persons",
        ContactPerson,
        crm.ContactRead,
        crm.ContactCreate,
        crm.ContactUpdate,
        crm_policies.CONTACTS,
        _contact_filters,
        _refine_completed_contact,
    ),
    Resource(
        "interactions",
        "interactions",
        Interaction,
        crm.InteractionRead,
        crm.InteractionCreate,
        crm.InteractionUpdate,
        crm_policies.INTERACTIONS,
        _interaction_filters,
    ),
    Resource(
        "deals",
        "deals",
        Deal,
        crm.DealRead,
        crm.DealCreate,
        crm.DealUpdate,
        crm_policies.DEALS,
        _deal_filters,
        _track_deal_stage,
    ),
    Resource("needs", "needs", Need, crm.NeedRead, crm.NeedCreate, crm.NeedUpdate, crm_policies.NEEDS),
    Resource(
        "shipments",
        "shipments",
        Shipment,
        crm.ShipmentRead,
        crm.ShipmentCreate,
        crm.ShipmentUpdate,
        crm_policies.SHIPMENTS,
        _shipment_filters,
        validate=shipments.check_shipped_on,
    ),
)

extras = APIRouter(prefix="/api/v1", responses=ERROR_RESPONSES)


@extras.get("/deals/{deal_id}/stages", tags=["deals"], summary="The stage history of a deal")
def deal_stages(
    deal_id: Annotated[int, Path(ge=1, le=MAX_ID)], user: CurrentUser, session: DbSession
) -> list[crm.DealStageRead]:
    get_visible(session, user.viewer, Deal, deal_id)
    stmt = select(DealStage).where(DealStage.deal_id == deal_id).order_by(DealStage.entered_at, DealStage.id)
    return [crm.DealStageRead.model_validate(row) for row in session.scalars(stmt)]


@extras.post("/shipments/bulk", tags=["shipments"], summary="Import shipments, upserting by external_id")
def import_shipments(
    body: crm.ShipmentBulk, user: CurrentUser, session: DbSession, today: CompanyToday
) -> crm.BulkResult:
    rows = [item.model_dump(exclude_unset=True) for item in body.items]
    inserted, updated = shipments.bulk_upsert(session, user.viewer, rows, today)
    return crm.BulkResult(inserted=inserted, updated=updated)


routers = [extras, *(crud_router(resource) for resource in RESOURCES)]
