"""The one way a finished call is stored, whichever telephony front saw it (AMI or Twilio)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta

from sqlalchemy.orm import Session

from crm_core.metrics import Metrics
from crm_core.services import missed_events, notification_outbox
from crm_core.services.active_calls import drop_active_calls
from crm_core.services.call_records import RecordOutcome, record_finished_calls
from crm_core.services.missed_events import MissedAction
from routing.call_state import CallState
from routing.missed_policy import PolicyConfig, Verdict, classify, finished_call

Stored = tuple[Verdict, RecordOutcome]


def store_finished_call(
    session: Session,
    pbx: str,
    call: CallState,
    *,
    policy: PolicyConfig,
    metrics: Metrics,
    region: str,
    repeat_window: timedelta,
) -> Stored:
    """Classify ``call``, write its record (and missed call) once, forget its in-flight state, count it."""
    ((verdict, outcome),) = store_finished_calls(
        session, pbx, [call], policy=policy, region=region, repeat_window=repeat_window
    )
    count_stored(metrics, verdict, outcome)
    return verdict, outcome


def store_finished_calls(
    session: Session,
    pbx: str,
    calls: Sequence[CallState],
    *,
    policy: PolicyConfig,
    region: str,
    repeat_window: timedelta,
    guarded: bool = True,
) -> list[Stored]:
    """:func:`store_finished_call` for calls that finished in this order, in one transaction (see
    :func:`~crm_core.services.call_records.record_finished_calls`, also for ``guarded``); the caller
    counts them (:func:`count_stored`) once the transaction has committed."""
    if not calls:
        return []
    verdicts = [classify(call, policy) for call in calls]
    outcomes: list[RecordOutcome] = []
    sla = missed_events.policy_sla(session)

    def each(outcome: RecordOutcome) -> None:
        _announce(session, outcome, sla)
        outcomes.append(outcome)

    finished = [finished_call(call, verdict) for call, verdict in zip(calls, verdicts, strict=True)]
    record_finished_calls(
        session, pbx, finished, each, region=region, repeat_window=repeat_window, guarded=guarded
    )
    drop_active_calls(session, pbx, [call.linkedid for call in calls])
    return list(zip(verdicts, outcomes, strict=True))


def count_stored(metrics: Metrics, verdict: Verdict, outcome: RecordOutcome) -> None:
    """Count a stored call in the metrics (only a record this write created)."""
    if outcome.created:
        metrics.calls_recorded.labels(disposition=verdict.disposition.value).inc()
        if outcome.missed_call is not None and verdict.missed_reason is not None:
            metrics.missed_calls.labels(reason=verdict.missed_reason.value).inc()


def _announce(session: Session, outcome: RecordOutcome, sla: timedelta | None) -> None:
    """Tell live views (after commit) which missed calls this call opened, grew or closed."""
    if not outcome.created:
        return
    if outcome.missed_call is not None:
        action: MissedAction = "updated" if outcome.missed_merged else "opened"
        missed_events.announce(session, outcome.missed_call, action, sla=sla)
    for missed in outcome.called_back:
        notification_outbox.mark_read_for_missed_call(session, missed.id)
        missed_events.announce(session, missed, "closed", sla=sla)
