"""The periodic re-check closes a call whose end was lost while the link stayed up, and only that call."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import Connection
from sqlalchemy.orm import Session, sessionmaker

from crm_core.metrics import Metrics
from crm_core.models.enums import CallDisposition
from pbx_bridge.ami.call_tracking_sink import CallTrackingSink
from pbx_bridge.ami.client import AmiClient
from pbx_bridge.ami.parser import parse_messages
from tests.ami.helpers import fast_config, wait_until
from tests.ami.standin import AmiStandIn
from tests.ami.trace import load_trace
from tests.call_tracking.tcp_replay import (
    STEADY,
    StoredCalls,
    calls_recorded,
    isolated,
    replay_in_order,
    stored_calls,
)

TRACES_DIR = Path(__file__).resolve().parents[1] / "asterisk-traces"
ANSWERED = "1795876970.22"  # sip/s1: answered by m1, hangs up after 3.5 s
RINGING = "1795876979.24"  # sip/s2: still ringing m2 when the replay stops


def _stream() -> tuple[list[bytes], set[int]]:
    """s1 whole, then s2 up to m2 ringing (recorded in that order, 9 s apart); s1's two Hangups are lost."""
    first = list(load_trace(TRACES_DIR / "sip/s1.ami").messages)
    second = list(load_trace(TRACES_DIR / "sip/s2.ami").messages)
    ringing = next(i for i, m in enumerate(second) if b"ChannelStateDesc: Ringing" in m)
    lost = {i for i, m in enumerate(first) if m.startswith(b"Event: Hangup\r\n")}
    assert len(lost) == 2
    return first + second[: ringing + 1], lost


def _at(epoch: float) -> datetime:
    return datetime.fromtimestamp(epoch, UTC)


def _hangup_time(messages: list[bytes], index: int) -> float:
    (hangup,) = parse_messages(messages[index])
    return float(hangup["Timestamp"])


async def _replay_with_rechecks(
    messages: list[bytes], lost: set[int], sessions: sessionmaker[Session]
) -> tuple[StoredCalls, int, int]:
    """Replay with a re-check every 50 ms until a call was recorded and two more re-checks were sent."""
    metrics = Metrics()
    async with AmiStandIn(messages=messages) as pbx:
        pbx.unsent, pbx.split_snapshot = lost, 0  # the login snapshot at the start: nothing live yet
        config = {**STEADY, "recheck_interval": 0.05}
        client = AmiClient(fast_config(pbx.port, **config), CallTrackingSink(sessions, metrics), metrics)
        await client.start()
        try:
            await wait_until(lambda: calls_recorded(metrics) >= 1, timeout=10)
            seen = pbx.snapshots_sent
            await wait_until(lambda: pbx.snapshots_sent >= seen + 2 and client.queue_depth == 0, timeout=10)
        finally:
            await client.stop()
        return stored_calls(sessions), client.state.rechecks, pbx.logins


async def test_periodic_recheck_closes_the_call_whose_hangup_was_lost_and_keeps_the_live_one(
    sqlite_connection: Connection,
) -> None:
    messages, lost = _stream()
    sent = [m for i, m in enumerate(messages) if i not in lost]
    with isolated(sqlite_connection) as sessions:
        without_recheck = await replay_in_order(sent, sessions)
    assert set(without_recheck.active) == {ANSWERED, RINGING} and not without_recheck.records
    last_seen = without_recheck.active[ANSWERED]["last_event_at"]

    with isolated(sqlite_connection) as sessions:
        stored, rechecks, logins = await _replay_with_rechecks(messages, lost, sessions)
    assert logins == 1 and rechecks >= 2  # closed by a periodic re-check, not by a reconnect
    (record,) = stored.records.values()
    assert record["linkedid"] == ANSWERED and stored.missed == []
    assert record["disposition"] is CallDisposition.ANSWERED
    assert record["answered_by_target"] == "PJSIP/m1"
    # the best known end: not before the last event seen, not after the lost Hangup, never "now"
    assert _at(last_seen) <= record["ended_at"] <= _at(_hangup_time(messages, max(lost)))
    assert stored.active == {RINGING: without_recheck.active[RINGING]}, _active_diff(
        stored.active, without_recheck.active
    )  # untouched by the re-checks


def _active_diff(got: dict[str, dict[str, object]], want: dict[str, dict[str, object]]) -> str:
    row, ref = got.get(RINGING, {}), want[RINGING]
    return str({k: (row.get(k), ref.get(k)) for k in set(row) | set(ref) if row.get(k) != ref.get(k)})
