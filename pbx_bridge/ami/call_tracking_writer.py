"""The synchronous core of call tracking: fold translated events and persist them in one transaction.

One :meth:`CallTrackingWriter.write` is one database transaction however many events it folds: each call
the events changed is written once (its latest state upserted into ``active_calls``, or, when it finished,
its ``CallRecord`` / ``MissedCall`` / callback closure written and its state dropped), the managers, existing
records and number owners are read once. Metrics and the "call finished" log line follow the commit;
live announcements are published by the session's after-commit hook (:mod:`crm_core.events`), so nothing
of a rolled-back transaction is ever announced or counted.

In-memory state is a cache of the database: it is loaded per PBX on first use (a restarted process
continues its in-flight calls) and reloaded after a failed write. Not thread-safe: the caller runs one
call at a time (:class:`~pbx_bridge.ami.call_tracking_sink.CallTrackingSink` does).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy.orm import Session, sessionmaker

from crm_core.metrics import Metrics
from crm_core.services.active_calls import load_active_calls, save_active_calls
from pbx_bridge.ami.translate import AmiTranslator
from pbx_bridge.finished_calls import Stored, count_stored, store_finished_calls
from routing.call_events import CallEvent
from routing.call_state import CallState, CallTracker
from routing.missed_policy import PolicyConfig

log = logging.getLogger(__name__)

BeforeCommit = Callable[[Session], None]


class CommitRefused(Exception):
    """The transaction was refused, not for its events: the ``before_commit`` hook, or a fence raised when it
    began (this instance no longer leads the PBX)."""


@dataclass(frozen=True)
class Folded:
    """What a run of events did to the calls: those that finished (in order) and those still live."""

    finished: list[CallState]
    live: list[CallState]

    @property
    def empty(self) -> bool:
        return not self.finished and not self.live


@dataclass(frozen=True)
class WriterOptions:
    """How finished calls are classified and stored."""

    policy: PolicyConfig
    region: str
    repeat_window: timedelta
    before_commit: BeforeCommit | None = None
    """Called in every write transaction just before its commit; raising rolls it back (fencing)."""


class CallTrackingWriter:
    """Translate, fold and persist the events of one or more PBXs (see the module docstring)."""

    def __init__(
        self,
        sessions: sessionmaker[Session],
        metrics: Metrics,
        options: WriterOptions,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._sessions = sessions
        self._metrics = metrics
        self._opt = options
        self.translator = AmiTranslator(metrics, clock)
        self._trackers: dict[str, CallTracker] = {}

    def write(self, pbx: str, events: Sequence[CallEvent], *, guarded: bool = True) -> None:
        """Fold ``events`` (in order) and persist their effect in one transaction; raise when it failed,
        after which the state is reloaded from the database on next use. ``guarded``: see
        :func:`~crm_core.services.call_records.record_finished_calls`."""
        tracker = self._tracker(pbx)
        try:
            folded = _fold(tracker, events)
            if folded.empty:
                return
            stored = self._persist(pbx, folded, guarded)
        except Exception:
            self._trackers.pop(pbx, None)  # memory may be ahead of the database: reload it
            raise
        self._finished(pbx, stored)

    def reconcile(self, pbx: str, channels: Sequence[Mapping[str, str]], continuous: bool) -> None:
        """Apply a live-channel snapshot (see ``AmiEventSink.reconcile``) in one transaction."""
        live = [c for m in channels if (c := self.translator.live_channel(pbx, m)) is not None]
        stamps = [float(m["Timestamp"]) for m in channels if _is_float(m.get("Timestamp"))]
        at = max(stamps) if stamps else self.translator.pbx_now(pbx)
        tracker = self._tracker(pbx)
        try:
            finished, touched = tracker.reconcile(live, at, gap=not continuous)
            stored = self._persist(pbx, Folded(finished, touched), guarded=True)
        except Exception:
            self._trackers.pop(pbx, None)
            raise
        self._finished(pbx, stored)
        log.info("reconciled %s: %d finished, %d live", pbx, len(finished), len(touched), extra={"pbx": pbx})

    def _persist(self, pbx: str, folded: Folded, guarded: bool) -> list[Stored]:
        opt = self._opt
        with self._sessions() as session, session.begin():
            stored = store_finished_calls(
                session,
                pbx,
                folded.finished,
                policy=opt.policy,
                region=opt.region,
                repeat_window=opt.repeat_window,
                guarded=guarded,
            )
            save_active_calls(session, pbx, {call.linkedid: call.to_dict() for call in folded.live})
            if opt.before_commit is not None:
                try:
                    opt.before_commit(session)
                except Exception as exc:
                    raise CommitRefused(f"{type(exc).__name__}: {exc}") from exc
        return stored

    def _finished(self, pbx: str, stored: Sequence[Stored]) -> None:
        """After the commit: count and log each call stored."""
        for verdict, outcome in stored:
            count_stored(self._metrics, verdict, outcome)
            log.info(
                "call finished: %s %s %s",
                verdict.direction.value,
                verdict.disposition.value,
                verdict.missed_reason.value if verdict.missed_reason else "-",
                extra={"linkedid": outcome.record.linkedid, "pbx": pbx},
            )

    def _tracker(self, pbx: str) -> CallTracker:
        tracker = self._trackers.get(pbx)
        if tracker is None:
            with self._sessions() as session:
                states = [CallState.from_dict(s) for s in load_active_calls(session, pbx)]
            tracker = self._trackers[pbx] = CallTracker(states)
        return tracker


def _fold(tracker: CallTracker, events: Sequence[CallEvent]) -> Folded:
    """Apply ``events``; each call changed appears once, finished or with its latest state."""
    finished: list[CallState] = []
    live: dict[str, None] = {}
    for event in events:
        applied = tracker.apply(event)
        if not applied.changed:
            continue
        if applied.finished is not None:
            finished.append(applied.finished)
            live.pop(applied.linkedid, None)
        elif applied.linkedid in tracker.calls:
            live[applied.linkedid] = None
    calls = tracker.calls
    return Folded(finished, [calls[lid] for lid in live if lid in calls])


def _is_float(raw: str | None) -> bool:
    try:
        float(raw or "")
    except ValueError:
        return False
    return True
