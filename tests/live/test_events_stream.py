"""``GET /api/v1/events`` over a real server: a missed call from real AMI events arrives live, scoped by
role, and a reconnect with ``Last-Event-ID`` replays what was missed."""

from __future__ import annotations

import time
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy.orm import Session

from callrouter.api.security import issue_access_token
from callrouter.wiring import Container
from crm_core.models import PhoneNumber
from crm_core.services import api_tokens
from pbx_bridge.ami.call_tracking_sink import CallTrackingSink
from pbx_bridge.ami.ringing import RingingObserver
from tests.api.conftest import Staff, add_counterparty
from tests.call_tracking.helpers import trace_frames
from tests.live.inline_ringing import inline_ringing
from tests.live.sse import open_stream, serving

M2_TARGET = "Local/noanswer-m2@agents"  # trace b rings this target, nobody answers
CALLER = "+79001234568"


def _without_age(item: dict[str, object]) -> dict[str, object]:
    return {k: v for k, v in item.items() if k != "age_seconds"}


def _token(staff: Staff, who: object) -> str:
    return staff.headers(who)["Authorization"].removeprefix("Bearer ")  # type: ignore[arg-type]


async def _play_trace_b(app: FastAPI, traces_dir: Path) -> None:
    container: Container = app.state.container
    sink = CallTrackingSink(container.sessions, container.metrics)
    for frame in trace_frames(traces_dir, "b"):
        await sink.handle("main", frame)


async def test_missed_call_arrives_live_scoped_and_replayed(
    app: FastAPI, staff: Staff, db: Session, traces_dir: Path, unused_tcp_port: int
) -> None:
    staff.manager.dial_target = M2_TARGET
    db.merge(staff.manager)
    db.commit()
    async with serving(app, unused_tcp_port) as base:
        async with (
            open_stream(base, _token(staff, staff.manager)) as mine,
            open_stream(base, _token(staff, staff.controller), via_query=True) as team,
            open_stream(base, _token(staff, staff.director)) as everyone,
            open_stream(base, _token(staff, staff.other)) as stranger,
        ):
            started = time.monotonic()
            await _play_trace_b(app, traces_dir)
            event = await mine.next(timeout=2.0)
            assert time.monotonic() - started < 2.0 + 1.0  # replay time included; delivery itself < 2 s
            assert event.event == "missed-call"
            assert event.data["action"] == "opened"
            item = event.data["missed_call"]
            assert (item["caller_number"], item["assigned_manager_id"]) == (CALLER, staff.manager.id)
            assert (item["manager_name"], item["status"], item["attempts"]) == ("Manager", "open", 1)
            assert event.id is not None and event.id.isdigit()
            for stream in (team, everyone):
                seen = await stream.next(timeout=2.0)
                assert (seen.event, seen.id, seen.data) == ("missed-call", event.id, event.data)
            await stranger.nothing_within(1.0)

        # the list item and the event's item are the same object
        async with httpx.AsyncClient(base_url=base) as http:
            listed = (await http.get("/api/v1/missed-calls", headers=staff.headers(staff.manager))).json()[
                "items"
            ]
        assert [_without_age(row) for row in listed] == [_without_age(item)]

        previous = str(int(event.id) - 1)
        async with open_stream(base, _token(staff, staff.manager), last_event_id=previous) as again:
            replayed = await again.next(timeout=2.0)
            assert (replayed.event, replayed.id) == ("missed-call", event.id)
        async with open_stream(base, _token(staff, staff.manager), last_event_id=event.id) as current:
            await current.nothing_within(0.5)
        async with open_stream(base, _token(staff, staff.other), last_event_id=previous) as stranger:
            await stranger.nothing_within(0.5)  # replay is scoped too
        async with open_stream(base, _token(staff, staff.manager), last_event_id="12") as stale:
            assert (await stale.next(timeout=2.0)).event == "resync"


async def test_stream_refuses_missing_or_bad_tokens(
    app: FastAPI, staff: Staff, db: Session, unused_tcp_port: int
) -> None:
    _row, secret = api_tokens.issue(db, staff.manager.id, "wallboard", None)
    db.commit()
    async with serving(app, unused_tcp_port) as base:
        async with httpx.AsyncClient(base_url=base) as http:
            missing = await http.get("/api/v1/events")
            bad = await http.get("/api/v1/events", params={"access_token": "nonsense"})
        assert (missing.status_code, missing.json()["error"]) == (401, "not-authenticated")
        assert (bad.status_code, bad.json()["error"]) == (401, "invalid-token")
        async with open_stream(base, secret) as by_api_token:
            assert by_api_token.response.status_code == 200


async def test_stream_ends_with_token_expired(app: FastAPI, staff: Staff, unused_tcp_port: int) -> None:
    async with serving(app, unused_tcp_port) as base:
        token = issue_access_token(staff.signing_key, staff.manager.id, ttl=timedelta(seconds=4))
        async with open_stream(base, token) as stream:
            ended = await stream.next(timeout=10.0)
            assert ended.event == "token-expired"
            with pytest.raises(EOFError):
                await stream.next(timeout=5.0)  # and the stream ends


async def test_dial_begin_pops_the_callers_card_on_the_rung_managers_stream(
    app: FastAPI, staff: Staff, db: Session, traces_dir: Path, unused_tcp_port: int
) -> None:
    staff.manager.dial_target = M2_TARGET
    db.merge(staff.manager)
    acme = add_counterparty(db, "ACME LLC", staff.manager)
    db.add(PhoneNumber(e164=CALLER, counterparty_id=acme.id))
    db.commit()
    container: Container = app.state.container
    announcer = inline_ringing(container)
    sink = RingingObserver(CallTrackingSink(container.sessions, container.metrics), announcer.notify)
    async with (
        serving(app, unused_tcp_port) as base,
        open_stream(base, _token(staff, staff.manager)) as mine,
        open_stream(base, _token(staff, staff.other)) as stranger,
    ):
        for frame in trace_frames(traces_dir, "b"):
            await sink.handle_batch("main", [frame])
        ringing = await mine.next(timeout=2.0)
        assert ringing.event == "ringing"
        assert (ringing.data["caller"], ringing.data["manager_id"]) == (CALLER, staff.manager.id)
        assert ringing.data["counterparty_id"] == acme.id
        assert ringing.data["card"]["client"]["name"] == "ACME LLC"
        missed = await mine.next(timeout=2.0)
        assert (missed.event, missed.data["action"]) == ("missed-call", "opened")
        assert missed.data["missed_call"]["counterparty_name"] == "ACME LLC"
        await stranger.nothing_within(0.5)
