"""Liveness, readiness and Prometheus metrics endpoints."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from callrouter.wiring import Container

router = APIRouter(tags=["operations"])


def _container(request: Request) -> Container:
    container: Container = request.app.state.container
    return container


@router.get("/health", summary="Liveness: the process answers")
def health() -> dict[str, str]:
    return {"status": "ok"}


@router.get("/ready", summary="Readiness: database, cache and AMI links are usable")
def ready(request: Request) -> JSONResponse:
    container = _container(request)
    checks: dict[str, Any] = {"database": "ok" if container.database_ok() else "down"}
    ok = checks["database"] == "ok"
    return JSONResponse(
        {"status": "ready" if ok else "not_ready", "checks": checks}, status_code=200 if ok else 503
    )


@router.get("/metrics", summary="Prometheus metrics")
def metrics(request: Request) -> Response:
    return Response(generate_latest(_container(request).metrics.registry), media_type=CONTENT_TYPE_LATEST)
