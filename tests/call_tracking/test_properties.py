"""Folding is robust to what Asterisk and the link really do: duplicates, interleaved calls, cuts."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from crm_core.models.enums import CallDirection
from routing.call_state import CallState, CallTracker
from tests.ami.trace import trace_names
from tests.call_tracking.helpers import Frame, Outcome, finish_all, fold, live_snapshot, trace_frames

TRACES_DIR = Path(__file__).resolve().parents[1] / "asterisk-traces"
TRACES = trace_names(TRACES_DIR)  # every recording: these properties need no expected outcome
FRAMES = {name: trace_frames(TRACES_DIR, name) for name in TRACES}
BASELINE = {name: fold(frames) for name, frames in FRAMES.items()}
_SETTINGS = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _key(o: Outcome) -> tuple[object, ...]:
    c = o.call
    legs = [(leg.target, leg.answered_at, leg.ended_at) for leg in c.legs]
    dials = [(d.target, d.status) for d in c.dials]
    return (o.verdict, c.answered_target, dials, c.route_vars, c.queue, legs)


def _same(got: dict[str, Outcome], want: dict[str, Outcome]) -> None:
    assert {k: _key(v) for k, v in got.items()} == {k: _key(v) for k, v in want.items()}


@_SETTINGS
@given(name=st.sampled_from(TRACES), data=st.data())
def test_duplicated_events_change_nothing(name: str, data: st.DataObject) -> None:
    frames = FRAMES[name]
    dup = data.draw(st.sets(st.integers(0, len(frames) - 1), max_size=40))
    stream: list[Frame] = []
    for i, frame in enumerate(frames):
        stream.append(frame)
        if i in dup:
            stream.append(dict(frame))
    _same(fold(stream), BASELINE[name])


def test_replaying_a_whole_trace_again_changes_nothing() -> None:
    tracker = CallTracker()
    first = fold(FRAMES["g"], tracker)
    assert fold(FRAMES["g"], tracker) == {}  # stragglers of a finished call are ignored
    _same(first, BASELINE["g"])


@_SETTINGS
@given(pair=st.permutations(TRACES).map(lambda p: p[:2]), data=st.data())
def test_interleaved_concurrent_calls_fold_independently(pair: list[str], data: st.DataObject) -> None:
    a, b = (FRAMES[n] for n in pair)
    picks = data.draw(st.lists(st.booleans(), min_size=len(a) + len(b), max_size=len(a) + len(b)))
    ia = ib = 0
    stream: list[Frame] = []
    for take_a in picks:
        if (take_a and ia < len(a)) or ib >= len(b):
            stream.append(a[ia])
            ia += 1
        else:
            stream.append(b[ib])
            ib += 1
    _same(fold(stream), {**BASELINE[pair[0]], **BASELINE[pair[1]]})


@pytest.mark.parametrize("name", TRACES)
def test_reconnect_at_every_position_with_the_live_snapshot_yields_the_same_record(name: str) -> None:
    frames = FRAMES[name]
    for cut in range(len(frames) + 1):
        tracker = CallTracker()
        before = fold(frames[:cut], tracker)
        snap = live_snapshot(frames, cut)
        reconciled = finish_all(tracker, snap, at=_time_at(frames, cut))
        after = fold(frames[cut:], _restarted(tracker))
        assert not reconciled, f"cut {cut}: a live call was finished"
        _same({**before, **after}, BASELINE[name])
        live_at_cut = {c["Linkedid"] for c in snap}
        assert all(o.call.approximate is (lid in live_at_cut) for lid, o in {**before, **after}.items())


@pytest.mark.parametrize("name", TRACES)
def test_link_lost_for_good_at_every_position_yields_one_record_per_started_call(name: str) -> None:
    frames = FRAMES[name]
    for cut in range(len(frames) + 1):
        tracker = CallTracker()
        got = fold(frames[:cut], tracker)
        late = finish_all(tracker, [], at=_time_at(frames, cut))
        assert not set(got) & set(late) and not tracker.calls
        assert set(got) | set(late) == _started(frames, cut)
        for lid, outcome in {**got, **late}.items():
            full = BASELINE[name][lid]
            if full.verdict.direction is CallDirection.INBOUND:
                assert outcome.verdict.direction is CallDirection.INBOUND
            answered_before_cut = full.call.answered_at is not None and full.call.answered_at <= _time_at(
                frames, cut
            )
            assert outcome.verdict.answered_by_person is answered_before_cut


@_SETTINGS
@given(name=st.sampled_from(TRACES), data=st.data())
def test_gap_then_snapshot_then_rest_yields_exactly_one_record(name: str, data: st.DataObject) -> None:
    frames = FRAMES[name]
    cut = data.draw(st.integers(0, len(frames)))
    resume = data.draw(st.integers(cut, len(frames)))
    tracker = CallTracker()
    got = fold(frames[:cut], tracker)
    late = finish_all(tracker, live_snapshot(frames, resume), at=_time_at(frames, resume))
    rest = fold(frames[resume:], tracker)
    finished = [*got, *late, *rest]
    assert len(finished) == len(set(finished)) and not tracker.calls
    assert _started(frames, cut) <= set(finished)
    for lid in finished:
        outcome = {**got, **late, **rest}[lid]
        full = BASELINE[name][lid]
        if full.call.answered_at is not None and full.call.answered_at <= _time_at(frames, cut):
            assert outcome.call.answered_target == full.call.answered_target


def _time_at(frames: list[Frame], cut: int) -> float:
    stamps = [float(f["Timestamp"]) for f in frames[:cut] if "Timestamp" in f]
    return stamps[-1] if stamps else 0.0


def _started(frames: list[Frame], cut: int) -> set[str]:
    return {f["Linkedid"] for f in frames[:cut] if f.get("Event") == "Newchannel"}


def _restarted(tracker: CallTracker) -> CallTracker:
    """A tracker rebuilt from the serialized states, as after a process restart."""
    return CallTracker([CallState.from_dict(s.to_dict()) for s in tracker.calls.values()])
