"""The product in Persian, in real browsers: the widget on the Persian demo shop at a
phone's size starts a chat and a call, the console and the supervisor page render right
to left without anything spilling out of the window, and the supervisor page writes its
dates in the Jalali calendar in Persian and the Gregorian one in English.

Debian's Chromium through Playwright (never ``playwright install``), fake media, a live
server on loopback; requests leaving loopback are aborted and fail the test.
"""

from __future__ import annotations

import re
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import jdatetime
import pytest

from tests.browser.test_call_browser import Browser, grows
from tests.browser.test_chat_browser import Watched, sign_in_agent, wait_until
from tests.support.browser import CHROMIUM, CHROMIUM_ARGS, sync_playwright
from tests.support.screenshots import screenshot_path
from tests.support.server import ADMIN_PASSWORD, LiveServer, live_server

pytestmark = pytest.mark.browser

PHONE = {"width": 390, "height": 844}
PERSIAN_DIGITS = re.compile(r"[۰-۹]")
JALALI_MONTHS = (
    "فروردین",
    "اردیبهشت",
    "خرداد",
    "تیر",
    "مرداد",
    "شهریور",
    "مهر",
    "آبان",
    "آذر",
    "دی",
    "بهمن",
    "اسفند",
)

# Elements that stick out of the window, unless an ancestor clips or scrolls them.
OVERFLOWING = """
(root) => {
  const width = document.documentElement.clientWidth;
  const out = [];
  const clipped = (el) => {
    const up = (node) => node.parentElement || node.getRootNode().host || null;
    for (let p = up(el); p && p !== document.body; p = up(p)) {
      const style = getComputedStyle(p);
      if (style.overflowX !== "visible" || style.display === "contents") return true;
    }
    return false;
  };
  // The widget draws in an open Shadow DOM: look inside it too.
  const all = [];
  const collect = (scope) => {
    for (const el of scope.querySelectorAll("*")) {
      all.push(el);
      if (el.shadowRoot) collect(el.shadowRoot);
    }
  };
  collect(root || document);
  for (const el of all) {
    const box = el.getBoundingClientRect();
    if (!box.width || !box.height) continue;
    if (getComputedStyle(el).visibility === "hidden") continue;
    if ((box.right > width + 1 || box.left < -1) && !clipped(el)) {
      out.push(`${el.tagName.toLowerCase()}${el.id ? "#" + el.id : ""}.${el.className}`.slice(0, 80));
    }
  }
  return { out, scroll: document.documentElement.scrollWidth, width };
}
"""


def no_overflow(page: Any, root: str | None = None) -> None:
    found = page.evaluate(OVERFLOWING, None) if root is None else page.locator(root).evaluate(OVERFLOWING)
    assert not found["out"], f"outside the window: {found['out'][:10]}"
    assert found["scroll"] <= found["width"] + 1, found


@pytest.fixture
def playwright() -> Any:
    with sync_playwright() as running:
        yield running


