"""The demo PBX answers serve's own AMI client like Asterisk: login, snapshot of a call in progress, events,
pings; a refused login and the actions it cannot do get Asterisk's answers. A PBX that stays away is logged
once, not at every retry."""

from __future__ import annotations

import asyncio
import logging

import pytest

from callrouter.demo_pbx.recording import load_recording
from callrouter.demo_pbx.rewrite import CallPlan, rewrite
from callrouter.demo_pbx.server import BANNER, DemoPbx
from crm_core.metrics import Metrics
from pbx_bridge.ami.client import AmiClient
from pbx_bridge.ami.link import CALL_TRACKING_EVENTS
from pbx_bridge.ami.parser import AmiParser
from tests.ami.helpers import RecordingSink, fast_config, wait_until


async def test_serves_a_call_in_progress_to_the_ami_client() -> None:
    call = rewrite(load_recording("s1").events, CallPlan("+79001234567", "PJSIP/101", 1.8e9, sequence=1))
    dial = next(i for i, e in enumerate(call) if e["Event"] == "DialBegin")
    async with DemoPbx("127.0.0.1", 0, "bridge", "bridge-secret") as pbx:
        for event in call[: dial + 1]:  # the phone rings before serve connects
            await pbx.send(event)
        sink = RecordingSink()
        client = AmiClient(fast_config(pbx.port), sink, Metrics())
        await client.start()
        try:
            await client.wait_logged_in(5)
            assert await pbx.wait_until_listed(5)
            await wait_until(lambda: sink.snapshots, 5)
            assert sorted(c["Channel"] for c in sink.snapshots[0]) == [
                "PJSIP/101-00000002",
                "PJSIP/trunk-00000001",
            ]
            for event in call[dial + 1 :]:
                await pbx.send(event)
            await wait_until(
                lambda: (
                    len(sink.events) >= sum(1 for e in call[dial + 1 :] if e["Event"] in CALL_TRACKING_EVENTS)
                ),
                5,
            )
            tracked = [e for e in call[dial + 1 :] if e["Event"] in CALL_TRACKING_EVENTS]
            assert sink.events[-len(tracked) :] == tracked  # byte for byte what was sent, in order
            assert pbx.channels.listing() == []  # every channel hung up
            assert client.state.logged_in and pbx.refused_logins == 0
        finally:
            await client.stop()


async def _exchange(port: int, raw: bytes) -> list[dict[str, str]]:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        assert await reader.readline() == BANNER
        writer.write(raw)
        parser = AmiParser()
        out: list[dict[str, str]] = []
        while data := await asyncio.wait_for(reader.read(65536), 5):
            out += parser.feed(data)
        return out
    finally:
        writer.close()


async def test_refused_login_and_unsupported_actions() -> None:
    async with DemoPbx("127.0.0.1", 0, "bridge", "bridge-secret") as pbx:
        refused = await _exchange(
            pbx.port, b"Action: Login\r\nActionID: 1\r\nUsername: bridge\r\nSecret: x\r\n\r\n"
        )
        assert refused == [{"Response": "Error", "ActionID": "1", "Message": "Authentication failed"}]
        assert pbx.refused_logins == 1
        actions = (
            b"Action: Ping\r\nActionID: 0\r\n\r\n"  # before login
            b"Action: Login\r\nActionID: 1\r\nUsername: bridge\r\nSecret: bridge-secret\r\n\r\n"
            b"Action: Originate\r\nActionID: 2\r\nChannel: PJSIP/101\r\n\r\n"
            b"Action: Reload\r\nActionID: 3\r\n\r\n"
            b"Action: Ping\r\nActionID: 4\r\n\r\n"
            b"Action: Logoff\r\nActionID: 5\r\n\r\n"
        )
        answers = await _exchange(pbx.port, actions)
    summary = [
        (a.get("Response") or a.get("Event"), a.get("ActionID"), a.get("Message", a.get("Ping")))
        for a in answers
    ]
    assert summary[0] == ("Error", "0", "Permission denied")
    assert summary[1] == ("Success", "1", "Authentication accepted")
    assert summary[2][0] == "FullyBooted"
    assert summary[3] == ("Error", "2", "Originate failed")
    assert summary[4][:2] == ("Error", "3") and str(summary[4][2]).startswith(
        "Invalid/unknown command: Reload"
    )
    assert summary[5] == ("Success", "4", "Pong")
    assert summary[6] == ("Goodbye", "5", "Thanks for all the fish.")


async def test_a_pbx_that_stays_away_is_logged_once(
    caplog: pytest.LogCaptureFixture, unused_tcp_port: int
) -> None:
    client = AmiClient(
        fast_config(unused_tcp_port, backoff_initial=0.01, backoff_max=0.02), RecordingSink(), Metrics()
    )
    with caplog.at_level(logging.DEBUG, logger="pbx_bridge.ami.client"):
        await client.start()
        try:
            await wait_until(
                lambda: sum("ConnectionRefusedError" in r.getMessage() for r in caplog.records) >= 4, 5
            )
        finally:
            await client.stop()
    refused = [r for r in caplog.records if "ConnectionRefusedError" in r.getMessage()]
    assert [r.levelno for r in refused[:2]] == [logging.WARNING, logging.DEBUG]
    assert sum(r.levelno >= logging.WARNING for r in refused) == 1
