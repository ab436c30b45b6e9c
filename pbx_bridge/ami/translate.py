"""AMI frames (header dicts) -> typed call events. Thin: no business rule, never raises.

Irrelevant events (``VarSet`` of other variables, ``Newexten``, ``DeviceStateChange``, ``Cdr``...) are
dropped by one dict lookup. A relevant event that lacks what it needs (Linkedid, Uniqueid) or carries a
malformed value is logged and counted in ``Metrics.ami_faults`` and dropped.

Times: every event carries Asterisk's own ``Timestamp`` (``timestampevents = yes`` in manager.conf); only a
frame without one is stamped with the receive time (``stamped=False``). ``CoreShowChannel`` entries never
carry a ``Timestamp`` (Asterisk writes them outside its event path), so a snapshot is dated by
:meth:`AmiTranslator.pbx_now`: the local clock corrected by the offset seen on recent stamped events.
"""

from __future__ import annotations

import logging
import time
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import replace

from crm_core.metrics import Metrics
from routing.call_events import (
    AgentConnected,
    AttendedTransferred,
    BlindTransferred,
    CallerIdChanged,
    CallEvent,
    ChannelAnswered,
    ChannelCreated,
    ChannelMovedAway,
    DialBegan,
    DialEnded,
    HungUp,
    LiveChannel,
    QueueCallerAbandoned,
    QueueCallerJoined,
    RecordingStarted,
    RouteVariableSet,
)

log = logging.getLogger(__name__)

_Builder = Callable[[Mapping[str, str], str, str, float], CallEvent | None]
_OFFSET_SAMPLES = 64


def _newchannel(m: Mapping[str, str], lid: str, uid: str, at: float) -> CallEvent:
    return ChannelCreated(
        lid, uid, at, m.get("Channel", ""), m.get("Context", ""), m.get("Exten", ""), m.get("CallerIDNum", "")
    )


def _newcallerid(m: Mapping[str, str], lid: str, uid: str, at: float) -> CallEvent:
    return CallerIdChanged(lid, uid, at, m.get("CallerIDNum", ""))


def _newstate(m: Mapping[str, str], lid: str, uid: str, at: float) -> CallEvent | None:
    up = m.get("ChannelStateDesc") == "Up" or m.get("ChannelState") == "6"
    return ChannelAnswered(lid, uid, at) if up else None


def _dialbegin(m: Mapping[str, str], lid: str, uid: str, at: float) -> CallEvent | None:
    if not m.get("DestUniqueid"):
        raise ValueError("DialBegin without DestUniqueid")
    return DialBegan(
        lid, uid, at,
        dest_uniqueid=m["DestUniqueid"],
        dest_channel=m.get("DestChannel", ""),
        dial_string=m.get("DialString", ""),
        context=m.get("Context", ""),
        exten=m.get("Exten", ""),
        caller_num=m.get("CallerIDNum", ""),
        dest_caller_num=m.get("DestCallerIDNum", ""),
    )  # fmt: skip


def _dialend(m: Mapping[str, str], lid: str, uid: str, at: float) -> CallEvent | None:
    if not m.get("DestUniqueid"):
        raise ValueError("DialEnd without DestUniqueid")
    return DialEnded(lid, uid, at, m["DestUniqueid"], m.get("DestChannel", ""), m.get("DialStatus", ""))


def _agentconnect(m: Mapping[str, str], lid: str, uid: str, at: float) -> CallEvent:
    member = m.get("MemberName") or m.get("Interface", "")
    return AgentConnected(
        lid, uid, at, m.get("DestUniqueid", ""), m.get("DestChannel", ""), m.get("Queue", ""), member
    )


def _varset(m: Mapping[str, str], lid: str, uid: str, at: float) -> CallEvent | None:
    name = m.get("Variable", "").lstrip("_")
    if name.startswith("ROUTE_"):
        return RouteVariableSet(lid, uid, at, name, m.get("Value", ""))
    if name == "MIXMONITOR_FILENAME" and m.get("Value"):
        return RecordingStarted(lid, uid, at, m["Value"])
    return None


