"""A ``CoreShowChannels`` snapshot is applied at its place in the stream, whatever arrives in the same read.

Every shared trace, over real TCP, through the real client and the persisting sink on SQLite; the stored
records must equal, column by column, those of the same events handed to the sink in order.

* For every K (see :func:`windows`): the login snapshot's reply and the next K messages in one TCP write, the
  link cut right there, and the reconnect's snapshot (the channels live at K) with the following K messages
  in one write, then the rest streamed on that session. So every K is tried after an empty and after a
  non-empty snapshot, and the link is cut after every message that yields a call event.
* Hypothesis: any trace, a cut at any message (also between call events, where only channel fields such as
  a bridge change), and an independent K. ``tests/call_tracking/test_properties.py`` checks a reconnect at
  every position without the transport.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Connection

from crm_core.metrics import Metrics
from pbx_bridge.ami.parser import parse_messages
from pbx_bridge.ami.translate import AmiTranslator
from tests.ami.standin import AmiStandIn
from tests.ami.trace import Trace, load_trace, trace_names
from tests.call_tracking.tcp_replay import PBX, StoredCalls, isolated, replay_in_order, replay_over_tcp

TRACES_DIR = Path(__file__).resolve().parents[1] / "asterisk-traces"
NAMES = trace_names(TRACES_DIR)
TRACES = {name: load_trace(TRACES_DIR / f"{name}.ami") for name in NAMES}


def _difference(got: StoredCalls, want: StoredCalls) -> str:
    """The first differing column, readable in a failure message."""
    if got.active:
        return f"still active: {got.active}"
    if set(got.records) != set(want.records):
        return f"records {sorted(got.records)} != {sorted(want.records)}"
    for lid, row in want.records.items():
        for key, value in row.items():
            if got.records[lid][key] != value:
                return f"{lid}.{key}: {got.records[lid][key]!r} != {value!r}"
    return f"missed calls {got.missed} != {want.missed}"


_REFERENCES: dict[str, StoredCalls] = {}


async def _reference(trace: Trace, conn: Connection) -> StoredCalls:
    """What the sink stores from the trace's events in order (computed once per trace: it is data)."""
    want = _REFERENCES.get(trace.name)
    if want is None:
        with isolated(conn) as sessions:
            want = _REFERENCES[trace.name] = await replay_in_order(trace.messages, sessions)
    assert want.records and not want.active
    return want


def windows(trace: Trace) -> list[int]:
    """0, the whole trace, and every K whose last carried message is a call event for the sink.

    A K whose K-th message yields no call event (filtered by the client or ignored by the translator)
    hands the sink exactly what K - 1 hands it, so it is the same case and is not replayed again.
    """
    translator = AmiTranslator(Metrics())
    frames = [parse_messages(raw) for raw in trace.messages]
    sizes = [k for k in range(1, len(frames) + 1) if any(translator.translate(PBX, f) for f in frames[k - 1])]
    return sorted({0, len(frames), *sizes})


def _summary(what: str, wrong: dict[int, str], tried: int) -> str:
    first = dict(list(wrong.items())[:3])
    return f"{len(wrong)} of {tried} {what} differ, e.g. {first}"


def _expected(want: StoredCalls, live_at_cut: set[str]) -> StoredCalls:
    """``want`` with the calls live across the cut marked approximate: nothing proves that no event was
    lost while the link was down, so those records are honest guesses (the values themselves stay exact)."""
    records = {
        lid: {**row, "approximate": True} if lid in live_at_cut and "approximate" in row else row
        for lid, row in want.records.items()
    }
    return StoredCalls(records, want.missed, want.active)


async def _cut_and_reconnect(
    trace: Trace, conn: Connection, cut: int, window: int
) -> tuple[StoredCalls, set[str]]:
    """The stored calls, and the Linkedids live at the cut (those of the reconnect's snapshot)."""
    standins: list[AmiStandIn] = []

    def setup(standin: AmiStandIn) -> None:
        standin.split_snapshot, standin.cut_at = window, cut
        standins.append(standin)

    with isolated(conn) as sessions:
        got = await replay_over_tcp(trace, sessions, setup)
    assert standins[0].logins == 2 and standins[0].snapshots_sent >= 2, "the link was not cut"
    return got, set().union(*standins[0].snapshot_linkedids[1:])


@pytest.mark.parametrize("name", NAMES)
async def test_snapshot_read_with_the_next_k_events_and_a_cut_there_change_no_record(
    name: str, sqlite_connection: Connection
) -> None:
    """Every K: split login snapshot, cut at K, split reconnect snapshot (see the module docstring)."""
    trace = TRACES[name]
    want = await _reference(trace, sqlite_connection)
    wrong: dict[int, str] = {}
    for window in windows(trace):
        got, live_at_cut = await _cut_and_reconnect(trace, sqlite_connection, cut=window, window=window)
        expected = _expected(want, live_at_cut)
        if got != expected:
            wrong[window] = _difference(got, expected)
    assert not wrong, _summary("window sizes", wrong, len(windows(trace)))


@settings(
    max_examples=12,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data())
def test_link_cut_anywhere_then_a_split_snapshot_changes_no_record(
    sqlite_connection: Connection, data: st.DataObject
) -> None:
    """Any trace, a cut at any message, a reconnect whose snapshot reply carries the next K messages."""
    trace = TRACES[data.draw(st.sampled_from(NAMES), label="trace")]
    cut = data.draw(st.integers(0, len(trace.messages)), label="cut")
    window = data.draw(st.integers(0, len(trace.messages)), label="window")
    want = asyncio.run(_reference(trace, sqlite_connection))
    got, live_at_cut = asyncio.run(_cut_and_reconnect(trace, sqlite_connection, cut, window))
    expected = _expected(want, live_at_cut)
    assert got == expected, _difference(got, expected)
