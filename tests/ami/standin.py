"""A stand-in for Asterisk's manager interface on a real TCP socket, replaying recorded events.

It answers like Asterisk 20 (``main/manager.c``): the banner, ``Login`` (success, or ``Authentication failed``
and the session closed), ``Ping``, ``Events``, ``Filter``, ``CoreShowChannels`` (list ack, one
``CoreShowChannel`` per live channel, ``CoreShowChannelsComplete``), ``Originate``, ``Logoff``; any other
action gets ``Invalid/unknown command``. After a successful login it writes the trace's messages, byte for
byte, from a cursor shared by all connections (a PBX keeps living while the link is down).

Knobs (plain attributes, change them at any time): ``cut_at`` closes the connection once the cursor reaches
that message index (once), ``lost_on_cut`` messages are then skipped as if emitted during the outage
(``stall_on_cut`` also pauses the replay, so the next session's snapshot is taken at the cut),
``reject_login``, ``silent`` (a hung link: nothing answered, nothing sent), ``stall()`` / ``resume()`` pause
the replay, ``message_delay`` spaces the messages, ``inject(raw)`` writes arbitrary bytes, ``unsent`` (message
indices) are skipped on a live link: they happened (snapshots show their effect) but never reach the client.

``broadcast = True`` sends every message to every session logged in with events (one shared replay that
waits while none is open), instead of one replay per session; a session logged in with ``Events: off`` never
gets events in either mode.

``split_snapshot = K`` makes the ``CoreShowChannels`` reply arrive together with the next ``K`` trace messages
in **one** TCP write (the client reads them in one ``read``), as when events queue up behind a running list
action; each session's replay then waits for that session's first snapshot, so the snapshot after a login is
taken exactly at the replay cursor.

Usage from any test: ``from tests.ami.standin import AmiStandIn``.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import time
from collections.abc import Coroutine, Sequence
from types import TracebackType

from pbx_bridge.ami.parser import AmiParser
from tests.ami.trace import Trace, live_channels

BANNER = b"Asterisk Call Manager/9.0.0\r\n"
_LIST_HINT = "Use Action: ListCommands to show available commands."


def _frame(*headers: tuple[str, str]) -> bytes:
    return "".join(f"{k}: {v}\r\n" for k, v in headers).encode() + b"\r\n"


class AmiStandIn:
    """Asterisk's AMI on ``127.0.0.1:<port>``; ``async with AmiStandIn(trace) as pbx: pbx.port``."""

    def __init__(
        self,
        trace: Trace | None = None,
        *,
        messages: Sequence[bytes] | None = None,
        username: str = "bridge",
        secret: str = "bridge-secret",
        send_buffer: int | None = None,
    ) -> None:
        self.banner = trace.banner if trace else BANNER
        if messages is None:
            messages = trace.messages if trace else ()
        self.messages: list[bytes] = list(messages)
        self.username, self.secret = username, secret
        self.send_buffer = send_buffer
        self.position = 0
        self.cut_at: int | None = None
        self.lost_on_cut = 0
        self.stall_on_cut = False
        self.reject_login = False
        self.silent = False
        self.message_delay = 0.0
        self.split_snapshot: int | None = None
        self.unsent: set[int] = set()
        self.snapshots_sent = 0
        self.snapshot_linkedids: list[set[str]] = []  # per snapshot sent: the Linkedids of its channels
        self.logins = 0
        self.login_attempts = 0
        self.connections = 0
        self.action_only_logins = 0
        self.broadcast = False
        self.max_buffer = 4 * 1024 * 1024
        self.subscribers: list[asyncio.StreamWriter] = []
        self._broadcaster: asyncio.Task[None] | None = None
        self.actions: list[dict[str, str]] = []
        self.max_write_stall = 0.0
        self.replay_done = asyncio.Event()
        self._running = asyncio.Event()
        self._running.set()
        self._server: asyncio.Server | None = None
        self._writers: set[asyncio.StreamWriter] = set()
        self._listed: dict[asyncio.StreamWriter, asyncio.Event] = {}  # a session answered CoreShowChannels
        self._tasks: set[asyncio.Task[None]] = set()

    @property
    def port(self) -> int:
        assert self._server is not None, "stand-in not started"
        return int(self._server.sockets[0].getsockname()[1])

    async def start(self) -> AmiStandIn:
        self._server = await asyncio.start_server(self._session, "127.0.0.1", 0)
        return self

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()
        self.drop_connections()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        if self._server is not None:
            await self._server.wait_closed()

    async def __aenter__(self) -> AmiStandIn:
        return await self.start()

    async def __aexit__(
        self, et: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.close()

    def stall(self) -> None:
        """Pause the replay (the session stays up and keeps answering actions)."""
        self._running.clear()

    def resume(self) -> None:
        self._running.set()

    def drop_connections(self) -> None:
        """End every open session, like a PBX restart or a network cut: see :meth:`_hang_up`."""
        for writer in list(self._writers):
            self._hang_up(writer)

    def _hang_up(self, writer: asyncio.StreamWriter) -> None:
        """Send what was written, then end of stream; the session stops answering and writing.

        A half-close, not ``close()``: closing a socket whose receive buffer holds unread bytes (the
        client's Pings) makes the kernel send a RST and discard the bytes still in flight, so the client
        would never see what was written just before the cut.
        """
        self._writers.discard(writer)
        if writer.can_write_eof():
            with contextlib.suppress(OSError):  # the peer is gone already
                writer.write_eof()
        else:
            writer.close()

    def inject(self, raw: bytes) -> None:
        """Write ``raw`` as is on every open session."""
        for writer in self._writers:
            writer.write(raw)

    def snapshot(self) -> list[dict[str, str]]:
        """The live channels Asterisk would list now (up to the replay cursor)."""
        return live_channels(self.messages[: self.position])

    async def _session(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        if self.send_buffer:
            writer.get_extra_info("socket").setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, self.send_buffer)
        self._writers.add(writer)
        self._listed[writer] = asyncio.Event()
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        parser = AmiParser()
        replay: asyncio.Task[None] | None = None
        try:
            writer.write(self.banner)
            while data := await reader.read(65536):
                for action in parser.feed(data):
                    self.actions.append(action)
                    if self.silent or writer not in self._writers:  # hung, or hung up
                        continue
                    if action.get("Action", "").lower() == "login":
                        if not await self._login(action, writer):
                            return
                        if action.get("Events", "on").lower() == "off":
                            self.action_only_logins += 1  # Asterisk sends such a session no events
                        elif self.broadcast:
                            self._subscribe(writer)
                        else:
                            replay = replay or self._spawn(self._replay(writer))
                    else:
                        await self._answer(action, writer)
        except ConnectionError:
            pass
        finally:
            self._writers.discard(writer)
            self._listed.pop(writer, None)
            if replay is not None:
                replay.cancel()
            writer.close()
            self._tasks.discard(task)

    def _spawn(self, coro: Coroutine[None, None, None]) -> asyncio.Task[None]:
        task = asyncio.create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    async def _login(self, action: dict[str, str], writer: asyncio.StreamWriter) -> bool:
        self.login_attempts += 1
        aid = action.get("ActionID")
        ok = (
            not self.reject_login
            and action.get("Username") == self.username
            and action.get("Secret") == self.secret
        )
        message = "Authentication accepted" if ok else "Authentication failed"
        writer.write(self._response("Success" if ok else "Error", aid, ("Message", message)))
        await writer.drain()
        self.logins += ok
        return ok

    @staticmethod
    def _response(status: str, action_id: str | None, *rest: tuple[str, str]) -> bytes:
        head = [("Response", status)] + ([("ActionID", action_id)] if action_id is not None else [])
        return _frame(*head, *rest)

    async def _answer(self, action: dict[str, str], writer: asyncio.StreamWriter) -> None:
        name, aid = action.get("Action", "").lower(), action.get("ActionID")
        if name == "ping":
            now = f"{time.time():.6f}"
            writer.write(self._response("Success", aid, ("Ping", "Pong"), ("Timestamp", now)))
        elif name == "events":
            on = action.get("EventMask", "on").lower() != "off"
            writer.write(self._response("Success", aid, ("Events", "On" if on else "Off")))
        elif name == "filter":
            writer.write(self._response("Success", aid, ("Message", "Filter Added Successfully")))
        elif name == "coreshowchannels":
            writer.write(self._channels(aid) + self._carried())
            self.snapshots_sent += 1
            self._listed[writer].set()
        elif name == "originate":
            writer.write(self._response("Success", aid, ("Message", "Originate successfully queued")))
        elif name == "logoff":
            writer.write(self._response("Goodbye", aid, ("Message", "Thanks for all the fish.")))
            writer.close()
        else:
            text = f"Invalid/unknown command: {action.get('Action', '')}. {_LIST_HINT}"
            writer.write(self._response("Error", aid, ("Message", text)))
        await writer.drain()

    def _channels(self, aid: str | None) -> bytes:
        ident = [("ActionID", aid)] if aid is not None else []
        chans = self.snapshot()
        self.snapshot_linkedids.append({chan["Linkedid"] for chan in chans if "Linkedid" in chan})
        out = [self._response("Success", aid, ("EventList", "start"), ("Message", "Channels will follow"))]
        out += [_frame(("Event", "CoreShowChannel"), *ident, *chan.items()) for chan in chans]
        done = [("EventList", "Complete"), ("ListItems", str(len(chans)))]
        out.append(_frame(("Event", "CoreShowChannelsComplete"), *ident, *done))
        return b"".join(out)

    def _carried(self) -> bytes:
        """The messages a snapshot reply carries in its write (``split_snapshot``); the cursor passes them.

        The window stops at a pending ``cut_at``, so a cut still happens exactly there.
        """
        if not self.split_snapshot:
            return b""
        start = self.position
        end = min(len(self.messages), start + self.split_snapshot)
        if self.cut_at is not None and start <= self.cut_at:
            end = min(end, self.cut_at)
        self.position = end
        return b"".join(self.messages[i] for i in range(start, end) if i not in self.unsent)

    async def _replay(self, writer: asyncio.StreamWriter) -> None:
        listed = self._listed.get(writer)
        with contextlib.suppress(ConnectionError):
            if self.split_snapshot is not None and listed is not None:
                await listed.wait()
            while True:
                if self.position == self.cut_at:
                    self._cut(writer)
                    return
                if self.position >= len(self.messages):
                    break
                await self._running.wait()
                if writer not in self._writers:
                    return
                if self.silent:
                    await asyncio.sleep(0.01)
                    continue
                if self.position not in self.unsent:
                    writer.write(self.messages[self.position])
                self.position += 1
                started = time.perf_counter()
                await writer.drain()
                self.max_write_stall = max(self.max_write_stall, time.perf_counter() - started)
                if self.message_delay and self.position != self.cut_at:
                    await asyncio.sleep(self.message_delay)
            self.replay_done.set()

    def _subscribe(self, writer: asyncio.StreamWriter) -> None:
        self.subscribers.append(writer)
        if self._broadcaster is None:
            self._broadcaster = self._spawn(self._broadcast())

    def event_sessions(self) -> list[asyncio.StreamWriter]:
        """The open sessions that receive events (``broadcast`` mode)."""
        self.subscribers = [w for w in self.subscribers if w in self._writers]
        return self.subscribers

    async def _broadcast(self) -> None:
        """``broadcast`` mode: every message goes to every event session, as Asterisk does; the replay
        waits while no event session is open. A session whose unsent output exceeds ``max_buffer`` (a
        frozen client) is dropped, as Asterisk drops a session whose writes stall."""
        while self.position < len(self.messages):
            await self._running.wait()
            live = self.event_sessions()
            if not live:
                await asyncio.sleep(0.005)
                continue
            if self.position not in self.unsent:
                for writer in live:
                    if writer.transport.get_write_buffer_size() > self.max_buffer:
                        self._hang_up(writer)
                    else:
                        writer.write(self.messages[self.position])
            self.position += 1
            await asyncio.sleep(self.message_delay)
        self.replay_done.set()

    def _cut(self, writer: asyncio.StreamWriter) -> None:
        self.cut_at = None
        self.position += self.lost_on_cut
        if self.stall_on_cut:
            self.stall()
        self._hang_up(writer)