def _hangup(m: Mapping[str, str], lid: str, uid: str, at: float) -> CallEvent:
    return HungUp(lid, uid, at, int(m.get("Cause") or 0))


_BUILDERS: dict[str, _Builder] = {
    "Newchannel": _newchannel,
    "NewCallerid": _newcallerid,
    "Newstate": _newstate,
    "DialBegin": _dialbegin,
    "DialEnd": _dialend,
    "AgentConnect": _agentconnect,
    "QueueCallerJoin": lambda m, lid, uid, at: QueueCallerJoined(lid, uid, at, m.get("Queue", "")),
    "QueueCallerAbandon": lambda m, lid, uid, at: QueueCallerAbandoned(lid, uid, at, m.get("Queue", "")),
    "VarSet": _varset,
    "Hangup": _hangup,
}


def _blind_transfer(m: Mapping[str, str], at: float, stamped: bool) -> tuple[CallEvent, ...]:
    """``BlindTransfer``: ids are prefixed (``Transferer*``/``Transferee*``); a failed one changes nothing."""
    if m.get("Result") != "Success":
        return ()
    uid = m.get("TransfererUniqueid", "")
    lid = m.get("TransfereeLinkedid") or m.get("TransfererLinkedid", "")
    if not uid or not lid:
        raise ValueError("BlindTransfer without Transferer/Transferee ids")
    return (
        BlindTransferred(
            lid, uid, at, m.get("TransfereeUniqueid", ""), m.get("Context", ""), m.get("Extension", ""),
            stamped=stamped,
        ),
    )  # fmt: skip


def _attended_transfer(m: Mapping[str, str], at: float, stamped: bool) -> tuple[CallEvent, ...]:
    """``AttendedTransfer``: the transferee's call gains the target; the consultation call loses it."""
    if m.get("Result") != "Success" or m.get("DestType") == "Fail":
        return ()
    uid = m.get("OrigTransfererUniqueid", "")
    lid = m.get("TransfereeLinkedid") or m.get("OrigTransfererLinkedid", "")
    if not uid or not lid:
        raise ValueError("AttendedTransfer without OrigTransferer/Transferee ids")
    target_uid = m.get("TransferTargetUniqueid", "")
    events: list[CallEvent] = []
    target_lid = m.get("TransferTargetLinkedid") or m.get("SecondTransfererLinkedid", "")
    if target_uid and target_lid and target_lid != lid:
        events.append(ChannelMovedAway(target_lid, target_uid, at, lid, stamped=stamped))
    events.append(
        AttendedTransferred(
            lid, uid, at,
            transferee_uniqueid=m.get("TransfereeUniqueid", ""),
            target_uniqueid=target_uid,
            target_channel=m.get("TransferTargetChannel", ""),
            target_caller_num=m.get("TransferTargetCallerIDNum", ""),
            stamped=stamped,
        )
    )  # fmt: skip
    return tuple(events)


_TRANSFERS: dict[str, Callable[[Mapping[str, str], float, bool], tuple[CallEvent, ...]]] = {
    "BlindTransfer": _blind_transfer,
    "AttendedTransfer": _attended_transfer,
}
# DialBegin/DialEnd of an Originate have no calling channel: the PBX ringing the first party, not a dial.
_NEEDS_CHANNEL = frozenset({"DialBegin", "DialEnd"})


