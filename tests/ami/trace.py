"""Real AMI recordings split into their messages' raw bytes, and the live channels at any point of one.

The split is done on the raw bytes (CRLF blank line), independently of ``pbx_bridge.ami.parser``, so that
tests comparing the parser's output with a trace do not check the parser against itself.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

_SEP = b"\r\n\r\n"
_CHANNEL_FIELDS = (
    "Channel",
    "ChannelState",
    "ChannelStateDesc",
    "CallerIDNum",
    "CallerIDName",
    "ConnectedLineNum",
    "ConnectedLineName",
    "Language",
    "AccountCode",
    "Context",
    "Exten",
    "Priority",
    "Uniqueid",
    "Linkedid",
)


@dataclass(frozen=True)
class Trace:
    """One recorded AMI session: its banner and the raw messages after the login response."""

    name: str
    banner: bytes
    messages: tuple[bytes, ...]  # each one ends with its blank line (CRLF CRLF)

    @property
    def event_count(self) -> int:
        return sum(1 for m in self.messages if m.startswith(b"Event: "))


def load_trace(path: Path) -> Trace:
    """Split a ``<s>.ami`` file; the answer to the recorder's Logoff (``Response: Goodbye``) is left out."""
    data = path.read_bytes()
    banner, _, rest = data.partition(b"\r\n")
    chunks = [c + _SEP for c in rest.split(_SEP) if c]
    if not chunks or b"Authentication accepted" not in chunks[0]:
        raise ValueError(f"{path}: does not start with a successful login")
    messages = [c for c in chunks[1:] if not c.startswith(b"Response: Goodbye")]
    return Trace(name=path.stem, banner=banner + b"\r\n", messages=tuple(messages))


def trace_names(traces_dir: Path) -> list[str]:
    """Every recording as its path below ``traces_dir`` without suffix (``a``, ``sip/s8``), sorted."""
    return sorted(str(p.relative_to(traces_dir).with_suffix("")) for p in traces_dir.glob("**/*.ami"))


def all_traces(traces_dir: Path) -> list[Trace]:
    """Every ``*.ami`` recording (Local-channel and SIP ones)."""
    return [load_trace(p) for p in sorted(traces_dir.glob("**/*.ami"))]


def _headers(raw: bytes) -> dict[str, str]:
    lines = raw.decode("utf-8", "replace").split("\r\n")
    return dict(line.split(": ", 1) for line in lines if ": " in line)


def live_channels(messages: Sequence[bytes]) -> list[dict[str, str]]:
    """The channels alive after ``messages``, in the shape of Asterisk's ``CoreShowChannel`` body.

    A channel lives from its ``Newchannel`` to its ``Hangup``; its fields are the latest values of the
    standard channel headers seen on events about it, plus the dialplan application, the bridge and the
    duration up to the last event's ``Timestamp``.
    """
    channels: dict[str, dict[str, str]] = {}
    created: dict[str, float] = {}
    now = 0.0
    for raw in messages:
        ev = _headers(raw)
        now = float(ev.get("Timestamp", now))
        uid, name = ev.get("Uniqueid"), ev.get("Event")
        if uid is None:
            continue
        if name == "Newchannel":
            channels[uid] = {"Application": "", "ApplicationData": "", "BridgeId": ""}
            created[uid] = now
        if uid not in channels:
            continue
        if name == "Hangup":
            del channels[uid]
            continue
        chan = channels[uid]
        chan.update({k: ev[k] for k in _CHANNEL_FIELDS if k in ev})
        if name == "Newexten":
            chan["Application"], chan["ApplicationData"] = ev.get("Application", ""), ev.get("AppData", "")
        elif name == "BridgeEnter":
            chan["BridgeId"] = ev.get("BridgeUniqueid", "")
        elif name == "BridgeLeave":
            chan["BridgeId"] = ""
    out = []
    for uid, chan in channels.items():
        minutes, seconds = divmod(int(now - created[uid]), 60)
        chan["Duration"] = f"{minutes // 60:02d}:{minutes % 60:02d}:{seconds:02d}"
        order = (*_CHANNEL_FIELDS, "Application", "ApplicationData", "Duration", "BridgeId")
        out.append({k: chan[k] for k in order if k in chan})
    return out