def test_widget_on_the_persian_shop_chats_and_calls_on_a_phone(tmp_path: Path, playwright: Any) -> None:
    from playwright.sync_api import expect

    with live_server(tmp_path / "server", visitor_grace_s=30.0, agent_grace_s=30.0) as server:
        admin = server.admin_token()
        server.add_queue(admin, "sales", name="Sales", labels={"fa": "فروش و اندازه"})
        server.add_agent(admin, "alice", display_name="Alice Martin")
        agent_b = Browser(playwright, tmp_path / "agent", server, viewport={"width": 1440, "height": 900})
        visitor_b = Browser(playwright, tmp_path / "visitor", server, viewport=PHONE)
        agent, visitor = agent_b.page, visitor_b.page
        try:
            sign_in_agent(agent, server, "alice")
            visitor.goto(server.base_url + "/fa/pricing")
            # The shop itself is Persian, right to left, and links to the English one.
            assert visitor.evaluate("getComputedStyle(document.body).direction") == "rtl"
            expect(visitor.locator("a.lang-link[hreflang=en]")).to_have_attribute("href", "/pricing")
            visitor.locator("button.bubble").click()
            panel = visitor.locator("#nwcc-panel")
            expect(panel).to_be_visible()
            root = visitor.locator(".widget")
            expect(root).to_have_attribute("lang", "fa")
            expect(root).to_have_attribute("dir", "rtl")
            assert panel.evaluate("el => getComputedStyle(el).direction") == "rtl"
            expect(panel.locator(".intro-title")).to_have_text("سلام 👋")
            # The Persian face is declared on the page (Shadow DOM ignores @font-face).
            expect(visitor.locator("link#nwcc-font")).to_have_count(1)
            wait_until(lambda: visitor.evaluate("document.fonts.check('16px Vazirmatn')"))
            no_overflow(visitor)

            panel.locator("input[name=name]").fill("مریم رضایی")
            panel.locator("textarea[name=message]").fill("سلام، برای سفارش AL-20417 سؤال دارم")
            panel.locator("[data-action=start-chat]").click()
            expect(panel.locator(".waiting")).to_contain_text(re.compile("در صف|در انتظار"))

            card = agent.locator(".offer").first
            expect(card).to_contain_text("مریم رضایی")
            card.locator(".accept").click()
            # The English name inside the Persian sentence is isolated (U+2068 ... U+2069).
            expect(panel.locator(".event").first).to_have_text("\u2068Alice Martin\u2069 به گفتگو پیوست")
            agent.fill("#composer-input", "Hello Maryam, how can I help?")
            agent.click("#send-btn")
            theirs = panel.locator(".msg.theirs .text")
            expect(theirs).to_have_text("Hello Maryam, how can I help?")
            # An English message in a Persian conversation keeps its own direction.
            assert theirs.evaluate("el => getComputedStyle(el).direction") == "ltr"
            mine = panel.locator(".msg.mine .text").first
            assert mine.evaluate("el => getComputedStyle(el).direction") == "rtl"
            # Mirrored: the agent's bubbles start at the right, the visitor's own sit at
            # the end of the line, on the left.
            mine_box, theirs_box = mine.bounding_box(), theirs.bounding_box()
            assert mine_box and theirs_box
            assert mine_box["x"] < theirs_box["x"]
            assert theirs_box["x"] + theirs_box["width"] > PHONE["width"] - 40
            # The send icon points the way the text runs.
            send_icon = panel.locator(".send-btn .icon-send")
            assert "matrix(-1" in send_icon.evaluate("el => getComputedStyle(el).transform")
            no_overflow(visitor)

            # A call from the open chat: the agent answers, audio flows to the phone.
            call_button = panel.locator(".header-calls button").first
            expect(call_button).to_have_attribute("aria-label", "تماس با \u2068Alice\u2069")
            call_button.click()
            ring = agent.locator(".call-offer")
            expect(ring).to_be_visible()
            ring.locator(".call-accept").click()
            widget_call = panel.locator(".call")
            expect(widget_call).to_have_class(re.compile(r"\bphase-active\b"), timeout=30_000)
            # The call timer is written in Persian digits.
            wait_until(lambda: PERSIAN_DIGITS.search(widget_call.locator(".call-status").inner_text()))
            wait_until(lambda: visitor_b.inbound()["audio"] > 0, timeout=20)
            assert grows(visitor_b, ("audio",))["audio"] > 0
            no_overflow(visitor)
            visitor.screenshot(path=str(screenshot_path("widget-fa.png")))
            widget_call.locator(".call-btn.hangup").first.click()
            expect(widget_call).to_have_class(re.compile(r"\bphase-ended\b"))
            for page in (agent_b.watched, visitor_b.watched):
                page.assert_clean()
        finally:
            agent_b.close()
            visitor_b.close()


def _staff_page(browser: Any, server: LiveServer, **context: Any) -> Watched:
    return Watched(browser.new_context(viewport={"width": 1280, "height": 860}, **context).new_page(), server)


def test_console_in_persian_follows_the_user_and_renders_rtl(tmp_path: Path, playwright: Any) -> None:
    from playwright.sync_api import expect

    browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
    try:
        with live_server(tmp_path / "server") as server:
            admin = server.admin_token()
            server.add_queue(admin, "sales", name="Sales", labels={"fa": "فروش"})
            server.add_agent(admin, "alice", display_name="Alice Martin")
            # The language is saved on the user: a browser that says English follows it.
            token = server.login("alice")
            response = server.api("PATCH", "/api/me", token, json={"locale": "fa"})
            assert response.status_code == 200 and response.json()["locale"] == "fa"
            assert server.api("PATCH", "/api/me", token, json={"locale": "xx"}).status_code == 422

            watched = _staff_page(browser, server, locale="en-US")
            page = watched.page
            page.goto(server.base_url + "/agent")
            expect(page.locator("#login-submit")).to_have_text("Sign in")
            page.fill("#login-username", "alice")
            page.fill("#login-password", "agent-password")
            page.click("#login-submit")
            # Reloaded in Persian, still signed in.
            expect(page.locator("html")).to_have_attribute("lang", "fa", timeout=20_000)
            expect(page.locator("#conn")).to_have_attribute("data-state", "online")
            assert page.evaluate("getComputedStyle(document.documentElement).direction") == "rtl"
            assert page.evaluate("getComputedStyle(document.body).direction") == "rtl"
            expect(page.locator("#conn-text")).to_have_text("متصل")
            page.click("#status-available")
            expect(page.locator("#state-pill")).to_have_attribute("data-state", "available")
            expect(page.locator("#state-text")).to_have_text("آماده")
            # Mirrored: the sidebar (first in the markup) is on the right.
            sidebar = page.locator(".sidebar").bounding_box()
            context_box = page.locator("#context").bounding_box()
            assert sidebar and context_box and sidebar["x"] > context_box["x"]
            page.click("#tab-queue")
            expect(page.locator(".queue-card strong").first).to_have_text("فروش")
            no_overflow(page)
            page.click("#tab-chats")
            page.screenshot(path=str(screenshot_path("console-fa.png")))

            # The picker switches back to English, and that is saved too.
            page.select_option("#locale-select", "en")
            expect(page.locator("html")).to_have_attribute("lang", "en", timeout=20_000)
            expect(page.locator("#conn-text")).to_have_text("Connected")
            assert page.evaluate("getComputedStyle(document.documentElement).direction") == "ltr"
            assert server.api("GET", "/api/me", token).json()["locale"] == "en"
            watched.assert_clean()
    finally:
        browser.close()


