"""Liveness, readiness and Prometheus metrics endpoints.

``/ready`` answers 200 ``ready`` when everything is up, 200 ``degraded`` when calls are still routed but a
helper is down (Redis: lookups go to the database; an AMI link: calls are recorded after it comes back),
and 503 ``not_ready`` when the database is down or an AMI login is refused (a configuration error).
``checks.ami_leader`` lists the PBXs whose events this instance consumes (see
:mod:`callrouter.ami_leadership`); each entry of ``checks.ami`` says ``leader`` too.
When a 1C sync is configured, ``checks.onec`` shows its last run; ``checks.analytics_daily`` the daily
status recompute's setting and last run (both informative only).
"""

from __future__ import annotations

import asyncio
from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from callrouter.analytics_daily import ready_check as analytics_daily_check
from callrouter.onec_sync import configured as onec_configured
from callrouter.onec_sync import status as onec_status
from callrouter.wiring import Container

router = APIRouter(tags=["operations"])


def _container(request: Request) -> Container:
    container: Container = request.app.state.container
    return container


@router.get("/health", summary="Liveness: the process answers")
def health() -> dict[str, str]:
    return {"status": "ok"}


def _ami_check(container: Container) -> tuple[list[dict[str, Any]], bool, bool]:
    """Each AMI link's state, whether all are logged in, and whether any login was refused."""
    if container.ami_links is None:
        return [], True, False
    links = [dict(state) for state in container.ami_links()]
    return (
        links,
        all(link.get("logged_in") for link in links),
        any(link.get("login_failed") for link in links),
    )


def _onec_check(container: Container) -> dict[str, Any]:
    """The last 1C sync run (status, duration, counts, problems); informative, never makes /ready fail."""
    try:
        return {"last_run": onec_status(container)}
    except Exception as exc:
        return {"last_run": None, "error": repr(exc)}


@router.get("/ready", summary="Readiness: database, cache and AMI links")
async def ready(request: Request) -> JSONResponse:
    container = _container(request)
    database_ok = await asyncio.to_thread(container.database_ok)
    redis_ok = await container.redis_ok()
    links, links_up, login_refused = _ami_check(container)
    checks: dict[str, Any] = {
        "database": "ok" if database_ok else "down",
        "redis": ("ok" if redis_ok else "down") if container.redis is not None else "not_configured",
        "ami": links if links else "not_configured",
    }
    if links:
        checks["ami_leader"] = [link["pbx"] for link in links if link.get("leader")]
    if onec_configured(container.settings):
        checks["onec"] = await asyncio.to_thread(_onec_check, container)
    checks["analytics_daily"] = await asyncio.to_thread(analytics_daily_check, container)
    if not database_ok or login_refused:
        status, code = "not_ready", 503
    elif not (redis_ok and links_up):
        status, code = "degraded", 200
    else:
        status, code = "ready", 200
    return JSONResponse({"status": status, "checks": checks}, status_code=code)


@router.get(
    "/metrics",
    summary="Prometheus metrics",
    response_class=Response,
    responses={200: {"content": {CONTENT_TYPE_LATEST: {"example": "callrouter_calls_routed_total 0.0\n"}}}},
)
def metrics(request: Request) -> Response:
    return Response(generate_latest(_container(request).metrics.registry), media_type=CONTENT_TYPE_LATEST)
