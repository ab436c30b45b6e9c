"""Call tracking as an :class:`~pbx_bridge.ami.sink.AmiEventSink`: translate, fold, persist, then ack.

A batch of events read together is translated, folded and written in **one** transaction by the
:class:`~pbx_bridge.ami.call_tracking_writer.CallTrackingWriter`, in a worker thread (the event loop, and
with it the AMI reader, never waits for the database); ``handle_batch`` returns only after that commit, so
an event the transport has acknowledged is never lost, and what a crash takes with the batch in flight was
never acknowledged: the snapshot after the reconnect repairs it.

When the batch's transaction fails, its events are written again one transaction each, so one bad event
(counted in ``ami_faults{kind="sink_error"}`` by the consumer, logged here with its Linkedid) does not cost
the others. A lost database (``OperationalError``, ``InterfaceError``) or a refused commit
(:class:`~pbx_bridge.ami.call_tracking_writer.CommitRefused`) is not a bad event: the batch fails as a
whole and the consumer resyncs from a snapshot.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Mapping, Sequence
from datetime import timedelta
from typing import TypeVar

from sqlalchemy.exc import InterfaceError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

from crm_core.metrics import Metrics
from crm_core.services.call_records import REPEAT_WINDOW
from pbx_bridge.ami.call_tracking_writer import BeforeCommit, CallTrackingWriter, CommitRefused, WriterOptions
from routing.call_events import CallEvent
from routing.missed_policy import PolicyConfig

log = logging.getLogger(__name__)

T = TypeVar("T")
Message = Mapping[str, str]
# Failures that say nothing about the events: the whole batch fails, no event-by-event retry.
_NOT_THE_EVENTS = (OperationalError, InterfaceError, CommitRefused)


class EventNotPersisted(Exception):
    """:meth:`CallTrackingSink.handle` could not persist its event (it was counted and logged)."""


class CallTrackingSink:
    """Folds AMI events of one or more PBXs into call records (see the module docstring).

    ``before_commit(session)``, when given, runs inside every write transaction just before the commit
    (for example to check that this instance still leads the PBX); if it raises, the transaction is rolled
    back and the batch is not acknowledged."""

    def __init__(
        self,
        sessions: sessionmaker[Session],
        metrics: Metrics,
        policy: PolicyConfig | None = None,
        *,
        region: str = "RU",
        repeat_window: timedelta = REPEAT_WINDOW,
        clock: Callable[[], float] = time.time,
        before_commit: BeforeCommit | None = None,
    ) -> None:
        options = WriterOptions(policy or PolicyConfig(), region, repeat_window, before_commit)
        self._writer = CallTrackingWriter(sessions, metrics, options, clock)
        self._metrics = metrics
        self._lock = asyncio.Lock()

    async def handle(self, pbx: str, message: Message) -> None:
        """Fold one AMI event; returns once its effect is committed (raises :class:`EventNotPersisted`)."""
        if await self.handle_batch(pbx, [message]):
            raise EventNotPersisted(f"AMI event {message.get('Event')} of {pbx} not persisted")

    async def handle_batch(self, pbx: str, messages: Sequence[Message]) -> int:
        """Fold events read together in one transaction; returns how many could not be persisted."""
        if not messages:
            return 0
        return await self._exclusive(self._apply_batch, pbx, messages)

    async def reconcile(self, pbx: str, live_channels: Sequence[Message], continuous: bool = False) -> None:
        """Finish calls whose channels vanished (their end was lost) and seed calls first seen in the
        snapshot; after a gap (not ``continuous``) every call in progress is marked as having spanned it."""
        await self._exclusive(self._writer.reconcile, pbx, live_channels, continuous)

    async def _exclusive(self, work: Callable[..., T], *args: object) -> T:
        """Run ``work`` in a worker thread, one at a time; a cancelled caller still waits for it to end,
        so a write in flight never overlaps the next one (the writer is not thread-safe)."""
        async with self._lock:
            task = asyncio.ensure_future(asyncio.to_thread(work, *args))
            try:
                return await asyncio.shield(task)
            except asyncio.CancelledError:
                await asyncio.wait([task])
                raise

    def _apply_batch(self, pbx: str, messages: Sequence[Message]) -> int:
        """In the worker thread: translate, then write all in one transaction, else one by one."""
        started = time.perf_counter()
        items: list[tuple[Message, tuple[CallEvent, ...]]] = []
        failed = 0
        for message in messages:
            try:
                events = self._writer.translator.translate(pbx, message)
            except Exception:
                failed += self._bad_event(pbx, message)
                continue
            if events:
                items.append((message, events))
        try:
            self._writer.write(pbx, [event for _, events in items for event in events], guarded=False)
        except _NOT_THE_EVENTS:
            raise
        except Exception:
            log.warning("a batch of %d AMI events of %s failed: writing them one by one", len(items), pbx)
            failed += sum(self._write_alone(pbx, message, events) for message, events in items)
        self._metrics.ami_batch_seconds.observe(time.perf_counter() - started)
        return failed

    def _write_alone(self, pbx: str, message: Message, events: Sequence[CallEvent]) -> int:
        """Write one event's effect in its own transaction; 1 when it failed, else 0."""
        try:
            self._writer.write(pbx, events)
        except _NOT_THE_EVENTS:
            raise
        except Exception:
            return self._bad_event(pbx, message)
        return 0

    @staticmethod
    def _bad_event(pbx: str, message: Message) -> int:
        log.exception(
            "AMI event %s of %s not persisted", message.get("Event"), pbx,
            extra={"linkedid": message.get("Linkedid"), "pbx": pbx},
        )  # fmt: skip
        return 1
