"""``AmiClient.stop()`` returns at once and leaves no task behind, whatever the link is doing."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator

import pytest

from crm_core.metrics import Metrics
from pbx_bridge.ami.client import AmiClient
from pbx_bridge.ami.errors import AmiDisconnected
from tests.ami.conftest import StandInFactory
from tests.ami.helpers import RecordingSink, fast_config, stop_promptly, wait_until
from tests.ami.trace import Trace

Scenario = Callable[[StandInFactory, Trace], Awaitable[AmiClient]]


@pytest.fixture
def blackhole_port() -> Iterator[int]:
    """A port whose listen backlog is full: a TCP connect to it hangs until its deadline."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(0)
    port = listener.getsockname()[1]
    fillers = []
    for _ in range(4):
        filler = socket.socket()
        filler.setblocking(False)
        filler.connect_ex(("127.0.0.1", port))
        fillers.append(filler)
    yield port
    for sock in [*fillers, listener]:
        sock.close()


@pytest.fixture
async def clients() -> AsyncIterator[list[AmiClient]]:
    """Clients a test started; stopped (again) afterwards so that a failing test leaks nothing."""
    started: list[AmiClient] = []
    yield started
    for client in started:
        await client.stop()


def _client(port: int, sink: RecordingSink, **overrides: object) -> AmiClient:
    return AmiClient(fast_config(port, **overrides), sink, Metrics())


async def test_stop_while_connecting(blackhole_port: int, clients: list[AmiClient]) -> None:
    client = _client(blackhole_port, RecordingSink(), connect_timeout=30.0)
    clients.append(client)
    await client.start()
    await asyncio.sleep(0.2)
    assert client.state.connects == 0 and client.state.last_error is None  # still in connect()
    await stop_promptly(client)


async def test_stop_while_logging_in(ami_standin: StandInFactory, clients: list[AmiClient]) -> None:
    pbx = await ami_standin()
    pbx.silent = True  # the Login is never answered
    client = _client(pbx.port, RecordingSink(), action_timeout=30.0)
    clients.append(client)
    await client.start()
    await wait_until(lambda: pbx.login_attempts == 0 and len(pbx.actions) == 1)
    await stop_promptly(client)


async def test_stop_while_backing_off(ami_standin: StandInFactory, clients: list[AmiClient]) -> None:
    pbx = await ami_standin(secret="other")
    client = _client(pbx.port, RecordingSink(), backoff_initial=30.0, backoff_max=60.0)
    clients.append(client)
    await client.start()
    await wait_until(lambda: client.state.login_failed)
    await stop_promptly(client)
    assert pbx.login_attempts == 1


async def test_stop_while_logged_in_and_the_sink_is_busy(
    ami_standin: StandInFactory, clients: list[AmiClient], answered_trace: Trace
) -> None:
    pbx = await ami_standin(answered_trace)
    pbx.message_delay = 0.01  # events keep flowing while we stop
    sink = RecordingSink(delay=30.0)  # the consumer is inside sink.handle
    client = _client(pbx.port, sink, events=None)
    clients.append(client)
    await client.start()
    await wait_until(lambda: client.state.logged_in and client.queue_depth > 0)
    await stop_promptly(client)
    assert not pbx.replay_done.is_set()


async def test_stop_on_a_hung_peer_fails_the_action_in_flight(
    ami_standin: StandInFactory, clients: list[AmiClient], answered_trace: Trace
) -> None:
    pbx = await ami_standin(answered_trace)
    sink = RecordingSink()
    client = _client(pbx.port, sink, ping_interval=60.0)
    clients.append(client)
    await client.start()
    await wait_until(lambda: "snapshot" in sink.log)
    pbx.silent = True
    action = asyncio.create_task(client.send_action("Ping", timeout=30.0))
    await wait_until(lambda: pbx.actions[-1]["Action"] == "Ping")
    await stop_promptly(client)
    with pytest.raises(AmiDisconnected):
        await asyncio.wait_for(action, 0.1)


async def test_stop_after_the_peer_went_away(ami_standin: StandInFactory, clients: list[AmiClient]) -> None:
    pbx = await ami_standin()
    client = _client(pbx.port, RecordingSink())
    clients.append(client)
    await client.start()
    await client.wait_logged_in(2)
    await pbx.close()  # connection closed, then every reconnect is refused
    await wait_until(
        lambda: client.state.connects == 1 and "refused" in (client.state.last_error or "").lower()
    )
    await stop_promptly(client)


async def test_stop_is_idempotent_and_start_works_again(
    ami_standin: StandInFactory, clients: list[AmiClient]
) -> None:
    pbx = await ami_standin()
    client = _client(pbx.port, RecordingSink())
    clients.append(client)
    await stop_promptly(client)  # never started
    await client.start()
    await client.wait_logged_in(2)
    await stop_promptly(client)
    await stop_promptly(client)
    await client.start()
    await wait_until(lambda: client.state.logged_in and client.state.connects == 2)
    await stop_promptly(client)
