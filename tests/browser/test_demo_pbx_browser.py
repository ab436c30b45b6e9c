"""The demo a newcomer runs, in the browser: Maria's page is open, the demo PBX plays the client's missed call
over AMI to a real serve, her page pops the client's card and the missed call arrives in her list."""

# ruff: noqa: RUF001  (Russian texts are intended)

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Iterator
from concurrent.futures import Future
from pathlib import Path
from typing import Any

import pytest
from pydantic import SecretStr

from bench.live_server import PASSWORD
from callrouter.demo_pbx.play import PlayedCall
from callrouter.demo_pbx.recording import load_recording
from callrouter.demo_pbx.script import DEMO_CALLS, DemoAddress, play_demo
from callrouter.demo_pbx.server import DemoPbx
from callrouter.runtime import run_services
from callrouter.settings import Settings
from callrouter.wiring import build_container
from crm_core.db import make_engine, make_session_factory
from crm_core.demo_data import CLIENT_NUMBER, seed_demo, set_demo_passwords
from crm_core.i18n import Localizer
from crm_core.migrations import upgrade
from crm_core.services.passwords import hash_password
from tests.browser.test_workspace_browser import DESKTOP, shot


class DemoStack:
    """``callrouter serve`` (API, FastAGI, AMI link) and the demo PBX on one event loop in their own thread,
    as `make run` and `make demo` would run them (Playwright's sync API holds this thread's loop)."""

    def __init__(self, database_url: str, api_port: int, agi_port: int) -> None:
        self.database_url, self.api_port, self.agi_port = database_url, api_port, agi_port
        self.url = f"http://127.0.0.1:{api_port}"
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.stop = asyncio.Event()

    def __enter__(self) -> DemoStack:
        self.thread.start()
        self._run(self._start(), 60)
        return self

    def __exit__(self, *_exc: object) -> None:
        self._run(self._close(), 30)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)

    def _run(self, coro: Any, timeout: float) -> Any:
        future: Future[Any] = asyncio.run_coroutine_threadsafe(coro, self.loop)
        return future.result(timeout)

    async def _start(self) -> None:
        self.pbx = await DemoPbx(
            "127.0.0.1", 0, "demo", "demo-secret", load_recording("s1").fully_booted
        ).start()
        settings = Settings(
            env="development",
            database_url=self.database_url,
            api_bind=f"127.0.0.1:{self.api_port}",
            agi_bind=f"127.0.0.1:{self.agi_port}",
            ami_host="127.0.0.1",
            ami_port=self.pbx.port,
            ami_username="demo",
            ami_secret=SecretStr("demo-secret"),
        )
        self.container = build_container(settings)
        self.service = asyncio.create_task(run_services(self.container, self.stop))
        assert await self.pbx.wait_until_listed(30), "serve's AMI link did not log in to the demo PBX"

    async def _close(self) -> None:
        self.stop.set()
        await asyncio.wait_for(self.service, 15)
        await self.pbx.close()
        self.container.close()

    def play(self, calls: Any) -> list[PlayedCall]:
        l10n = Localizer.of("ru", "Europe/Moscow")
        address = DemoAddress("127.0.0.1", self.agi_port)
        played: list[PlayedCall] = self._run(play_demo(self.pbx, address, l10n, lambda _: None, calls), 60)
        return played


@pytest.fixture
def demo(tmp_path: Path, unused_tcp_port_factory: Any) -> Iterator[DemoStack]:
    url = f"sqlite:///{tmp_path / 'demo.db'}"
    upgrade(url)
    engine = make_engine(url)
    with make_session_factory(engine)() as session:
        seed_demo(session)
        set_demo_passwords(session, hash_password(PASSWORD))
        session.commit()
    engine.dispose()
    with DemoStack(url, unused_tcp_port_factory(), unused_tcp_port_factory()) as stack:
        yield stack


def test_demo_pbx_pops_the_card_and_the_missed_call_arrives(browser: Any, demo: DemoStack) -> None:
    context = browser.new_context(viewport=DESKTOP, locale="ru-RU")
    try:
        tab = context.new_page()
        tab.set_default_timeout(15_000)
        tab.goto(demo.url + "/workspace")
        tab.fill("input[name=login]", "maria")
        tab.fill("input[name=password]", PASSWORD)
        tab.click("#login-form button[type=submit]")
        tab.wait_for_selector("body[data-live=on]")
        row = f"#missed-rows tr:has-text('{CLIENT_NUMBER}')"
        assert tab.locator(row).count() == 0

        missed_call = next(c for c in DEMO_CALLS if c.caller == CLIENT_NUMBER and c.recording == "s2")
        playing = threading.Thread(target=demo.play, args=([missed_call],))
        started = time.monotonic()
        playing.start()
        tab.wait_for_selector("#pop:not([hidden]) .client-name", timeout=10_000)
        popped = time.monotonic() - started
        pop = tab.inner_text("#pop")
        assert f"Входящий звонок с номера {CLIENT_NUMBER}" in pop and "Demo Client LLC" in pop
        shot(tab, "demo-pbx-screen-pop")
        tab.wait_for_selector(row, timeout=20_000)  # the phone rings 8 s, then the missed call is recorded
        arrived = time.monotonic() - started
        playing.join(30)
        assert popped < 3.0, f"screen pop after {popped:.1f} s"
        assert 7.5 < arrived < 12.0, f"missed call after {arrived:.1f} s (8 s of ringing)"
        assert "Demo Client LLC" in tab.inner_text(row)
    finally:
        context.close()
