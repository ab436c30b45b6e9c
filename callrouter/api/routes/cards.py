"""``GET /api/v1/counterparties/{id}/card``: the client card of the screen pop and the workspace."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path

from callrouter.api.deps import CurrentUser, DbSession
from callrouter.api.errors import ERROR_RESPONSES
from callrouter.api.schemas.common import MAX_ID
from crm_core.models import Counterparty, utcnow
from crm_core.repositories.scoped import get_visible
from crm_core.services.card import CounterpartyCard, build_card

router = APIRouter(prefix="/api/v1/counterparties", tags=["counterparties"], responses=ERROR_RESPONSES)


@router.get(
    "/{counterparty_id}/card",
    summary="Client card: client, numbers, waiting missed calls, last calls and interactions, deals, needs",
)
def get_card(
    counterparty_id: Annotated[int, Path(ge=1, le=MAX_ID)], user: CurrentUser, session: DbSession
) -> CounterpartyCard:
    counterparty = get_visible(session, user.viewer, Counterparty, counterparty_id)
    return build_card(session, counterparty, utcnow())
