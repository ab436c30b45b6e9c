"""Durations across a gap in the event stream (a restart or a lost AMI link) are exact or marked approximate.

The tracker is rebuilt from its serialized states (a restart), a live-channel snapshot taken at ``resume`` is
applied, then either the gap's events arrive late (with their own ``Timestamp``) or they are lost for good.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from routing.call_state import CallState, CallTracker
from tests.call_tracking.helpers import TRACES, Frame, Outcome, finish_all, fold, live_snapshot, trace_frames

TRACES_DIR = Path(__file__).resolve().parents[1] / "asterisk-traces"
FRAMES = {name: trace_frames(TRACES_DIR, name) for name in TRACES}
BASELINE = {name: fold(frames) for name, frames in FRAMES.items()}
_SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _time_at(frames: list[Frame], cut: int) -> float:
    stamps = [float(f["Timestamp"]) for f in frames[:cut] if "Timestamp" in f]
    return stamps[-1] if stamps else float(next(f["Timestamp"] for f in frames if "Timestamp" in f))


def _times(o: Outcome) -> tuple[object, ...]:
    legs = [(leg.target, leg.answered_at, leg.ended_at) for leg in o.call.legs]
    return (o.verdict.ring_seconds, o.verdict.talk_seconds, o.call.answered_at, o.call.ended_at, legs)


def _across_gap(name: str, cut: int, resume: int, late: bool) -> dict[str, Outcome]:
    frames = FRAMES[name]
    tracker = CallTracker()
    got = fold(frames[:cut], tracker)
    restarted = CallTracker([CallState.from_dict(s.to_dict()) for s in tracker.calls.values()])
    got |= finish_all(restarted, live_snapshot(frames, resume), at=_time_at(frames, resume))
    return got | fold(frames[cut if late else resume :], restarted)


@_SETTINGS
@given(name=st.sampled_from(TRACES), data=st.data(), late=st.booleans())
def test_a_record_not_marked_approximate_has_the_true_durations(
    name: str, data: st.DataObject, late: bool
) -> None:
    frames = FRAMES[name]
    cut = data.draw(st.integers(0, len(frames)))
    resume = data.draw(st.integers(cut, len(frames)))
    for lid, got in _across_gap(name, cut, resume, late).items():
        if not got.call.approximate:
            assert _times(got) == _times(BASELINE[name][lid]), (lid, cut, resume, late)


@_SETTINGS
@given(name=st.sampled_from(TRACES), data=st.data())
def test_gap_events_delivered_late_correct_the_durations_of_calls_alive_at_the_snapshot(
    name: str, data: st.DataObject
) -> None:
    frames = FRAMES[name]
    cut = data.draw(st.integers(0, len(frames)))
    resume = data.draw(st.integers(cut, len(frames)))
    alive = {c["Linkedid"] for c in live_snapshot(frames, resume)}
    seen = {f["Linkedid"] for f in frames[:cut] if f.get("Event") == "Newchannel"}
    for lid, got in _across_gap(name, cut, resume, late=True).items():
        if lid in alive or lid not in seen:
            assert _times(got) == _times(BASELINE[name][lid]), (lid, cut, resume)
        if lid not in seen and lid not in alive:  # began and ended in the gap: all its own events arrived
            assert not got.call.approximate


def _index(frames: list[Frame], event: str, nth: int = 0, **fields: str) -> int:
    hits = [
        i
        for i, f in enumerate(frames)
        if f.get("Event") == event and all(f.get(k) == v for k, v in fields.items())
    ]
    return hits[nth]


@pytest.mark.parametrize("name", ["sip/s1", "sip/s8", "g", "a"])
def test_answer_lost_in_a_restart_gap_is_approximate_and_never_claimed_exact(name: str) -> None:
    frames = FRAMES[name]
    began = _index(frames, "DialBegin")
    bridged = _index(frames, "BridgeEnter", 1) + 1  # the answer and the bridge happened unseen
    (got,) = _across_gap(name, began + 1, bridged, late=False).values()
    full = next(iter(BASELINE[name].values()))
    assert got.call.approximate and got.call.answered_guess
    assert got.call.answered_target == full.call.answered_target
    (late,) = _across_gap(name, began + 1, bridged, late=True).values()
    assert _times(late) == _times(full)  # the real answer replaced the guess
    assert late.call.approximate and late.call.spanned_gap and not late.call.answered_guess


def test_call_that_ended_in_the_gap_is_approximate() -> None:
    frames = FRAMES["sip/s1"]
    answer = _index(frames, "DialEnd", DialStatus="ANSWER")
    (got,) = _across_gap("sip/s1", answer + 1, len(frames), late=False).values()
    full = BASELINE["sip/s1"]["1795876970.22"]
    assert got.call.approximate and got.call.end_guess and not got.call.complete
    assert (got.verdict.talk_seconds or 0) < (full.verdict.talk_seconds or 0)  # a lower bound, flagged


def test_call_first_seen_in_the_snapshot_is_approximate() -> None:
    frames = FRAMES["sip/s8"]
    transfer = _index(frames, "BlindTransfer")
    (got,) = _across_gap("sip/s8", 0, transfer + 1, late=False).values()
    assert got.call.approximate and got.call.started_guess
    assert [leg.target for leg in got.call.legs] == ["PJSIP/m1", "PJSIP/m2"]
