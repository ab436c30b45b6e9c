"""The AMI client over real TCP against the Asterisk stand-in."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable

import pytest

from crm_core.metrics import Metrics
from pbx_bridge.ami.client import AmiClient
from pbx_bridge.ami.errors import AmiActionTimeout, AmiNotConnected
from pbx_bridge.ami.parser import parse_messages
from tests.ami.conftest import StandInFactory
from tests.ami.helpers import RecordingSink, fast_config, stop_promptly, wait_until
from tests.ami.standin import AmiStandIn
from tests.ami.trace import Trace

ClientFactory = Callable[..., AmiClient]


@pytest.fixture
async def make_client(ami_standin: StandInFactory) -> AsyncIterator[ClientFactory]:
    """``make_client(standin, sink, **config)`` builds a started-later client; all are stopped after.

    It depends on ``ami_standin`` so that clients are always stopped before the stand-ins close.
    """
    clients: list[AmiClient] = []

    def make(standin: AmiStandIn, sink: RecordingSink, **overrides: object) -> AmiClient:
        client = AmiClient(fast_config(standin.port, **overrides), sink, Metrics())
        clients.append(client)
        return client

    yield make
    for client in clients:
        await stop_promptly(client)


def fault(client: AmiClient, kind: str) -> float:
    value = client._metrics.registry.get_sample_value(
        "callrouter_ami_faults_total", {"pbx": "main", "kind": kind}
    )
    return value or 0.0


async def test_login_ok_then_snapshot_then_events(
    ami_standin: StandInFactory, make_client: ClientFactory, answered_trace: Trace
) -> None:
    pbx = await ami_standin(answered_trace)
    sink = RecordingSink()
    client = make_client(pbx, sink)
    await client.start()
    await client.wait_logged_in(2)
    await wait_until(lambda: pbx.replay_done.is_set() and client.queue_depth == 0 and "snapshot" in sink.log)
    assert client.state.logged_in and client.state.connected and not client.state.login_failed
    assert pbx.actions[0]["Action"] == "Login" and pbx.actions[0]["Events"] == "call,dialplan,agent,cdr"
    assert pbx.actions[1]["Action"] == "CoreShowChannels"
    assert sink.log.count("snapshot") == 1
    registry = client._metrics.registry
    assert registry.get_sample_value("callrouter_ami_link_up", {"pbx": "main"}) == 1


async def test_failed_login_is_visible_and_backs_off(
    ami_standin: StandInFactory, make_client: ClientFactory
) -> None:
    pbx = await ami_standin(secret="other")
    client = make_client(pbx, RecordingSink(), backoff_initial=0.1, backoff_max=10.0)
    await client.start()
    await wait_until(lambda: client.state.login_failed)
    assert not client.state.logged_in
    assert "Authentication failed" in (client.state.last_error or "")
    await asyncio.sleep(0.6)
    # attempts at ~0, 0.05-0.1, +0.1-0.2, +0.2-0.4 s: exponential, never a tight loop
    assert 2 <= pbx.login_attempts <= 4
    assert fault(client, "login_failed") == pbx.login_attempts
    with pytest.raises(AmiNotConnected):
        await client.send_action("Ping")


async def test_ping_timeout_on_a_hung_link_reconnects(
    ami_standin: StandInFactory, make_client: ClientFactory, answered_trace: Trace
) -> None:
    pbx = await ami_standin(answered_trace)
    sink = RecordingSink()
    client = make_client(pbx, sink)
    await client.start()
    await wait_until(lambda: "snapshot" in sink.log)  # the session is past Login and CoreShowChannels
    pbx.silent = True
    await wait_until(lambda: not client.state.logged_in)
    assert "Ping" in (client.state.last_error or "")
    assert fault(client, "ping_timeout") == 1
    pbx.silent = False
    await wait_until(lambda: client.state.logged_in and client.state.connects >= 2)


async def test_cut_mid_call_reconnects_and_reconciles_with_the_live_channels(
    ami_standin: StandInFactory, make_client: ClientFactory, ami_traces: list[Trace]
) -> None:
    trace = next(t for t in ami_traces if t.name == "g")  # fallback chain, two dial attempts
    cut = next(i for i, m in enumerate(trace.messages) if b"DialStatus: NOANSWER" in m)
    pbx = await ami_standin(trace)
    pbx.cut_at, pbx.lost_on_cut, pbx.stall_on_cut = cut, 7, True
    sink = RecordingSink()
    client = make_client(pbx, sink, events=None)
    await client.start()
    await wait_until(lambda: client.state.connects == 2 and client.state.logged_in)
    await wait_until(lambda: client.queue_depth == 0 and sink.log[-1] == "snapshot")
    expected = pbx.snapshot()  # the stand-in's own view of the channels alive at the cut
    assert sink.snapshots[-1] == expected and len(expected) >= 2
    assert {c["Linkedid"] for c in expected} == {"1795876003.670"}
    before_cut = sum(m.startswith(b"Event:") for m in trace.messages[:cut])
    assert sink.log.count("event") == before_cut
    pbx.resume()
    await wait_until(lambda: pbx.replay_done.is_set() and client.queue_depth == 0)
    await wait_until(lambda: len(sink.events) == trace.event_count - 7)


async def test_actions_fail_fast_when_down_and_time_out_when_unanswered(
    ami_standin: StandInFactory, make_client: ClientFactory
) -> None:
    pbx = await ami_standin()
    client = make_client(pbx, RecordingSink(), ping_interval=60)
    started = time.perf_counter()
    with pytest.raises(AmiNotConnected):
        await client.originate("PJSIP/m1", "+79001234516", "from-managers")
    assert time.perf_counter() - started < 0.05
    await client.start()
    await client.wait_logged_in(2)
    reply = await client.originate("PJSIP/m1", "+79001234516", "from-managers", variables={"A": "1"})
    assert reply["Message"] == "Originate successfully queued"
    assert pbx.actions[-1]["Variable"] == "A=1" and pbx.actions[-1]["Async"] == "true"
    pbx.silent = True
    started = time.perf_counter()
    with pytest.raises(AmiActionTimeout):
        await client.send_action("Ping", timeout=0.1)
    assert time.perf_counter() - started < 0.5


async def test_slow_sink_never_stalls_the_reader(
    ami_standin: StandInFactory, make_client: ClientFactory, ami_traces: list[Trace]
) -> None:
    burst = [m for t in ami_traces for m in t.messages] * 4  # ~5,600 messages, ~2.5 MB
    pbx = await ami_standin(messages=burst, send_buffer=16384)
    sink = RecordingSink(delay=0.01)
    client = make_client(pbx, sink, events=None, ping_interval=60)
    await client.start()
    await asyncio.wait_for(pbx.replay_done.wait(), 5)
    events = sum(m.startswith(b"Event:") for m in burst)
    await wait_until(lambda: client.state.events_received == events)
    assert len(sink.events) < events / 10  # the sink is far behind...
    assert pbx.max_write_stall < 0.5  # ...yet Asterisk's writes never waited for it (a loaded box: < 0.5 s)
    assert client.queue_depth == events - client.state.events_handled


async def test_overflow_drops_counts_and_resyncs_after_draining(
    ami_standin: StandInFactory, make_client: ClientFactory, answered_trace: Trace
) -> None:
    pbx = await ami_standin(answered_trace)
    pbx.stall()  # events only after the connect snapshot: the second snapshot is the overflow's resync
    sink = RecordingSink(delay=0.002)
    client = make_client(pbx, sink, events=None, queue_size=20)
    await client.start()
    await wait_until(lambda: sink.log == ["snapshot"])
    pbx.resume()
    await asyncio.wait_for(pbx.replay_done.wait(), 5)
    await wait_until(lambda: len(sink.snapshots) == 2)
    assert client.state.events_dropped > 0
    assert fault(client, "overflow") == client.state.events_dropped
    assert len(sink.events) + client.state.events_dropped == answered_trace.event_count


async def test_sink_error_is_counted_and_triggers_a_resync(
    ami_standin: StandInFactory, make_client: ClientFactory, answered_trace: Trace
) -> None:
    pbx = await ami_standin(answered_trace)
    pbx.stall()  # events only after the connect snapshot: the resync below is the error's own
    sink = RecordingSink(fail_on="DialBegin")
    client = make_client(pbx, sink)
    await client.start()
    await wait_until(lambda: sink.log == ["snapshot"])
    pbx.resume()
    await wait_until(lambda: pbx.replay_done.is_set() and len(sink.snapshots) >= 2)
    assert fault(client, "sink_error") == 2  # the caller leg's and the trunk leg's DialBegin
    assert sink.log[-1] == "snapshot" and client.state.logged_in and client.state.connects == 1


@pytest.mark.parametrize(
    ("garbage", "kind"),
    [
        (b"Event: Newchannel\r\nUniqueid: 9.9\r\nCallerIDName: \xff\xfe\r\n\r\n", "non_utf8"),
        (b"Event: Newchannel\r\nJunk: " + b"A" * 1_048_576 + b"\r\n\r\n", "line_too_long"),
        (b"\x00\x01\x02 binary garbage without separator\r\n\r\n", "bad_header"),
        (b"Event: Hangup\r\nChannel: PJSIP/m1-0000", "truncated"),  # then the link is cut
        (b"Event: NoSuchEventInAsterisk\r\nUniqueid: 9.9\r\n\r\n", None),  # handed on as is
    ],
)
async def test_malformed_input_is_counted_and_never_crashes(
    ami_standin: StandInFactory,
    make_client: ClientFactory,
    answered_trace: Trace,
    garbage: bytes,
    kind: str | None,
) -> None:
    pbx = await ami_standin(answered_trace)
    sink = RecordingSink()
    client = make_client(pbx, sink, events=None)
    await client.start()
    await wait_until(lambda: pbx.replay_done.is_set() and len(sink.events) == answered_trace.event_count)
    pbx.inject(garbage)
    pbx.drop_connections()
    await wait_until(lambda: client.state.connects == 2 and client.state.logged_in)
    if kind is None:
        assert sink.events[-1]["Event"] == "NoSuchEventInAsterisk"
    else:
        assert fault(client, kind) >= 1
        assert all(e.get("Uniqueid") != "9.9" or "\ufffd" in e["CallerIDName"] for e in sink.events)


async def test_every_real_trace_reaches_the_sink_exactly_as_parsed(
    ami_standin: StandInFactory, make_client: ClientFactory, ami_traces: list[Trace]
) -> None:
    for trace in ami_traces:
        pbx = await ami_standin(trace)
        sink = RecordingSink()
        client = make_client(pbx, sink, events=None)
        await client.start()
        expected = [m for m in parse_messages(b"".join(trace.messages)) if "Event" in m]
        await wait_until(lambda: len(sink.events) == len(expected))  # noqa: B023
        assert sink.events == expected, trace.name
        assert len(expected) == trace.event_count
        await stop_promptly(client)


async def test_event_filter_keeps_only_call_tracking_events(
    ami_standin: StandInFactory, make_client: ClientFactory, answered_trace: Trace
) -> None:
    pbx = await ami_standin(answered_trace)
    sink = RecordingSink()
    client = make_client(pbx, sink)
    await client.start()
    await wait_until(lambda: client.state.events_received == answered_trace.event_count)
    await wait_until(lambda: client.queue_depth == 0)
    names = {e["Event"] for e in sink.events}
    assert {"Newchannel", "DialBegin", "DialEnd", "Hangup"} <= names
    assert names.isdisjoint({"SuccessfulAuth", "FullyBooted", "DeviceStateChange"})
