"""Transfers: every answered leg is kept in order, each manager is credited with their own talk time.

s8 is a real SIP REFER transfer (AMI ``BlindTransfer``) recorded on Asterisk 20; its legs are checked against
the PBX's own CDR. Attended transfers have no recording: that test builds the ``AttendedTransfer`` event
with the fields Asterisk's AMI documentation lists (main/stasis_bridges.c) around two real recorded calls.
"""

from __future__ import annotations

import math
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from crm_core.metrics import Metrics
from crm_core.models.call_tracking import ActiveCall
from crm_core.models.calls import CallLeg, CallRecord, MissedCall
from crm_core.models.enums import CallDirection, CallDisposition
from crm_core.models.people import Manager
from pbx_bridge.ami.call_tracking_sink import CallTrackingSink
from tests.call_tracking.helpers import Frame, cdr_rows, fold, trace_frames

S8 = "sip/s8"
S8_LINKEDID = "1795877037.39"


def test_s8_blind_transfer_keeps_both_legs_as_the_cdr_times_them(traces_dir: Path) -> None:
    (got,) = fold(trace_frames(traces_dir, S8)).values()
    m1, m2 = got.call.legs
    first, second = cdr_rows(traces_dir, S8)
    assert (m1.target, m1.dial_string, m2.target, m2.dial_string) == ("PJSIP/m1", "m1", "PJSIP/m2", "m2")
    assert (first.dstchannel, second.dstchannel) == ("PJSIP/m1-00000028", "PJSIP/m2-00000029")
    # m1's leg is the first CDR row: answered 14:43:58, ended 14:44:00 when m1's phone sent REFER
    assert (math.floor(m1.answered_at), math.floor(m1.ended_at or 0)) == (first.answer, first.end)
    assert math.floor(m1.talk_seconds or 0) == first.billsec == 2
    # the second CDR row starts (and, the trunk being up, is "answered") at the transfer, so its billsec
    # counts m2's ring too: m2's own leg is shorter by that ring
    assert math.floor(m2.ended_at or 0) == second.end and second.answer == second.start
    assert math.floor((m2.ended_at or 0) - (m1.ended_at or 0)) == second.billsec == 4
    assert m2.talk_seconds == pytest.approx(3.505, abs=0.01)
    assert m2.answered_at - (m1.ended_at or 0) == pytest.approx(1.007, abs=0.01)  # m2 rang 1 s
    assert got.call.transferred and not got.call.approximate
    assert got.verdict.disposition is CallDisposition.ANSWERED and got.verdict.missed_reason is None


def _managers(sessions: sessionmaker[Session], *targets: str) -> list[int]:
    with sessions() as s, s.begin():
        rows = [
            Manager(name=t, login=t.lower().replace("/", "-"), extension=str(101 + n), dial_target=t)
            for n, t in enumerate(targets)
        ]
        s.add_all(rows)
        s.flush()
        return [m.id for m in rows]


async def _replay(sink: CallTrackingSink, frames: list[Frame]) -> None:
    for frame in frames:
        await sink.handle("main", frame)


async def test_s8_is_stored_with_legs_per_manager_and_never_missed(
    traces_dir: Path, sessions: sessionmaker[Session]
) -> None:
    m1, m2 = _managers(sessions, "PJSIP/m1", "PJSIP/m2")
    await _replay(CallTrackingSink(sessions, Metrics()), trace_frames(traces_dir, S8))
    with sessions() as s:
        record = s.scalars(select(CallRecord)).one()
        legs = s.scalars(select(CallLeg).order_by(CallLeg.position)).all()
        assert (record.linkedid, record.disposition) == (S8_LINKEDID, CallDisposition.ANSWERED)
        assert record.transferred_to == "PJSIP/m2" and not record.approximate
        assert record.answered_by_manager_id == m1
        assert [(leg.position, leg.target, leg.manager_id) for leg in legs] == [
            (0, "PJSIP/m1", m1),
            (1, "PJSIP/m2", m2),
        ]
        assert [leg.talk_seconds for leg in legs] == [
            pytest.approx(2.503, abs=0.01),
            pytest.approx(3.505, abs=0.01),
        ]
        assert all(not leg.approximate and leg.call_record_id == record.id for leg in legs)
        assert record.talk_seconds == pytest.approx(7.016, abs=0.01)  # the caller's whole conversation
        assert s.scalars(select(MissedCall)).all() == []
        assert s.scalars(select(ActiveCall)).all() == []


async def test_blind_transfer_to_nobody_is_still_an_answered_call(
    traces_dir: Path, sessions: sessionmaker[Session]
) -> None:
    frames = trace_frames(traces_dir, S8)
    dialled = next(
        i for i, f in enumerate(frames) if f.get("Event") == "DialBegin" and f["DialString"] == "m2"
    )
    trunk_hangup = next(
        f for f in frames if f.get("Event") == "Hangup" and f["Channel"].startswith("PJSIP/trunk")
    )
    gone = {**trunk_hangup, "Timestamp": str(float(frames[dialled]["Timestamp"]) + 2)}
    m2_gone = {
        **next(f for f in frames if f.get("Event") == "Hangup" and f["Channel"].startswith("PJSIP/m2")),
        "Timestamp": gone["Timestamp"],
    }
    await _replay(CallTrackingSink(sessions, Metrics()), [*frames[: dialled + 1], m2_gone, gone])
    with sessions() as s:
        record = s.scalars(select(CallRecord)).one()
        assert record.disposition is CallDisposition.ANSWERED and record.transferred_to is None
        assert [leg.target for leg in s.scalars(select(CallLeg))] == ["PJSIP/m1"]
        assert s.scalars(select(MissedCall)).all() == []


