"""Asterisk's manager interface on a real TCP port, answering serve's AMI link like Asterisk 20 does.

Actions: ``Login`` (success and ``FullyBooted``, or ``Authentication failed`` and the session closed),
``Ping``, ``Events``, ``Filter``, ``CoreShowChannels`` (the channels of the call being replayed),
``Logoff``. ``Originate`` is refused (there is no phone to ring) and any other action gets Asterisk's
``Invalid/unknown command``. :meth:`DemoPbx.send` writes an event to every logged-in session.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Mapping
from dataclasses import dataclass, field

from callrouter.demo_pbx.channels import LiveChannels
from callrouter.demo_pbx.recording import Frame, encode_frame
from pbx_bridge.ami.parser import AmiParser

BANNER = b"Asterisk Call Manager/9.0.0\r\n"
_LIST_HINT = "Use Action: ListCommands to show available commands."


@dataclass(eq=False)
class _Session:
    writer: asyncio.StreamWriter
    logged_in: bool = False
    events_on: bool = True
    listed: asyncio.Event = field(default_factory=asyncio.Event)


class DemoPbx:
    """``async with DemoPbx(host, port, username, secret) as pbx``; :attr:`port` is the bound port."""

    def __init__(
        self, host: str, port: int, username: str, secret: str, fully_booted: Mapping[str, str] | None = None
    ) -> None:
        self.host, self._port = host, port
        self.username, self.secret = username, secret
        self._booted = dict(fully_booted or {"Event": "FullyBooted", "Privilege": "system,all"})
        self.channels = LiveChannels()
        self.logins = 0
        self.refused_logins = 0
        self._sessions: set[_Session] = set()
        self._tasks: set[asyncio.Task[None]] = set()
        self._started = time.monotonic()
        self._server: asyncio.Server | None = None
        self._login_seen = asyncio.Event()

    @property
    def port(self) -> int:
        if self._server is None:
            return self._port
        return int(self._server.sockets[0].getsockname()[1])

    async def start(self) -> DemoPbx:
        """Listen (``OSError`` when the address is taken or not this host's)."""
        self._server = await asyncio.start_server(self._session, self.host, self._port)
        return self

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()
        for session in list(self._sessions):
            session.writer.close()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        if self._server is not None:
            await self._server.wait_closed()

    async def __aenter__(self) -> DemoPbx:
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def wait_until_listed(self, timeout: float) -> bool:
        """Wait for a session that logged in and asked for the live channels (serve's link is up)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for session in self._sessions:
                if session.logged_in and session.listed.is_set():
                    return True
            self._login_seen.clear()
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(min(0.2, max(0.0, deadline - time.monotonic()))):
                    await self._login_seen.wait()
        return False

    @property
    def listeners(self) -> int:
        """Sessions logged in with events on."""
        return sum(1 for s in self._sessions if s.logged_in and s.events_on)

    async def send(self, event: Frame) -> None:
        """Write ``event`` to every logged-in session (and keep the live channels up to date)."""
        self.channels.feed(event)
        data = encode_frame(event)
        targets = [s for s in self._sessions if s.logged_in and s.events_on]
        for session in targets:
            session.writer.write(data)
        for session in targets:
            with contextlib.suppress(ConnectionError):
                await session.writer.drain()

    async def _session(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        session = _Session(writer)
        self._sessions.add(session)
        task = asyncio.current_task()
        if task is not None:
            self._tasks.add(task)
        parser = AmiParser()
        try:
            writer.write(BANNER)
            while data := await reader.read(65536):
                for action in parser.feed(data):
                    if not await self._answer(session, action):
                        return
                await writer.drain()
        except (ConnectionError, asyncio.CancelledError):
            pass  # the peer left, or the PBX is closing
        finally:
            self._sessions.discard(session)
            if task is not None:
                self._tasks.discard(task)
            writer.close()

    async def _answer(self, session: _Session, action: Mapping[str, str]) -> bool:
        """Answer one action; ``False`` ends the session."""
        name, aid = action.get("Action", "").lower(), action.get("ActionID")
        write = session.writer.write
        if name == "login":
            ok = action.get("Username") == self.username and action.get("Secret") == self.secret
            write(
                _response(
                    "Success" if ok else "Error",
                    aid,
                    Message=f"Authentication {'accepted' if ok else 'failed'}",
                )
            )
            if not ok:
                self.refused_logins += 1
                return False
            session.logged_in = True
            self.logins += 1
            uptime = str(int(time.monotonic() - self._started))
            write(encode_frame({**self._booted, "Uptime": uptime, "LastReload": uptime}))
            self._login_seen.set()
        elif not session.logged_in:
            write(_response("Error", aid, Message="Permission denied"))
        elif name == "ping":
            write(_response("Success", aid, Ping="Pong", Timestamp=f"{time.time():.6f}"))
        elif name == "events":
            session.events_on = action.get("EventMask", "on").lower() != "off"
            write(_response("Success", aid, Events="On" if session.events_on else "Off"))
        elif name == "filter":
            write(_response("Success", aid, Message="Filter Added Successfully"))
        elif name == "coreshowchannels":
            write(self._channel_list(aid))
            session.listed.set()
            self._login_seen.set()
        elif name == "originate":
            write(_response("Error", aid, Message="Originate failed"))
        elif name == "logoff":
            write(_response("Goodbye", aid, Message="Thanks for all the fish."))
            return False
        else:
            text = f"Invalid/unknown command: {action.get('Action', '')}. {_LIST_HINT}"
            write(_response("Error", aid, Message=text))
        return True

    def _channel_list(self, aid: str | None) -> bytes:
        ident = {"ActionID": aid} if aid is not None else {}
        rows = self.channels.listing()
        out = [_response("Success", aid, EventList="start", Message="Channels will follow")]
        out += [encode_frame({"Event": "CoreShowChannel", **ident, **row}) for row in rows]
        done = {
            "Event": "CoreShowChannelsComplete",
            **ident,
            "EventList": "Complete",
            "ListItems": str(len(rows)),
        }
        out.append(encode_frame(done))
        return b"".join(out)


def _response(status: str, action_id: str | None, **rest: str) -> bytes:
    head = {"Response": status, **({"ActionID": action_id} if action_id is not None else {})}
    return encode_frame({**head, **rest})
