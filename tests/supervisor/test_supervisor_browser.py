"""The supervisor page in a real browser: it signs in, shows the figures with their
formulas on hover, and follows the floor without a reload (a contact arrives, an agent
misses offers and the alert banner appears, a supervisor sets the agent available from
the page, the contact is answered, the chat is watched read-only); the reports tab draws
its charts and downloads its CSV.  Leaves a screenshot (tests/support/screenshots.py).

Debian's Chromium through Playwright, loopback only: any request that is not for the
test server fails the test.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from tests.supervisor.floor import Floor
from tests.support.browser import CHROMIUM, CHROMIUM_ARGS, sync_playwright
from tests.support.screenshots import screenshot_path
from tests.support.server import LiveServer, live_server

pytestmark = pytest.mark.browser

TIMEOUT_MS = 30_000
XSS = "<img src=x onerror=alert(1)> is this safe?"
REASON = "on the phone with <a customer>"


@pytest.fixture
def chromium(tmp_path: Path) -> Iterator[Any]:
    with sync_playwright() as playwright:
        # A persistent context on a fresh directory: Chromium's --user-data-dir.
        context = playwright.chromium.launch_persistent_context(
            str(tmp_path / "profile"),
            executable_path=CHROMIUM,
            args=CHROMIUM_ARGS,
            headless=True,
            viewport={"width": 1440, "height": 1000},
            accept_downloads=True,
        )
        try:
            yield context
        finally:
            context.close()


class Traffic:
    """An event loop in a thread, where the test's visitors and agents live."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()

    def run(self, coro: Any, timeout: float = 60) -> Any:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    def stop(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(timeout=10)


def wait_until(predicate: Any, timeout: float = 30.0) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        time.sleep(0.1)


def test_supervisor_page_follows_the_floor_live(chromium: Any, tmp_path: Path) -> None:
    traffic = Traffic()
    try:
        with live_server(tmp_path / "server") as server:
            run_page(chromium, server, traffic)
    finally:
        traffic.stop()


def run_page(context: Any, server: LiveServer, traffic: Traffic) -> None:
    floor = Floor(server)
    admin = floor.admin
    server.add_queue(admin, "sales", name="Sales", offer_timeout_s=1.0, sl_target_s=20)
    server.add_queue(admin, "support", name="Support")
    server.add_agent(admin, "sam", password="supervisor-password", role="supervisor", display_name="Sam")
    traffic.run(floor.agent("alice", capacity={"chat": 2}))
    traffic.run(floor.agent("bob", queues=["support"]))
    traffic.run(floor.set_status("alice", "available"))
    traffic.run(floor.set_status("bob", "available"))

    async def handled_contact(queue: str, agent: str, stage: str, rating: int, decline: str = "") -> None:
        contact = await floor.arrive(queue, stage)
        # Declined first (offered again: nobody else serves it), then accepted.
        since = await floor.decline(agent, contact, reason=decline) if decline else 0
        await floor.accept(agent, contact, since)
        await floor.reply(agent, contact, "Hello, how can I help?")
        await floor.end(agent, contact)
        await floor.rate(contact, rating)

    traffic.run(handled_contact("sales", "alice", "consideration", 5, decline=REASON))
    traffic.run(handled_contact("support", "bob", "purchase", 3))
    traffic.run(floor.set_status("alice", "away"))

    page = context.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    errors: list[str] = []
    dialogs: list[str] = []
    escaped: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(f"uncaught: {e}"))
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    own = urlsplit(server.base_url).netloc

    def guard(route: Any) -> None:
        if urlsplit(route.request.url).netloc == own:
            route.continue_()
        else:
            escaped.append(route.request.url)
            route.abort()

    page.route("**/*", guard)

    # Sign in; an agent is refused.
    page.goto(server.base_url + "/supervisor")
    page.fill("#login-username", "alice")
    page.fill("#login-password", "agent-password")
    page.click("#login-submit")
    page.wait_for_selector("#login-error:has-text('supervisors')")
    page.fill("#login-username", "sam")
    page.fill("#login-password", "supervisor-password")
    page.click("#login-submit")
    page.wait_for_selector("#live-pill.live")

    def tile(key: str) -> str:
        return str(page.text_content(f"#tile-{key} .value")).strip()

    wait_until(lambda: tile("answered") == "2")
    assert tile("contacts_waiting") == "0"
    assert tile("csat") == "50 %"
    assert "sum(answered_at - enqueued_at) / answered" in str(page.get_attribute("#tile-asa_s", "title"))
    assert "answered within T" in str(page.get_attribute("#tile-service_level", "title"))
    page.wait_for_selector("#agents-table tr[data-agent] >> text=Alice")
    # The reason she gave for declining, as text.
    reason = page.wait_for_selector("#agents-table tr[data-agent] .decline-reason")
    assert reason is not None and reason.text_content() == f"declined: “{REASON}”"

    # A visitor arrives (with a hostile name); alice is away: it waits, and the page
    # shows it without a reload, its clock running.
    contact = traffic.run(floor.arrive("sales", "decision"))
    visitor = floor.visitors[contact.contact_id]
    traffic.run(visitor.request({"type": "chat.message", "contact_id": contact.contact_id, "body": XSS}))
    wait_until(lambda: tile("contacts_waiting") == "1")
    clock = f'#queues li[data-contact="{contact.contact_id}"] .wait'
    first = page.text_content(clock)
    wait_until(lambda: page.text_content(clock) != first, timeout=10)
    assert page.text_content('#journey-grid tr[data-stage="decision"] td:nth-child(2)') == "1 (1)"

    # Alice comes back, lets three offers expire and is put away by the router: the
    # missed-offers alert appears as a banner.
    traffic.run(floor.set_status("alice", "available"))
    page.wait_for_selector('.banner[data-code="missed_offers"]', timeout=TIMEOUT_MS)
    banner = str(page.text_content('.banner[data-code="missed_offers"]'))
    assert "Alice let 3 offers in a row expire" in banner
    page.wait_for_selector("#agents-table tr[data-agent] .chip.st-away")
    page.screenshot(path=str(screenshot_path("supervisor.png")), full_page=True)

    # The supervisor sets her available from the page; she accepts; the figures move.
    alice = floor.agents["alice"]
    index = len(alice.client.events)
    # (Wait for the answer through Playwright: the route guard above runs only while
    # this thread is inside a Playwright call.)
    with page.expect_response(lambda r: r.url.endswith("/status")) as answer:
        page.select_option(f'#agents-table tr[data-agent="{alice.user_id}"] select', "available")
    assert answer.value.status == 202

    def available(event: dict[str, Any]) -> bool:
        return event["type"] == "agent.state" and event["state"] == "available"

    traffic.run(alice.client.wait_for(available, 30, since=index))
    traffic.run(floor.accept("alice", contact, since=index))
    wait_until(lambda: tile("answered") == "3" and tile("contacts_waiting") == "0")

    # Watch the chat read-only: history, then a live message, shown as text.
    page.click(f'#agents-table tr[data-agent="{alice.user_id}"] button:has-text("Watch")')
    page.wait_for_selector("#watch:not([hidden])")
    page.wait_for_selector("#transcript li >> text=is this safe?")
    assert XSS in str(page.text_content("#transcript"))
    traffic.run(floor.reply("alice", contact, "Watching this works"))
    page.wait_for_selector("#transcript li >> text=Watching this works")
    page.click("#watch-close")

    # Reassign from the page: a contact waits in support (bob is away); the supervisor
    # sends it to sales, offered to alice, who has a free chat slot.
    traffic.run(floor.set_status("bob", "away"))
    stuck = traffic.run(floor.arrive("support", "retention"))
    page.click(f'#queues li[data-contact="{stuck.contact_id}"] button:has-text("Reassign")')
    page.wait_for_selector("#reassign-dialog[open]")
    page.select_option("#reassign-queue", "sales")
    page.select_option("#reassign-agent", alice.user_id)
    page.fill("#reassign-note", "Alice knows this customer")
    with page.expect_response(lambda r: r.url.endswith("/reassign")) as answer:
        page.click("#reassign-submit")
    assert answer.value.status == 202
    page.wait_for_selector("#reassign-dialog[open]", state="detached")
    traffic.run(floor.accept("alice", stuck, since=index))
    wait_until(lambda: tile("answered") == "4")

    # Reports: charts drawn by charts.js, and the CSV.
    page.click("#tab-reports")
    page.wait_for_selector("#chart-volume svg path.line")
    page.wait_for_selector("#chart-bars svg rect")
    assert page.text_content("#report-tiles .tile:first-child .value") == "4"
    with page.expect_download() as download:
        page.click("#report-csv")
    path = download.value.path()
    assert path is not None
    header = Path(path).read_text().splitlines()[0]
    # The page asks for a CSV for people (its locale): column titles, not field names.
    assert header.startswith("Interval start,Interval end,Cut,Key,Queued")

    assert not escaped, f"requests left loopback: {escaped}"
    assert not dialogs, f"a dialog opened (script injection?): {dialogs}"
    assert not errors, f"console errors: {errors}"
    traffic.run(floor.close())
