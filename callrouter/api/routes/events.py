"""``GET /api/v1/events``: the logged-in user's live updates as Server-Sent Events.

Event names: ``missed-call``, ``notification``, ``notifications-read``, ``ringing``; ``resync`` when the
replay buffer no longer holds everything missed since ``Last-Event-ID`` (reload the lists), and
``token-expired`` just before the stream ends at the access token's expiry (reconnect with a fresh one).
A ``: ping`` comment keeps idle connections open every 15 s.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Header, Query, Request
from fastapi.sse import EventSourceResponse, ServerSentEvent

from callrouter.api.deps import BearerCredentials, Principal, container_of, principal_of_token
from callrouter.api.errors import ERROR_RESPONSES, ApiError
from callrouter.api.security import access_token_expiry
from callrouter.live.hub import Delivered
from crm_core.models.base import utcnow
from crm_core.services import api_tokens

router = APIRouter(prefix="/api/v1", tags=["live"], responses=ERROR_RESPONSES)
RETRY_MS = 3000
SUBSCRIBE_WAIT_S = 0.5


@dataclass(frozen=True, slots=True)
class StreamUser:
    """Who the stream is for and until when (``None``: an API token, no expiry to watch)."""

    principal: Principal
    expires_at: datetime | None


def _stream_user(
    request: Request,
    credentials: BearerCredentials,
    access_token: Annotated[
        str | None,
        Query(max_length=4096, description="The token, for EventSource (which cannot send headers)"),
    ] = None,
) -> StreamUser:
    """Authenticate by header or query parameter in a short session of its own (none is held open)."""
    token = credentials.credentials if credentials is not None else access_token
    if not token:
        raise ApiError(401, "not-authenticated", "send Authorization: Bearer <token> or ?access_token=")
    container = container_of(request)
    with container.sessions() as session:
        principal = principal_of_token(container, session, token)
        session.commit()  # an API token's last use
    if api_tokens.is_api_token(token):
        return StreamUser(principal, None)
    return StreamUser(principal, access_token_expiry(container.settings.signing_key, token))


def _last_id(header: str | None, query: str | None) -> int | None:
    """The id the client saw last (header, else query); anything unparsable counts as none.

    >>> _last_id("41", None), _last_id(None, "7"), _last_id("x", None)
    (41, 7, None)
    """
    raw = (header or query or "").strip()
    return int(raw) if raw.isdigit() else None


def _sse(item: Delivered) -> ServerSentEvent:
    return ServerSentEvent(event=item.event.name, data=item.event.data, id=str(item.id))


@router.get(
    "/events",
    response_class=EventSourceResponse,
    summary="My live updates (Server-Sent Events): missed calls, notifications, ringing",
)
async def events(
    request: Request,
    user: Annotated[StreamUser, Depends(_stream_user)],
    last_event_id: Annotated[str | None, Header(alias="Last-Event-ID", max_length=64)] = None,
    last_event_id_query: Annotated[
        str | None,
        Query(alias="last_event_id", max_length=64, description="Last-Event-ID for a new EventSource"),
    ] = None,
) -> AsyncIterator[ServerSentEvent]:
    bus = container_of(request).events
    await bus.start(SUBSCRIBE_WAIT_S)
    principal = user.principal
    sub, catchup = bus.hub.subscribe(
        principal.manager_id, principal.role, _last_id(last_event_id, last_event_id_query)
    )
    try:
        yield ServerSentEvent(comment="connected", retry=RETRY_MS)
        if catchup.resync:
            yield ServerSentEvent(event="resync", data={})
        for item in catchup.events:
            yield _sse(item)
        while True:
            timeout = None
            if user.expires_at is not None:
                timeout = max(0.0, (user.expires_at - utcnow()).total_seconds())
            try:
                async with asyncio.timeout(timeout):
                    received = await sub.queue.get()
            except TimeoutError:
                yield ServerSentEvent(event="token-expired", data={})
                return
            if received is None:  # this client fell too far behind: it reconnects and catches up
                return
            yield _sse(received)
    finally:
        bus.hub.unsubscribe(sub)
