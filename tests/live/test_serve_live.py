"""``callrouter serve`` end to end: a manager's open events stream receives the screen pop and the missed
call that the AMI stand-in's real trace produces, within 2 s, and another manager receives nothing."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from pathlib import Path

from callrouter.api.security import issue_access_token
from callrouter.runtime import run_services
from callrouter.settings import Settings
from callrouter.wiring import build_container
from crm_core.db import make_engine, make_session_factory
from crm_core.migrations import upgrade
from crm_core.models import Counterparty, Manager, ManagerRole, PhoneNumber
from tests.ami.standin import AmiStandIn
from tests.ami.trace import load_trace
from tests.live.sse import open_stream

CALLER = "+79001234568"  # trace b: rings noanswer-m2, nobody answers


async def test_serve_streams_screen_pop_and_missed_call_live(
    tmp_path: Path, traces_dir: Path, unused_tcp_port_factory: Callable[[], int]
) -> None:
    url = f"sqlite:///{tmp_path / 'live.db'}"
    upgrade(url)
    engine = make_engine(url)
    sessions = make_session_factory(engine)
    with sessions() as s, s.begin():
        controller = Manager(name="C1", login="c1", role=ManagerRole.CONTROLLER)
        s.add(controller)
        s.flush()
        m2 = Manager(
            name="M2", login="m2", dial_target="Local/noanswer-m2@agents", controller_id=controller.id
        )
        m3 = Manager(name="M3", login="m3", dial_target="PJSIP/m3")
        s.add_all([m2, m3])
        s.flush()
        client = Counterparty(name="ACME LLC", manager_id=m2.id)
        s.add(client)
        s.flush()
        s.add(PhoneNumber(e164=CALLER, counterparty_id=client.id))

    async with AmiStandIn(load_trace(traces_dir / "b.ami")) as pbx:
        pbx.stall()  # hold the call until the streams are open
        api_port = unused_tcp_port_factory()
        settings = Settings(
            env="development",
            database_url=url,
            api_bind=f"127.0.0.1:{api_port}",
            agi_bind=f"127.0.0.1:{unused_tcp_port_factory()}",
            ami_host="127.0.0.1",
            ami_port=pbx.port,
            ami_username=pbx.username,
            ami_secret=pbx.secret,
        )
        container = build_container(settings)
        stop = asyncio.Event()
        service = asyncio.create_task(run_services(container, stop))
        base = f"http://127.0.0.1:{api_port}"
        try:
            await _until_listening(api_port)
            key = settings.signing_key
            async with (
                open_stream(base, issue_access_token(key, m2.id)) as mine,
                open_stream(base, issue_access_token(key, m3.id), via_query=True) as stranger,
            ):
                started = time.monotonic()
                pbx.resume()
                # the stand-in plays the whole call at once: the screen pop (built in the background)
                # and the missed call (committed with the batch holding the hangup) may come in any order
                got = {e.event: e for e in [await mine.next(timeout=5.0), await mine.next(timeout=5.0)]}
                ringing, missed = got["ringing"], got["missed-call"]
                elapsed = time.monotonic() - started
                assert (ringing.event, ringing.data["card"]["client"]["name"]) == ("ringing", "ACME LLC")
                assert (missed.event, missed.data["action"]) == ("missed-call", "opened")
                assert missed.data["missed_call"]["assigned_manager_id"] == m2.id
                assert elapsed < 2.0, f"missed call reached the page after {elapsed:.2f} s"
                await stranger.nothing_within(0.5)
                stop.set()  # with streams still open: shutdown must not wait for them forever
                await asyncio.wait_for(service, 15)
        finally:
            stop.set()
            await asyncio.wait_for(service, 15)
            container.close()
            engine.dispose()


async def _until_listening(port: int, timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            _, writer = await asyncio.open_connection("127.0.0.1", port)
        except OSError:
            assert time.monotonic() < deadline, "API did not start"
            await asyncio.sleep(0.05)
            continue
        writer.close()
        await writer.wait_closed()
        return
