"""The journey page and the agent console's journey panel in a real browser (Debian's
Chromium through Playwright), on a server holding demo history: they render under the
page's Content-Security-Policy without a console error, the heat map shows the demo's
bottlenecks, CSV export downloads, and the panel draws a visitor's timeline."""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from contact_center.journey.demo import DemoConfig, write_demo
from contact_center.store.database import create_engine, upgrade_schema
from tests.support.browser import CHROMIUM, CHROMIUM_ARGS, sync_playwright
from tests.support.screenshots import screenshot_path
from tests.support.server import LiveServer, live_server

pytestmark = pytest.mark.browser


@pytest.fixture
def chromium() -> Iterator[Any]:
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture
def demo_server(tmp_path: Path) -> Iterator[LiveServer]:
    url = f"sqlite+aiosqlite:///{(tmp_path / 'contact-center.db').resolve()}"
    upgrade_schema(url)
    today = time.time() - time.time() % 86400

    async def fill() -> None:
        engine = create_engine(url)
        try:
            await write_demo(engine, DemoConfig(visitors=3000, seed=3, end=today + 86400))
        finally:
            await engine.dispose()

    asyncio.run(fill())
    with live_server(tmp_path) as server:
        yield server


def watch(page: Any, server: LiveServer) -> list[str]:
    problems: list[str] = []
    page.set_default_timeout(15_000)
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: problems.append(str(e)))

    def guard(route: Any) -> None:
        if urlsplit(route.request.url).hostname == "127.0.0.1":
            route.continue_()
        else:
            problems.append(f"left loopback: {route.request.url}")
            route.abort()

    page.route("**/*", guard)
    return problems


def test_journey_page(demo_server: LiveServer, chromium: Any) -> None:
    page = chromium.new_page(viewport={"width": 1400, "height": 1000})
    problems = watch(page, demo_server)
    page.goto(demo_server.base_url + "/journey")
    page.fill("#login-username", "admin")
    page.fill("#login-password", "admin-password-for-tests")
    page.click("#login-submit")
    page.wait_for_selector("#map svg rect.cell")
    assert page.locator("#map svg rect.flagged").count() >= 1
    bottlenecks = page.locator("#bottlenecks").inner_text()
    assert "Decision \u00d7 Voice" in bottlenecks
    # Reasons come from the catalogue with the page's formatting (not the server's text).
    assert re.search(
        r"(abandonment \d+%|average wait \d|CSAT \d+%|conversion after contact \d+%)", bottlenecks
    )
    assert page.locator("#funnel svg rect.bar").count() == 5
    assert page.locator("#attribution tbody tr").count() > 3
    page.click("button[data-metric=abandonment_rate]")
    assert "abandonment" in page.url
    with page.expect_download() as download:
        page.click("button[data-csv=grid]")
    assert download.value.suggested_filename.startswith("journey-grid-")
    # A filter reloads the figures and lands in the URL.
    page.select_option("#f-source", "newsletter")
    page.wait_for_function("() => document.querySelector('#status').textContent.startsWith('Updated')")
    assert "source=newsletter" in page.url
    page.select_option("#f-source", "")
    page.click("button[data-metric=volume]")
    page.wait_for_timeout(300)
    page.screenshot(path=str(screenshot_path("journey.png")), full_page=True)
    assert problems == []


def test_agent_console_journey_panel(demo_server: LiveServer, chromium: Any) -> None:
    admin = demo_server.admin_token()
    contacts = demo_server.api("GET", "/api/contacts?status=ended&limit=50", admin).json()["contacts"]
    visitor_id = contacts[0]["visitor_id"]
    page = chromium.new_page(viewport={"width": 480, "height": 900})
    problems = watch(page, demo_server)
    page.goto(demo_server.base_url + "/agent")
    page.add_script_tag(url="/static/agent/journey-panel.js")
    journey = page.evaluate(
        """async ([visitorId, token, contactId]) => {
            const box = document.createElement('div');
            box.id = 'journey-box';
            document.body.append(box);
            return await window.JourneyPanel.render(box, visitorId, token, { currentContactId: contactId });
        }""",
        [visitor_id, admin, contacts[0]["id"]],
    )
    assert journey["visitor_id"] == visitor_id and journey["contacts"] >= 1
    panel = page.locator("#journey-box .jp-panel")
    assert panel.locator(".jp-item").count() >= 2
    assert panel.locator(".jp-current").inner_text() == "This conversation"
    assert "First came from" in panel.inner_text()
    # A token that may not see the visitor gets a message, not a broken panel.
    page.evaluate(
        """() => window.JourneyPanel.render(document.getElementById('journey-box'), 'nobody', 'bad')"""
    )
    page.wait_for_selector("#journey-box .jp-error")
    assert problems == [] or all("401" in p or "Failed to load resource" in p for p in problems)
