"""A recorded trace through the real AMI client over TCP into the persisting sink, and what it stored.

:func:`replay_over_tcp` plays a trace from an :class:`~tests.ami.standin.AmiStandIn` (knobs set by the
caller) to a real :class:`AmiClient` feeding a real :class:`CallTrackingSink`, and returns once every
tracked event and every snapshot queued before the last one has been handled. :func:`replay_in_order`
hands the same events straight to a sink, in order, after an empty login snapshot: the reference an
undisturbed link must reproduce. :func:`stored_calls` reads call records and missed calls column by column.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, inspect, select
from sqlalchemy.orm import Session, sessionmaker

from crm_core.metrics import Metrics
from crm_core.models.call_tracking import ActiveCall
from crm_core.models.calls import CallRecord, MissedCall
from pbx_bridge.ami.call_tracking_sink import CallTrackingSink
from pbx_bridge.ami.client import AmiClient
from pbx_bridge.ami.link import CALL_TRACKING_EVENTS
from pbx_bridge.ami.parser import parse_messages
from tests.ami.helpers import fast_config, wait_until
from tests.ami.standin import AmiStandIn
from tests.ami.trace import Trace

PBX = "main"
_NOT_COMPARED = frozenset({"id", "created_at"})  # row identity and wall-clock insertion time
_RECORD_REFS = ("call_record_id", "callback_call_record_id")  # compared as the referenced Linkedid

Row = dict[str, Any]
# No disconnect of our own making on a loaded machine (the stand-in would lose what it wrote meanwhile),
# no periodic re-check unless asked for, and a quick reconnect after a cut.
STEADY: dict[str, Any] = {
    "action_timeout": 10.0,
    "ping_interval": 60.0,
    "recheck_interval": 0.0,
    "backoff_initial": 0.002,
    "backoff_max": 0.01,
}


@dataclass(frozen=True)
class StoredCalls:
    """Everything call tracking persisted for one PBX, keyed and ordered by Linkedid."""

    records: dict[str, Row]
    missed: list[Row]
    active: dict[str, Row]  # the folded state of each call still in ``active_calls``, by Linkedid


@contextmanager
def isolated(conn: Connection) -> Iterator[sessionmaker[Session]]:
    """Sessions on ``conn`` whose writes are rolled back on exit: each replay starts from the same data."""
    nested = conn.begin_nested()
    try:
        yield sessionmaker(bind=conn, expire_on_commit=False, join_transaction_mode="create_savepoint")
    finally:
        nested.rollback()


def tracked(messages: Sequence[bytes]) -> list[dict[str, str]]:
    """The events among raw ``messages`` the client hands to the sink, in order."""
    frames = [f for raw in messages for f in parse_messages(raw)]
    return [f for f in frames if f.get("Event") in CALL_TRACKING_EVENTS]


def _columns(row: object, refs: dict[int, str]) -> Row:
    out: Row = {}
    for attr in inspect(type(row)).column_attrs:
        if attr.key in _NOT_COMPARED:
            continue
        value = getattr(row, attr.key)
        out[attr.key] = refs.get(value, value) if attr.key in _RECORD_REFS else value
    return out


def stored_calls(sessions: sessionmaker[Session], pbx: str = PBX) -> StoredCalls:
    """The call records (every column but the row id and insertion time), missed calls and live states."""
    with sessions() as s:
        rows = s.scalars(select(CallRecord).where(CallRecord.pbx_system == pbx)).all()
        refs = {r.id: r.linkedid for r in rows}
        missed = s.scalars(select(MissedCall).where(MissedCall.call_record_id.in_(refs))).all()
        active = s.scalars(select(ActiveCall).where(ActiveCall.pbx_system == pbx)).all()
    return StoredCalls(
        records={r.linkedid: _columns(r, refs) for r in sorted(rows, key=lambda r: r.linkedid)},
        missed=sorted((_columns(m, refs) for m in missed), key=lambda m: str(m["call_record_id"])),
        active={a.linkedid: a.state for a in sorted(active, key=lambda a: a.linkedid)},
    )


async def replay_in_order(messages: Sequence[bytes], sessions: sessionmaker[Session]) -> StoredCalls:
    """The reference: the login snapshot (nothing live yet), then every tracked event, straight to a sink."""
    sink = CallTrackingSink(sessions, Metrics())
    await sink.reconcile(PBX, [])
    for frame in tracked(messages):
        await sink.handle(PBX, frame)
    return stored_calls(sessions)


class CountingSink:
    """A sink passing everything to ``inner`` and counting the snapshots it has applied."""

    def __init__(self, inner: CallTrackingSink) -> None:
        self.inner, self.snapshots = inner, 0

    async def handle_batch(self, pbx: str, messages: Sequence[Mapping[str, str]]) -> int:
        return await self.inner.handle_batch(pbx, messages)

    async def reconcile(
        self, pbx: str, live_channels: Sequence[Mapping[str, str]], continuous: bool = False
    ) -> None:
        try:
            await self.inner.reconcile(pbx, live_channels, continuous)
        finally:
            self.snapshots += 1


def calls_recorded(metrics: Metrics) -> float:
    """How many call records the sink has written (read from its metric, safe while it writes)."""
    return sum(
        s.value for m in metrics.calls_recorded.collect() for s in m.samples if s.name.endswith("_total")
    )


async def replay_over_tcp(
    trace: Trace,
    sessions: sessionmaker[Session],
    setup: Callable[[AmiStandIn], None],
    *,
    timeout: float = 20.0,
    **config: Any,
) -> StoredCalls:
    """Play ``trace`` over TCP (``setup`` sets the stand-in's knobs) and return what was stored.

    Every tracked event must reach the sink exactly once (no event may be lost: the stand-in is set up
    without ``lost_on_cut``), so the replay is over when the stand-in has played the whole trace, the
    client has handled that many events, its queue is empty and every snapshot sent has been applied.
    """
    expected = len(tracked(trace.messages))
    metrics = Metrics()
    sink = CountingSink(CallTrackingSink(sessions, metrics))
    async with AmiStandIn(trace) as standin:
        setup(standin)
        client = AmiClient(fast_config(standin.port, **{**STEADY, **config}), sink, metrics)
        await client.start()
        try:
            await wait_until(
                lambda: (
                    standin.replay_done.is_set()
                    and client.state.events_handled >= expected
                    and client.queue_depth == 0
                    and sink.snapshots >= standin.snapshots_sent
                ),
                timeout,
            )
        finally:
            await client.stop()  # a reconcile still running is awaited: its write is committed
    return stored_calls(sessions)
