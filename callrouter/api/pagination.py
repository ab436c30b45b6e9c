"""Limit/offset pagination shared by every list endpoint."""

from __future__ import annotations

from typing import Annotated, Any, Generic, TypeVar

from fastapi import Depends, Query
from pydantic import BaseModel
from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

ItemT = TypeVar("ItemT")
ReadT = TypeVar("ReadT", bound=BaseModel)


class PageParams(BaseModel):
    limit: int
    offset: int


def _page_params(
    limit: Annotated[int, Query(ge=1, le=200, description="Items per page")] = 50,
    offset: Annotated[int, Query(ge=0, le=2**31 - 1, description="Items to skip")] = 0,
) -> PageParams:
    return PageParams(limit=limit, offset=offset)


Paging = Annotated[PageParams, Depends(_page_params)]


class Page(BaseModel, Generic[ItemT]):
    """One page of results with the total count of matches."""

    items: list[ItemT]
    total: int
    limit: int
    offset: int


def paginate(session: Session, stmt: Select[Any], paging: PageParams) -> tuple[list[Any], int]:
    """The rows of ``stmt`` on this page and the total number of matching rows."""
    total = session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery())) or 0
    rows = list(session.scalars(stmt.limit(paging.limit).offset(paging.offset)))
    return rows, total


def page_of(session: Session, stmt: Select[Any], paging: PageParams, read: type[ReadT]) -> Page[ReadT]:
    """The page of ``stmt``'s rows that ``paging`` asks for, each row read as a ``read`` schema."""
    rows, total = paginate(session, stmt, paging)
    return Page[read](  # type: ignore[valid-type]
        items=[read.model_validate(row) for row in rows],
        total=total,
        limit=paging.limit,
        offset=paging.offset,
    )
