"""Make a recorded call a new one: another caller, the phone the routing chose, fresh ids, times from now.

Pure functions over the recording's frames. Nothing is invented: every event is one of the recording's, in
its order and with its spacing; only values change. The one structural change mirrors what Asterisk does
itself: each ``SET VARIABLE`` the FastAGI server answers shows up as its own ``AGIExecStart`` / ``VarSet`` /
``AGIExecEnd`` triple (see ``tests/asterisk-traces/README.md``), so the recording's triples are replaced by
one triple per command serve actually sent, built from the recording's first one.
"""

from __future__ import annotations

import re
import secrets
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from callrouter.demo_pbx.recording import Frame
from pbx_bridge.agi.client import unquote_args

CDR_TIMES = frozenset({"StartTime", "AnswerTime", "EndTime"})
_CDR_FORMAT = "%Y-%m-%d %H:%M:%S"
_AGI_TRIPLE = ("AGIExecStart", "VarSet", "AGIExecEnd")


@dataclass(frozen=True)
class CallPlan:
    """What the replayed call is: who calls, the dial target that rings, when it starts, the ids to use."""

    caller: str
    target: str  # as serve's FastAGI answered ROUTE_TARGET, e.g. ``PJSIP/101``
    start: float  # epoch seconds of the call's first event
    sequence: int  # first uniqueid sequence number and channel number for this call's channels


def timestamp(frame: Frame) -> float | None:
    """The event's ``Timestamp`` in epoch seconds (``None`` for events Asterisk sends without one).

    >>> timestamp({"Timestamp": "1795876979.386571"}), timestamp({"Event": "FullyBooted"})
    (1795876979.386571, None)
    """
    raw = frame.get("Timestamp")
    return float(raw) if raw else None


def _stamp(frame: Frame, at: float) -> Frame:
    return {**frame, "Timestamp": f"{at:.6f}"}


