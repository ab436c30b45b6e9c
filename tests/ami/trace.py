"""Real AMI recordings split into their messages' raw bytes, and the live channels at any point of one.

The split is done on the raw bytes (CRLF blank line), independently of ``pbx_bridge.ami.parser``, so that
tests comparing the parser's output with a trace do not check the parser against itself.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from callrouter.demo_pbx.channels import LiveChannels

_SEP = b"\r\n\r\n"


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
    """The channels alive after ``messages``, in the shape of Asterisk's ``CoreShowChannel`` body (the demo
    PBX's :class:`~callrouter.demo_pbx.channels.LiveChannels` fed the messages' headers)."""
    live = LiveChannels()
    for raw in messages:
        live.feed(_headers(raw))
    return live.listing()
