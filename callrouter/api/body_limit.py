"""Refuse request bodies over a size limit (``413 payload-too-large``) before they are read into memory.

Pure ASGI: a declared ``Content-Length`` over the limit is answered at once, without reading; a body sent
without one (chunked) is counted as it streams in and the read fails as soon as the count passes the limit.
Paths under an import prefix get their own, larger limit.
"""

from __future__ import annotations

from collections.abc import Sequence

from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from callrouter.api.errors import HttpErrorWithId, error_response
from callrouter.api.request_ids import request_id_of

ERROR_ID = "payload-too-large"


class BodyTooLarge(HttpErrorWithId):
    """Raised from ``receive`` once a streamed body passes its limit."""

    def __init__(self, limit: int) -> None:
        super().__init__(413, ERROR_ID, {"max_bytes": limit})


class BodyLimitMiddleware:
    """At most ``max_bytes`` per request body; ``(path suffix, max_bytes)`` pairs in ``overrides``."""

    def __init__(self, app: ASGIApp, max_bytes: int, overrides: Sequence[tuple[str, int]] = ()) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.overrides = tuple(overrides)

    def limit_for(self, path: str) -> int:
        return next((limit for suffix, limit in self.overrides if path.endswith(suffix)), self.max_bytes)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.limit_for(scope["path"])
        declared = Headers(scope=scope).get("content-length", "")
        if declared.isdigit() and int(declared) > limit:
            await self._refuse(scope, receive, send, limit)
            return
        received = 0
        started = False

        async def counting_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise BodyTooLarge(limit)
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counting_receive, tracking_send)
        except BodyTooLarge:
            if started:
                raise
            await self._refuse(scope, receive, send, limit)

    @staticmethod
    async def _refuse(scope: Scope, receive: Receive, send: Send, limit: int) -> None:
        detail = {"max_bytes": limit}
        response = error_response(413, ERROR_ID, detail, request_id_of(scope), {"Connection": "close"})
        await response(scope, receive, send)
