"""Helpers for call-tracking tests: real traces as AMI frames, folding, CDR rows, live-channel snapshots."""

from __future__ import annotations

import csv
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from crm_core.metrics import Metrics
from pbx_bridge.ami.parser import parse_messages
from pbx_bridge.ami.translate import AmiTranslator
from routing.call_state import CallState, CallTracker
from routing.missed_policy import PolicyConfig, Verdict, classify

TRACES = ["a", "b", "c", "d", "f", "g", "h", "i", "l", "m", "sip/s1", "sip/s2", "sip/s6", "sip/s8"]
POLICY = PolicyConfig()

Frame = dict[str, str]


def trace_frames(traces_dir: Path, name: str) -> list[Frame]:
    """Every AMI message of a recorded trace, parsed by the transport's parser."""
    return parse_messages((traces_dir / f"{name}.ami").read_bytes())


@dataclass
class Outcome:
    call: CallState
    verdict: Verdict


def fold(frames: Iterable[Mapping[str, str]], tracker: CallTracker | None = None) -> dict[str, Outcome]:
    """Translate and fold frames; the finished calls by Linkedid (a second finish would overwrite)."""
    translator = AmiTranslator(Metrics())
    tracker = tracker if tracker is not None else CallTracker()
    out: dict[str, Outcome] = {}
    for frame in frames:
        for event in translator.translate("main", frame):
            applied = tracker.apply(event)
            if applied.finished is not None:
                assert applied.linkedid not in out, f"call {applied.linkedid} finished twice"
                out[applied.linkedid] = Outcome(applied.finished, classify(applied.finished, POLICY))
    return out


def finish_all(tracker: CallTracker, snapshot: Sequence[Frame], at: float) -> dict[str, Outcome]:
    """Reconcile with a snapshot and return the calls it finished."""
    translator = AmiTranslator(Metrics())
    live = [c for m in snapshot if (c := translator.live_channel("main", m)) is not None]
    finished, _ = tracker.reconcile(live, at)
    return {c.linkedid: Outcome(c, classify(c, POLICY)) for c in finished}


def cdr_outcomes(traces_dir: Path, name: str, frames: Sequence[Frame]) -> dict[str, str]:
    """Per Linkedid, what Asterisk's CDR says: ANSWERED, BUSY or NO ANSWER (joined by uniqueid)."""
    linked = {f["Uniqueid"]: f["Linkedid"] for f in frames if f.get("Event") == "Newchannel"}
    rows: dict[str, list[list[str]]] = {}
    with (traces_dir / f"{name}.cdr.csv").open(newline="") as fh:
        for row in csv.reader(fh):
            rows.setdefault(linked[row[16]], []).append(row)
    result = {}
    for lid, call_rows in rows.items():
        dials = [r for r in call_rows if r[7] in ("Dial", "Queue")]
        if any(r[14] == "ANSWERED" for r in dials):
            result[lid] = "ANSWERED"
        elif dials and dials[-1][14] == "BUSY":
            result[lid] = "BUSY"
        else:
            result[lid] = "NO ANSWER"
    return result


def _hms(seconds: float) -> str:
    s = int(seconds)
    return f"{s // 3600:02d}:{s % 3600 // 60:02d}:{s % 60:02d}"


def live_snapshot(frames: Sequence[Frame], cut: int) -> list[Frame]:
    """The CoreShowChannel events Asterisk would list for the channels alive after ``frames[:cut]``."""
    alive: dict[str, Frame] = {}
    created: dict[str, float] = {}
    bridges: dict[str, str] = {}
    now = 0.0
    for frame in frames[:cut]:
        now = float(frame.get("Timestamp", now) or now)
        uid, event = frame.get("Uniqueid"), frame.get("Event")
        if not uid or "Channel" not in frame or event in ("OriginateResponse", "Cdr"):
            continue
        if event == "Newchannel":
            created[uid] = now
        if uid not in created:
            continue
        if event == "Hangup":
            alive.pop(uid, None)
            continue
        if event == "BridgeEnter":
            bridges[uid] = frame["BridgeUniqueid"]
        elif event == "BridgeLeave":
            bridges.pop(uid, None)
        alive[uid] = {
            "Event": "CoreShowChannel",
            "Channel": frame["Channel"],
            "ChannelState": frame.get("ChannelState", ""),
            "ChannelStateDesc": frame.get("ChannelStateDesc", ""),
            "CallerIDNum": frame.get("CallerIDNum", ""),
            "Context": frame.get("Context", ""),
            "Exten": frame.get("Exten", ""),
            "Uniqueid": uid,
            "Linkedid": frame.get("Linkedid", alive.get(uid, {}).get("Linkedid", "")),
            "Application": "",
            "ApplicationData": "",
        }
    for uid, chan in alive.items():
        chan["BridgeId"] = bridges.get(uid, "")
        chan["Duration"] = _hms(now - created[uid])
    return list(alive.values())


@dataclass(frozen=True)
class CdrRow:
    """One ``cdr_csv`` row: party A/B channels, start/answer/end (whole seconds, UTC), duration, billsec."""

    channel: str
    dstchannel: str
    start: float
    answer: float | None
    end: float
    duration: int
    billsec: int
    disposition: str


def _cdr_time(raw: str) -> float | None:
    return datetime.strptime(raw, "%Y-%m-%d %H:%M:%S").replace(tzinfo=UTC).timestamp() if raw else None


def cdr_rows(traces_dir: Path, name: str) -> list[CdrRow]:
    """The trace's CDR rows in file order (cdr_csv with ``usegmtime=yes``)."""
    with (traces_dir / f"{name}.cdr.csv").open(newline="") as fh:
        return [
            CdrRow(
                r[5],
                r[6],
                _cdr_time(r[9]) or 0.0,
                _cdr_time(r[10]),
                _cdr_time(r[11]) or 0.0,
                int(r[12]),
                int(r[13]),
                r[14],
            )
            for r in csv.reader(fh)
        ]
