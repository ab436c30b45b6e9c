"""Every HTTP request gets an id (``X-Request-ID``), and an unhandled failure becomes the usual JSON error.

The id is the client's ``X-Request-ID`` when it is short and plain, a fresh one otherwise; it is echoed in
the response header, in every error body and in the log line of a failure, so a user's report finds the
log. Pure ASGI (no response buffering, streaming untouched).
"""

from __future__ import annotations

import logging

from starlette.datastructures import Headers, MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from callrouter.api import request_ids
from callrouter.api.errors import error_response

log = logging.getLogger(__name__)


class RequestContextMiddleware:
    """Assign the request id; answer ``500 internal-error`` (JSON) for anything no handler mapped."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = request_ids.assign(scope, Headers(scope=scope).get(request_ids.HEADER))
        started = False

        async def send_with_id(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                MutableHeaders(scope=message)[request_ids.HEADER] = request_id
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        except Exception:
            log.exception(
                "request failed",
                extra={"request_id": request_id, "method": scope["method"], "path": scope["path"]},
            )
            if started:
                raise
            response = error_response(
                500,
                "internal-error",
                "an unexpected error; quote the request id when reporting it",
                request_id,
            )
            await response(scope, receive, send_with_id)
