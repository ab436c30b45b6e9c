"""The FastAGI server: Asterisk asks ``agi://host:4573/route`` where a call goes and always gets an answer.

Our own small server on asyncio streams rather than panoramisk 1.4's ``fast_agi.Application``: its
handler collects the request with ``while b"\\n\\n" not in buffer: buffer += await reader.read(...)``, so a
connection closed before any request (a TCP health probe) makes ``read()`` return ``b""`` forever and the
loop spins without suspending, freezing the event loop. It also has no header deadline, no size limit, no
deadline on the route handler and no timeout on Asterisk's replies, and it wraps plain ``def`` handlers with
``asyncio.coroutine``, gone in Python 3.11. Here every wait and every buffer is bounded, and every session
ends as routed, probe or fault.

A session: read the ``agi_*`` block (header deadline, line and count limits), ask the handler within
*our* deadline (Asterisk would wait forever), fall back to the default route on timeout or error,
then ``SET VARIABLE`` each routing variable, reading Asterisk's reply to each one. Two histograms: the
decision (request read to the first command sent, ``callrouter_route_decision_seconds``, what the deadline
bounds) and the whole exchange (to the last reply, ``callrouter_route_seconds``).
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from prometheus_client import Counter

from crm_core.metrics import Metrics
from pbx_bridge.agi.protocol import AgiProtocolError, AgiRequest, parse_reply, parse_request
from pbx_bridge.agi.variables import route_commands
from routing.decision import RouteDecision, RouteKind

log = logging.getLogger(__name__)

Handler = Callable[[AgiRequest], Awaitable[RouteDecision]]
ROUTE_SCRIPT = "route"
_OK_REPLY = b"200 result=1\n"  # what Asterisk answers to a successful SET VARIABLE


@dataclass(frozen=True, slots=True)
class AgiLimits:
    """Bounds on what a peer may make the server wait for or hold in memory."""

    header_timeout_s: float = 2.0
    reply_timeout_s: float = 2.0
    drain_timeout_s: float = 2.0
    max_line_bytes: int = 4096
    max_headers: int = 64


class _SessionFault(Exception):
    """Ends a session early; ``kind`` is the ``agi_faults`` label."""

    def __init__(self, kind: str, detail: str = "") -> None:
        super().__init__(detail or kind)
        self.kind = kind


class FastAgiServer:
    """Answers FastAGI ``route`` requests with ``handler``, or with ``default`` when it cannot in time."""

    def __init__(
        self,
        handler: Handler,
        default: RouteDecision,
        metrics: Metrics,
        *,
        deadline_s: float = 0.3,
        limits: AgiLimits | None = None,
    ) -> None:
        self._default_commands = route_commands(default)  # unsendable default: fail at start, not per call
        self.handler = handler
        self.default = default
        self.metrics = metrics
        self.deadline_s = deadline_s
        self.limits = limits or AgiLimits()
        self._server: asyncio.Server | None = None
        self._routed: dict[RouteKind, Counter] = {}  # calls_routed children by kind, looked up once

    async def start(self, host: str, port: int) -> asyncio.Server:
        """Listen on ``host:port`` (port 0 picks a free one; see :attr:`port`)."""
        self._server = await asyncio.start_server(
            self._session, host, port, limit=self.limits.max_line_bytes, backlog=1024
        )
        return self._server

    @property
    def port(self) -> int:
        if self._server is None:
            raise RuntimeError("server not started")
        return int(self._server.sockets[0].getsockname()[1])

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()

    async def _session(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        request: AgiRequest | None = None
        try:
            request = await self._read_request(reader)
            if request is None:
                self.metrics.agi_probes.inc()
                writer.close()
                return
            await self._answer(request, reader, writer)
            await self._close(writer)
        except _SessionFault as fault:
            self.metrics.agi_faults.labels(kind=fault.kind).inc()
            log.warning(
                "FastAGI session aborted: %s",
                fault,
                extra=_call_fields(request) | {"fault": fault.kind, "peer": _peer(writer)},
            )
            writer.transport.abort()

    async def _read_request(self, reader: asyncio.StreamReader) -> AgiRequest | None:
        """The request, or None for a connection closed before sending anything (a probe)."""
        lines: list[str] = []
        try:
            async with asyncio.timeout(self.limits.header_timeout_s):
                while True:
                    try:
                        raw = await reader.readline()
                    except ConnectionError:
                        raw = b""  # a reset is a close
                    if not raw:
                        if lines:
                            raise _SessionFault("truncated", f"connection closed after {len(lines)} headers")
                        return None
                    if not raw.endswith(b"\n"):
                        raise _SessionFault("truncated", "connection closed in the middle of a header")
                    line = raw.decode("utf-8", errors="replace").rstrip("\r\n")
                    if not line:
                        return parse_request(lines)
                    if len(lines) >= self.limits.max_headers:
                        raise _SessionFault("oversize", f"more than {self.limits.max_headers} headers")
                    lines.append(line)
        except TimeoutError:
            raise _SessionFault("header_timeout", f"no complete request after {len(lines)} lines") from None
        except ValueError as exc:  # AgiProtocolError, or a line over the stream limit
            kind = "malformed" if isinstance(exc, AgiProtocolError) else "oversize"
            raise _SessionFault(kind, str(exc)) from None

    async def _decide(self, request: AgiRequest) -> tuple[RouteDecision, list[bytes]]:
        """The handler's decision and its commands within the deadline, else the default route."""
        if request.script != ROUTE_SCRIPT:
            return self._degraded(request, "unknown_script", f"script {request.script!r}")
        deadline = asyncio.timeout(self.deadline_s)
        try:
            async with deadline:
                decision = await self.handler(request)
            commands = route_commands(decision)
        except TimeoutError:
            if deadline.expired():
                return self._degraded(
                    request, "deadline", f"no decision within {self.deadline_s * 1000:g} ms"
                )
            log.exception("route handler timed out", extra=_call_fields(request))
            return self._degraded(request, "handler_error", "handler raised TimeoutError")
        except Exception as exc:  # fail open: the call in progress still gets the default route
            log.exception("route handler failed", extra=_call_fields(request))
            return self._degraded(request, "handler_error", repr(exc))
        return decision, commands

    def _degraded(self, request: AgiRequest, reason: str, detail: str) -> tuple[RouteDecision, list[bytes]]:
        self.metrics.degraded_answers.labels(reason=reason).inc()
        self.metrics.agi_faults.labels(kind=reason).inc()
        log.warning(
            "answering the default route: %s", detail, extra=_call_fields(request) | {"reason": reason}
        )
        return dataclasses.replace(self.default, degraded=reason), self._default_commands

    async def _answer(
        self, request: AgiRequest, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        started = time.perf_counter()
        decision, commands = await self._decide(request)
        loop = asyncio.get_running_loop()
        reply_timeout = self.limits.reply_timeout_s
        command = b""
        self.metrics.route_decision_latency.observe(time.perf_counter() - started)  # the first is sent next
        try:  # one timer for the whole phase, moved before each reply (not a timeout object per line)
            async with asyncio.timeout(None) as phase:
                for command in commands:
                    phase.reschedule(loop.time() + reply_timeout)
                    await self._command(reader, writer, command)
        except TimeoutError:
            raise _SessionFault("reply_timeout", f"no reply to {command!r}") from None
        self.metrics.route_latency.observe(time.perf_counter() - started)
        routed = self._routed.get(decision.kind)
        if routed is None:
            routed = self._routed[decision.kind] = self.metrics.calls_routed.labels(kind=decision.kind.value)
        routed.inc()

    async def _command(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, line: bytes) -> None:
        """Send one command and read its reply; a hangup or a vanished peer ends the session.

        The caller bounds the wait for the reply (``reply_timeout_s``)."""
        writer.write(line)
        if writer.transport.get_write_buffer_size():  # not all in the kernel: wait, bounded
            try:
                async with asyncio.timeout(self.limits.drain_timeout_s):
                    await writer.drain()
            except TimeoutError:
                raise _SessionFault("stalled_peer", "Asterisk does not read our commands") from None
            except ConnectionError as exc:
                raise _SessionFault("closed", f"connection lost while sending: {exc}") from None
        try:
            raw = await reader.readline()
        except (ValueError, ConnectionError) as exc:
            raise _SessionFault("bad_reply", str(exc)) from None
        if raw == _OK_REPLY:
            return
        if not raw.endswith(b"\n"):
            raise _SessionFault("closed", f"connection closed before the reply to {line!r}")
        try:
            reply = parse_reply(raw.decode("utf-8", errors="replace"))
        except AgiProtocolError as exc:
            raise _SessionFault("bad_reply", str(exc)) from None
        if reply.hangup or reply.code == 511:
            raise _SessionFault("hangup", "the channel hung up while we were answering")
        if not reply.ok:
            self.metrics.agi_faults.labels(kind="command_rejected").inc()
            log.warning("Asterisk rejected %r: %s %s", line, reply.code, reply.data)

    async def _close(self, writer: asyncio.StreamWriter) -> None:
        writer.close()
        try:
            async with asyncio.timeout(self.limits.drain_timeout_s):
                await writer.wait_closed()
        except (TimeoutError, ConnectionError):
            writer.transport.abort()


def _call_fields(request: AgiRequest | None) -> dict[str, str]:
    if request is None:
        return {}
    return {"linkedid": request.linkedid, "uniqueid": request.uniqueid, "channel": request.get("channel")}


def _peer(writer: asyncio.StreamWriter) -> str:
    peer = writer.get_extra_info("peername")
    return f"{peer[0]}:{peer[1]}" if isinstance(peer, tuple) else str(peer)
