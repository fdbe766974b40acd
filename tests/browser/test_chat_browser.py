"""The visitor widget and the agent console in a real browser.

Debian's Chromium driven by Playwright for Python (never ``playwright install``), a
live server on loopback, and nothing else on the network: every HTTP request that
is not for the test server is aborted and fails the test.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from tests.support.browser import CHROMIUM, CHROMIUM_ARGS, sync_playwright
from tests.support.screenshots import screenshot_path
from tests.support.server import LiveServer, live_server

pytestmark = pytest.mark.browser

TIMEOUT_MS = 15_000
XSS = "<img src=x onerror=alert(1)> is this safe?"


@pytest.fixture
def chromium() -> Iterator[Any]:
    with sync_playwright() as playwright:
        # Playwright starts Chromium on a fresh temporary profile (--user-data-dir) and
        # removes it afterwards; each page below gets its own context (own storage).
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            yield browser
        finally:
            browser.close()


class Watched:
    """A page with its console errors, uncaught exceptions, dialogs and any request
    that tried to leave loopback."""

    def __init__(self, page: Any, server: LiveServer, also_allowed: tuple[str, ...] = ()) -> None:
        self.page = page
        self.errors: list[str] = []
        self.dialogs: list[str] = []
        self.escaped: list[str] = []
        page.set_default_timeout(TIMEOUT_MS)
        page.on("console", lambda m: self.errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: self.errors.append(f"uncaught: {e}"))

        def on_dialog(dialog: Any) -> None:
            self.dialogs.append(dialog.message)
            dialog.dismiss()

        page.on("dialog", on_dialog)
        allowed = {urlsplit(server.base_url).netloc, *also_allowed}

        def guard(route: Any) -> None:
            if urlsplit(route.request.url).netloc in allowed:
                route.continue_()
            else:
                self.escaped.append(route.request.url)
                route.abort()

        page.route("**/*", guard)

    def assert_clean(self) -> None:
        assert not self.escaped, f"requests left loopback: {self.escaped}"
        assert not self.dialogs, f"a dialog opened (script injection?): {self.dialogs}"
        assert not self.errors, f"console errors: {self.errors}"


def new_page(
    browser: Any, server: LiveServer, also_allowed: tuple[str, ...] = (), **context_args: Any
) -> Watched:
    context = browser.new_context(**context_args)
    return Watched(context.new_page(), server, also_allowed)


def wait_until(predicate: Any, timeout: float = 20.0) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        time.sleep(0.1)


def sign_in_agent(agent: Any, server: LiveServer, username: str) -> None:
    from playwright.sync_api import expect

    agent.goto(server.base_url + "/agent")
    agent.fill("#login-username", username)
    agent.fill("#login-password", "agent-password")
    agent.click("#login-submit")
    expect(agent.locator("#conn-text")).to_have_text("Connected")
    agent.click("#status-available")
    expect(agent.locator("#state-text")).to_contain_text("Available")


def start_chat(visitor: Any, url: str, name: str, message: str) -> Any:
    """A visitor on ``url`` opens the widget and starts a chat; returns the panel."""
    visitor.goto(url)
    visitor.locator("button.bubble").click()
    panel = visitor.locator("#nwcc-panel")
    panel.locator("input[name=name]").fill(name)
    panel.locator("textarea[name=message]").fill(message)
    panel.get_by_role("button", name="Start chat").click()
    return panel


def test_visitor_and_agent_chat_in_the_browser(tmp_path: Path, chromium: Any) -> None:
    from playwright.sync_api import expect

    with live_server(tmp_path / "server", visitor_grace_s=30.0) as server:
        admin = server.admin_token()
        server.add_queue(admin, "sales", name="Sales & sizing", description="Choosing a bike")
        server.add_queue(admin, "support", name="Orders & repairs")
        server.add_agent(admin, "alice", display_name="Alice Martin")

        agent_w = new_page(chromium, server, viewport={"width": 1440, "height": 900})
        agent = agent_w.page
        sign_in_agent(agent, server, "alice")

        visitor_w = new_page(chromium, server, viewport={"width": 1280, "height": 860})
        visitor = visitor_w.page
        visitor.goto(server.base_url + "/pricing?utm_source=newsletter&utm_medium=email&utm_campaign=spring")
        # Playwright's CSS locators pierce the widget's (open) shadow root.
        visitor.locator("button.bubble").click()
        panel = visitor.locator("#nwcc-panel")
        expect(panel).to_be_visible()
        panel.locator("input[name=name]").fill("Vera Visitor")
        panel.locator("input[name=email]").fill("vera@example.test")
        panel.locator("select[name=queue]").select_option("sales")
        panel.locator("textarea[name=message]").fill("Hi! Is the Trail 2 available in size M?")
        panel.get_by_role("button", name="Start chat").click()
        expect(panel.locator(".waiting")).to_contain_text("Waiting")

        # The agent is offered the chat, with a countdown, and accepts it.
        offer = agent.locator(".offer")
        expect(offer).to_contain_text("Vera Visitor")
        expect(offer.locator(".offer-left")).to_have_text(re.compile(r"^\d+s$"))
        offer.get_by_role("button", name="Accept").click()
        messages = agent.locator("#messages")
        expect(messages).to_contain_text("Is the Trail 2 available in size M?")
        expect(agent.locator("#context")).to_contain_text("vera@example.test")
        expect(agent.locator("#context")).to_contain_text("Decision")
        expect(agent.locator("#context")).to_contain_text("source: newsletter")
        expect(panel.locator(".messages")).to_contain_text("Alice Martin joined the chat")
        expect(panel.locator(".waiting")).to_be_hidden()

        # Typing indicators both ways.
        composer = panel.locator("textarea.composer-input")
        composer.press_sequentially("I was wond", delay=20)
        expect(agent.locator("#typing")).to_contain_text("Vera Visitor is typing")
        composer.fill("")
        agent.locator("#composer-input").press_sequentially("Let me che", delay=20)
        expect(panel.locator(".typing")).to_contain_text("Alice Martin is typing")
        agent.locator("#composer-input").fill("")

        # Messages both ways.
        agent.locator("#composer-input").fill("Hi Vera! Yes, the Trail 2 in M ships tomorrow.")
        agent.locator("#composer-input").press("Enter")
        expect(panel.locator(".msg.theirs")).to_contain_text("the Trail 2 in M ships tomorrow")
        composer.fill("Great — could I pick it up in the Amsterdam store on Saturday?")
        composer.press("Enter")
        expect(messages).to_contain_text("Amsterdam store on Saturday")
        agent.locator("#composer-input").fill(
            "Of course! I've reserved one in M for you. Bring your order number to the counter."
        )
        agent.locator("#composer-input").press("Enter")
        expect(panel.locator(".msg.theirs").last).to_contain_text("reserved one in M")
        expect(panel.locator(".msg.mine").last.locator(".receipt")).to_have_text("Read")
        expect(messages.locator(".msg.mine").last).to_contain_text("Seen")
        # The shop's own scripts can learn the visitor id (to report a purchase).
        (only,) = server.api("GET", "/api/contacts", admin).json()["contacts"]
        assert visitor.evaluate("window.ContactCenter.visitorId") == only["visitor_id"]
        # Beside the chat, the visitor's journey: this conversation on its path.
        expect(agent.locator(".journey-box .jp-is-current")).to_contain_text("This conversation")
        visitor.wait_for_timeout(400)  # let the entry animations settle
        visitor.screenshot(path=str(screenshot_path("widget.png")))
        agent.screenshot(path=str(screenshot_path("console.png")))

        composer.fill(XSS)
        composer.press("Enter")
        expect(messages.locator(".msg.theirs .text").last).to_have_text(XSS)
        expect(panel.locator(".msg.mine").last.locator(".text")).to_have_text(XSS)
        # The markup stayed text on both sides: no element was created from it.
        assert agent.locator("img[src=x]").count() == 0
        assert visitor.locator("img[src=x]").count() == 0
        assert agent.locator("#messages img").count() == 0
        assert visitor.locator("#nwcc-panel img").count() == 0

        # Receipts: the agent has the chat open, so the visitor's message is read; the
        # widget is open, so the agent's message is seen.
        expect(panel.locator(".msg.mine").last.locator(".receipt")).to_have_text("Read")
        expect(messages.locator(".msg.mine").last).to_contain_text("Seen")

        agent.locator("#composer-input").fill("Anything else I can help with?")
        agent.locator("#composer-input").press("Enter")
        expect(panel.locator(".msg.theirs").last).to_contain_text("Anything else")

        # A reload keeps the conversation, with its history, and it still works.
        visitor.reload()
        panel = visitor.locator("#nwcc-panel")
        if not panel.is_visible():
            visitor.locator("button.bubble").click()
        history = panel.locator(".messages")
        expect(history).to_contain_text("Is the Trail 2 available in size M?")
        expect(history).to_contain_text("the Trail 2 in M ships tomorrow")
        expect(history).to_contain_text(XSS)
        expect(history).to_contain_text("Anything else I can help with?")
        assert visitor.locator("img[src=x]").count() == 0
        # Navigating to another page of the site keeps it too.
        visitor.get_by_role("link", name="Bikes", exact=True).first.click()
        visitor.wait_for_url("**/product")
        panel = visitor.locator("#nwcc-panel")
        expect(panel.locator(".messages")).to_contain_text("Anything else I can help with?")
        panel.locator("textarea.composer-input").fill("No, that's all. Thanks!")
        panel.locator("textarea.composer-input").press("Enter")
        expect(messages).to_contain_text("No, that's all. Thanks!")
        # Each message once, in order, after the reload and the navigation.
        bodies = panel.locator(".msg .text").all_inner_texts()
        assert bodies.count("Anything else I can help with?") == 1
        assert bodies.index("Hi! Is the Trail 2 available in size M?") < bodies.index(XSS)

        # The agent ends the chat with a disposition; the visitor rates it.
        agent.click("#end-btn")
        agent.locator("#end-disposition").select_option("resolved")
        agent.click("#end-confirm")
        expect(agent.locator("#closed-bar")).to_contain_text("Chat ended")
        rating = panel.locator("form.rating")
        expect(rating).to_be_visible()
        rating.locator(".star[data-rating='4']").click()
        rating.locator("textarea").fill("Quick and helpful")
        rating.get_by_role("button", name="Send rating").click()
        expect(panel).to_contain_text("Thank you for your feedback")

        contact_id = wait_until(lambda: _only_contact(server, admin))
        detail = wait_until(
            lambda: (
                (d := server.api("GET", f"/api/contacts/{contact_id}", admin).json())["contact"]["csat"] and d
            )
        )
        assert detail["contact"]["csat"] == 4
        assert detail["disposition"] == "resolved"
        assert detail["csat_comment"] == "Quick and helpful"
        assert detail["contact"]["stage"] == "decision"
        assert detail["contact"]["utm_source"] == "newsletter"
        bodies = [e["body"] for e in detail["transcript"] if e["kind"] == "chat.message"]
        assert bodies == [
            "Hi! Is the Trail 2 available in size M?",
            "Hi Vera! Yes, the Trail 2 in M ships tomorrow.",
            "Great — could I pick it up in the Amsterdam store on Saturday?",
            "Of course! I've reserved one in M for you. Bring your order number to the counter.",
            XSS,
            "Anything else I can help with?",
            "No, that's all. Thanks!",
        ]

        # History: the agent finds the contact and reads its transcript.
        agent.click("#tab-history")
        item = agent.locator(f".history-item[data-contact-id='{contact_id}']")
        expect(item).to_contain_text("Vera Visitor")
        item.click()
        expect(agent.locator("#messages")).to_contain_text(XSS)
        expect(agent.locator("#closed-text")).to_contain_text("Resolved")
        assert agent.locator("img[src=x]").count() == 0

        agent_w.assert_clean()
        visitor_w.assert_clean()


def _only_contact(server: LiveServer, admin: str) -> str | None:
    contacts = server.api("GET", "/api/contacts", admin).json()["contacts"]
    return contacts[0]["id"] if len(contacts) == 1 else None


def test_offline_form_when_nobody_is_online(tmp_path: Path, chromium: Any) -> None:
    from playwright.sync_api import expect

    with live_server(tmp_path / "server") as server:
        admin = server.admin_token()
        server.add_queue(admin, "sales", name="Sales & sizing")
        # A phone-sized screen: the panel takes the whole screen.
        visitor_w = new_page(chromium, server, viewport={"width": 390, "height": 800})
        visitor = visitor_w.page
        visitor.goto(server.base_url + "/after-sales")
        visitor.locator("button.bubble").click()
        panel = visitor.locator("#nwcc-panel")
        form = panel.locator("form.offline-form")
        expect(form).to_be_visible()
        expect(form).to_contain_text("Leave us a message")
        box = panel.bounding_box()
        assert box is not None and box["width"] == 390
        form.locator("input[name=name]").fill("Olive Offline")
        form.locator("input[name=email]").fill("olive@example.test")
        form.locator("textarea[name=message]").fill("My <b>brake</b> squeaks — can someone call me back?")
        form.get_by_role("button", name="Send message").click()
        expect(panel).to_contain_text("Thanks, Olive!")

        stored = wait_until(
            lambda: server.api("GET", "/api/contacts?status=offline", admin).json()["contacts"]
        )
        assert [c["name"] for c in stored] == ["Olive Offline"]
        assert stored[0]["email"] == "olive@example.test"
        assert stored[0]["stage"] == "retention"
        detail = server.api("GET", f"/api/contacts/{stored[0]['id']}", admin).json()
        assert [e["body"] for e in detail["transcript"]] == [
            "My <b>brake</b> squeaks — can someone call me back?"
        ]
        visitor_w.assert_clean()


def test_both_sides_reconnect_and_resume_after_a_server_restart(tmp_path: Path, chromium: Any) -> None:
    from playwright.sync_api import expect

    data_dir = tmp_path / "server"
    expected = ["Before the restart", "Sent while the server was down", "Agent reply while down"]
    with live_server(data_dir) as first:
        admin = first.admin_token()
        first.add_queue(admin, "sales", name="Sales & sizing")
        first.add_agent(admin, "alice", display_name="Alice Martin")
        agent_w = new_page(chromium, first, viewport={"width": 1280, "height": 800})
        agent = agent_w.page
        sign_in_agent(agent, first, "alice")
        visitor_w = new_page(chromium, first, viewport={"width": 1280, "height": 800})
        visitor = visitor_w.page
        panel = start_chat(visitor, first.base_url + "/product", "Rita Restart", "Before the restart")
        agent.locator(".offer").get_by_role("button", name="Accept").click()
        expect(agent.locator("#messages")).to_contain_text("Before the restart")
        expect(panel.locator(".messages")).to_contain_text("Alice Martin joined the chat")

        # The server goes away; both pages notice and keep what is typed meanwhile.
        first.stop()
        expect(agent.locator("#conn-text")).to_contain_text("Reconnecting")
        expect(visitor.locator("#northwind-chat-widget .subtitle")).to_have_text("Reconnecting…")
        composer = panel.locator("textarea.composer-input")
        composer.fill("Sent while the server was down")
        composer.press("Enter")
        expect(panel.locator(".msg.pending")).to_contain_text("Sending…")
        agent.locator("#composer-input").fill("Agent reply while down")
        agent.locator("#composer-input").press("Enter")
        expect(agent.locator("#messages .msg.pending")).to_contain_text("Sending…")

        # Same data and port: both reconnect with backoff, resume, and resend.
        with live_server(data_dir, port=first.port) as second:
            expect(agent.locator("#conn-text")).to_have_text("Connected", timeout=30_000)
            expect(agent.locator("#messages")).to_contain_text("Sent while the server was down")
            expect(panel.locator(".messages")).to_contain_text("Agent reply while down")
            expect(panel.locator(".msg.pending")).to_have_count(0)
            expect(agent.locator("#messages .msg.pending")).to_have_count(0)
            for bodies in (
                panel.locator(".msg .text").all_inner_texts(),
                agent.locator("#messages .msg .text").all_inner_texts(),
            ):
                assert sorted(bodies) == sorted(expected), bodies

            contact_id = wait_until(lambda: _only_contact(second, admin))
            transcript = second.api("GET", f"/api/contacts/{contact_id}", admin).json()["transcript"]
            assert sorted(e["body"] for e in transcript if e["kind"] == "chat.message") == sorted(expected)
        # While the server was down the browser itself logs the refused socket
        # connections; anything else is ours and fails the test.
        for watched in (agent_w, visitor_w):
            watched.errors = [e for e in watched.errors if "WebSocket connection" not in e]
            watched.assert_clean()


class _HostPage(BaseHTTPRequestHandler):
    """Another site (another origin) that embeds the widget with its one script tag."""

    widget_src = ""

    def do_GET(self) -> None:
        body = (
            "<!doctype html><html lang=en><head><meta charset=utf-8><title>Partner shop</title>"
            "</head><body><h1>Partner shop</h1>"
            f'<script src="{self.widget_src}" data-stage="purchase" async></script>'
            "</body></html>"
        ).encode()
        if self.path.split("?")[0] != "/":
            self.send_error(404)
            return
        self.send_response(200)
        self.send_header("content-type", "text/html; charset=utf-8")
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: Any) -> None:
        pass


def test_widget_embedded_on_another_origin(tmp_path: Path, chromium: Any) -> None:
    from playwright.sync_api import expect

    host = ThreadingHTTPServer(("127.0.0.1", 0), _HostPage)
    host_origin = f"http://localhost:{host.server_address[1]}"
    thread = threading.Thread(target=host.serve_forever, daemon=True)
    thread.start()
    try:
        with live_server(tmp_path / "server", allowed_origins=(host_origin,)) as server:
            _HostPage.widget_src = server.base_url + "/widget.js"
            admin = server.admin_token()
            server.add_queue(admin, "sales", name="Sales & sizing")
            server.add_agent(admin, "alice", display_name="Alice Martin")
            agent_w = new_page(chromium, server, viewport={"width": 1280, "height": 800})
            agent = agent_w.page
            sign_in_agent(agent, server, "alice")

            visitor_w = new_page(
                chromium,
                server,
                also_allowed=(urlsplit(host_origin).netloc,),
                viewport={"width": 1100, "height": 800},
            )
            visitor = visitor_w.page
            visitor.goto(host_origin + "/?utm_source=partner")
            # The widget's stylesheet came from the widget's server, inside its shadow root.
            visitor.locator("button.bubble").click()
            panel = visitor.locator("#nwcc-panel")
            expect(panel).to_be_visible()
            assert (
                visitor.locator("#northwind-chat-widget").evaluate(
                    "h => h.shadowRoot.querySelector('link[rel=stylesheet]').href"
                )
                == server.base_url + "/static/widget/widget.css"
            )
            panel.locator("input[name=name]").fill("Cora Crossorigin")
            panel.locator("textarea[name=message]").fill("Hello from the partner shop")
            panel.get_by_role("button", name="Start chat").click()
            agent.locator(".offer").get_by_role("button", name="Accept").click()
            expect(agent.locator("#messages")).to_contain_text("Hello from the partner shop")
            expect(agent.locator("#context")).to_contain_text("Purchase")
            expect(agent.locator("#context")).to_contain_text("source: partner")
            agent.locator("#composer-input").fill("Welcome, Cora!")
            agent.locator("#composer-input").press("Enter")
            expect(panel.locator(".msg.theirs")).to_contain_text("Welcome, Cora!")
            agent_w.assert_clean()
            visitor_w.assert_clean()
    finally:
        host.shutdown()
        host.server_close()
