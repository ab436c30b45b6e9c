"""The demo PBX's recordings are the real ones, and a rewritten call keeps their events and spacing."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from callrouter.demo_pbx.recording import load_recording
from callrouter.demo_pbx.rewrite import CallPlan, rewrite, splice_agi, timestamp, trunk_leg

PACKAGED = Path(__file__).parents[2] / "callrouter" / "demo_pbx" / "recordings"
SERVE_ANSWER = (
    'SET VARIABLE ROUTE_KIND "manager"',
    'SET VARIABLE ROUTE_TARGET "PJSIP/101"',
    'SET VARIABLE ROUTE_TIMEOUT "20"',
    'SET VARIABLE ROUTE_MANAGER_ID "3"',
)
START = 1_800_000_000.25


@pytest.mark.parametrize("name", ["s1.ami", "s1.agi", "s2.ami", "s2.agi"])
def test_packaged_copies_are_the_recordings(name: str, traces_dir: Path) -> None:
    assert (PACKAGED / name).read_bytes() == (traces_dir / "sip" / name).read_bytes()


def _outside_agi(frames: list[dict[str, str]]) -> list[str]:
    """The event names, without the AGI commands and the ROUTE_* variables they set."""
    return [
        f["Event"]
        for f in frames
        if not f["Event"].startswith("AGIExec") and not f.get("Variable", "").startswith("ROUTE_")
    ]


def _values(frames: list[dict[str, str]]) -> str:
    return "\n".join(v for f in frames for v in f.values())


@pytest.mark.parametrize("name", ["s1", "s2"])
def test_rewrite_substitutes_caller_phone_ids_and_times(name: str) -> None:
    rec = load_recording(name)
    plan = CallPlan("+79001234567", "PJSIP/101", START, sequence=40)
    out = splice_agi(rewrite(rec.events, plan), SERVE_ANSWER)
    text = _values(out)
    old_ids = {e["Uniqueid"] for e in rec.events if e.get("Event") == "Newchannel"}
    old_caller = rec.events[0]["CallerIDNum"]
    endpoint = next(e["DialString"] for e in rec.events if e.get("Event") == "DialBegin")
    for stale in (*old_ids, old_caller, f"PJSIP/{endpoint}", "1795876"):
        assert stale not in text, stale
    assert not any(re.fullmatch(r"m\d", v) for f in out for v in f.values())
    channel, linkedid = trunk_leg(rec.events, plan)
    assert (channel, linkedid) == ("PJSIP/trunk-00000028", "1800000000.40")
    assert {f["Linkedid"] for f in out if "Linkedid" in f} == {linkedid}
    dial = next(f for f in out if f.get("Event") == "DialBegin")
    assert (dial["DestChannel"], dial["DialString"], dial["DestCallerIDNum"]) == (
        "PJSIP/101-00000029",
        "101",
        "101",
    )
    assert dial["CallerIDNum"] == "+79001234567"

    # the same events in the same order, except the AGI block, which is serve's answer
    assert _outside_agi(out) == _outside_agi(list(rec.events))
    route = {
        f["Variable"]: f["Value"]
        for f in out
        if f.get("Event") == "VarSet" and f["Variable"].startswith("ROUTE_")
    }
    assert route == {
        "ROUTE_KIND": "manager",
        "ROUTE_TARGET": "PJSIP/101",
        "ROUTE_TIMEOUT": "20",
        "ROUTE_MANAGER_ID": "3",
    }
    # spacing kept: first event at the plan's start, the whole call as long as the recording (AGI block aside)
    times = [t for f in out if (t := timestamp(f)) is not None]
    assert times == sorted(times) and times[0] == pytest.approx(START)
    old = [t for f in rec.events if (t := timestamp(f)) is not None]
    assert times[-1] - times[0] == pytest.approx(old[-1] - old[0], abs=0.01)


def test_cdr_times_move_with_the_call() -> None:
    out = rewrite(load_recording("s2").events, CallPlan("+79001234567", "PJSIP/101", START, sequence=1))
    cdr = next(f for f in out if f.get("Event") == "Cdr")
    assert cdr["StartTime"] == "2027-01-15 08:00:00"  # 1800000000 = 2027-01-15 08:00:00 UTC
    assert cdr["Source"] == "+79001234567" and cdr["LastData"] == "PJSIP/101,8"
