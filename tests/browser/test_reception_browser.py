"""The shared queue in the browser: reception's page opens on "Unknown numbers", where a missed call from a
number in no card waits and a callback closes it; a supervisor hands a queued call to a manager."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select

from bench.live_server import Server, add_missed, add_user
from crm_core.models import Manager, ManagerRole, MissedCall, MissedStatus
from tests.browser.test_workspace_browser import DESKTOP, login, shot

QUEUED = "+74951230099"


def test_reception_opens_on_the_shared_queue_and_calls_back(browser: Any, server: Server) -> None:
    with server.sessions.begin() as session:
        add_user(session, "rita", ManagerRole.RECEPTION, "Рита Ресепшн")
        add_missed(session, QUEUED, None, None, timedelta(minutes=20))
    context = browser.new_context(viewport=DESKTOP, locale="ru-RU")
    try:
        tab = context.new_page()
        tab.set_default_timeout(10_000)
        login(tab, server, "rita")
        tab.wait_for_selector("#view-unknown:not([hidden])")
        visible = [a.inner_text().strip() for a in tab.query_selector_all("nav.tabs a") if a.is_visible()]
        assert "Неизвестные номера" in visible and "Команда" not in visible
        row = f"#unknown-rows tr:has-text('{QUEUED}')"
        tab.wait_for_selector(row)
        shot(tab, "reception-queue")
        tab.click(f"{row} button:has-text('Итог')")
        tab.fill("#resolve-note", "Перезвонила, это новый клиент")
        tab.click("#resolve-form button[value=called_back]")
        tab.wait_for_selector(row, state="detached")
    finally:
        context.close()
    with server.sessions() as session:
        missed = session.scalars(select(MissedCall).where(MissedCall.caller_number == QUEUED)).one()
        assert missed.status == MissedStatus.CALLED_BACK


@pytest.mark.parametrize(
    ("login_name", "number"),
    [("dima", "+74951230098"), ("rosa", "+74951230097")],
    ids=["director", "reception"],
)
def test_a_queued_call_is_handed_to_a_manager_from_the_dialog(
    browser: Any, server: Server, login_name: str, number: str
) -> None:
    with server.sessions.begin() as session:
        if login_name == "rosa":
            add_user(session, "rosa", ManagerRole.RECEPTION, "Роза Ресепшн")
        add_missed(session, number, None, None, timedelta(minutes=5))
        ivan = session.scalars(select(Manager).where(Manager.login == "ivan")).one()
        ivan_id, ivan_name = ivan.id, ivan.name
    context = browser.new_context(viewport=DESKTOP, locale="ru-RU")
    try:
        tab = context.new_page()
        tab.set_default_timeout(10_000)
        login(tab, server, login_name, "/workspace#/unknown")
        row = f"#unknown-rows tr:has-text('{number}')"
        tab.wait_for_selector(row)
        tab.click(f"{row} button:has-text('Назначить')")
        tab.wait_for_selector("#assign-dialog[open]")
        names = [o.inner_text() for o in tab.query_selector_all("#assign-manager option")]
        assert ivan_name in names and len(names) >= 4  # both may hand the queue to anyone active
        tab.select_option("#assign-manager", str(ivan_id))
        tab.click("#assign-dialog button[value=assign]")
        tab.wait_for_selector(row, state="detached")
    finally:
        context.close()
    with server.sessions() as session:
        missed = session.scalars(select(MissedCall).where(MissedCall.caller_number == number)).one()
        assert missed.assigned_manager_id == ivan_id
