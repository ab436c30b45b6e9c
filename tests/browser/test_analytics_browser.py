"""The analytics page the way a director and a controller meet it: real Chromium, in Russian, known data,
each chart's SVG with the expected bars and cells, phone width without sideways scrolling."""

# ruff: noqa: RUF001  (Russian texts are intended)

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from bench.live_server import PASSWORD, Server, add_missed, add_user
from crm_core.models import (
    ClientStatus,
    Counterparty,
    Deal,
    DealStage,
    DealStageName,
    ManagerRole,
    Shipment,
    StatusCause,
    utcnow,
)
from crm_core.models.client_status import ClientStatusChange
from tests.browser.conftest import SHOTS

DESKTOP = {"width": 1440, "height": 900}
PHONE = {"width": 390, "height": 844}
CHARTS = "#%s .chart svg"


def _months_back(day: date, months: int) -> date:
    """The first day of the month ``months`` before ``day``'s month."""
    first = day.replace(day=1)
    for _ in range(months):
        first = (first - timedelta(days=1)).replace(day=1)
    return first


def _seed(server: Server) -> None:
    today = datetime.now(ZoneInfo(server.settings.company_timezone)).date()
    now = utcnow()
    with server.sessions.begin() as session:
        maria = add_user(session, "maria", ManagerRole.MANAGER, "Мария Иванова")
        ivan = add_user(session, "ivan", ManagerRole.MANAGER, "Иван Петров")
        olga = add_user(session, "olga", ManagerRole.CONTROLLER, "Ольга Контролёр")
        add_user(session, "dima", ManagerRole.DIRECTOR, "Дмитрий Директор")
        maria.controller_id = olga.id  # Ivan is nobody's team
        romashka = Counterparty(name="ООО Ромашка", manager_id=maria.id)
        vasilek = Counterparty(name="ИП Василёк", manager_id=maria.id)
        bereza = Counterparty(name="АО Берёза", manager_id=ivan.id)
        klen = Counterparty(name="ООО Клён", manager_id=ivan.id)
        session.add_all([romashka, vasilek, bereza, klen])
        session.flush()
        lines = [(romashka, _months_back(today, n) + timedelta(days=9), 1000, f"R{n}") for n in range(1, 13)]
        lines += [(vasilek, today - timedelta(days=10), 50, "V1")]
        lines += [
            (bereza, today - timedelta(days=300), 400, "B1"),
            (bereza, today - timedelta(days=200), 30, "B2"),
        ]
        session.add_all(
            Shipment(
                counterparty_id=cp.id,
                shipped_on=day,
                product="Цемент",
                quantity=1,
                amount=Decimal(amount),
                document_number=doc,
                line_number=1,
            )
            for cp, day, amount, doc in lines
        )
        moves = [
            (romashka, ClientStatus.POTENTIAL, ClientStatus.ONE_TIME_FRESH, _months_back(today, 2)),
            (vasilek, ClientStatus.POTENTIAL, ClientStatus.ONE_TIME_FRESH, today.replace(day=1)),
            (bereza, ClientStatus.REGULAR, ClientStatus.DEPARTED, _months_back(today, 1)),
        ]
        session.add_all(
            ClientStatusChange(
                counterparty_id=cp.id, from_status=old, to_status=new, day=day, cause=StatusCause.RECOMPUTE
            )
            for cp, old, new, day in moves
        )
        S = DealStageName
        for who, client, stages in (
            (maria, romashka, (S.LEAD, S.QUALIFICATION, S.WON)),
            (maria, vasilek, (S.LEAD,)),
            (maria, romashka, (S.LEAD, S.LOST)),
            (ivan, bereza, (S.LEAD, S.PROPOSAL)),
        ):
            deal = Deal(
                counterparty_id=client.id,
                manager_id=who.id,
                title="Поставка",
                stage=stages[-1],
                created_at=now,
            )
            session.add(deal)
            session.flush()
            session.add_all(DealStage(deal_id=deal.id, stage=s, entered_at=now) for s in stages)
        # inside this company week even just after Monday midnight
        local = datetime.now(ZoneInfo(server.settings.company_timezone))
        monday = datetime.combine(local.date() - timedelta(days=local.weekday()), time(), local.tzinfo)
        age = min(timedelta(minutes=90), (local - monday) / 2)
        for who, client, called_back in (
            (maria, romashka, True),
            (maria, vasilek, False),
            (ivan, bereza, True),
        ):
            missed = add_missed(session, "+79161234567", who, client, age)
            if called_back:
                missed.called_back_at = missed.created_at + timedelta(minutes=20)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, unused_tcp_port_factory: Any) -> Iterator[Server]:
    database = tmp_path_factory.mktemp("analytics-browser") / "analytics.db"
    with Server(f"sqlite:///{database}", unused_tcp_port_factory()) as running:
        _seed(running)
        yield running