def splice_agi(events: Sequence[Frame], commands: Sequence[str]) -> list[Frame]:
    """Replace the recording's AGI command triples by one triple per ``SET VARIABLE`` in ``commands``.

    Later events keep their spacing and move by the difference in length of the AGI block.

    >>> ev = [{"Event": "Newexten", "Timestamp": "10.0"},
    ...       {"Event": "AGIExecStart", "Timestamp": "10.1", "Command": 'SET VARIABLE A "1"'},
    ...       {"Event": "VarSet", "Timestamp": "10.2", "Variable": "A", "Value": "1"},
    ...       {"Event": "AGIExecEnd", "Timestamp": "10.3", "Command": 'SET VARIABLE A "1"'},
    ...       {"Event": "Hangup", "Timestamp": "11.0"}]
    >>> out = splice_agi(ev, ['SET VARIABLE X "a b"', 'SET VARIABLE Y "2"'])
    >>> [(f["Event"], f["Timestamp"], f.get("Variable"), f.get("Value"))
    ...  for f in out]  # doctest: +NORMALIZE_WHITESPACE
    [('Newexten', '10.0', None, None), ('AGIExecStart', '10.100000', None, None),
     ('VarSet', '10.200000', 'X', 'a b'), ('AGIExecEnd', '10.300000', None, None),
     ('AGIExecStart', '10.400000', None, None), ('VarSet', '10.500000', 'Y', '2'),
     ('AGIExecEnd', '10.600000', None, None), ('Hangup', '11.300000', None, None)]
    >>> out[4]["Command"]
    'SET VARIABLE Y "2"'
    """
    starts = [i for i, e in enumerate(events) if e.get("Event") == "AGIExecStart"]
    if not starts:
        return list(events)
    first = starts[0]
    last = max(i for i, e in enumerate(events) if e.get("Event") == "AGIExecEnd")
    template = list(events[first : first + 3])
    if tuple(e.get("Event") for e in template) != _AGI_TRIPLE:
        raise ValueError("the recording's AGI block is not AGIExecStart, VarSet, AGIExecEnd")
    times = [timestamp(e) or 0.0 for e in template]
    period = times[2] - times[0] + (times[1] - times[0])  # the next command starts one step after the end
    block: list[Frame] = []
    for k, command in enumerate(c for c in commands if _set_variable(c) is not None):
        name, value = _set_variable(command) or ("", "")
        command_id = str(secrets.randbelow(2**31))
        for frame, at in zip(template, times, strict=True):
            new = _stamp(frame, at + k * period)
            if "Command" in new:
                new["Command"], new["CommandId"] = command, command_id
            if new["Event"] == "VarSet":
                new["Variable"], new["Value"] = name, value
            block.append(new)
    old_end = timestamp(events[last]) or times[2]
    new_end = times[2] + (len(block) // 3 - 1) * period if block else times[0]
    later = [
        _stamp(e, t + new_end - old_end) if (t := timestamp(e)) is not None else e for e in events[last + 1 :]
    ]
    return [*events[:first], *block, *later]


def _set_variable(command: str) -> tuple[str, str] | None:
    args = unquote_args(command)
    if len(args) == 4 and [a.upper() for a in args[:2]] == ["SET", "VARIABLE"]:
        return args[2], args[3]
    return None


def _shift_cdr_time(value: str, delta: float) -> str:
    """A CDR time (UTC, whole seconds) moved by ``delta`` seconds rounded; empty stays empty.

    >>> _shift_cdr_time("2026-11-28 14:42:59", 3600.7), _shift_cdr_time("", 5.0)
    ('2026-11-28 15:43:00', '')
    """
    if not value:
        return value
    moved = datetime.strptime(value, _CDR_FORMAT).replace(tzinfo=UTC) + timedelta(seconds=round(delta))
    return moved.strftime(_CDR_FORMAT)


def _substituter(replacements: dict[str, str]) -> Callable[[str], str]:
    """Replace whole tokens (never the inside of a longer id or number), longest first."""
    keys = sorted(replacements, key=len, reverse=True)
    pattern = re.compile(r"(?<![\w.])(?:" + "|".join(map(re.escape, keys)) + r")(?!\w)")
    return lambda text: pattern.sub(lambda m: replacements[m.group(0)], text)


def _new_ids(channels: Sequence[Frame], plan: CallPlan, phone: str, delta: float) -> list[tuple[str, str]]:
    """Each ``Newchannel``'s new name and uniqueid: numbered from ``plan.sequence``, the phone's named after
    ``plan.target``, the uniqueid's epoch part the second the channel is created in the new call."""
    out = []
    for n, chan in enumerate(channels):
        seq = plan.sequence + n
        created = (timestamp(chan) or 0.0) + delta
        prefix = chan["Channel"].rsplit("-", 1)[0]
        out.append((f"{plan.target if prefix == phone else prefix}-{seq:08x}", f"{int(created)}.{seq}"))
    return out


def trunk_leg(events: Sequence[Frame], plan: CallPlan) -> tuple[str, str]:
    """The new call's first channel (the trunk leg, which runs the AGI): its name and uniqueid = Linkedid.

    >>> ev = [{"Event": "Newchannel", "Timestamp": "1795876979.386571", "Channel": "PJSIP/trunk-00000018",
    ...        "Uniqueid": "1795876979.24"}]
    >>> trunk_leg(ev, CallPlan("+79001234567", "", start=1800000000.5, sequence=7))
    ('PJSIP/trunk-00000007', '1800000000.7')
    """
    channels = [e for e in events if e.get("Event") == "Newchannel"][:1]
    start = timestamp(events[0]) or 0.0
    return _new_ids(channels, plan, "", plan.start - start)[0]


def rewrite(
    events: Sequence[Frame], plan: CallPlan, new_bridge_id: Callable[[], str] | None = None
) -> list[Frame]:
    """The recording's events as the call ``plan`` describes (see the module docstring).

    Substituted: the caller's number, the dialled phone (endpoint, channel names, dial string and the
    phone's caller id become ``plan.target``'s), every uniqueid/linkedid (``<epoch of creation>.<seq>``),
    channel numbers, bridge ids, event timestamps (the first event at ``plan.start``) and CDR times.
    """
    make_bridge_id = new_bridge_id or (lambda: str(uuid.uuid4()))
    channels = [e for e in events if e.get("Event") == "Newchannel"]
    dial = next((e for e in events if e.get("Event") == "DialBegin" and e.get("DestChannel")), None)
    if not channels or dial is None:
        raise ValueError("a demo recording needs a Newchannel and a DialBegin to a phone")
    start = timestamp(events[0])
    if start is None:
        raise ValueError("the recording's first event has no Timestamp")
    delta = plan.start - start
    tech = dial["DestChannel"].split("/", 1)[0]
    endpoint = dial.get("DialString", "")
    resource = plan.target.split("/", 1)[-1]
    tokens: dict[str, str] = {
        f"{tech}/{endpoint}": plan.target,
        channels[0].get("CallerIDNum", ""): plan.caller,
    }
    for chan, (name, uniqueid) in zip(
        channels, _new_ids(channels, plan, f"{tech}/{endpoint}", delta), strict=True
    ):
        tokens[chan["Channel"]], tokens[chan["Uniqueid"]] = name, uniqueid
    for bridge in {e["BridgeUniqueid"] for e in events if e.get("BridgeUniqueid")}:
        tokens[bridge] = make_bridge_id()
    tokens.pop("", None)
    exact = {v: resource for v in (endpoint, dial.get("DestCallerIDNum"), dial.get("DestCallerIDName")) if v}
    substitute = _substituter(tokens)
    out: list[Frame] = []
    for frame in events:
        new: Frame = {}
        for key, value in frame.items():
            if key == "Timestamp":
                new[key] = f"{float(value) + delta:.6f}"
            elif key in CDR_TIMES:
                new[key] = _shift_cdr_time(value, delta)
            elif value in exact:
                new[key] = exact[value]
            else:
                new[key] = substitute(value)
        out.append(new)
    return out
