"""``GET /routing/dry-run``: where a call from a number would go now (or at a given time), and why.

Mounted by the application factory (``app.include_router(routing_dry_run.router)``).
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel, ConfigDict

from callrouter.api.deps import CurrentUser, container_of
from callrouter.api.errors import ApiError, ErrorBody
from routing.decision import RouteDecision

router = APIRouter(prefix="/routing", tags=["routing"])


class RouteStepRead(BaseModel):
    target: str
    timeout_s: int


class DryRunRead(BaseModel):
    """The routing decision for one caller id, as the FastAGI server would answer it."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "number": "8 (900) 111-00-01",
                    "kind": "manager",
                    "target": "PJSIP/101",
                    "steps": [
                        {"target": "PJSIP/101", "timeout_s": 20},
                        {"target": "PJSIP/102", "timeout_s": 25},
                        {"target": "PJSIP/100", "timeout_s": 30},
                    ],
                    "reason": "number belongs to counterparty #7: personal manager Ann",
                    "notes": [],
                    "counterparty_id": 7,
                    "manager_id": 3,
                    "register_number": False,
                    "after_hours": False,
                    "treatment": None,
                    "degraded": None,
                }
            ]
        }
    )

    number: str
    kind: str
    target: str | None
    steps: list[RouteStepRead]
    reason: str
    notes: list[str]
    counterparty_id: int | None
    manager_id: int | None
    register_number: bool
    after_hours: bool
    treatment: str | None
    degraded: str | None

    @classmethod
    def of(cls, number: str, d: RouteDecision) -> DryRunRead:
        return cls(
            number=number,
            kind=str(d.kind),
            target=d.target,
            steps=[RouteStepRead(target=s.target, timeout_s=s.timeout_s) for s in d.steps],
            reason=d.reason,
            notes=list(d.notes),
            counterparty_id=d.counterparty_id,
            manager_id=d.manager_id,
            register_number=d.register_number,
            after_hours=d.after_hours,
            treatment=d.treatment,
            degraded=d.degraded,
        )


@router.get(
    "/dry-run",
    response_model=DryRunRead,
    summary="Why would a call from this number go where it goes?",
    responses={401: {"model": ErrorBody}, 403: {"model": ErrorBody}, 503: {"model": ErrorBody}},
)
async def dry_run(
    request: Request,
    _user: CurrentUser,  # every role may ask where a number's calls go (the workspace explainer)
    number: Annotated[str, Query(max_length=64, description="Caller id as Asterisk delivers it")],
    at: Annotated[datetime | None, Query(description="ISO time; without offset: company time")] = None,
) -> DryRunRead:
    service = container_of(request).routing
    if service is None:
        raise ApiError(503, "routing-unavailable", "this process has no routing service")
    return DryRunRead.of(number, await service.decide(number, at=at))
