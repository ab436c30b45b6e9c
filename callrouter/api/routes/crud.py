"""One router shape for the records that hang off a counterparty: list, create, read, update, delete.

Reads go through the scoped query helper, writes through the allow-listed record service; each resource
only declares its schemas, write policy and filters.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, Query, Request, status
from sqlalchemy import ColumnElement
from sqlalchemy.orm import Session

from callrouter.api.deps import CurrentUser, DbSession, container_of
from callrouter.api.errors import ERROR_RESPONSES
from callrouter.api.pagination import Page, Paging, page_of
from callrouter.api.schemas.common import MAX_ID, ItemId, ReadModel, WriteModel
from crm_core.repositories.scoped import Viewer, get_visible, scoped
from crm_core.services import records

Filters = Callable[..., list[ColumnElement[bool]]]
Validate = Callable[[dict[str, Any], date], None]
"""Checks the written values against today in the company timezone; raises a domain error to refuse."""


def company_today(request: Request) -> date:
    """Today in the company timezone."""
    return datetime.now(ZoneInfo(container_of(request).settings.company_timezone)).date()


CompanyToday = Annotated[date, Depends(company_today)]
AfterWrite = Callable[[Session, Viewer, Any, dict[str, Any] | None], None]


def no_filters() -> list[ColumnElement[bool]]:
    return []


@dataclass(frozen=True)
class Resource:
    """What a record family needs to be served."""

    path: str
    title: str
    model: type[Any]
    read: type[ReadModel]
    create: type[WriteModel]
    update: type[WriteModel]
    policy: records.WritePolicy
    filters: Filters = no_filters
    after_write: AfterWrite | None = None
    validate: Validate | None = None


def crud_router(res: Resource) -> APIRouter:
    """The five endpoints of ``res``; schemas are attached to the signatures for validation and OpenAPI."""
    router = APIRouter(prefix=f"/api/v1/{res.path}", tags=[res.path], responses=ERROR_RESPONSES)
    model = res.model

    def list_items(
        user: CurrentUser,
        session: DbSession,
        paging: Paging,
        counterparty_id: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None,
        clauses: list[ColumnElement[bool]] = Depends(res.filters),
    ) -> Any:
        stmt = scoped(user.viewer, model).where(*clauses).order_by(model.id)
        if counterparty_id is not None:
            stmt = stmt.where(model.counterparty_id == counterparty_id)
        return page_of(session, stmt, paging, res.read)

    def create_item(body: Any, user: CurrentUser, session: DbSession, today: CompanyToday) -> Any:
        values = body.model_dump(exclude_unset=True)
        if res.validate:
            res.validate(values, today)
        entity = records.create(session, user.viewer, model, res.policy, values)
        if res.after_write:
            res.after_write(session, user.viewer, entity, None)
        return entity

    def get_item(item_id: ItemId, user: CurrentUser, session: DbSession) -> Any:
        return get_visible(session, user.viewer, model, item_id)

    def update_item(
        item_id: ItemId, body: Any, user: CurrentUser, session: DbSession, today: CompanyToday
    ) -> Any:
        entity = get_visible(session, user.viewer, model, item_id)
        before = {name: getattr(entity, name) for name in body.model_fields_set}
        values = body.model_dump(exclude_unset=True)
        if res.validate:
            res.validate(values, today)
        records.update(session, user.viewer, entity, res.policy, values)
        if res.after_write:
            res.after_write(session, user.viewer, entity, before)
        return entity

    def delete_item(item_id: ItemId, user: CurrentUser, session: DbSession) -> None:
        records.delete(session, user.viewer, get_visible(session, user.viewer, model, item_id), res.policy)

    list_items.__annotations__["return"] = Page[res.read]  # type: ignore[name-defined]
    create_item.__annotations__.update(body=res.create, **{"return": res.read})
    get_item.__annotations__["return"] = res.read
    update_item.__annotations__.update(body=res.update, **{"return": res.read})

    router.get("", summary=f"List {res.title} you can see")(list_items)
    router.post("", status_code=status.HTTP_201_CREATED, summary=f"Create {res.title}")(create_item)
    router.get("/{item_id}", summary=f"One of the {res.title} (404 outside your scope)")(get_item)
    router.patch("/{item_id}", summary=f"Update allowed fields of {res.title}")(update_item)
    router.delete("/{item_id}", status_code=status.HTTP_204_NO_CONTENT, summary=f"Delete {res.title}")(
        delete_item
    )
    return router
