"""A restart in the middle of a call: the sink is rebuilt from the persisted in-flight state, reconciles a
live snapshot, then gets the rest of the stream. Stored values are checked against the PBX's CDR."""

from __future__ import annotations

import math
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from crm_core.metrics import Metrics
from crm_core.models.call_tracking import ActiveCall
from crm_core.models.calls import CallLeg, CallRecord
from crm_core.models.people import Manager
from pbx_bridge.ami.call_tracking_sink import CallTrackingSink
from tests.call_tracking.helpers import Frame, cdr_rows, live_snapshot, trace_frames


def _at(frames: list[Frame], event: str, nth: int = 0) -> int:
    return [i for i, f in enumerate(frames) if f.get("Event") == event][nth]


async def _restart(
    sessions: sessionmaker[Session], frames: list[Frame], cut: int, resume: int, *, late: bool
) -> tuple[CallRecord, list[CallLeg]]:
    with sessions() as s, s.begin():
        s.add_all([Manager(name=n, login=n, dial_target=f"PJSIP/{n}") for n in ("m1", "m2")])
    before = CallTrackingSink(sessions, Metrics())
    for frame in frames[:cut]:
        await before.handle("main", frame)
    with sessions() as s:
        assert s.scalars(select(ActiveCall)).all()  # the call in progress is persisted
    snapshot_at = float([f for f in frames[:resume] if "Timestamp" in f][-1]["Timestamp"])
    after = CallTrackingSink(sessions, Metrics(), clock=lambda: snapshot_at)  # a new process
    await after.reconcile("main", live_snapshot(frames, resume))
    for frame in frames[cut if late else resume :]:
        await after.handle("main", frame)
    with sessions() as s:
        record = s.scalars(select(CallRecord)).one()
        legs = list(s.scalars(select(CallLeg).order_by(CallLeg.position)))
        return record, legs


async def test_restart_while_ringing_then_the_gap_delivered_late_stores_the_cdrs_times(
    traces_dir: Path, sessions: sessionmaker[Session]
) -> None:
    frames = trace_frames(traces_dir, "sip/s1")
    record, (leg,) = await _restart(
        sessions, frames, _at(frames, "DialBegin") + 1, _at(frames, "HangupRequest"), late=True
    )
    (cdr,) = cdr_rows(traces_dir, "sip/s1")
    assert record.answered_at is not None and record.ended_at is not None
    assert math.floor(record.answered_at.timestamp()) == cdr.answer
    assert math.floor(record.ended_at.timestamp()) == cdr.end
    assert math.floor(record.talk_seconds or 0) == cdr.billsec == 3
    assert record.ring_seconds == pytest.approx(1.006, abs=0.01)  # was 4.5 s: the snapshot's time
    assert leg.talk_seconds == pytest.approx(3.506, abs=0.01) and not leg.approximate
    assert record.approximate  # it was in progress across a gap: nothing proves no event was lost


async def test_restart_while_ringing_with_the_answer_lost_is_marked_approximate(
    traces_dir: Path, sessions: sessionmaker[Session]
) -> None:
    frames = trace_frames(traces_dir, "sip/s1")
    record, (leg,) = await _restart(
        sessions, frames, _at(frames, "DialBegin") + 1, _at(frames, "HangupRequest"), late=False
    )
    assert record.approximate and leg.approximate
    assert leg.target == "PJSIP/m1" and record.answered_by_target == "PJSIP/m1"


async def test_s8_restart_across_the_transfer_keeps_the_cdrs_legs(
    traces_dir: Path, sessions: sessionmaker[Session]
) -> None:
    frames = trace_frames(traces_dir, "sip/s8")
    record, legs = await _restart(
        sessions, frames, _at(frames, "BridgeEnter", 1) + 1, _at(frames, "HangupRequest"), late=True
    )
    first, second = cdr_rows(traces_dir, "sip/s8")
    m1, m2 = legs
    assert (m1.target, m2.target, record.transferred_to) == ("PJSIP/m1", "PJSIP/m2", "PJSIP/m2")
    assert math.floor(m1.answered_at.timestamp()) == first.answer
    assert m1.ended_at is not None and m2.ended_at is not None
    assert (
        math.floor(m1.ended_at.timestamp()) == first.end and math.floor(m1.talk_seconds or 0) == first.billsec
    )
    assert math.floor(m2.ended_at.timestamp()) == second.end
    assert math.floor((m2.ended_at - m1.ended_at).total_seconds()) == second.billsec
    assert not m1.approximate and not m2.approximate


async def test_s8_restart_with_the_transfer_lost_flags_both_legs(
    traces_dir: Path, sessions: sessionmaker[Session]
) -> None:
    frames = trace_frames(traces_dir, "sip/s8")
    record, legs = await _restart(
        sessions, frames, _at(frames, "BridgeEnter", 1) + 1, _at(frames, "HangupRequest"), late=False
    )
    assert [(leg.target, leg.approximate) for leg in legs] == [("PJSIP/m1", True), ("PJSIP/m2", True)]
    assert record.approximate and record.transferred_to == "PJSIP/m2"
    assert record.ring_seconds == pytest.approx(1.009, abs=0.01)  # the answer was seen before the gap