class AmiTranslator:
    """Turn one AMI frame into call events, counting what cannot be used."""

    def __init__(self, metrics: Metrics, clock: Callable[[], float] = time.time) -> None:
        self._metrics = metrics
        self._clock = clock
        self._offsets: dict[str, deque[float]] = {}

    def fault(self, pbx: str, kind: str, message: Mapping[str, str], detail: str = "") -> None:
        """Count and log one unusable frame."""
        self._metrics.ami_faults.labels(pbx=pbx, kind=kind).inc()
        log.warning(
            "unusable AMI event %s (%s) %s",
            message.get("Event"),
            kind,
            detail,
            extra={"linkedid": message.get("Linkedid"), "pbx": pbx},
        )

    def pbx_now(self, pbx: str) -> float:
        """The PBX's clock now, as far as we can tell: the local clock plus the largest recent difference
        between an event's ``Timestamp`` and its receipt (delivery delay only ever makes it smaller)."""
        offsets = self._offsets.get(pbx)
        return self._clock() + (max(offsets) if offsets else 0.0)

    def _time(self, pbx: str, message: Mapping[str, str]) -> tuple[float, bool] | None:
        raw = message.get("Timestamp")
        if raw is None:
            return self._clock(), False
        try:
            at = float(raw)
        except ValueError:
            self.fault(pbx, "bad_timestamp", message, raw[:64])
            return None
        return at, True

    def _learn_clock(self, pbx: str, at: float) -> None:
        """Each stamped call event also tells how far the PBX's clock is from ours."""
        self._offsets.setdefault(pbx, deque(maxlen=_OFFSET_SAMPLES)).append(at - self._clock())

    def translate(self, pbx: str, message: Mapping[str, str]) -> tuple[CallEvent, ...]:
        """The call events ``message`` carries: usually one, none when irrelevant or unusable."""
        name = message.get("Event")
        if name in _TRANSFERS:
            return self._transfer(pbx, name, message)
        builder = _BUILDERS.get(name) if name else None
        if builder is None:
            return ()
        if name in _NEEDS_CHANNEL and not message.get("Channel"):
            return ()
        lid, uid = message.get("Linkedid"), message.get("Uniqueid")
        if not lid or not uid:
            self.fault(pbx, "missing_id", message)
            return ()
        timed = self._time(pbx, message)
        if timed is None:
            return ()
        try:
            event = builder(message, lid, uid, timed[0])
        except (ValueError, KeyError) as exc:
            self.fault(pbx, "malformed", message, str(exc)[:200])
            return ()
        if event is None:
            return ()
        if not timed[1]:
            return (replace(event, stamped=False),)
        self._learn_clock(pbx, timed[0])
        return (event,)

    def _transfer(self, pbx: str, name: str, message: Mapping[str, str]) -> tuple[CallEvent, ...]:
        timed = self._time(pbx, message)
        if timed is None:
            return ()
        try:
            return _TRANSFERS[name](message, *timed)
        except ValueError as exc:
            self.fault(pbx, "missing_id", message, str(exc)[:200])
            return ()

    def live_channel(self, pbx: str, message: Mapping[str, str]) -> LiveChannel | None:
        """A ``CoreShowChannel`` entry of the live snapshot, or ``None`` when it cannot be used."""
        lid, uid = message.get("Linkedid"), message.get("Uniqueid")
        if not lid or not uid:
            self.fault(pbx, "missing_id", message)
            return None
        state = message.get("ChannelStateDesc") == "Up" or message.get("ChannelState") == "6"
        return LiveChannel(
            lid, uid,
            channel=message.get("Channel", ""),
            context=message.get("Context", ""),
            exten=message.get("Exten", ""),
            caller_num=message.get("CallerIDNum", ""),
            up=state,
            bridged=bool(message.get("BridgeId")),
            duration_s=_duration(message.get("Duration")),
        )  # fmt: skip


def _duration(raw: str | None) -> float | None:
    """``HH:MM:SS`` (CoreShowChannel ``Duration``) -> seconds; ``None`` when absent or malformed.

    >>> _duration("00:01:05"), _duration("x"), _duration(None)
    (65.0, None, None)
    """
    parts = (raw or "").split(":")
    if len(parts) != 3 or not all(p.isdigit() for p in parts):
        return None
    h, m, s = (int(p) for p in parts)
    return float(h * 3600 + m * 60 + s)
