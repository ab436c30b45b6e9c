"""One AMI session over asyncio streams: write actions, read and route what Asterisk sends.

Responses (and the events of list actions such as ``CoreShowChannels``) are matched to their action by
``ActionID``; every other event goes, in batches, to ``on_events``, which must not block. Every action has a
deadline, and a closed session fails its waiting actions at once.

Stream order is kept for replies that must take their place among the events: an action sent with
``on_reply`` has that callback called by the read loop at the exact point where its reply ended, after every
event read before it was handed to ``on_events`` and before any event read after it. (The awaiting caller
resumes later, when events read in the same chunk may already have been dispatched.)

Deadlines use ``asyncio.timeout``, never ``asyncio.wait_for``: on Python 3.11, ``wait_for`` returns the
result and *swallows* the caller's cancellation when the awaited reply arrives in the same loop iteration as
the cancel, which left a stopped link task running forever. Closing aborts the socket (no flush): a hung
peer that does not read would otherwise keep the transport, and the read loop, open indefinitely.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field

from pbx_bridge.ami.errors import AmiActionFailed, AmiActionTimeout, AmiDisconnected, AmiNotConnected
from pbx_bridge.ami.parser import AmiParser

log = logging.getLogger(__name__)

Message = dict[str, str]
Headers = Mapping[str, str] | Iterable[tuple[str, str]]
_ids = itertools.count(1)


@dataclass
class AmiReply:
    """The response to one action, plus the events of a list action (``EventList: start``)."""

    response: Message
    events: list[Message] = field(default_factory=list)


@dataclass
class _Waiting:
    future: asyncio.Future[AmiReply]
    on_reply: Callable[[AmiReply], None] | None = None
    reply: AmiReply | None = None

    def add(self, message: Message) -> AmiReply | None:
        """Take one message of the reply; return the reply when this message completed it."""
        if self.future.done():
            return None
        if self.reply is None:
            if message.get("Response", "").lower() in ("error", "failure"):
                self.future.set_exception(AmiActionFailed(message.get("Message", "error")))
                return None
            self.reply = AmiReply(message)
            if message.get("EventList", "").lower() == "start":
                return None
        elif message.get("EventList", "").lower() != "complete":
            self.reply.events.append(message)
            return None
        self.future.set_result(self.reply)
        return self.reply


def encode_action(name: str, action_id: str, headers: Headers) -> bytes:
    r"""Frame an action; a header that would break the framing is refused.

    >>> encode_action("Ping", "cr-1", {})
    b'Action: Ping\r\nActionID: cr-1\r\n\r\n'
    >>> encode_action("Hangup", "cr-2", {"Channel": "x\r\nAction: Originate"})
    Traceback (most recent call last):
    ...
    ValueError: AMI header 'Channel' contains a line break
    """
    pairs = headers.items() if isinstance(headers, Mapping) else headers
    lines = [f"Action: {name}", f"ActionID: {action_id}"]
    for key, value in pairs:
        if any(c in f"{key}{value}" for c in "\r\n") or ":" in key:
            raise ValueError(f"AMI header {key!r} contains a line break")
        lines.append(f"{key}: {value}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


class AmiConnection:
    """A connected AMI socket; :meth:`read_loop` must run for responses to arrive."""

    def __init__(
        self,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        on_events: Callable[[list[Message]], None],
        on_faults: Callable[[Counter[str]], None],
        read_size: int = 256 * 1024,
    ) -> None:
        self._reader, self._writer = reader, writer
        self._on_events, self._on_faults = on_events, on_faults
        self._read_size = read_size
        self._parser = AmiParser()
        self._waiting: dict[str, _Waiting] = {}
        self.closed = False

    async def read_loop(self) -> None:
        """Read until the peer closes; returns normally on EOF, raises on a socket error."""
        try:
            while data := await self._reader.read(self._read_size):
                self._dispatch(self._parser.feed(data))
        finally:
            self._parser.close()
            self._report_faults()
            self.close("connection closed by the PBX")

    def _dispatch(self, messages: list[Message]) -> None:
        events: list[Message] = []
        waiting = self._waiting
        for message in messages:
            action_id = message.get("ActionID")
            target = waiting.get(action_id) if action_id is not None else None
            if target is not None:
                reply = target.add(message)
                if reply is not None and target.on_reply is not None:
                    if events:  # what was read before the reply goes first
                        self._on_events(events)
                        events = []
                    target.on_reply(reply)
            elif "Event" in message:
                events.append(message)
            else:
                self._parser.faults["unmatched_response"] += 1
        self._report_faults()
        if events:
            self._on_events(events)

    def _report_faults(self) -> None:
        if self._parser.faults:
            self._on_faults(self._parser.take_faults())

    async def send(
        self,
        name: str,
        headers: Headers = (),
        *,
        timeout: float,
        on_reply: Callable[[AmiReply], None] | None = None,
    ) -> AmiReply:
        """Send one action and wait at most ``timeout`` seconds for its whole reply.

        ``on_reply`` (must not block) receives a successful reply at its place in the event stream.
        """
        if self.closed:
            raise AmiNotConnected(f"cannot send {name}: the AMI session is closed")
        action_id = f"cr-{next(_ids)}"
        data = encode_action(name, action_id, headers)
        waiting = _Waiting(asyncio.get_running_loop().create_future(), on_reply)
        self._waiting[action_id] = waiting
        try:
            async with asyncio.timeout(timeout):
                self._writer.write(data)
                await self._writer.drain()
                return await waiting.future
        except TimeoutError:
            raise AmiActionTimeout(f"no reply to {name} within {timeout:g} s") from None
        except OSError as exc:
            raise AmiDisconnected(f"{name} not sent: {exc}") from exc
        finally:
            del self._waiting[action_id]

    def close(self, reason: str) -> None:
        """Abort the socket (the read loop then ends at once) and fail every action still waiting."""
        if not self.closed:
            self.closed = True
            self._writer.transport.abort()
        for waiting in self._waiting.values():
            if not waiting.future.done():
                waiting.future.set_exception(AmiDisconnected(reason))
