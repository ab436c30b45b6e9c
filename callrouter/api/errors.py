"""One error format for every failure: ``{"error": "<stable-id>", "detail": ...}``, mapped in one place."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict
from sqlalchemy.exc import DataError, IntegrityError
from starlette.exceptions import HTTPException as StarletteHTTPException

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
        json_schema_extra={"examples": [{"error": "no-such-counterparty", "detail": {"id": 42}}]}
    )

    error: str
    detail: Any = None


_DOMAIN_STATUS: tuple[tuple[type[DomainError], int], ...] = (
    (NotFound, 404),
    (Conflict, 409),
    (PermissionDenied, 403),
    (InvalidInput, 422),
)

ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    status: {"model": ErrorBody, "description": HTTPStatus(status).phrase}
    for status in (400, 401, 403, 404, 409, 422, 429)
}


def error_response(
    status: int, error_id: str, detail: Any = None, headers: Mapping[str, str] | None = None
) -> JSONResponse:
    return JSONResponse({"error": error_id, "detail": detail}, status_code=status, headers=headers)


def _field(loc: tuple[Any, ...]) -> str:
    return ".".join(str(part) for part in loc)


async def _validation(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    detail = [
        {"field": _field(err["loc"]), "message": err["msg"], "type": err["type"]} for err in exc.errors()
    ]
    return error_response(422, "validation-failed", detail)


async def _domain(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, DomainError)
    status = next((code for kind, code in _DOMAIN_STATUS if isinstance(exc, kind)), 400)
    return error_response(status, exc.error_id, exc.detail)


async def _api(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, ApiError)
    return error_response(exc.status, exc.error_id, exc.detail, exc.headers)


async def _http(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    error_id = HTTPStatus(exc.status_code).phrase.lower().replace(" ", "-")
    return error_response(exc.status_code, error_id, exc.detail, exc.headers)


async def _integrity(_: Request, exc: Exception) -> JSONResponse:
    log.info("integrity conflict: %s", exc)
    return error_response(409, "conflict", "the change conflicts with existing data (duplicate or in use)")


async def _data(_: Request, exc: Exception) -> JSONResponse:
    log.info("value refused by the database: %s", exc)
    return error_response(422, "invalid-value", "a value is out of the range the database accepts")


def install_error_handlers(app: FastAPI) -> None:
    """Map every error kind to the one error format."""
    app.add_exception_handler(RequestValidationError, _validation)
    app.add_exception_handler(DomainError, _domain)
    app.add_exception_handler(ApiError, _api)
    app.add_exception_handler(StarletteHTTPException, _http)
    app.add_exception_handler(IntegrityError, _integrity)
    app.add_exception_handler(DataError, _data)
