"""The one way a finished call is stored, whichever telephony front saw it (AMI or Twilio)."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy.orm import Session

from crm_core.metrics import Metrics
from crm_core.services.active_calls import drop_active_call
from crm_core.services.call_records import RecordOutcome, record_finished_call
from routing.call_state import CallState
from routing.missed_policy import PolicyConfig, Verdict, classify, finished_call


def store_finished_call(
    session: Session,
    pbx: str,
    call: CallState,
    *,
    policy: PolicyConfig,
    metrics: Metrics,
    region: str,
    repeat_window: timedelta,
) -> tuple[Verdict, RecordOutcome]:
    """Classify ``call``, write its record (and missed call) once, forget its in-flight state, count it."""
    verdict = classify(call, policy)
    outcome = record_finished_call(
        session, pbx, finished_call(call, verdict), region=region, repeat_window=repeat_window
    )
    drop_active_call(session, pbx, call.linkedid)
    if outcome.created:
        metrics.calls_recorded.labels(disposition=verdict.disposition.value).inc()
        if outcome.missed_call is not None and verdict.missed_reason is not None:
            metrics.missed_calls.labels(reason=verdict.missed_reason.value).inc()
    return verdict, outcome