def _supervisor(browser: Any, server: LiveServer, locale: str) -> Watched:
    browser_locale = "fa-IR" if locale == "fa" else "en-US"
    watched = _staff_page(browser, server, locale=browser_locale, timezone_id="Asia/Tehran")
    page = watched.page
    page.goto(server.base_url + "/supervisor")
    page.fill("#login-username", "admin")
    page.fill("#login-password", ADMIN_PASSWORD)
    page.click("#login-submit")
    return watched


def test_supervisor_page_in_persian_is_rtl_with_jalali_dates(tmp_path: Path, playwright: Any) -> None:
    from playwright.sync_api import expect

    browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
    try:
        with live_server(tmp_path / "server") as server:
            admin = server.admin_token()
            server.add_queue(admin, "sales", name="Sales", labels={"fa": "فروش"})
            today = datetime.now(ZoneInfo("Asia/Tehran"))
            jalali = jdatetime.date.fromgregorian(date=today.date())
            persian_year = str(jalali.year).translate(str.maketrans("0123456789", "۰۱۲۳۴۵۶۷۸۹"))

            # Persian (the browser asks for it): right to left, Jalali days, Persian digits.
            fa = _supervisor(browser, server, "fa")
            page = fa.page
            since = page.locator("#since")
            expect(since).to_have_attribute("data-since", re.compile(r"\d"))
            assert page.evaluate("getComputedStyle(document.documentElement).direction") == "rtl"
            text = since.inner_text()
            assert persian_year in text and JALALI_MONTHS[jalali.month - 1] in text, text
            assert str(today.year) not in text and "UTC" in text
            expect(page.locator("#tile-contacts_waiting .label")).to_have_text("تماس‌های در انتظار")
            expect(page.locator("[data-queue=sales] strong").first).to_have_text("فروش")
            no_overflow(page)
            page.screenshot(path=str(screenshot_path("supervisor-fa.png")))
            # Reports: a day's interval is labelled with its Jalali date.
            page.click("#tab-reports")
            page.select_option("#report-interval", "day")
            page.click("#report-run")
            first = page.locator("#report-table tbody tr td").first
            expect(first).to_have_text(re.compile(r"^[۰-۹]{4}/[۰-۹]{2}/[۰-۹]{2}$"))
            assert first.inner_text().startswith(persian_year)
            no_overflow(page)
            fa.assert_clean()

            # English: left to right and Gregorian.
            en = _supervisor(browser, server, "en")
            page = en.page
            since = page.locator("#since")
            expect(since).to_have_attribute("data-since", re.compile(r"\d"))
            assert page.evaluate("getComputedStyle(document.documentElement).direction") == "ltr"
            text = since.inner_text()
            assert str(today.year) in text and today.strftime("%B") in text, text
            assert not PERSIAN_DIGITS.search(text)
            page.click("#tab-reports")
            page.select_option("#report-interval", "day")
            page.click("#report-run")
            first = page.locator("#report-table tbody tr td").first
            expect(first).to_have_text(re.compile(r"^\d{2}/\d{2}/\d{4}$"))
            assert str(today.year) in first.inner_text()
            en.assert_clean()
    finally:
        browser.close()


def test_widget_follows_the_page_then_the_tag_then_the_browser(tmp_path: Path, playwright: Any) -> None:
    """The English shop in a Persian browser stays English (the page's lang wins); a
    site that allows English only gets English even on the Persian page."""
    from playwright.sync_api import expect

    browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
    try:
        with live_server(tmp_path / "server") as server:
            server.add_queue(server.admin_token(), "sales", name="Sales")
            context = browser.new_context(locale="fa-IR", viewport=PHONE)
            page = context.new_page()
            page.goto(server.base_url + "/")
            page.locator("button.bubble").click()
            expect(page.locator(".widget")).to_have_attribute("lang", "en")
            # Nobody is online: the offline form, in the page's language.
            expect(page.locator("#nwcc-panel .intro-title")).to_have_text("Leave us a message")
            page.goto(server.base_url + "/fa/")  # the panel stays open from page to page
            expect(page.locator(".widget")).to_have_attribute("lang", "fa")
            expect(page.locator("#nwcc-panel .intro-title")).to_have_text("برای ما پیام بگذارید")
            context.close()
    finally:
        browser.close()
