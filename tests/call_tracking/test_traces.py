"""Every real trace, translated and folded, yields the outcome its README states and agrees with the CDR."""

from __future__ import annotations

from pathlib import Path

import pytest

from crm_core.models.enums import CallDirection, CallDisposition, MissedReason
from tests.call_tracking.helpers import TRACES, cdr_outcomes, fold, trace_frames

IN, OUT = CallDirection.INBOUND, CallDirection.OUTBOUND
ANS = CallDisposition.ANSWERED
DID = "+74951234567"

# From the traces' READMEs: direction, caller, callee, answered target, missed reason, ring s, talk s.
EXPECTED = {
    "1795875455.438": (IN, "+79001234567", DID, "Local/answer-m1@agents", None, 1.0, 3.5),
    "1795875461.442": (IN, "+79001234568", DID, None, MissedReason.MANAGER_NO_ANSWER, 20.0, None),
    "1795875482.446": (IN, "+79001234569", DID, None, MissedReason.BUSY, 0.0, None),
    "1795875484.450": (IN, "+79001234570", DID, None, MissedReason.ABANDONED, 5.0, None),
    "1795875499.464": (IN, "+79001234573", DID, "Local/reception@agents", None, 1.0, 5.5),
    "1795876003.670": (IN, "+79001234574", DID, "Local/answer-c1@agents", None, 7.0, 3.5),
    "1795876016.676": (IN, "+79001234575", DID, None, MissedReason.CHAIN_NO_ANSWER, 12.0, None),
    "1795876031.682": (OUT, "101", "+79001234568", "Local/+79001234568@pstn", None, 1.0, 3.5),
    "1795876056.698": (IN, "+79001234578", DID, "Local/answer-q5@agents", None, 1.0, 3.5),
    "1795876063.704": (IN, "anonymous", DID, "Local/reception@agents", None, 1.0, 5.5),
    "1795876070.708": (IN, None, DID, "Local/reception@agents", None, 1.0, 5.5),
    "1795876970.22": (IN, "+79001234511", DID, "PJSIP/m1", None, 1.0, 3.5),
    "1795876979.24": (IN, "+79001234512", DID, None, MissedReason.MANAGER_NO_ANSWER, 8.0, None),
    "1795877017.33": (OUT, "101", "+79001234516", "PJSIP/trunk", None, 1.0, 3.5),
    "1795877037.39": (IN, "+79001234518", DID, "PJSIP/m1", None, 1.0, 7.0),  # m1 2.5 s, then m2 3.5 s
}
_CDR = {"ANSWERED": {ANS}, "BUSY": {CallDisposition.BUSY}}


@pytest.mark.parametrize("name", TRACES)
def test_trace_outcome_matches_readme_and_cdr(traces_dir: Path, name: str) -> None:
    frames = trace_frames(traces_dir, name)
    outcomes = fold(frames)
    cdr = cdr_outcomes(traces_dir, name, frames)
    assert outcomes and set(outcomes) == set(cdr)
    for lid, got in outcomes.items():
        direction, caller, callee, target, reason, ring, talk = EXPECTED[lid]
        v = got.verdict
        assert (v.direction, v.caller_number, v.callee_number) == (direction, caller, callee)
        assert got.call.answered_target == target
        assert v.answered_by_person is (target is not None)
        assert v.missed_reason is reason
        assert v.ring_seconds == pytest.approx(ring, abs=0.1)
        assert v.talk_seconds == (None if talk is None else pytest.approx(talk, abs=0.1))
        expected_dispositions = _CDR.get(cdr[lid], {CallDisposition.NO_ANSWER, CallDisposition.ABANDONED})
        assert v.disposition in expected_dispositions, (lid, cdr[lid])
        assert got.call.complete


def test_fallback_answer_is_not_missed_and_keeps_the_managers_no_answer(traces_dir: Path) -> None:
    (got,) = fold(trace_frames(traces_dir, "g")).values()
    assert got.verdict.disposition is ANS and got.verdict.missed_reason is None
    assert [(d.target, d.status) for d in got.call.dials] == [
        ("Local/noanswer-m2@agents", "NOANSWER"),
        ("Local/answer-c1@agents", "ANSWER"),
    ]
    assert got.call.route_vars["ROUTE_FALLBACK"] == "Local/answer-c1@agents"


def test_queue_member_answer_counts_once_despite_duplicated_cancel(traces_dir: Path) -> None:
    (got,) = fold(trace_frames(traces_dir, "l")).values()
    assert got.call.queue == "support"
    assert [(d.target, d.status) for d in got.call.dials] == [
        ("Local/noanswer-q4@agents", "CANCEL"),
        ("Local/answer-q5@agents", "ANSWER"),
    ]


def test_short_abandon_threshold_is_configurable(traces_dir: Path) -> None:
    from routing.missed_policy import PolicyConfig, classify

    (got,) = fold(trace_frames(traces_dir, "d")).values()
    assert classify(got.call, PolicyConfig(short_abandon_s=6)).missed_reason is MissedReason.SHORT_ABANDON
    assert classify(got.call, PolicyConfig(short_abandon_s=3)).missed_reason is MissedReason.ABANDONED


def test_answer_by_a_machine_target_is_not_answered_by_a_person(traces_dir: Path) -> None:
    from routing.missed_policy import PolicyConfig, classify

    (got,) = fold(trace_frames(traces_dir, "f")).values()  # answered by Local/reception@agents
    verdict = classify(got.call, PolicyConfig(machine_targets=("*reception*",)))
    assert not verdict.answered_by_person
    assert verdict.missed_reason is MissedReason.NOT_ANSWERED_BY_PERSON
    assert verdict.disposition is ANS  # Asterisk's CDR says ANSWERED too


def test_after_hours_route_marks_the_missed_call(traces_dir: Path) -> None:
    frames = trace_frames(traces_dir, "sip/s2")
    at = next(i for i, f in enumerate(frames) if f.get("Event") == "VarSet")
    flag = dict(frames[at], Variable="ROUTE_AFTER_HOURS", Value="1")
    (got,) = fold([*frames[:at], flag, *frames[at:]]).values()
    assert got.verdict.missed_reason is MissedReason.AFTER_HOURS
    assert got.verdict.disposition is CallDisposition.NO_ANSWER
