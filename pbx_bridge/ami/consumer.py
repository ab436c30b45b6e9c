"""The bounded queue between the AMI reader and the sink, and the task that drains it in batches.

The reader must never wait for our processing (Asterisk drops a manager session whose writes stall for
~100 ms), so :meth:`EventConsumer.offer` never blocks. When the queue is full the event is **dropped**,
counted (``ami_faults{kind="overflow"}``, ``LinkState.events_dropped``) and logged once per episode; once
the queue has drained, a fresh ``CoreShowChannels`` snapshot is requested and handed to
``sink.reconcile`` in stream order, exactly as after a reconnect. A sink error is handled the same way: the
events it did not persist are not acknowledged, so the state is rebuilt from a snapshot. Bounded memory
beats an unbounded buffer that would take the process down during a long database outage.

Batches: the consumer hands the sink every event queued when it gets to them (up to ``batch_size``, never
across a snapshot marker) in one ``handle_batch`` call, which the sink commits at once. Nothing waits for a
batch to fill: under light load a batch is the one TCP read that just arrived; under load, whatever the
reader queued while the previous batch was being written, so the batch grows with the load.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
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
        batch_size: int,
    ) -> None:
        if maxsize < 1 or batch_size < 1:
            raise ValueError("queue size and batch size must be positive")
        self._sink, self._state, self._pbx = sink, state, state.pbx
        self._queue: deque[Mapping[str, str] | Snapshot] = deque()
        self._maxsize, self._batch_size = maxsize, batch_size
        self._ready = asyncio.Event()
        self._request_snapshot = request_snapshot
        self._depth = metrics.queue_depth.labels(queue=f"ami:{state.pbx}")
        self._overflow = metrics.ami_faults.labels(pbx=state.pbx, kind="overflow")
        self._sink_errors = metrics.ami_faults.labels(pbx=state.pbx, kind="sink_error")
        self._batch_sizes = metrics.ami_batch_events.labels(pbx=state.pbx)
        self._in_flight = 0
        self._snapshots_queued = 0
        self.needs_snapshot = False
        self._lost_since_snapshot = True  # queued side: events dropped since the last snapshot was queued
        self._failed_since_snapshot = False  # sink side: an event failed since the last snapshot was applied

    @property
    def depth(self) -> int:
        """Events not acknowledged yet: queued, or in the batch the sink is writing."""
        return len(self._queue) - self._snapshots_queued + self._in_flight

    def _full(self) -> bool:
        return len(self._queue) >= self._maxsize

    def offer(self, events: Sequence[Mapping[str, str]]) -> None:
        """Queue events without ever blocking; on overflow drop, count and plan a resync."""
        queue = self._queue
        room = self._maxsize - len(queue)
        queue.extend(events[: max(room, 0)])
        if len(events) > room:
            self._drop(len(events) - max(room, 0))
        self._wake()

    def offer_snapshot(self, channels: Sequence[Mapping[str, str]], continuous: bool = False) -> None:
        """Queue a snapshot; ``continuous`` when taken on the session that delivered every event since the
        previous one (it stays so only if nothing was dropped meanwhile)."""
        if self._full():
            self._drop(0)
        else:
            self._queue.append(Snapshot(channels, continuous and not self._lost_since_snapshot))
            self._snapshots_queued += 1
            self._lost_since_snapshot = False
            self._wake()

    def _wake(self) -> None:
        self._depth.set(self.depth)
        if self._queue:
            self._ready.set()

    def _drop(self, count: int) -> None:
        if not self.needs_snapshot:
            log.warning("AMI event queue of %s full: dropping events until it drains", self._pbx)
        self.needs_snapshot = True
        self._lost_since_snapshot = True
        self._state.events_dropped += count
        self._overflow.inc(count)

    def _next(self) -> Snapshot | list[Mapping[str, str]]:
        """The snapshot at the head of the queue, or the events before the next snapshot (at most a batch)."""
        queue = self._queue
        head = queue.popleft()
        if isinstance(head, Snapshot):
            self._snapshots_queued -= 1
            return head
        batch = [head]
        while queue and len(batch) < self._batch_size and not isinstance(queue[0], Snapshot):
            batch.append(queue.popleft())  # type: ignore[arg-type]  # checked just above
        return batch

    async def run(self) -> None:
        """Consume forever (cancel to stop); a failing sink never stops the loop."""
        queue = self._queue
        while True:
            if not queue:
                self._ready.clear()
                await self._ready.wait()
                continue
            item = self._next()
            if isinstance(item, Snapshot):
                await self._reconcile(item)
            else:
                await self._handle(item)
            self._depth.set(self.depth)
            if not queue and self.needs_snapshot:
                self.needs_snapshot = False
                self._request_snapshot()

    async def _reconcile(self, snapshot: Snapshot) -> None:
        continuous = snapshot.continuous and not self._failed_since_snapshot
        self._failed_since_snapshot = False
        try:
            await self._sink.reconcile(self._pbx, snapshot.channels, continuous)
        except Exception:
            log.exception("AMI sink failed on the snapshot of %s", self._pbx)
            self._sink_failed(1)

    async def _handle(self, batch: list[Mapping[str, str]]) -> None:
        self._batch_sizes.observe(len(batch))
        self._in_flight = len(batch)
        try:
            failed = await self._sink.handle_batch(self._pbx, batch)
        except Exception:
            log.exception(
                "AMI sink failed on %d events of %s", len(batch), self._pbx,
                extra={"linkedid": batch[0].get("Linkedid")},
            )  # fmt: skip
            self._sink_failed(1)
            return
        finally:
            self._in_flight = 0
        self._state.events_handled += len(batch) - failed
        if failed:
            self._sink_failed(failed)

    def _sink_failed(self, count: int) -> None:
        self._sink_errors.inc(count)
        self.needs_snapshot = True
        self._failed_since_snapshot = True
