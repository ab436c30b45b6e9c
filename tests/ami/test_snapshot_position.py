"""Snapshots take their place in the event stream, and the link re-lists the live channels periodically."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from crm_core.metrics import Metrics
from pbx_bridge.ami.client import AmiClient
from pbx_bridge.ami.connection import AmiConnection, AmiReply, Message
from pbx_bridge.ami.parser import AmiParser
from tests.ami.conftest import StandInFactory
from tests.ami.helpers import RecordingSink, fast_config, stop_promptly, wait_until
from tests.ami.trace import Trace

_BEFORE = b"Event: Newchannel\r\nUniqueid: 1.1\r\nLinkedid: 1.1\r\n\r\n"
_AFTER = b"Event: Newchannel\r\nUniqueid: 2.2\r\nLinkedid: 2.2\r\n\r\n"


def _list_reply(action_id: str) -> bytes:
    aid = f"ActionID: {action_id}\r\n"
    return (
        f"Response: Success\r\n{aid}EventList: start\r\nMessage: Channels will follow\r\n\r\n"
        f"Event: CoreShowChannel\r\n{aid}Uniqueid: 1.1\r\nLinkedid: 1.1\r\n\r\n"
        f"Event: CoreShowChannelsComplete\r\n{aid}EventList: Complete\r\nListItems: 1\r\n\r\n"
    ).encode()


async def _one_read_pbx(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """Answers the first action with an event, the list reply and another event, all in one write."""
    parser = AmiParser()
    while not (actions := parser.feed(await reader.read(4096))):
        pass
    writer.write(_BEFORE + _list_reply(actions[0]["ActionID"]) + _AFTER)
    await writer.drain()
    await reader.read()  # until the client closes
    writer.close()


async def test_the_reply_callback_runs_between_the_events_read_before_and_after_it() -> None:
    order: list[str] = []

    def on_events(events: list[Message]) -> None:
        order.extend(f"event {e['Uniqueid']}" for e in events)

    def on_reply(reply: AmiReply) -> None:
        order.append(f"reply {len(reply.events)}")

    server = await asyncio.start_server(_one_read_pbx, "127.0.0.1", 0)
    async with server:
        reader, writer = await asyncio.open_connection("127.0.0.1", server.sockets[0].getsockname()[1])
        conn = AmiConnection(reader, writer, on_events, lambda faults: None)
        reading = asyncio.create_task(conn.read_loop())
        reply = await conn.send("CoreShowChannels", timeout=5, on_reply=on_reply)
        await wait_until(lambda: len(order) == 3)
        conn.close("test over")
        await asyncio.wait([reading])
    assert order == ["event 1.1", "reply 1", "event 2.2"]
    assert reply.events[0]["Uniqueid"] == "1.1" and reply.response["EventList"] == "start"


@asynccontextmanager
async def _client(port: int, sink: RecordingSink, **overrides: object) -> AsyncIterator[AmiClient]:
    client = AmiClient(fast_config(port, **overrides), sink, Metrics())
    await client.start()
    try:
        yield client
    finally:
        await stop_promptly(client)


async def test_login_snapshot_read_with_the_next_events_is_handled_before_them(
    ami_standin: StandInFactory, answered_trace: Trace
) -> None:
    pbx = await ami_standin(answered_trace)
    pbx.split_snapshot = 5  # the reply and the first five events in one TCP write
    sink = RecordingSink()
    async with _client(pbx.port, sink, events=None, ping_interval=60):
        await wait_until(lambda: len(sink.events) == answered_trace.event_count)
    assert sink.log == ["snapshot"] + ["event"] * answered_trace.event_count
    assert sink.snapshots == [[]]


async def test_live_channels_are_rechecked_periodically_while_the_link_stays_up(
    ami_standin: StandInFactory, answered_trace: Trace
) -> None:
    pbx = await ami_standin(answered_trace)
    sink = RecordingSink()
    async with _client(pbx.port, sink, recheck_interval=0.05, ping_interval=60) as client:
        await wait_until(lambda: len(sink.snapshots) >= 4)
        assert client.state.connects == 1 and pbx.logins == 1
        assert client.state.rechecks >= 3
    assert [a["Action"] for a in pbx.actions].count("CoreShowChannels") >= 4


async def test_no_recheck_when_it_is_switched_off(ami_standin: StandInFactory, answered_trace: Trace) -> None:
    pbx = await ami_standin(answered_trace)
    sink = RecordingSink()
    async with _client(pbx.port, sink, recheck_interval=0, ping_interval=60) as client:
        await wait_until(lambda: pbx.replay_done.is_set() and client.queue_depth == 0)
        await asyncio.sleep(0.3)
        assert client.state.rechecks == 0
    assert sink.log.count("snapshot") == 1
