"""A burst of overlapping calls made of the real Asterisk recordings, and what call tracking must make of it.

Each copy of a recorded scenario keeps its events' shapes and order; only its labels change: Uniqueids and
Linkedids get a per-copy suffix, channel sequence numbers (``-0000014f``) and bridge ids a per-copy prefix,
caller numbers (``+790012345xx``) a per-copy middle part, and its timestamps are shifted so that copy ``k``
starts ``k * spacing`` seconds after the first. The copies' messages are then merged in timestamp order, so
about ``duration / spacing`` calls are in progress at once, as in a real burst.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from pbx_bridge.ami.parser import parse_messages
from pbx_bridge.ami.ringing import ringing_of
from routing.call_state import channel_target
from tests.ami.trace import load_trace
from tests.call_tracking.helpers import TRACES, fold

_CHANNEL_SEQ = re.compile(r"-([0-9a-f]{8})(?=;|,|$|\s|/)")
_BRIDGE = re.compile(r"\b([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-)([0-9a-f]{12})\b")
_CALLER = re.compile(r"79001234(\d{3})")


@dataclass(frozen=True)
class Expected:
    """What call tracking must record for one call of the burst."""

    direction: str
    disposition: str
    missed_reason: str | None


def _relabel_value(key: str, value: str, tag: str, copy: int, shift: float) -> str:
    low = key.lower()
    if key == "Timestamp":
        return f"{float(value) + shift:.6f}"
    if (low.endswith("uniqueid") or low.endswith("linkedid")) and re.fullmatch(r"\d+\.\d+", value):
        return f"{value}{tag}"
    value = _CHANNEL_SEQ.sub(lambda m: f"-{copy + 1:03x}{m.group(1)[3:]}", value)
    value = _BRIDGE.sub(lambda m: f"{m.group(1)}{copy + 1:03x}{m.group(2)[3:]}", value)
    return _CALLER.sub(lambda m: f"79{tag}234{m.group(1)}", value)


def relabel(message: bytes, tag: str, copy: int, shift: float) -> bytes:
    """One raw AMI message with its labels changed for copy ``copy`` (see the module docstring)."""
    lines = message.decode("utf-8").split("\r\n")
    out = []
    for line in lines:
        key, sep, value = line.partition(": ")
        out.append(f"{key}{sep}{_relabel_value(key, value, tag, copy, shift)}" if sep else line)
    return "\r\n".join(out).encode("utf-8")


def _timestamp(message: bytes) -> float | None:
    match = re.search(rb"\r\nTimestamp: (\d+\.\d+)\r\n", message)
    return float(match.group(1)) if match else None


def burst(traces_dir: Path, calls: int, pbx_index: int, spacing: float = 0.3) -> list[bytes]:
    """About ``calls`` calls (whole scenarios, cycling through the recordings) as raw AMI messages."""
    copies: list[tuple[float, int, int, bytes]] = []
    start = None
    names = list(TRACES)
    made, copy = 0, 0
    while made < calls:
        trace = load_trace(traces_dir / f"{names[copy % len(names)]}.ami")
        events = [m for m in trace.messages if m.startswith(b"Event: ") and b"Event: FullyBooted" not in m]
        first = next(t for m in events if (t := _timestamp(m)) is not None)
        start = start if start is not None else first
        shift = start + copy * spacing - first
        tag = f"{pbx_index}{copy:02d}"
        at = first + shift
        for index, message in enumerate(events):
            at = (t + shift) if (t := _timestamp(message)) is not None else at
            copies.append((at, copy, index, relabel(message, tag, copy, shift)))
        made += sum(b"Event: Newchannel" in m and b"Linkedid" in m and _is_first(m) for m in events)
        copy += 1
    return [m for _at, _c, _i, m in sorted(copies)]


def _is_first(message: bytes) -> bool:
    """A ``Newchannel`` opening a call (its Uniqueid is the call's Linkedid)."""
    fields = dict(parse_messages(message)[0])
    return fields.get("Uniqueid") == fields.get("Linkedid")


def expected_calls(messages: Sequence[bytes]) -> dict[str, Expected]:
    """Per Linkedid, the record an uninterrupted fold of the burst gives."""
    frames = parse_messages(b"".join(messages))
    return {
        linkedid: Expected(
            outcome.verdict.direction.value,
            outcome.verdict.disposition.value,
            outcome.verdict.missed_reason.value if outcome.verdict.missed_reason else None,
        )
        for linkedid, outcome in fold(frames).items()
    }


def dial_targets(messages: Sequence[bytes]) -> set[str]:
    """Every target the burst rings (``Local/answer-m1@agents``...): give each a manager for screen pops."""
    rings = (ringing_of(f) for f in parse_messages(b"".join(messages)))
    return {channel_target(r.target) for r in rings if r is not None}
