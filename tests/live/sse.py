"""A real uvicorn server for an app on a free port, and a Server-Sent Events reader over httpx."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx
import uvicorn
from fastapi import FastAPI


@dataclass(frozen=True)
class Sse:
    """One received event."""

    event: str
    data: Any
    id: str | None


@contextlib.asynccontextmanager
async def serving(app: FastAPI, port: int) -> AsyncIterator[str]:
    """Serve ``app`` on 127.0.0.1:``port`` in this loop; yields the base URL."""
    config = uvicorn.Config(
        app, host="127.0.0.1", port=port, log_config=None, access_log=False, lifespan="off"
    )
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    try:
        while not server.started:
            assert not task.done(), "server failed to start"
            await asyncio.sleep(0.02)
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        server.force_exit = True  # open streams would hold a graceful shutdown
        await asyncio.wait_for(task, 10)


class SseStream:
    """An open ``GET /api/v1/events``; :meth:`next` reads one event (comments are skipped)."""

    def __init__(self, response: httpx.Response) -> None:
        self.response = response
        self._lines = response.aiter_lines()
        self.comments: list[str] = []

    async def next(self, timeout: float = 5.0) -> Sse:
        return await asyncio.wait_for(self._read(), timeout)

    async def _read(self) -> Sse:
        fields: dict[str, str] = {}
        data: list[str] = []
        async for line in self._lines:
            if line == "":
                if data or fields.get("event"):
                    raw = "\n".join(data)
                    return Sse(
                        fields.get("event", "message"), json.loads(raw) if raw else None, fields.get("id")
                    )
                continue
            if line.startswith(":"):
                self.comments.append(line[1:].strip())
                continue
            name, _, value = line.partition(":")
            value = value[1:] if value.startswith(" ") else value
            if name == "data":
                data.append(value)
            else:
                fields[name] = value
        raise EOFError("stream ended")

    async def nothing_within(self, seconds: float) -> None:
        """Assert no event arrives within ``seconds``."""
        try:
            event = await self.next(seconds)
        except TimeoutError:
            return
        raise AssertionError(f"unexpected event {event}")


@contextlib.asynccontextmanager
async def open_stream(
    base_url: str, token: str, *, last_event_id: str | None = None, via_query: bool = False
) -> AsyncIterator[SseStream]:
    """Connect to the events stream as the holder of ``token``; waits for the "connected" comment."""
    headers = {} if via_query else {"Authorization": f"Bearer {token}"}
    params = {"access_token": token} if via_query else {}
    if last_event_id is not None:
        headers["Last-Event-ID"] = last_event_id
    timeout = httpx.Timeout(10.0, read=None)
    async with (
        httpx.AsyncClient(base_url=base_url, timeout=timeout) as http,
        http.stream("GET", "/api/v1/events", headers=headers, params=params) as response,
    ):
        assert response.status_code == 200, await response.aread()
        assert response.headers["content-type"].startswith("text/event-stream")
        stream = SseStream(response)
        first = await asyncio.wait_for(anext(stream._lines), 5)
        assert first.startswith(": connected") or first.startswith("retry"), first
        yield stream
