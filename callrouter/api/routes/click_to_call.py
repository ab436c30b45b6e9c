"""POST /api/v1/calls/click-to-call: ring the logged-in manager's phone, then dial the client (audited).

The call is placed by the PBX the manager's phone is on (``Manager.pbx``, the main PBX when unset)."""

from __future__ import annotations

import functools
import logging
from typing import Any

import anyio.from_thread
from fastapi import APIRouter, Request, status
from pydantic import ConfigDict, Field

from callrouter.api.click_to_call import OriginateRefused, PbxUnavailable, plan_call
from callrouter.api.deps import CurrentUser, DbSession, container_of
from callrouter.api.errors import ERROR_RESPONSES, ApiError, ErrorBody
from callrouter.api.schemas.common import Id, RawNumber, ReadModel, WriteModel
from crm_core.models import Counterparty, Manager
from crm_core.phone_numbers import normalize_number
from crm_core.repositories.scoped import get_visible
from crm_core.services import audit
from crm_core.services.errors import InvalidInput

log = logging.getLogger(__name__)

_RESPONSES: dict[int | str, dict[str, Any]] = {
    **ERROR_RESPONSES,
    502: {"model": ErrorBody, "description": "The PBX refused the call (`pbx-refused`)"},
    503: {
        "model": ErrorBody,
        "description": "No link to the PBX of your phone to place the call (`pbx-unavailable`)",
    },
}
router = APIRouter(prefix="/api/v1/calls", tags=["calls"], responses=_RESPONSES)


class ClickToCall(WriteModel):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"number": "8 (900) 123-45-68", "counterparty_id": 42}]}
    )

    number: RawNumber
    counterparty_id: Id | None = Field(default=None, description="The client card the call is made from")


class ClickToCallQueued(ReadModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {"number": "+79001234568", "channel": "Local/phone-m1@agents", "counterparty_id": 42}
            ]
        }
    )

    number: str = Field(description="The client's number as dialled (E.164)")
    channel: str = Field(description="Your phone, which rings first")
    counterparty_id: int | None


@router.post(
    "/click-to-call",
    status_code=status.HTTP_202_ACCEPTED,
    summary="Call a client: your phone rings first, then the PBX dials the number (audited)",
)
def click_to_call(
    request: Request, body: ClickToCall, user: CurrentUser, session: DbSession
) -> ClickToCallQueued:
    container = container_of(request)
    number = normalize_number(body.number, container.settings.default_region)
    if number.e164 is None:
        raise InvalidInput(
            "invalid-phone-number", {"field": "number", "number": body.number, "status": str(number.status)}
        )
    manager = session.get(Manager, user.manager_id)
    assert manager is not None  # the principal was just loaded
    call = plan_call(manager, number.e164, container.settings.originate_context)
    if body.counterparty_id is not None:
        get_visible(session, user.viewer, Counterparty, body.counterparty_id)
    pbx = manager.pbx or container.settings.pbx_name  # the PBX the manager's phone is on
    originator = container.originators.get(pbx)
    if originator is None:
        raise ApiError(
            503, "pbx-unavailable", f"click-to-call is not configured for PBX {pbx!r} (no AMI link)"
        )
    originate = functools.partial(
        originator.originate, call.channel, call.exten, call.context, caller_id=call.caller_id
    )
    try:
        anyio.from_thread.run(originate)
    except PbxUnavailable as exc:
        raise ApiError(503, "pbx-unavailable", f"the PBX cannot place the call now: {exc}") from exc
    except OriginateRefused as exc:
        raise ApiError(502, "pbx-refused", f"the PBX refused the call: {exc}") from exc
    audit.record(
        session,
        user.manager_id,
        "click-to-call",
        "phone-number",
        call.exten,
        None,
        {"number": call.exten, "channel": call.channel, "counterparty_id": body.counterparty_id},
    )
    log.info("click-to-call queued", extra={"manager_id": manager.id, "number": call.exten, "pbx": pbx})
    return ClickToCallQueued(number=call.exten, channel=call.channel, counterparty_id=body.counterparty_id)
