"""Live in the browser: a missed call replayed from a real AMI trace arrives on the manager's and the
controller's open pages, a callback closes its row, and a ringing phone pops the caller's card."""

# ruff: noqa: RUF001  (Russian texts are intended)

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from bench.live_server import Server
from crm_core.events import publish_after_commit
from crm_core.models import Counterparty, Manager, MissedCall, MissedStatus, utcnow
from crm_core.services.screen_pop import Ringing, ringing_event
from pbx_bridge.ami.call_tracking_sink import CallTrackingSink
from tests.browser.test_workspace_browser import DESKTOP, PHONE, login, shot
from tests.call_tracking.helpers import trace_frames

M2_TARGET = "Local/noanswer-m2@agents"  # trace b rings this target and nobody answers
CALLER = "+79001234568"


@pytest.fixture
def pages(browser: Any) -> Iterator[Any]:
    contexts: list[Any] = []

    def open_page(viewport: dict[str, int] = DESKTOP) -> Any:
        context = browser.new_context(viewport=viewport, locale="ru-RU")
        contexts.append(context)
        tab = context.new_page()
        tab.set_default_timeout(10_000)
        return tab

    yield open_page
    for context in contexts:
        context.close()


def _play_trace_b(server: Server, traces_dir: Path) -> None:
    sink = CallTrackingSink(server.container.sessions, server.container.metrics)

    async def play() -> None:
        for frame in trace_frames(traces_dir, "b"):
            await sink.handle("main", frame)

    # Playwright's sync API holds this thread's event loop: replay on a thread of its own (as the AMI client)
    replay = threading.Thread(target=asyncio.run, args=(play(),))
    replay.start()
    replay.join(30)


def _live(tab: Any) -> None:
    tab.wait_for_selector("body[data-live=on]")


def test_a_missed_call_arrives_live_and_a_callback_closes_it(
    pages: Any, server: Server, traces_dir: Path
) -> None:
    with server.sessions.begin() as session:
        ivan = session.scalars(select(Manager).where(Manager.login == "ivan")).one()
        ivan.dial_target = M2_TARGET
    manager, controller = pages(), pages(PHONE)
    login(manager, server, "ivan")
    login(controller, server, "olga")
    for tab in (manager, controller):
        _live(tab)
    row = f"#missed-rows tr:has-text('{CALLER}')"
    assert manager.locator(row).count() == 0

    started = time.monotonic()
    _play_trace_b(server, traces_dir)
    manager.wait_for_selector(row, timeout=5_000)
    controller.wait_for_selector(f"#team-rows tr:has-text('{CALLER}')", timeout=5_000)
    arrived = time.monotonic() - started
    assert arrived < 5.0, f"{arrived:.1f} s"  # replay included; the stream itself delivers in well under 2 s
    assert "Иван Петров" in controller.inner_text(f"#team-rows tr:has-text('{CALLER}')")
    shot(manager, "live-arrival")

    manager.click(f"{row} button:has-text('Итог')")
    manager.fill("#resolve-note", "Перезвонил, клиент ждёт счёт")
    manager.click("#resolve-form button[value=called_back]")
    manager.wait_for_selector(row, state="detached")
    controller.wait_for_selector(f"#team-rows tr:has-text('{CALLER}')", state="detached", timeout=5_000)
    with server.sessions() as session:
        missed = session.scalars(select(MissedCall).where(MissedCall.caller_number == CALLER)).one()
        assert missed.status == MissedStatus.CALLED_BACK


def test_close_without_callback_needs_a_reason(pages: Any, server: Server) -> None:
    tab = pages()
    login(tab, server, "dima", "/workspace#/unknown")
    row = "#unknown-rows tr:has-text('+74957654321')"
    tab.wait_for_selector(row)
    tab.click(f"{row} button:has-text('Итог')")
    tab.click("#resolve-form button[value=closed]")
    assert tab.inner_text("#resolve-error") == "Выберите, почему закрываете без перезвона."
    tab.select_option("#resolve-reason", "wrong_number")
    tab.click("#resolve-form button[value=closed]")
    tab.wait_for_selector(row, state="detached")
    with server.sessions() as session:
        missed = session.scalars(select(MissedCall).where(MissedCall.caller_number == "+74957654321")).one()
        assert missed.status == MissedStatus.CLOSED


def _ring(server: Server, caller: str, target: str) -> None:
    """A phone starts ringing, announced the way the AMI DialBegin observer does (the screen-pop service)."""
    with server.sessions.begin() as session:
        ring = Ringing(linkedid=f"ring-{caller}", caller=caller, target=target)
        event = ringing_event(session, ring, "RU", utcnow())
        assert event is not None
        publish_after_commit(session, event)


def test_a_ringing_phone_pops_the_callers_card_or_a_register_form(pages: Any, server: Server) -> None:
    tab = pages()
    login(tab, server, "maria")
    _live(tab)
    _ring(server, "89161234567", "PJSIP/101")  # maria's phone, the client Romashka calls
    tab.wait_for_selector("#pop:not([hidden]) .client-name", timeout=3_000)
    pop = tab.inner_text("#pop")
    assert "Входящий звонок с номера +79161234567" in pop and "ООО Ромашка" in pop
    assert "Открытые пропущенные" in pop
    shot(tab, "screen-pop")

    _ring(server, "+74991234567", "PJSIP/101")
    tab.wait_for_selector("#pop form.register", timeout=3_000)
    assert "Этого номера нет ни в одной карточке." in tab.inner_text("#pop")
    tab.select_option("#pop form.register select", "new_counterparty")
    tab.fill("#pop form.register input[required]", "ООО Новый клиент")
    tab.click("#pop form.register button[type=submit]")
    tab.wait_for_selector("#pop", state="hidden")
    with server.sessions() as session:
        created = session.scalars(select(Counterparty).where(Counterparty.name == "ООО Новый клиент")).one()
        assert created.id > 0
