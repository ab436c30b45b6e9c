"""The workspace the way its users meet it: real Chromium, each role, phone and desktop widths."""

# ruff: noqa: RUF001  (Russian texts are intended)

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, time, timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit
from zoneinfo import ZoneInfo

import pytest

from bench.live_server import PASSWORD, Server
from tests.browser.conftest import SHOTS

DESKTOP = {"width": 1440, "height": 900}
PHONE = {"width": 390, "height": 844}


@pytest.fixture
def page(browser: Any, server: Server) -> Iterator[Any]:
    context = browser.new_context(viewport=DESKTOP, locale="ru-RU", timezone_id="America/New_York")
    tab = context.new_page()
    tab.set_default_timeout(10_000)
    yield tab
    context.close()


def login(page: Any, server: Server, who: str, path: str = "/workspace") -> None:
    page.goto(server.url + path)
    page.fill("input[name=login]", who)
    page.fill("input[name=password]", PASSWORD)
    page.click("#login-form button[type=submit]")
    page.wait_for_selector("#app-view:not([hidden])")


CONTRAST = """(selector) => {
  const node = document.querySelector(selector);
  const rgb = (value) => value.match(/[\\d.]+/g).slice(0, 3).map(Number);
  const luminance = ([r, g, b]) => [r, g, b].map((c) => c / 255)
    .map((c) => (c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4))
    .reduce((sum, c, i) => sum + c * [0.2126, 0.7152, 0.0722][i], 0);
  let back = node;
  while (back && getComputedStyle(back).backgroundColor.endsWith(", 0)")) back = back.parentElement;
  const fg = luminance(rgb(getComputedStyle(node).color));
  const bg = luminance(rgb(back ? getComputedStyle(back).backgroundColor : "rgb(255, 255, 255)"));
  return (Math.max(fg, bg) + 0.05) / (Math.min(fg, bg) + 0.05);
}"""


def contrast(page: Any, selector: str) -> float:
    """The contrast ratio of the element's text against the first opaque background behind it."""
    return float(page.evaluate(CONTRAST, selector))


