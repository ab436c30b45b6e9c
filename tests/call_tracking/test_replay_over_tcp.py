"""Real traces over a real TCP AMI session -> the transport's client -> CallTrackingSink -> database."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from crm_core.metrics import Metrics
from crm_core.models.call_tracking import ActiveCall
from crm_core.models.calls import CallRecord, MissedCall
from crm_core.models.enums import CallDisposition, MissedReason
from pbx_bridge.ami.call_tracking_sink import CallTrackingSink
from pbx_bridge.ami.client import AmiClient
from tests.ami.helpers import fast_config, wait_until
from tests.ami.standin import AmiStandIn
from tests.ami.trace import load_trace
from tests.call_tracking.tcp_replay import calls_recorded
from tests.call_tracking.test_traces import EXPECTED


async def _serve(standin: AmiStandIn, sink: CallTrackingSink, metrics: Metrics, calls: int) -> None:
    client = AmiClient(fast_config(standin.port), sink, metrics)
    await client.start()
    try:
        await wait_until(lambda: calls_recorded(metrics) >= calls, timeout=10)
        await wait_until(lambda: standin.replay_done.is_set() and client.queue_depth == 0)
    finally:
        await client.stop()


@pytest.mark.parametrize(
    "name", ["a", "b", "d", "g", "h", "i", "l", "m", "sip/s1", "sip/s2", "sip/s6", "sip/s8"]
)
async def test_trace_over_tcp_yields_its_records(
    traces_dir: Path, sessions: sessionmaker[Session], name: str
) -> None:
    trace = load_trace(traces_dir / f"{name}.ami")
    metrics = Metrics()
    sink = CallTrackingSink(sessions, metrics)
    async with AmiStandIn(trace) as standin:
        await _serve(standin, sink, metrics, calls=2 if name == "m" else 1)
    with sessions() as s:
        records = s.scalars(select(CallRecord)).all()
        assert records and all(r.linkedid in EXPECTED for r in records)
        for r in records:
            direction, _caller, _callee, target, _reason, _ring, talk = EXPECTED[r.linkedid]
            assert (r.direction, r.answered_by_target) == (direction, target)
            assert (r.disposition is CallDisposition.ANSWERED) is (target is not None)
            if talk is not None:
                assert r.talk_seconds == pytest.approx(talk, abs=0.1)
        missed = {m.reason for m in s.scalars(select(MissedCall))}
        assert missed == {EXPECTED[r.linkedid][4] for r in records} - {None}
        assert s.scalars(select(ActiveCall)).all() == []


async def test_link_cut_mid_call_with_lost_events_still_yields_one_correct_record(
    traces_dir: Path, sessions: sessionmaker[Session]
) -> None:
    trace = load_trace(traces_dir / "g.ami")
    cut = next(i for i, m in enumerate(trace.messages) if b"DialStatus: NOANSWER" in m)
    metrics = Metrics()
    sink = CallTrackingSink(sessions, metrics)
    async with AmiStandIn(trace) as standin:
        standin.cut_at, standin.lost_on_cut = cut, 7  # m2's NOANSWER and what follows are lost
        await _serve(standin, sink, metrics, calls=1)
    with sessions() as s:
        (record,) = s.scalars(select(CallRecord)).all()
        assert record.linkedid == "1795876003.670"
        assert record.disposition is CallDisposition.ANSWERED
        assert record.answered_by_target == "Local/answer-c1@agents"
        assert s.scalars(select(MissedCall)).all() == []


async def test_link_lost_until_after_a_missed_call_ended_still_opens_it(
    traces_dir: Path, sessions: sessionmaker[Session]
) -> None:
    trace = load_trace(traces_dir / "sip/s2.ami")
    began = next(i for i, m in enumerate(trace.messages) if b"Event: DialBegin" in m)
    metrics = Metrics()
    sink = CallTrackingSink(sessions, metrics)
    async with AmiStandIn(trace) as standin:
        standin.cut_at, standin.lost_on_cut = began + 1, len(trace.messages)  # the rest happens unseen
        await _serve(standin, sink, metrics, calls=1)
    with sessions() as s:
        (record,) = s.scalars(select(CallRecord)).all()
        assert record.disposition is CallDisposition.NO_ANSWER
        (missed,) = s.scalars(select(MissedCall)).all()
        assert missed.caller_number == "+79001234512"
        assert missed.reason is MissedReason.MANAGER_NO_ANSWER
