"""The one way a finished call is stored, whichever telephony front saw it (AMI or Twilio)."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy.orm import Session

from crm_core.metrics import Metrics
from crm_core.services import missed_events, notification_outbox
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
    _announce(session, outcome)
    if outcome.created:
        metrics.calls_recorded.labels(disposition=verdict.disposition.value).inc()
        if outcome.missed_call is not None and verdict.missed_reason is not None:
            metrics.missed_calls.labels(reason=verdict.missed_reason.value).inc()
    return verdict, outcome


def _announce(session: Session, outcome: RecordOutcome) -> None:
    """Tell live views (after commit) which missed calls this call opened, grew or closed."""
    if not outcome.created:
        return
    if outcome.missed_call is not None:
        missed_events.announce(session, outcome.missed_call, "updated" if outcome.missed_merged else "opened")
    for missed in outcome.called_back:
        notification_outbox.mark_read_for_missed_call(session, missed.id)
        missed_events.announce(session, missed, "closed")