def _open(
    browser: Any, server: Server, who: str, viewport: dict[str, int], **options: Any
) -> tuple[Any, Any]:
    """A Russian tab logged in as ``who`` on the analytics page, reached through the workspace's link."""
    context = browser.new_context(
        viewport=viewport, locale="ru-RU", timezone_id="America/New_York", **options
    )
    tab = context.new_page()
    tab.set_default_timeout(15_000)
    return context, tab


def _login_and_open(tab: Any, server: Server, who: str) -> None:
    tab.goto(server.url + "/workspace")
    tab.fill("input[name=login]", who)
    tab.fill("input[name=password]", PASSWORD)
    tab.click("#login-form button[type=submit]")
    tab.wait_for_selector("#app-view:not([hidden])")
    tab.click("a[data-view=analytics]")
    tab.wait_for_selector("body[data-loaded=yes]")


def _values(tab: Any, selector: str) -> list[str]:
    return [
        str(v) for v in tab.eval_on_selector_all(selector, "(nodes) => nodes.map((n) => n.dataset.value)")
    ]


def _shot(tab: Any, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    tab.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def test_director_sees_every_chart_in_russian(browser: Any, server: Server) -> None:
    context, tab = _open(browser, server, "dima", DESKTOP)
    try:
        _login_and_open(tab, server, "dima")
        assert tab.title() == "callrouter · аналитика"
        assert tab.get_attribute("html", "lang") == "ru"
        assert tab.is_visible("h2:has-text('Клиенты по статусам')")
        # statuses in the catalog's order: potential, fresh, regular, old, departed
        assert _values(tab, "#statuses svg rect.bar") == ["1", "1", "1", "0", "1"]
        assert tab.get_attribute(CHARTS % "statuses", "role") == "img"
        assert "Клиенты по статусам" in (tab.get_attribute(CHARTS % "statuses", "aria-label") or "")
        assert tab.locator("#transitions svg g.bar").count() == 3  # three months with moves
        assert tab.locator("#matrix svg rect.cell").count() == 9
        assert _values(tab, "#matrix svg rect.cell[data-key=AX]") == ["1"]
        assert _values(tab, "#funnel svg rect.bar") == ["4", "2", "2", "1", "1", "1"]
        assert "квалификация" in (tab.text_content("#funnel svg") or "")
        assert tab.locator("#callbacks svg rect.bar").count() == 12  # twelve weeks
        assert _values(tab, "#callbacks svg rect.bar")[-1] == str(2 / 3)
        assert tab.locator("#callbacks tbody tr").count() == 12
        assert tab.locator("#statuses .exports button").count() == 2
        assert tab.get_attribute("#statuses .exports button >> nth=0", "aria-label") == (
            "Скачать «Клиенты по статусам» в формате CSV"
        )
        _shot(tab, "analytics")
    finally:
        context.close()


def test_controller_sees_the_teams_numbers(browser: Any, server: Server) -> None:
    context, tab = _open(browser, server, "olga", DESKTOP)
    try:
        _login_and_open(tab, server, "olga")
        assert _values(tab, "#statuses svg rect.bar") == ["0", "1", "1", "0", "0"]  # Maria's two clients
        assert tab.locator("#transitions svg g.bar").count() == 2
        assert tab.locator("#matrix svg rect.cell").count() == 9
        assert _values(tab, "#funnel svg rect.bar") == ["3", "1", "1", "1", "1", "1"]
        assert _values(tab, "#callbacks svg rect.bar")[-1] == "0.5"
    finally:
        context.close()


def test_export_downloads_the_csv_of_the_section(browser: Any, server: Server) -> None:
    context, tab = _open(browser, server, "dima", DESKTOP, accept_downloads=True)
    try:
        _login_and_open(tab, server, "dima")
        with tab.expect_download() as info:
            tab.click("#matrix .exports button >> text=CSV")
        path = info.value.path()
        text = Path(path).read_text(encoding="utf-8-sig")
        assert text.splitlines()[0] == "abc,xyz,clients,revenue" and len(text.splitlines()) == 10
        assert info.value.suggested_filename.startswith(
            "abc-xyz-"
        ) and info.value.suggested_filename.endswith(".csv")
    finally:
        context.close()


FORGOTTEN = {
    "items": [
        {
            "counterparty_id": 1,
            "counterparty_name": "ООО Тишина",
            "manager_id": 1,
            "manager_name": "Мария Иванова",
            "last_contact_at": None,
            "last_contact_kind": None,
            "days_silent": 120,
            "never_contacted": True,
        }
    ],
    "total": 1,
    "page": 1,
    "page_size": 20,
    "as_of": "2026-11-30",
}
KPI = {
    "items": [
        {
            "manager_id": 1,
            "manager_name": "Мария Иванова",
            "refined_counterparties": 7,
            "refined_contacts": 11,
            "calls_answered": 40,
            "missed": 4,
            "callback_rate": 0.75,
        }
    ],
    "month": "2026-11",
}


@pytest.mark.parametrize("merged", [False, True], ids=["endpoints-missing", "endpoints-present"])
def test_forgotten_and_kpi_sections_follow_their_endpoints(
    browser: Any, server: Server, merged: bool
) -> None:
    """/analytics/forgotten and /analytics/kpi answered here by the browser with their documented shapes, or
    with 404 as from an older server (the page then says the section is not available and keeps working)."""
    context, tab = _open(browser, server, "dima", DESKTOP)

    def answer(body: dict[str, Any]) -> Any:
        def handler(route: Any) -> None:
            if merged:
                route.fulfill(status=200, content_type="application/json", body=json.dumps(body))
            else:
                route.fulfill(status=404, content_type="application/json", body='{"error": "not-found"}')

        return handler

    tab.route("**/api/v1/analytics/forgotten?*", answer(FORGOTTEN))
    tab.route("**/api/v1/analytics/kpi?*", answer(KPI))
    try:
        _login_and_open(tab, server, "dima")
        forgotten, kpi = tab.inner_text("#forgotten"), tab.inner_text("#kpi")
        if merged:
            assert all(text in forgotten for text in ("ООО Тишина", "ни разу не было контакта", "120"))
            assert "75" in tab.inner_text("#kpi tbody") and "11" in tab.inner_text("#kpi tbody")
        else:
            for text in (forgotten, kpi):
                assert "Раздел пока недоступен на этом сервере." in text
            assert tab.locator("#statuses svg rect.bar").count() == 5  # the rest of the page still works
    finally:
        context.close()


def test_a_manager_gets_no_analytics_page(browser: Any, server: Server) -> None:
    context, tab = _open(browser, server, "maria", DESKTOP)
    try:
        tab.goto(server.url + "/workspace")
        tab.fill("input[name=login]", "maria")
        tab.fill("input[name=password]", PASSWORD)
        tab.click("#login-form button[type=submit]")
        tab.wait_for_selector("#app-view:not([hidden])")
        assert tab.is_hidden("a[data-view=analytics]")
        tab.goto(server.url + "/workspace/analytics")
        tab.wait_for_selector("#gate:not([hidden])")
        assert "для контролёров, директоров и администраторов" in tab.inner_text("#gate")
        assert tab.is_hidden("#analytics-view")
    finally:
        context.close()


@pytest.mark.parametrize("who", ["dima", "olga"])
def test_phone_width_has_no_sideways_scroll(browser: Any, server: Server, who: str) -> None:
    context, tab = _open(browser, server, who, PHONE, is_mobile=True, has_touch=True)
    try:
        _login_and_open(tab, server, who)
        width = tab.evaluate("document.documentElement.scrollWidth")
        assert width <= PHONE["width"], f"{who}: page is {width}px wide"
        assert tab.locator("#matrix svg rect.cell").count() == 9
        small = tab.evaluate(
            """[...document.querySelectorAll('button, a, select, input')]
                .filter((e) => e.offsetParent !== null)
                .map((e) => [e, e.getBoundingClientRect()])
                .filter(([, r]) => r.height < 44 || r.width < 44)
                .map(([e, r]) => `${e.outerHTML.slice(0, 60)} ${r.width}x${r.height}`)"""
        )
        assert small == []
        if who == "dima":
            _shot(tab, "analytics-phone")
    finally:
        context.close()


def test_texts_have_aa_contrast(browser: Any, server: Server) -> None:
    from tests.browser.test_workspace_browser import contrast

    context, tab = _open(browser, server, "dima", DESKTOP)
    try:
        _login_and_open(tab, server, "dima")
        for selector in ("#statuses h2", ".analytics-controls label", "#callbacks th", ".exports button"):
            assert contrast(tab, selector) >= 4.5, selector
    finally:
        context.close()


def test_page_answers_without_a_login_with_a_way_back(browser: Any, server: Server) -> None:
    context, tab = _open(browser, server, "nobody", DESKTOP)
    try:
        tab.goto(server.url + "/workspace/analytics")
        tab.wait_for_selector("#gate:not([hidden])")
        assert tab.is_visible("#gate a[href='/workspace']")
    finally:
        context.close()