def shot(page: Any, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def test_login_page_is_russian_and_only_the_form_shows(page: Any, server: Server) -> None:
    page.goto(server.url + "/workspace")
    assert page.get_attribute("html", "lang") == "ru"
    assert page.is_visible("text=Войти") and page.is_hidden("#app-view")
    assert page.title() == "callrouter · рабочее место"
    shot(page, "login")


def test_manager_sees_own_missed_calls_in_russian_with_company_time(page: Any, server: Server) -> None:
    login(page, server, "maria")
    page.wait_for_selector("#missed-rows tr")
    rows = page.locator("#missed-rows tr")
    assert rows.count() == 1
    text = rows.first.inner_text()
    assert "+79161234567" in text and "менеджер не ответил" in text
    assert "1 час 35 минут" in text or "1 час 36 минут" in text
    assert page.locator("#missed-rows tr.late").count() == 1  # over the hour: highlighted
    assert page.inner_text("#missed-status") == "1 открытый пропущенный звонок"
    call = rows.first.locator("button", has_text="Позвонить")
    # the label names the client (its name once the list carries names, else the number called)
    assert call.get_attribute("aria-label") in ("Позвонить: ООО Ромашка", "Позвонить: +79161234567")
    assert page.is_hidden("[data-view=team]")  # no supervisor view for a manager
    for selector in ("a.wa", "#missed-rows button", "tr.late td.overdue", "#missed-status"):
        assert contrast(page, selector) >= 4.5, selector  # WCAG AA for normal text
    shot(page, "manager")


def test_logout_leaves_nothing_visible(page: Any, server: Server) -> None:
    login(page, server, "maria")
    page.wait_for_selector("#missed-rows tr")
    page.click("#logout")
    page.wait_for_selector("#login-view:not([hidden])")
    assert page.locator("text=+79161234567").count() == 0
    assert page.is_hidden("#app-view") and page.is_hidden("#whoami")
    assert page.evaluate("sessionStorage.length") == 0


def test_an_expired_session_clears_the_page(page: Any, server: Server) -> None:
    login(page, server, "maria")
    page.wait_for_selector("#missed-rows tr")
    page.evaluate("sessionStorage.setItem('callrouter.access_token', 'expired')")
    page.click("a[data-view=notifications]")
    page.wait_for_selector("#login-view:not([hidden])")
    assert page.locator("text=+79161234567").count() == 0


def test_supervisor_sees_the_team_and_callback_discipline(page: Any, server: Server) -> None:
    login(page, server, "olga")
    page.wait_for_selector("#team-rows tr")
    assert page.is_visible("#view-team")
    team = page.inner_text("#team-rows")
    assert "+79161234567" in team and "+79031112233" in team
    page.wait_for_selector("#stats-rows tr")
    shot(page, "supervisor")


def test_callback_discipline_asks_for_company_days_in_a_browser_elsewhere(page: Any, server: Server) -> None:
    """The page's browser is in New York; the default week still runs from a company midnight to the company
    midnight after today (parsing a Moscow wall-clock string as New York time once put both 5 hours early,
    so the report lost each evening's calls)."""
    with page.expect_request(lambda request: "/reports/missed-calls?" in request.url) as sent:
        login(page, server, "olga")
    params = parse_qs(urlsplit(sent.value.url).query)
    since, until = (datetime.fromisoformat(params[key][0]) for key in ("since", "until"))
    company = ZoneInfo(server.settings.company_timezone)
    assert since.astimezone(company).time() == until.astimezone(company).time() == time(0)
    assert until - since == timedelta(days=7)
    today = datetime.now(company).date()  # the page read its clock a moment ago: today or yesterday
    assert until.astimezone(company).date() - timedelta(days=1) in (today, today - timedelta(days=1))


def test_deep_link_opens_after_login(page: Any, server: Server) -> None:
    login(page, server, "dima", "/workspace#/notifications")
    assert page.is_visible("#view-notifications") and page.is_hidden("#view-missed")


def test_routing_explainer_says_where_a_number_goes_in_russian(page: Any, server: Server) -> None:
    login(page, server, "dima", "/workspace#/explain")
    page.fill("#explain-number", "8 (916) 123-45-67")
    page.click("#explain-form button[type=submit]")
    page.wait_for_selector("#explain-result strong")
    result = page.inner_text("#explain-result")
    assert "персональному менеджеру клиента" in result
    assert "звонить на PJSIP/101 20 секунд" in result and "null" not in result
    shot(page, "explainer")


@pytest.mark.parametrize("who", ["maria", "olga", "dima"])
def test_phone_width_has_no_sideways_scroll_and_big_tap_targets(
    browser: Any, server: Server, who: str
) -> None:
    context = browser.new_context(viewport=PHONE, locale="ru-RU", is_mobile=True, has_touch=True)
    tab = context.new_page()
    try:
        login(tab, server, who)
        tab.wait_for_selector(".view:not([hidden]) tbody tr")
        width = tab.evaluate("document.documentElement.scrollWidth")
        assert width <= PHONE["width"], f"{who}: page is {width}px wide"
        # a checkbox is tapped through its label
        small = tab.evaluate(
            """[...document.querySelectorAll('button, a, select, input')]
                .filter((e) => e.offsetParent !== null)
                .map((e) => [e, (e.type === 'checkbox' && e.closest('label') || e).getBoundingClientRect()])
                .filter(([, r]) => r.height < 44 || r.width < 44)
                .map(([e, r]) => `${e.outerHTML.slice(0, 60)} ${r.width}x${r.height}`)"""
        )
        assert small == []
        if who == "maria":
            shot(tab, "phone")
    finally:
        context.close()


def test_english_user_choice_is_kept(browser: Any, server: Server) -> None:
    context = browser.new_context(viewport=DESKTOP, locale="en-US")
    tab = context.new_page()
    try:
        tab.goto(server.url + "/workspace")
        assert tab.get_attribute("html", "lang") == "en" and tab.is_visible("text=Log in")
    finally:
        context.close()
