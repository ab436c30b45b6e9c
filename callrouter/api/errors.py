"""One error format for every failure, mapped in one place.

``{"error": "<stable-id>", "detail": ..., "request_id": "<id>"}``; the request id is also the response's
``X-Request-ID`` header (see :mod:`callrouter.api.request_context`).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict
from sqlalchemy.exc import DataError, IntegrityError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from starlette.exceptions import HTTPException as StarletteHTTPException

from callrouter.api.request_ids import request_id_of
from crm_core.services.errors import Conflict, DomainError, InvalidInput, NotFound, PermissionDenied

log = logging.getLogger(__name__)


class ApiError(Exception):
    """An error raised by the HTTP layer itself (authentication, rate limit)."""

    def __init__(
        self, status: int, error_id: str, detail: Any = None, headers: dict[str, str] | None = None
    ) -> None:
        self.status = status
        self.error_id = error_id
        self.detail = detail
        self.headers = headers
        super().__init__(error_id)


class ErrorBody(BaseModel):
    """Every error response; ``error`` is stable and machine-readable, ``detail`` explains."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {"error": "no-such-counterparty", "detail": {"id": 42}, "request_id": "5f0c9d1e2a7b4c3d"}
            ]
        }
    )

    error: str
    detail: Any = None
    request_id: str | None = None


_DOMAIN_STATUS: tuple[tuple[type[DomainError], int], ...] = (
    (NotFound, 404),
    (Conflict, 409),
    (PermissionDenied, 403),
    (InvalidInput, 422),
)

ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    status: {"model": ErrorBody, "description": HTTPStatus(status).phrase}
    for status in (400, 401, 403, 404, 409, 413, 422, 429, 500, 503)
}
DATABASE_RETRY_AFTER_S = 5


class HttpErrorWithId(StarletteHTTPException):
    """An HTTP error with its own stable id, raised where only HTTP exceptions pass (reading the body)."""

    def __init__(self, status: int, error_id: str, detail: Any = None) -> None:
        super().__init__(status, detail)
        self.error_id = error_id


def error_response(
    status: int,
    error_id: str,
    detail: Any = None,
    request_id: str | None = None,
    headers: Mapping[str, str] | None = None,
) -> JSONResponse:
    body = {"error": error_id, "detail": detail, "request_id": request_id}
    return JSONResponse(body, status_code=status, headers=headers)


def _field(loc: tuple[Any, ...]) -> str:
    return ".".join(str(part) for part in loc)


async def _validation(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    detail = [
        {"field": _field(err["loc"]), "message": err["msg"], "type": err["type"]} for err in exc.errors()
    ]
    return error_response(422, "validation-failed", detail, request_id_of(request.scope))


async def _domain(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, DomainError)
    status = next((code for kind, code in _DOMAIN_STATUS if isinstance(exc, kind)), 400)
    return error_response(status, exc.error_id, exc.detail, request_id_of(request.scope))


async def _api(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, ApiError)
    return error_response(exc.status, exc.error_id, exc.detail, request_id_of(request.scope), exc.headers)


async def _http(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    error_id = getattr(exc, "error_id", None) or HTTPStatus(exc.status_code).phrase.lower().replace(" ", "-")
    return error_response(exc.status_code, error_id, exc.detail, request_id_of(request.scope), exc.headers)


async def _integrity(request: Request, exc: Exception) -> JSONResponse:
    log.info("integrity conflict: %s", exc)
    detail = "the change conflicts with existing data (duplicate or in use)"
    return error_response(409, "conflict", detail, request_id_of(request.scope))


async def _data(request: Request, exc: Exception) -> JSONResponse:
    log.info("value refused by the database: %s", exc)
    detail = "a value is out of the range the database accepts"
    return error_response(422, "invalid-value", detail, request_id_of(request.scope))


def _is_lock_timeout(exc: Exception) -> bool:
    return "database is locked" in str(getattr(exc, "orig", exc))


async def _database_unavailable(request: Request, exc: Exception) -> JSONResponse:
    """The database did not answer (down, unreachable, pool exhausted) or stayed locked too long: 503."""
    request_id = request_id_of(request.scope)
    busy = _is_lock_timeout(exc)
    log.warning(
        "database unavailable", extra={"request_id": request_id, "error": str(exc).splitlines()[0][:300]}
    )
    error_id, detail = (
        ("database-busy", "the database stayed locked by other writers; retry shortly")
        if busy
        else ("database-unavailable", "the database cannot be reached; retry shortly")
    )
    headers = {"Retry-After": str(DATABASE_RETRY_AFTER_S)}
    return error_response(503, error_id, detail, request_id, headers)


def install_error_handlers(app: FastAPI) -> None:
    """Map every error kind to the one error format."""
    app.add_exception_handler(RequestValidationError, _validation)
    app.add_exception_handler(DomainError, _domain)
    app.add_exception_handler(ApiError, _api)
    app.add_exception_handler(StarletteHTTPException, _http)
    app.add_exception_handler(IntegrityError, _integrity)
    app.add_exception_handler(DataError, _data)
    for kind in (OperationalError, InterfaceError, PoolTimeout):
        app.add_exception_handler(kind, _database_unavailable)
