"""The sink persists call records, missed calls and in-flight state on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from crm_core.metrics import Metrics
from crm_core.models.call_tracking import ActiveCall
from crm_core.models.calls import CallRecord, MissedCall
from crm_core.models.counterparties import Counterparty
from crm_core.models.enums import (
    CallDirection,
    CallDisposition,
    ListKind,
    ListTreatment,
    MissedReason,
    MissedStatus,
)
from crm_core.models.people import Manager
from crm_core.models.phones import NumberList, PhoneNumber
from pbx_bridge.ami.call_tracking_sink import CallTrackingSink
from tests.call_tracking.helpers import TRACES, Frame, live_snapshot, trace_frames


def _sink(sessions: sessionmaker[Session], metrics: Metrics | None = None) -> CallTrackingSink:
    return CallTrackingSink(sessions, metrics or Metrics())


async def _replay(sink: CallTrackingSink, frames: Sequence[Frame]) -> None:
    for frame in frames:
        await sink.handle("main", frame)


def _records(session: Session) -> list[CallRecord]:
    return list(session.scalars(select(CallRecord).order_by(CallRecord.started_at)))


def _renumbered(frames: Sequence[Frame], n: int, shift_s: float) -> list[Frame]:
    """The same call as a new conversation: ids get a suffix, times move by ``shift_s``."""
    out = []
    for f in frames:
        g = dict(f)
        for key in ("Uniqueid", "Linkedid", "DestUniqueid", "DestLinkedid"):
            if g.get(key, "").replace(".", "").isdigit():
                g[key] = f"{g[key]}{n:02d}"
        if "Timestamp" in g:
            g["Timestamp"] = f"{float(g['Timestamp']) + shift_s:.6f}"
        out.append(g)
    return out


@pytest.mark.parametrize("name", TRACES)
async def test_each_trace_is_recorded_once_even_when_replayed(
    traces_dir: Path, sessions: sessionmaker[Session], name: str
) -> None:
    frames = trace_frames(traces_dir, name)
    metrics = Metrics()
    await _replay(_sink(sessions, metrics), frames)
    await _replay(_sink(sessions, metrics), frames)  # a fresh consumer replays the whole stream
    with sessions() as s:
        records = _records(s)
        assert len(records) == len({f["Linkedid"] for f in frames if f.get("Event") == "Newchannel"})
        assert s.scalars(select(ActiveCall)).all() == []
        for r in records:
            assert r.pbx_system == "main" and r.ended_at is not None and r.ended_at >= r.started_at
            assert r.rung_targets


async def test_missed_call_then_outbound_callback_closes_it(
    traces_dir: Path, sessions: sessionmaker[Session]
) -> None:
    with sessions() as s, s.begin():
        m1 = Manager(name="M1", login="m1", extension="101", dial_target="Local/phone-m1@agents")
        m2 = Manager(name="M2", login="m2", extension="102", dial_target="Local/noanswer-m2@agents")
        s.add_all([m1, m2])
    sink = _sink(sessions)
    await _replay(sink, trace_frames(traces_dir, "b"))  # +79001234568 rings m2, nobody answers
    with sessions() as s:
        (missed,) = s.scalars(select(MissedCall)).all()
        assert (missed.caller_number, missed.reason, missed.status) == (
            "+79001234568",
            MissedReason.MANAGER_NO_ANSWER,
            MissedStatus.OPEN,
        )
        assert missed.assigned_manager_id == m2.id and missed.ring_seconds == pytest.approx(20, abs=0.1)
        b_record = s.get(CallRecord, missed.call_record_id)
        assert b_record is not None and b_record.unregistered_number
    await _replay(sink, trace_frames(traces_dir, "i"))  # m1 (101) calls +79001234568 back, answered
    with sessions() as s:
        missed = s.scalars(select(MissedCall)).one()
        callback = s.scalars(select(CallRecord).where(CallRecord.linkedid == "1795876031.682")).one()
        assert callback.direction is CallDirection.OUTBOUND and callback.caller_number == "101"
        assert missed.status is MissedStatus.CALLED_BACK
        assert missed.callback_call_record_id == callback.id
        assert missed.called_back_by_manager_id == m1.id
        assert missed.called_back_at == callback.answered_at
        assert missed.called_back_at is not None and missed.called_back_at > missed.created_at


async def test_escalated_missed_call_still_merges_repeats_and_closes_on_callback(
    traces_dir: Path, sessions: sessionmaker[Session]
) -> None:
    with sessions() as s, s.begin():
        s.add(Manager(name="M1", login="m1", extension="101", dial_target="Local/phone-m1@agents"))
    sink = _sink(sessions)
    missed_frames = trace_frames(traces_dir, "b")
    await _replay(sink, missed_frames)
    with sessions() as s, s.begin():
        s.scalars(select(MissedCall)).one().status = MissedStatus.ESCALATED
    await _replay(sink, _renumbered(missed_frames, 1, 600))  # the client tries again, ten minutes later
    with sessions() as s:
        missed = s.scalars(select(MissedCall)).one()
        assert (missed.status, missed.attempts) == (MissedStatus.ESCALATED, 2)
    await _replay(sink, _renumbered(trace_frames(traces_dir, "i"), 1, 1200))  # m1 calls back
    with sessions() as s:
        missed = s.scalars(select(MissedCall)).one()
        assert missed.status is MissedStatus.CALLED_BACK
        assert missed.called_back_at is not None


async def test_three_missed_calls_in_an_hour_make_one_open_missed_call(
    traces_dir: Path, sessions: sessionmaker[Session]
) -> None:
    frames = trace_frames(traces_dir, "b")
    sink = _sink(sessions)
    for n, shift in enumerate((0, 1200, 2400)):
        await _replay(sink, _renumbered(frames, n, shift))
    await _replay(sink, _renumbered(frames, 9, 2400 + 3 * 3600))  # hours later: a new one
    with sessions() as s:
        assert len(_records(s)) == 4
        first, later = s.scalars(select(MissedCall).order_by(MissedCall.id)).all()
        assert (first.attempts, later.attempts) == (3, 1)
        assert (later.last_attempt_at - first.last_attempt_at).total_seconds() == pytest.approx(3 * 3600)
        assert first.last_attempt_at > first.created_at


async def test_registered_client_is_linked_and_manager_identified(
    traces_dir: Path, sessions: sessionmaker[Session]
) -> None:
    with sessions() as s, s.begin():
        m1 = Manager(name="M1", login="m1", extension="101", dial_target="PJSIP/m1")
        s.add(m1)
        s.flush()
        client = Counterparty(name="Client", manager_id=m1.id)
        s.add(client)
        s.flush()
        s.add(PhoneNumber(e164="+79001234511", counterparty_id=client.id))
    await _replay(_sink(sessions), trace_frames(traces_dir, "sip/s1"))
    with sessions() as s:
        (record,) = _records(s)
        assert record.counterparty_id == client.id and not record.unregistered_number
        assert record.answered_by_manager_id == m1.id and record.answered_by_target == "PJSIP/m1"
        rung = record.rung_targets or []
        assert rung == [
            {
                "target": "PJSIP/m1",
                "status": "ANSWER",
                "manager_id": m1.id,
                "queue": None,
                "began_at": rung[0]["began_at"],
                "ended_at": rung[0]["ended_at"],
            }
        ]
        assert record.talk_seconds == pytest.approx(3.5, abs=0.1)


async def test_withheld_caller_is_recorded_but_never_registered(
    traces_dir: Path, sessions: sessionmaker[Session]
) -> None:
    await _replay(_sink(sessions), trace_frames(traces_dir, "m"))
    with sessions() as s:
        records = _records(s)
        assert [(r.caller_number, r.unregistered_number, r.disposition) for r in records] == [
            (None, False, CallDisposition.ANSWERED),
            (None, False, CallDisposition.ANSWERED),
        ]
        assert s.scalars(select(MissedCall)).all() == []


async def test_blacklisted_call_is_rejected_not_missed(
    traces_dir: Path, sessions: sessionmaker[Session]
) -> None:
    frames = trace_frames(traces_dir, "sip/s2")
    first_varset = next(i for i, f in enumerate(frames) if f.get("Event") == "VarSet")
    kind = dict(frames[first_varset], Variable="ROUTE_KIND", Value="blacklist")
    with sessions() as s, s.begin():
        bl = NumberList(name="bl", kind=ListKind.BLACKLIST, treatment=ListTreatment.REJECT)
        s.add(bl)
        s.flush()
        s.add(PhoneNumber(e164="+79001234512", number_list_id=bl.id))
    await _replay(_sink(sessions), [*frames[:first_varset], kind, *frames[first_varset:]])
    with sessions() as s:
        (record,) = _records(s)
        assert record.disposition is CallDisposition.REJECTED and record.route_kind == "blacklist"
        assert not record.unregistered_number
        assert s.scalars(select(MissedCall)).all() == []


async def test_restart_mid_call_continues_from_the_database(
    traces_dir: Path, sessions: sessionmaker[Session]
) -> None:
    frames = trace_frames(traces_dir, "g")
    half = next(i for i, f in enumerate(frames) if f.get("Event") == "DialEnd" and f.get("Channel"))
    await _replay(_sink(sessions), frames[: half + 1])  # m2's NOANSWER is persisted, then the process dies
    with sessions() as s:
        (active,) = s.scalars(select(ActiveCall)).all()
        assert active.linkedid == "1795876003.670" and active.state["dials"][0]["status"] == "NOANSWER"
    await _replay(_sink(sessions), frames[half + 1 :])
    with sessions() as s:
        (record,) = _records(s)
        assert record.disposition is CallDisposition.ANSWERED
        assert [t["status"] for t in record.rung_targets or []] == ["NOANSWER", "ANSWER"]
        assert s.scalars(select(ActiveCall)).all() == []


async def test_reconnect_after_the_call_ended_during_the_gap(
    traces_dir: Path, sessions: sessionmaker[Session]
) -> None:
    frames = trace_frames(traces_dir, "sip/s1")
    answered = next(i for i, f in enumerate(frames) if f.get("Event") == "BridgeEnter")
    sink = _sink(sessions)
    await _replay(sink, frames[: answered + 1])
    await sink.reconcile("main", live_snapshot(frames, answered + 1))  # link bounced, call still up
    await sink.reconcile("main", [])  # link lost until after the hangup
    await _replay(sink, frames[answered + 1 :])  # late stragglers, if any, change nothing
    with sessions() as s:
        (record,) = _records(s)
        assert record.disposition is CallDisposition.ANSWERED and record.answered_by_target == "PJSIP/m1"
        assert s.scalars(select(ActiveCall)).all() == []


async def test_call_first_seen_in_a_snapshot_is_seeded_and_finished(
    traces_dir: Path, sessions: sessionmaker[Session]
) -> None:
    frames = trace_frames(traces_dir, "sip/s1")
    answered = next(i for i, f in enumerate(frames) if f.get("Event") == "BridgeEnter") + 2
    sink = _sink(sessions)
    await sink.reconcile("main", live_snapshot(frames, answered))  # started while we were away
    with sessions() as s:
        assert s.scalars(select(ActiveCall.linkedid)).all() == ["1795876970.22"]
    await _replay(sink, frames[answered:])
    with sessions() as s:
        (record,) = _records(s)
        assert record.direction is CallDirection.INBOUND and record.caller_number == "+79001234511"
        assert record.answered_by_target == "PJSIP/m1" and record.talk_seconds is not None


async def test_malformed_events_are_counted_not_raised(sessions: sessionmaker[Session]) -> None:
    metrics = Metrics()
    sink = _sink(sessions, metrics)
    await sink.handle("main", {"Event": "Hangup", "Uniqueid": "1.1"})
    await sink.handle("main", {"Event": "Hangup", "Uniqueid": "1.1", "Linkedid": "1.1", "Timestamp": "x"})
    await sink.handle(
        "main", {"Event": "DialBegin", "Channel": "PJSIP/a-1", "Uniqueid": "1", "Linkedid": "1"}
    )
    await sink.handle("main", {"Event": "Hangup", "Uniqueid": "1.1", "Linkedid": "1.1", "Cause": "oops"})
    await sink.handle("main", {"Event": "SomethingNew", "Linkedid": "1.1"})
    faults = {
        s.labels["kind"]: s.value
        for m in metrics.ami_faults.collect()
        for s in m.samples
        if s.name.endswith("_total")
    }
    assert faults == {"missing_id": 1.0, "bad_timestamp": 1.0, "malformed": 2.0}
    with sessions() as s:
        assert _records(s) == []