def _hangup(like: Frame, at: float, linkedid: str) -> Frame:
    return {**like, "Timestamp": f"{at:.6f}", "Linkedid": linkedid}


def _attended(at: float, client: Frame, orig: Frame, second: Frame, target: Frame) -> Frame:
    """An ``AttendedTransfer`` (DestType Bridge) as main/stasis_bridges.c documents and formats it."""
    frame: Frame = {"Event": "AttendedTransfer", "Timestamp": f"{at:.6f}", "Result": "Success"}
    for prefix, chan in (
        ("OrigTransferer", orig),
        ("SecondTransferer", second),
        ("Transferee", client),
        ("TransferTarget", target),
    ):
        for key in ("Channel", "ChannelState", "ChannelStateDesc", "CallerIDNum", "Uniqueid", "Linkedid"):
            frame[prefix + key] = chan[key]
    return {**frame, "IsExternal": "No", "DestType": "Bridge", "DestBridgeUniqueid": "b-1"}


async def test_attended_transfer_moves_the_target_into_the_clients_call(
    traces_dir: Path, sessions: sessionmaker[Session]
) -> None:
    """s1 (the client talks to m1) while m1 consults with another party (s6's call, shifted into s1's
    conversation); m1 completes an attended transfer, the client then talks to the consulted party."""
    m1, _ = _managers(sessions, "PJSIP/m1", "PJSIP/trunk")
    client_call = trace_frames(traces_dir, "sip/s1")
    t0 = float(next(f["Timestamp"] for f in client_call if f.get("Event") == "Newchannel"))
    talking = next(i for i, f in enumerate(client_call) if f.get("Event") == "HangupRequest")
    consult = trace_frames(traces_dir, "sip/s6")
    c0 = float(next(f["Timestamp"] for f in consult if f.get("Event") == "Newchannel"))
    shift = t0 + 0.5 - c0

    def shifted(f: Frame) -> Frame:
        return {**f, "Timestamp": f"{float(f['Timestamp']) + shift:.6f}"} if "Timestamp" in f else f

    consult_up = next(i for i, f in enumerate(consult) if f.get("Event") == "HangupRequest")
    consult_frames = [shifted(f) for f in consult[:consult_up]]
    chans = {f["Uniqueid"]: f for f in [*client_call, *consult] if f.get("Event") == "Newchannel"}
    hangups = {f["Uniqueid"]: f for f in [*client_call, *consult] if f.get("Event") == "Hangup"}
    client, orig = chans["1795876970.22"], chans["1795876970.23"]
    second, target = chans["1795877017.33"], chans["1795877018.34"]
    lid1, lid2 = client["Linkedid"], second["Linkedid"]
    at = t0 + 5.0
    stream = [
        *client_call[:talking],
        *consult_frames,
        _attended(at, client, orig, second, target),
        _hangup(hangups[orig["Uniqueid"]], at + 0.001, lid1),
        _hangup(hangups[second["Uniqueid"]], at + 0.002, lid1),  # kicked after the merge: already renamed
        _hangup(hangups[target["Uniqueid"]], at + 4.0, lid1),
        _hangup(hangups[client["Uniqueid"]], at + 4.001, lid1),
    ]
    await _replay(CallTrackingSink(sessions, Metrics()), stream)
    with sessions() as s:
        records = {r.linkedid: r for r in s.scalars(select(CallRecord))}
        assert set(records) == {lid1, lid2}
        first, consultation = records[lid1], records[lid2]
        legs = s.scalars(select(CallLeg).where(CallLeg.call_record_id == first.id).order_by(CallLeg.position))
        got = [(leg.target, leg.manager_id, leg.talk_seconds) for leg in legs]
        assert got[0][:2] == ("PJSIP/m1", m1) and got[0][2] == pytest.approx(5.0 - 1.006, abs=0.01)
        assert got[1][0] == "PJSIP/trunk" and got[1][2] == pytest.approx(4.0, abs=0.01)
        assert len(got) == 2 and first.transferred_to == "PJSIP/trunk"
        assert first.disposition is CallDisposition.ANSWERED and first.talk_seconds == pytest.approx(
            8.0, abs=0.01
        )
        assert consultation.direction is CallDirection.OUTBOUND
        (consult_leg,) = s.scalars(select(CallLeg).where(CallLeg.call_record_id == consultation.id))
        assert consult_leg.talk_seconds == pytest.approx(5.0 - 0.5 - 2.009, abs=0.01)
        assert s.scalars(select(ActiveCall)).all() == []
        assert s.scalars(select(MissedCall)).all() == []


async def test_kpis_credit_each_manager_with_their_own_leg(
    traces_dir: Path, sessions: sessionmaker[Session]
) -> None:
    from datetime import date

    from crm_core.analytics.kpi import manager_kpis
    from crm_core.analytics.period import Period

    m1, m2 = _managers(sessions, "PJSIP/m1", "PJSIP/m2")
    await _replay(CallTrackingSink(sessions, Metrics()), trace_frames(traces_dir, S8))
    with sessions() as s:
        kpis = {
            k.manager_id: k for k in manager_kpis(s, Period(date(2026, 11, 1), date(2026, 11, 30)), "UTC")
        }
    assert (kpis[m1].calls_answered, kpis[m2].calls_answered) == (1, 1)
    assert kpis[m1].talk_seconds == pytest.approx(2.503, abs=0.01)
    assert kpis[m2].talk_seconds == pytest.approx(3.505, abs=0.01)
