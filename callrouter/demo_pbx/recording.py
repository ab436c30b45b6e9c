"""A recorded call: the AMI events of one real Asterisk scenario and its trunk leg's FastAGI request."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from importlib import resources

from pbx_bridge.agi.protocol import parse_header_line
from pbx_bridge.ami.parser import parse_messages

Frame = dict[str, str]

# Events about the recorder's own AMI session, not about the call.
SESSION_EVENTS = frozenset({"FullyBooted", "SuccessfulAuth"})


@dataclass(frozen=True)
class Recording:
    """One scenario: ``FullyBooted`` (sent after a login), the call's events in order, the AGI request."""

    name: str
    fully_booted: Frame
    events: tuple[Frame, ...]
    agi_request: Mapping[str, str]  # agi_* headers without the prefix, in Asterisk's order


def parse_recording(name: str, ami: bytes, agi: str) -> Recording:
    """Split a ``<s>.ami`` capture and the first block of its ``<s>.agi`` file.

    >>> ami = (b"Asterisk Call Manager/9.0.0\\r\\nResponse: Success\\r\\n\\r\\n"
    ...        b"Event: FullyBooted\\r\\nStatus: Fully Booted\\r\\n\\r\\n"
    ...        b"Event: Newchannel\\r\\nUniqueid: 1.1\\r\\n\\r\\nResponse: Goodbye\\r\\n\\r\\n")
    >>> rec = parse_recording("x", ami, "agi_uniqueid: 1.1\\nagi_callerid: +7900\\n\\n# probe ...\\n")
    >>> rec.events, dict(rec.agi_request)
    (({'Event': 'Newchannel', 'Uniqueid': '1.1'},), {'uniqueid': '1.1', 'callerid': '+7900'})
    """
    messages = parse_messages(ami)
    booted = next((m for m in messages if m.get("Event") == "FullyBooted"), {"Event": "FullyBooted"})
    events = tuple(m for m in messages if "Event" in m and m["Event"] not in SESSION_EVENTS)
    block = agi.split("\n\n", 1)[0]
    request = dict(parse_header_line(line) for line in block.splitlines() if line.startswith("agi_"))
    return Recording(name, booted, events, request)


def load_recording(name: str) -> Recording:
    """A recording shipped with the package (``s1``: answered, ``s2``: nobody answers)."""
    root = resources.files("callrouter.demo_pbx").joinpath("recordings")
    ami = root.joinpath(f"{name}.ami").read_bytes()
    agi = root.joinpath(f"{name}.agi").read_text(encoding="utf-8")
    return parse_recording(name, ami, agi)


def encode_frame(frame: Mapping[str, str]) -> bytes:
    r"""An AMI message as Asterisk writes it: ``Key: value`` lines with CRLF and a blank line.

    >>> encode_frame({"Event": "Hangup", "Cause": "16"})
    b'Event: Hangup\r\nCause: 16\r\n\r\n'
    """
    return "".join(f"{key}: {value}\r\n" for key, value in frame.items()).encode() + b"\r\n"
