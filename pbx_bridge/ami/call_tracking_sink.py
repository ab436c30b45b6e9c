"""Call tracking as an :class:`~pbx_bridge.ami.sink.AmiEventSink`: translate, fold, persist, then ack.

Each relevant event is folded into the call's state and, in one database transaction, either the new state
is saved (``active_calls``) or, when the call finished, its ``CallRecord`` / ``MissedCall`` / callback
closure are written and its state dropped. ``handle`` returns only after that commit, so an event the
transport has acknowledged is never lost. In-memory state is a cache of the database: it is loaded per PBX
on first use (a restarted process continues its in-flight calls) and reloaded after a failed write.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Mapping, Sequence
from datetime import timedelta

from sqlalchemy.orm import Session, sessionmaker

from crm_core.metrics import Metrics
from crm_core.services.active_calls import load_active_calls, save_active_call
from crm_core.services.call_records import REPEAT_WINDOW
from pbx_bridge.ami.translate import AmiTranslator
from pbx_bridge.finished_calls import store_finished_call
from routing.call_events import CallEvent, LiveChannel
from routing.call_state import CallState, CallTracker
from routing.missed_policy import PolicyConfig

log = logging.getLogger(__name__)


class CallTrackingSink:
    """Folds AMI events of one or more PBXs into call records (see the module docstring)."""

    def __init__(
        self,
        sessions: sessionmaker[Session],
        metrics: Metrics,
        policy: PolicyConfig | None = None,
        *,
        region: str = "RU",
        repeat_window: timedelta = REPEAT_WINDOW,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._sessions = sessions
        self._metrics = metrics
        self._policy = policy or PolicyConfig()
        self._region = region
        self._repeat_window = repeat_window
        self._clock = clock
        self._translator = AmiTranslator(metrics, clock)
        self._trackers: dict[str, CallTracker] = {}
        self._lock = asyncio.Lock()

    async def handle(self, pbx: str, message: Mapping[str, str]) -> None:
        """Fold one AMI event; returns once its effect is committed."""
        events = self._translator.translate(pbx, message)
        if events:
            await self._exclusive(self.apply_events, pbx, events)

    async def reconcile(
        self, pbx: str, live_channels: Sequence[Mapping[str, str]], continuous: bool = False
    ) -> None:
        """Finish calls whose channels vanished (their end was lost) and seed calls first seen in the
        snapshot; after a gap (not ``continuous``) every call in progress is marked as having spanned it."""
        live = [c for m in live_channels if (c := self._translator.live_channel(pbx, m)) is not None]
        stamps = [float(m["Timestamp"]) for m in live_channels if _is_float(m.get("Timestamp"))]
        at = max(stamps) if stamps else self._translator.pbx_now(pbx)
        await self._exclusive(self._reconcile, pbx, live, at, continuous)

    async def _exclusive(self, work: Callable[..., None], *args: object) -> None:
        """Run ``work`` in a worker thread, one at a time; a cancelled caller still waits for it to end,
        so a write in flight never overlaps the next one (the tracker is not thread-safe)."""
        async with self._lock:
            task = asyncio.ensure_future(asyncio.to_thread(work, *args))
            try:
                await asyncio.shield(task)
            except asyncio.CancelledError:
                await asyncio.wait([task])
                raise

    def apply_events(self, pbx: str, events: Sequence[CallEvent]) -> None:
        """Synchronous core of :meth:`handle`: fold the events of one frame, persist them in one transaction
        (an attended transfer changes two calls)."""
        tracker = self._tracker(pbx)
        try:
            changed = [a for a in (tracker.apply(e) for e in events) if a.changed]
            if not changed:
                return
            with self._sessions() as session, session.begin():
                for applied in changed:
                    if applied.finished is not None:
                        self._write_finished(session, pbx, applied.finished)
                    elif applied.linkedid in tracker.calls:
                        state = tracker.calls[applied.linkedid]
                        save_active_call(session, pbx, state.linkedid, state.to_dict())
        except Exception:
            self._trackers.pop(pbx, None)  # memory may be ahead of the database: reload it
            raise

    def _reconcile(self, pbx: str, live: Sequence[LiveChannel], at: float, continuous: bool) -> None:
        tracker = self._tracker(pbx)
        try:
            finished, touched = tracker.reconcile(live, at, gap=not continuous)
            with self._sessions() as session, session.begin():
                for call in finished:
                    self._write_finished(session, pbx, call)
                for call in touched:
                    save_active_call(session, pbx, call.linkedid, call.to_dict())
        except Exception:
            self._trackers.pop(pbx, None)
            raise
        log.info("reconciled %s: %d finished, %d live", pbx, len(finished), len(touched), extra={"pbx": pbx})

    def _tracker(self, pbx: str) -> CallTracker:
        tracker = self._trackers.get(pbx)
        if tracker is None:
            with self._sessions() as session:
                states = [CallState.from_dict(s) for s in load_active_calls(session, pbx)]
            tracker = self._trackers[pbx] = CallTracker(states)
        return tracker

    def _write_finished(self, session: Session, pbx: str, call: CallState) -> None:
        verdict, _ = store_finished_call(
            session,
            pbx,
            call,
            policy=self._policy,
            metrics=self._metrics,
            region=self._region,
            repeat_window=self._repeat_window,
        )
        log.info(
            "call finished: %s %s %s",
            verdict.direction.value,
            verdict.disposition.value,
            verdict.missed_reason.value if verdict.missed_reason else "-",
            extra={"linkedid": call.linkedid, "pbx": pbx},
        )


def _is_float(raw: str | None) -> bool:
    try:
        float(raw or "")
    except ValueError:
        return False
    return True
