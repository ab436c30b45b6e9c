"""The consumer hands the sink what is queued in batches: at most ``batch_size``, never across a snapshot,
in stream order; a batch's failures are counted and trigger one resync."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence

from crm_core.metrics import Metrics
from pbx_bridge.ami.consumer import EventConsumer
from pbx_bridge.ami.link import LinkState
from tests.ami.helpers import wait_until


class BatchLog:
    """A sink noting each batch (its events' numbers) and each snapshot; ``refuse`` events fail."""

    def __init__(self, refuse: frozenset[str] = frozenset()) -> None:
        self.log: list[list[str] | str] = []
        self.refuse = refuse

    async def handle_batch(self, pbx: str, messages: Sequence[Mapping[str, str]]) -> int:
        self.log.append([m["N"] for m in messages])
        await asyncio.sleep(0)
        return sum(m["N"] in self.refuse for m in messages)

    async def reconcile(
        self, pbx: str, live_channels: Sequence[Mapping[str, str]], continuous: bool = False
    ) -> None:
        self.log.append("snapshot")


def _events(first: int, count: int) -> list[dict[str, str]]:
    return [{"Event": "Newstate", "N": str(i)} for i in range(first, first + count)]


async def test_batches_are_capped_and_end_at_a_snapshot() -> None:
    sink, state, resyncs = BatchLog(), LinkState("main"), []
    consumer = EventConsumer(sink, state, Metrics(), 10_000, lambda: resyncs.append(1), batch_size=2000)
    consumer.offer(_events(0, 4500))
    consumer.offer_snapshot([])
    consumer.offer(_events(4500, 10))
    assert consumer.depth == 4510  # the snapshot marker is not an event
    task = asyncio.create_task(consumer.run())
    try:
        await wait_until(lambda: state.events_handled == 4510 and consumer.depth == 0)
    finally:
        task.cancel()
    sizes = [len(item) if isinstance(item, list) else item for item in sink.log]
    assert sizes == [2000, 2000, 500, "snapshot", 10]
    flat = [n for item in sink.log if isinstance(item, list) for n in item]
    assert flat == [str(i) for i in range(4510)] and resyncs == []


async def test_events_a_batch_could_not_persist_are_counted_once_each_and_resynced() -> None:
    sink, state, resyncs = BatchLog(refuse=frozenset({"3", "7"})), LinkState("main"), []
    metrics = Metrics()
    consumer = EventConsumer(sink, state, metrics, 100, lambda: resyncs.append(1), batch_size=50)
    consumer.offer(_events(0, 10))
    task = asyncio.create_task(consumer.run())
    try:
        await wait_until(lambda: resyncs == [1])
    finally:
        task.cancel()
    assert state.events_handled == 8
    labels = {"pbx": "main", "kind": "sink_error"}
    assert metrics.registry.get_sample_value("callrouter_ami_faults_total", labels) == 2
