"""``callrouter demo pbx`` against a real ``callrouter serve``: the demo's calls, routed by serve's FastAGI
and replayed over AMI from the real recordings, pop Maria's card, open her missed call live, record the
answered call, and put the unknown caller's missed call in the shared queue."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from pathlib import Path

from pydantic import SecretStr
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from callrouter.api.security import issue_access_token
from callrouter.demo_pbx.recording import load_recording
from callrouter.demo_pbx.script import DEMO_CALLS, DemoAddress, play_demo
from callrouter.demo_pbx.server import DemoPbx
from callrouter.runtime import run_services
from callrouter.settings import Settings
from callrouter.wiring import build_container
from crm_core.db import make_engine, make_session_factory
from crm_core.demo_data import CLIENT_NUMBER, UNKNOWN_NUMBER, seed_demo
from crm_core.i18n import Localizer
from crm_core.migrations import upgrade
from crm_core.models import CallDisposition, CallRecord, Manager, MissedCall, MissedStatus
from tests.live.sse import Sse, SseStream, open_stream
from tests.live.test_serve_live import _until_listening


async def _events_until(stream: SseStream, done: Callable[[list[Sse]], bool], timeout: float) -> list[Sse]:
    seen: list[Sse] = []
    deadline = time.monotonic() + timeout
    while not done(seen):
        seen.append(await stream.next(timeout=max(0.1, deadline - time.monotonic())))
    return seen


def _missed_opened(events: list[Sse]) -> bool:
    return any(e.event == "missed-call" and e.data["action"] == "opened" for e in events)


async def test_demo_pbx_plays_to_serve(tmp_path: Path, unused_tcp_port_factory: Callable[[], int]) -> None:
    url = f"sqlite:///{tmp_path / 'demo.db'}"
    upgrade(url)
    engine = make_engine(url)
    sessions = make_session_factory(engine)
    with sessions() as s, s.begin():
        seed_demo(s)
    with sessions() as s:
        maria = s.scalars(select(Manager).where(Manager.login == "maria")).one()

    pbx = await DemoPbx("127.0.0.1", 0, "demo", "demo-secret", load_recording("s1").fully_booted).start()
    api_port, agi_port = unused_tcp_port_factory(), unused_tcp_port_factory()
    settings = Settings(
        env="development",
        database_url=url,
        api_bind=f"127.0.0.1:{api_port}",
        agi_bind=f"127.0.0.1:{agi_port}",
        ami_host="127.0.0.1",
        ami_port=pbx.port,
        ami_username="demo",
        ami_secret=SecretStr("demo-secret"),
        language="en",
    )
    container = build_container(settings)
    stop = asyncio.Event()
    service = asyncio.create_task(run_services(container, stop))
    said: list[str] = []
    try:
        await _until_listening(api_port)
        assert await pbx.wait_until_listed(20), "serve's AMI link did not log in to the demo PBX"
        token = issue_access_token(settings.signing_key, maria.id)
        async with open_stream(f"http://127.0.0.1:{api_port}", token, via_query=True) as stream:
            l10n = Localizer.of("en", settings.company_timezone)
            playing = asyncio.create_task(
                play_demo(pbx, DemoAddress("127.0.0.1", agi_port), l10n, said.append, pause=0.3)
            )
            events = await _events_until(stream, _missed_opened, timeout=40)
            played = await asyncio.wait_for(playing, 40)
        rings = [e for e in events if e.event == "ringing"]
        assert len(rings) == 2  # the answered call, then the missed one: Maria's phone rang twice
        assert {r.data["linkedid"] for r in rings} == {played[0].linkedid, played[1].linkedid}
        assert rings[0].data["card"]["client"]["name"] == "Demo Client LLC"
        assert rings[0].data["caller"] == CLIENT_NUMBER
        opened = next(e for e in events if e.event == "missed-call")
        assert opened.data["missed_call"]["assigned_manager_id"] == maria.id
        assert [p.target for p in played] == ["PJSIP/101", "PJSIP/101", "PJSIP/reception"]
        assert len(said) == len(DEMO_CALLS) and "PJSIP/101" in said[0]

        records = await _poll_records(sessions, {p.linkedid for p in played})
        answered, missed, unknown = (records[p.linkedid] for p in played)
        assert answered.disposition is CallDisposition.ANSWERED
        assert answered.answered_by_manager_id == maria.id
        assert (
            answered.talk_seconds is not None and 3.0 < answered.talk_seconds < 4.5
        )  # the recording's 3.5 s
        assert missed.disposition is CallDisposition.NO_ANSWER
        assert missed.ring_seconds is not None and 7.5 < missed.ring_seconds < 9.0  # the recording's 8 s
        with sessions() as s:
            by_record = {m.call_record_id: m for m in s.scalars(select(MissedCall))}
        assert answered.id not in by_record
        assert (by_record[missed.id].status, by_record[missed.id].assigned_manager_id) == (
            MissedStatus.OPEN,
            maria.id,
        )
        shared = by_record[unknown.id]
        assert (shared.assigned_manager_id, shared.counterparty_id) == (None, None)  # the shared queue
        assert unknown.caller_number == UNKNOWN_NUMBER
    finally:
        stop.set()
        await asyncio.wait_for(service, 15)
        await pbx.close()
        container.close()
        engine.dispose()


async def _poll_records(sessions: sessionmaker[Session], linkedids: set[str]) -> dict[str, CallRecord]:
    deadline = time.monotonic() + 15
    while True:
        with sessions() as s:
            rows = s.scalars(select(CallRecord).where(CallRecord.linkedid.in_(linkedids))).all()
        if len(rows) == len(linkedids):
            return {r.linkedid: r for r in rows}
        assert time.monotonic() < deadline, f"call records: {[r.linkedid for r in rows]} of {linkedids}"
        await asyncio.sleep(0.1)
