"""The bounded queue between the AMI reader and the sink, and the task that drains it.

The reader must never wait for our processing (Asterisk drops a manager session whose writes stall for
~100 ms), so :meth:`EventConsumer.offer` never blocks. When the queue is full the event is **dropped**,
counted (``ami_faults{kind="overflow"}``, ``LinkState.events_dropped``) and logged once per episode; once
the queue has drained, a fresh ``CoreShowChannels`` snapshot is requested and handed to
``sink.reconcile`` in stream order, exactly as after a reconnect. A sink error is handled the same way: the
event is not acknowledged, so the state is rebuilt from a snapshot. Bounded memory beats an unbounded
buffer that would take the process down during a long database outage.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from crm_core.metrics import Metrics
from pbx_bridge.ami.link import LinkState
from pbx_bridge.ami.sink import AmiEventSink

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Snapshot:
    """Queue marker: the live channels listed at this point of the stream."""

    channels: Sequence[Mapping[str, str]]
    continuous: bool = False
    """No event was lost between the previous snapshot and this one (see ``AmiEventSink.reconcile``)."""


class EventConsumer:
    """Feeds one PBX's events, in order, to the sink; ``request_snapshot`` asks the link for a resync."""

    def __init__(
        self,
        sink: AmiEventSink,
        state: LinkState,
        metrics: Metrics,
        maxsize: int,
        request_snapshot: Callable[[], None],
    ) -> None:
        self._sink, self._state, self._pbx = sink, state, state.pbx
        self._queue: asyncio.Queue[Mapping[str, str] | Snapshot] = asyncio.Queue(maxsize)
        self._request_snapshot = request_snapshot
        self._depth = metrics.queue_depth.labels(queue=f"ami:{state.pbx}")
        self._overflow = metrics.ami_faults.labels(pbx=state.pbx, kind="overflow")
        self._sink_errors = metrics.ami_faults.labels(pbx=state.pbx, kind="sink_error")
        self.needs_snapshot = False
        self._lost_since_snapshot = True  # queued side: events dropped since the last snapshot was queued
        self._failed_since_snapshot = False  # sink side: an event failed since the last snapshot was applied

    @property
    def depth(self) -> int:
        return self._queue.qsize()

    def offer(self, events: Sequence[Mapping[str, str]]) -> None:
        """Queue events without ever blocking; on overflow drop, count and plan a resync."""
        queue = self._queue
        for index, event in enumerate(events):
            if queue.full():
                self._drop(len(events) - index)
                break
            queue.put_nowait(event)
        self._depth.set(queue.qsize())

    def offer_snapshot(self, channels: Sequence[Mapping[str, str]], continuous: bool = False) -> None:
        """Queue a snapshot; ``continuous`` when taken on the session that delivered every event since the
        previous one (it stays so only if nothing was dropped meanwhile)."""
        if self._queue.full():
            self._drop(0)
        else:
            self._queue.put_nowait(Snapshot(channels, continuous and not self._lost_since_snapshot))
            self._lost_since_snapshot = False

    def _drop(self, count: int) -> None:
        if not self.needs_snapshot:
            log.warning("AMI event queue of %s full: dropping events until it drains", self._pbx)
        self.needs_snapshot = True
        self._lost_since_snapshot = True
        self._state.events_dropped += count
        self._overflow.inc(count)

    async def run(self) -> None:
        """Consume forever (cancel to stop); a failing sink never stops the loop."""
        queue = self._queue
        while True:
            item = await queue.get()
            try:
                if isinstance(item, Snapshot):
                    continuous = item.continuous and not self._failed_since_snapshot
                    self._failed_since_snapshot = False
                    await self._sink.reconcile(self._pbx, item.channels, continuous)
                else:
                    await self._sink.handle(self._pbx, item)
                    self._state.events_handled += 1
            except Exception:
                linkedid = None if isinstance(item, Snapshot) else item.get("Linkedid")
                log.exception("AMI sink failed on %s", self._pbx, extra={"linkedid": linkedid})
                self._sink_errors.inc()
                self.needs_snapshot = True
                self._failed_since_snapshot = True
            self._depth.set(queue.qsize())
            if queue.empty() and self.needs_snapshot:
                self.needs_snapshot = False
                self._request_snapshot()
