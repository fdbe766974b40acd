"""Voice and video calls in real browsers: a visitor on the demo shop calls from the
widget, an agent answers in the console, and media flows between two Chromiums.

Each side is its own Chromium (Debian's, driven by Playwright, never ``playwright
install``) on a fresh profile (``--user-data-dir``) with fake camera and microphone.
Proof that media flows is read from each side's own ``RTCPeerConnection.getStats()``:
inbound audio and video ``bytesReceived`` grow.

Mute: a muted microphone is ``track.enabled = false``, and Chromium then sends
silence, not nothing: the other side's inbound audio bytes keep growing (slowly), so
they prove nothing.  What a person notices is checked instead: the visitor's audio
sender track is disabled, and on the agent's side the received audio carries no
energy any more (inbound-rtp ``totalAudioEnergy`` stops growing; it grows again on
unmute) and the console says the visitor is muted.

Loopback only: the machine's other addresses are its own, but to keep every packet on
127.0.0.1 an init script (test-side, not the product's) drops ICE candidates that are
not 127.0.0.1 before ``addIceCandidate``; it also keeps the page's peer connections in
``window.__pcs`` so ``page.evaluate`` can read their stats.  HTTP requests that would
leave the test server are aborted and fail the test (``Watched``).
"""

from __future__ import annotations

import base64
import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.browser.test_chat_browser import (
    Watched,
    sign_in_agent,
    wait_until,
)
from tests.support.browser import CHROMIUM, CHROMIUM_ARGS, sync_playwright
from tests.support.screenshots import screenshot_path
from tests.support.server import LiveServer, live_server

pytestmark = pytest.mark.browser

STATIC = Path(__file__).resolve().parents[2] / "contact_center" / "static"

# Test-side only: loopback candidates, and a handle on the page's peer connections.
LOOPBACK_ONLY = """
(() => {
  const Native = window.RTCPeerConnection;
  if (!Native) return;
  const loopback = (line) => / 127\\.0\\.0\\.1 /.test(line);
  window.__pcs = [];
  class LoopbackPeerConnection extends Native {
    constructor(...args) {
      super(...args);
      window.__pcs.push(this);
    }
    addIceCandidate(candidate, ...rest) {
      if (candidate && candidate.candidate && !loopback(candidate.candidate)) return Promise.resolve();
      return super.addIceCandidate(candidate, ...rest);
    }
    setRemoteDescription(description, ...rest) {
      if (description && description.sdp) {
        const sdp = description.sdp
          .split("\\r\\n")
          .filter((line) => !line.startsWith("a=candidate:") || loopback(line))
          .join("\\r\\n");
        description = { type: description.type, sdp };
      }
      return super.setRemoteDescription(description, ...rest);
    }
  }
  window.RTCPeerConnection = LoopbackPeerConnection;
  // Count the rollbacks of perfect negotiation (the polite side's).
  window.__rollbacks = 0;
  const setLocal = Native.prototype.setLocalDescription;
  Native.prototype.setLocalDescription = function (description, ...rest) {
    if (description && description.type === "rollback") window.__rollbacks += 1;
    return setLocal.call(this, description, ...rest);
  };
})();
(() => {
  // Hold what the server sends (window.__hold = true) until window.__release(): lets a
  // test make two offers cross for certain.
  const Native = window.WebSocket;
  const held = [];
  window.__hold = false;
  window.__release = () => {
    window.__hold = false;
    for (const [listener, socket, event] of held.splice(0)) listener.call(socket, event);
  };
  // The types of the frames held so far (to wait until the other side's offer is in).
  window.__heldTypes = () => held.map(([, , event]) => {
    try { return JSON.parse(event.data).type; } catch (error) { return ""; }
  });
  class HoldableWebSocket extends Native {
    addEventListener(type, listener, options) {
      if (type !== "message") return super.addEventListener(type, listener, options);
      const gate = (event) => {
        if (window.__hold || held.length) held.push([listener, this, event]);
        else listener.call(this, event);
      };
      return super.addEventListener(type, gate, options);
    }
  }
  window.WebSocket = HoldableWebSocket;
})();
(() => {
  // Count the ring tones' oscillators (the pages make them with WebAudio).
  const Context = window.AudioContext;
  if (!Context) return;
  window.__tones = 0;
  const create = Context.prototype.createOscillator;
  Context.prototype.createOscillator = function () {
    window.__tones += 1;
    window.__audio = this;
    return create.call(this);
  };
})();
"""

# The page's live peer connection, and what its getStats() says.
INBOUND = """
async () => {
  const pc = (window.__pcs || []).filter((p) => p.connectionState !== "closed").pop();
  if (!pc) return null;
  const out = { audio: 0, video: 0, energy: 0, state: pc.connectionState };
  (await pc.getStats()).forEach((r) => {
    if (r.type !== "inbound-rtp") return;
    out[r.kind] += r.bytesReceived || 0;
    if (r.kind === "audio") out.energy += r.totalAudioEnergy || 0;
  });
  return out;
}
"""
AUDIO_SENDER_ENABLED = """
() => {
  const pc = (window.__pcs || []).filter((p) => p.connectionState !== "closed").pop();
  const sender = pc && pc.getSenders().find((s) => s.track && s.track.kind === "audio");
  return sender ? sender.track.enabled : null;
}
"""
ICE_UFRAGS = """
() => {
  const pc = (window.__pcs || []).filter((p) => p.connectionState !== "closed").pop();
  const ufrag = (d) => (d && (d.sdp.match(/a=ice-ufrag:(\\S+)/) || [])[1]) || "";
  return pc && {
    local: ufrag(pc.currentLocalDescription),
    remote: ufrag(pc.currentRemoteDescription),
    signaling: pc.signalingState,
    connection: pc.connectionState,
  };
}
"""
RESTART_ICE = """
() => {
  const pc = (window.__pcs || []).filter((p) => p.connectionState !== "closed").pop();
  pc.restartIce();
}
"""


@pytest.fixture
def playwright() -> Iterator[Any]:
    with sync_playwright() as running:
        yield running


class Browser:
    """One Chromium on its own fresh profile, with one watched page."""

    def __init__(
        self,
        playwright: Any,
        profile: Path,
        server: LiveServer,
        *,
        args: list[str] = CHROMIUM_ARGS,
        viewport: dict[str, int] | None = None,
    ) -> None:
        profile.mkdir(parents=True, exist_ok=True)
        self.context = playwright.chromium.launch_persistent_context(
            str(profile),
            executable_path=CHROMIUM,
            args=args,
            headless=True,
            viewport=viewport or {"width": 1280, "height": 800},
        )
        self.context.add_init_script(LOOPBACK_ONLY)
        self.watched = Watched(
            self.context.pages[0] if self.context.pages else self.context.new_page(), server
        )
        self.page = self.watched.page

    def inbound(self) -> dict[str, Any]:
        stats = self.page.evaluate(INBOUND)
        assert stats is not None, "no peer connection on this page"
        return dict(stats)

    def close(self) -> None:
        self.context.close()


def grows(browser: Browser, kinds: tuple[str, ...], wait_s: float = 2.0) -> dict[str, float]:
    """How much each inbound counter grew over ``wait_s`` (bytes or audio energy)."""
    before = browser.inbound()
    time.sleep(wait_s)
    after = browser.inbound()
    return {kind: after[kind] - before[kind] for kind in kinds}


def open_widget(visitor: Any, server: LiveServer, name: str) -> Any:
    from playwright.sync_api import expect

    visitor.goto(server.base_url + "/pricing")
    visitor.locator("button.bubble").click()
    panel = visitor.locator("#nwcc-panel")
    expect(panel).to_be_visible()
    panel.locator("input[name=name]").fill(name)
    return panel


def test_video_call_between_the_widget_and_the_console(tmp_path: Path, playwright: Any) -> None:
    from playwright.sync_api import expect

    with live_server(tmp_path / "server", visitor_grace_s=30.0, agent_grace_s=30.0) as server:
        admin = server.admin_token()
        server.add_queue(admin, "sales", name="Sales & sizing")
        server.add_agent(admin, "alice", display_name="Alice Martin")

        agent_b = Browser(
            playwright, tmp_path / "agent-profile", server, viewport={"width": 1440, "height": 900}
        )
        visitor_b = Browser(
            playwright, tmp_path / "visitor-profile", server, viewport={"width": 1280, "height": 860}
        )
        agent, visitor = agent_b.page, visitor_b.page
        try:
            sign_in_agent(agent, server, "alice")

            # The visitor asks for a video call from the widget's form.
            panel = open_widget(visitor, server, "Vera Visitor")
            panel.locator("textarea[name=message]").fill("Can you show me the Trail 2 frame on camera?")
            panel.get_by_role("button", name="Video call").click()
            widget_call = panel.locator(".call")
            expect(widget_call).to_be_visible()

            # The console rings (the routing offer is the ringing) and the agent answers.
            card = agent.locator(".call-offer")
            expect(card).to_contain_text("Vera Visitor")
            expect(card).to_contain_text("Incoming video call")
            expect(widget_call.locator(".call-status")).to_have_text("Ringing…")
            # Both ring out loud: the console's ring, the visitor's ringback.
            for page in (agent, visitor):
                wait_until(lambda page=page: page.evaluate("window.__tones") > 0)
                wait_until(lambda page=page: page.evaluate("window.__audio.state") == "running")
            card.get_by_role("button", name="Accept").click()

            console_call = agent.locator("#call")
            expect(console_call).to_have_class(re.compile(r"\bphase-active\b"), timeout=30_000)
            expect(widget_call).to_have_class(re.compile(r"\bphase-active\b"), timeout=30_000)
            expect(console_call.locator(".call-name")).to_have_text("Vera Visitor")
            # The ringing stopped with the answer.
            tones = {page: page.evaluate("window.__tones") for page in (agent, visitor)}
            expect(widget_call.locator(".call-name")).to_have_text("Alice Martin")
            # The visitor's words from the form reached the agent as the first message.
            expect(agent.locator("#messages")).to_contain_text("Trail 2 frame on camera")

            # Media both ways: each side's getStats() shows inbound audio and video growing.
            for side in (agent_b, visitor_b):
                wait_until(lambda side=side: side.inbound()["video"] > 0, timeout=20)
                grown = grows(side, ("audio", "video"))
                assert grown["audio"] > 0 and grown["video"] > 0, grown
            # And both pages show the other side's video.
            for call in (console_call, widget_call):
                expect(call).to_have_class(re.compile(r"\bhas-remote-video\b"))
                wait_until(
                    lambda call=call: call.locator("video.call-remote").evaluate("v => v.videoWidth > 0")
                )
            expect(widget_call.locator(".call-status")).to_have_text(re.compile(r"^\d+:\d\d$"))
            assert {page: page.evaluate("window.__tones") for page in (agent, visitor)} == tones

            # The call in progress, for the docs: the console with the widget beside it.
            agent.wait_for_timeout(2500)  # a stats sample for the quality read-out
            expect(console_call.locator(".call-stats")).to_contain_text("MOS")
            save_screenshot(agent, visitor, screenshot_path("call.png"))

            # Mute on the visitor's side: the sender's track is disabled and the agent
            # receives silence (no audio energy), and is told.
            assert grows(agent_b, ("energy",))["energy"] > 0
            panel.get_by_role("button", name="Mute").click()
            assert visitor.evaluate(AUDIO_SENDER_ENABLED) is False
            expect(console_call.locator(".call-peer-state")).to_have_text("Vera is muted")
            time.sleep(1.0)  # what was already in the jitter buffer plays out
            assert grows(agent_b, ("energy",))["energy"] == 0
            assert grows(agent_b, ("video",))["video"] > 0  # the picture goes on
            panel.get_by_role("button", name="Unmute").click()
            assert visitor.evaluate(AUDIO_SENDER_ENABLED) is True
            expect(console_call.locator(".call-peer-state")).to_be_hidden()
            wait_until(lambda: grows(agent_b, ("energy",), 1.0)["energy"] > 0, timeout=10)

            # Both sides restart ICE at once and their offers cross (each page holds what
            # the server sends until both have made theirs): perfect negotiation settles
            # it, the agent (polite) rolls its offer back and answers, the visitor
            # (impolite) ignores the agent's, and the call goes on with new ICE
            # credentials on both sides.
            before = {side: side.page.evaluate(ICE_UFRAGS) for side in (agent_b, visitor_b)}
            # Both pages hold first: an offer must not reach a page that is not holding yet.
            for side in (agent_b, visitor_b):
                side.page.evaluate("window.__hold = true")
            for side in (agent_b, visitor_b):
                side.page.evaluate(RESTART_ICE)
            for side in (agent_b, visitor_b):
                wait_until(
                    lambda side=side: side.page.evaluate(ICE_UFRAGS)["signaling"] == "have-local-offer"
                )
            # Both offers reach the server and wait, held, at the other side.
            for side in (agent_b, visitor_b):
                wait_until(lambda side=side: "call.negotiate" in side.page.evaluate("window.__heldTypes()"))
            for side in (agent_b, visitor_b):
                side.page.evaluate("window.__release()")

            def restarted() -> bool:
                for side in (agent_b, visitor_b):
                    now = side.page.evaluate(ICE_UFRAGS)
                    if (
                        now["local"] == before[side]["local"]
                        or now["remote"] == before[side]["remote"]
                        or now["signaling"] != "stable"
                        or now["connection"] != "connected"
                    ):
                        return False
                return True

            wait_until(restarted, timeout=20)
            assert agent.evaluate("window.__rollbacks") == 1
            assert visitor.evaluate("window.__rollbacks") == 0
            for side in (agent_b, visitor_b):
                grown = grows(side, ("audio", "video"))
                assert grown["audio"] > 0 and grown["video"] > 0, grown
            expect(console_call).to_have_class(re.compile(r"\bphase-active\b"))

            # The agent hangs up: the call ends on both sides.
            call_id = console_call.get_attribute("data-call-id")
            assert call_id and widget_call.get_attribute("data-call-id") == call_id
            console_call.get_by_role("button", name="Hang up").click()
            expect(widget_call).to_have_class(re.compile(r"\bphase-ended\b"))
            expect(widget_call.locator(".call-status")).to_contain_text("Call ended")
            # The call was the contact: the widget asks for a rating, then the call card goes.
            expect(panel.locator("form.rating")).to_contain_text("Rate your call with Alice Martin")
            expect(widget_call).to_be_hidden(timeout=10_000)
            expect(console_call).to_be_hidden(timeout=10_000)
            expect(agent.locator("#closed-bar")).to_be_visible()
            assert agent.evaluate("(window.__pcs || []).every((p) => p.connectionState === 'closed')")
            assert visitor.evaluate("(window.__pcs || []).every((p) => p.connectionState === 'closed')")

            calls = wait_until(
                lambda: [
                    c
                    for c in server.api("GET", "/api/calls", admin).json()["calls"]
                    if c["state"] == "ended" and c["quality"] is not None
                ]
            )
            assert len(calls) == 1
            recorded = calls[0]
            assert recorded["id"] == call_id
            assert (recorded["channel"], recorded["origin"], recorded["end_reason"]) == (
                "video",
                "queue",
                "completed",
            )
            assert recorded["talk_s"] > 0
            # Both sides sent quality samples from getStats(): direct, not relayed.
            assert recorded["quality"]["samples"] >= 2 and recorded["quality"]["relayed"] is False
            assert recorded["quality"]["bitrate_kbps_mean"] > 0

            # The call is in the agent's History, with its outcome.
            agent.click("#tab-history")
            item = agent.locator(f".history-item[data-contact-id='{recorded['contact_id']}']")
            expect(item).to_contain_text("video")
            item.click()
            expect(agent.locator("#context")).to_contain_text("Video call")
            expect(agent.locator(f"#context [data-call-id='{call_id}']")).to_contain_text("completed")

            agent_b.watched.assert_clean()
            visitor_b.watched.assert_clean()
        finally:
            visitor_b.close()
            agent_b.close()


def save_screenshot(agent: Any, visitor: Any, path: Path) -> None:
    """The console and the visitor's widget side by side, in one picture (composed in a
    third page of the agent's browser from the two screenshots)."""
    console_png = base64.b64encode(agent.screenshot()).decode()
    widget_png = base64.b64encode(
        visitor.screenshot(clip={"x": 876, "y": 100, "width": 394, "height": 760})
    ).decode()
    canvas = agent.context.new_page()
    canvas.set_viewport_size({"width": 1661, "height": 830})
    style = (
        "body{margin:0;background:linear-gradient(135deg,#e2e8f0,#f8fafc);"
        "font:600 14px system-ui,sans-serif;color:#334155}"
        ".row{display:flex;gap:24px;padding:16px 24px 24px;align-items:flex-start}"
        "figure{margin:0}figcaption{margin:0 0 8px 2px;letter-spacing:.02em}"
        "img{display:block;border-radius:12px;box-shadow:0 12px 32px rgba(15,23,42,.22)}"
    )
    figure = (
        '<figure><figcaption>{}</figcaption><img width={} height=750 src="data:image/png;base64,{}"></figure>'
    )
    canvas.set_content(
        f"<!doctype html><html><head><style>{style}</style></head><body><div class=row>"
        + figure.format("Agent console", 1200, console_png)
        + figure.format("Visitor \u2014 the widget on the shop", 389, widget_png)
        + "</div></body></html>"
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    canvas.screenshot(path=str(path))
    canvas.close()


def test_calls_on_a_chat_both_ways(tmp_path: Path, playwright: Any) -> None:
    """The visitor turns a chat into a voice call (every console of the agent rings; one
    answers, the other stops ringing), then the agent video-calls the visitor, who
    answers in the widget.  The chat goes on around both calls."""
    from playwright.sync_api import expect

    with live_server(tmp_path / "server", visitor_grace_s=30.0, agent_grace_s=30.0) as server:
        admin = server.admin_token()
        server.add_queue(admin, "sales", name="Sales & sizing")
        server.add_agent(admin, "alice", display_name="Alice Martin")
        agent_b = Browser(
            playwright, tmp_path / "agent-profile", server, viewport={"width": 1440, "height": 900}
        )
        visitor_b = Browser(playwright, tmp_path / "visitor-profile", server)
        agent, visitor = agent_b.page, visitor_b.page
        # A second console of the same agent (another tab: its own sign-in).
        other = Watched(agent_b.context.new_page(), server)
        try:
            sign_in_agent(agent, server, "alice")
            sign_in_agent(other.page, server, "alice")
            panel = open_widget(visitor, server, "Carl Caller")
            panel.locator("textarea[name=message]").fill("Quick question about sizes")
            panel.get_by_role("button", name="Start chat").click()
            agent.locator(".offer").get_by_role("button", name="Accept").click()
            expect(panel.locator(".messages")).to_contain_text("Alice Martin joined the chat")

            # This tab's device id stays over a reload; a copy of the tab (which copies
            # sessionStorage) takes its own.
            device = visitor.evaluate("sessionStorage.getItem('nwcc.widget.device')")
            assert re.fullmatch(r"[A-Za-z0-9_-]{1,32}", device or "")
            with visitor_b.context.expect_page() as popup_info:
                visitor.evaluate("window.open(location.href)")
            copy = popup_info.value
            copy.wait_for_load_state()
            copied = copy.evaluate("sessionStorage.getItem('nwcc.widget.device')")
            assert copied and copied != device
            copy.close()
            visitor.reload()
            panel = visitor.locator("#nwcc-panel")
            expect(panel.locator(".messages")).to_contain_text("Alice Martin joined the chat")
            assert visitor.evaluate("sessionStorage.getItem('nwcc.widget.device')") == device

            # The visitor calls from the chat: both consoles ring.
            panel.get_by_role("button", name="Call Alice", exact=True).click()
            widget_call = panel.locator(".call")
            expect(widget_call.locator(".call-status")).to_have_text("Ringing…")
            for page in (agent, other.page):
                expect(page.locator(".call-offer")).to_contain_text("Incoming call · from your chat")
            agent.locator(".call-offer").get_by_role("button", name="Accept").click()
            expect(other.page.locator(".call-offer")).to_have_count(0)
            expect(other.page.locator(".toast").last).to_contain_text("answered on another device")
            console_call = agent.locator("#call")
            expect(console_call).to_have_class(re.compile(r"\bphase-active\b.*\bis-audio\b"), timeout=30_000)
            expect(widget_call).to_have_class(re.compile(r"\bphase-active\b"), timeout=30_000)
            for side in (agent_b, visitor_b):
                wait_until(lambda side=side: side.inbound()["audio"] > 0, timeout=20)
                assert grows(side, ("audio",))["audio"] > 0
            expect(agent.locator(".chat-item .on-call")).to_have_count(1)
            widget_call.get_by_role("button", name="Hang up").click()
            expect(console_call.locator(".call-status")).to_contain_text("Call ended")
            # The conversation outlives its call.
            panel.locator("textarea.composer-input").fill("Thanks, that helped")
            panel.locator("textarea.composer-input").press("Enter")
            expect(agent.locator("#messages")).to_contain_text("Thanks, that helped")

            # Now the agent video-calls the visitor; the widget rings and the visitor answers.
            expect(agent.locator("#call-video-btn")).to_be_visible(timeout=10_000)
            agent.click("#call-video-btn")
            expect(widget_call).to_have_class(re.compile(r"\bphase-incoming\b"))
            expect(widget_call).to_contain_text("Alice Martin")
            expect(widget_call.locator(".call-status")).to_have_text("is calling you · video")
            expect(console_call.locator(".call-status")).to_have_text("Ringing…")
            panel.get_by_role("button", name="Accept video call").click()
            expect(widget_call).to_have_class(re.compile(r"\bphase-active\b"), timeout=30_000)
            expect(console_call).to_have_class(re.compile(r"\bphase-active\b"), timeout=30_000)
            for side in (agent_b, visitor_b):
                wait_until(lambda side=side: side.inbound()["video"] > 0, timeout=20)
                grown = grows(side, ("audio", "video"))
                assert grown["audio"] > 0 and grown["video"] > 0, grown
            console_call.get_by_role("button", name="Hang up").click()
            expect(widget_call.locator(".call-status")).to_contain_text("Call ended")
            expect(panel.locator("textarea.composer-input")).to_be_visible()

            def ended() -> list[tuple[str, str, str]] | None:
                rows = server.api("GET", "/api/calls", admin).json()["calls"]
                done = sorted(
                    (c["origin"], c["channel"], c["end_reason"]) for c in rows if c["state"] == "ended"
                )
                return done if len(done) == 2 else None

            assert wait_until(ended) == [
                ("agent", "video", "completed"),
                ("escalation", "voice", "completed"),
            ]
            for watched in (agent_b.watched, other, visitor_b.watched):
                watched.assert_clean()
        finally:
            visitor_b.close()
            agent_b.close()


def test_a_blocked_microphone_is_explained(tmp_path: Path, playwright: Any) -> None:
    """Without Chromium's fake permission prompt, getUserMedia is refused as it is when
    a person clicks "Block": the widget says so and places no call; an agent whose
    microphone is blocked is told too, and the call goes back to routing."""
    from playwright.sync_api import expect

    denied = [arg for arg in CHROMIUM_ARGS if arg != "--use-fake-ui-for-media-stream"]
    with live_server(tmp_path / "server", visitor_grace_s=30.0, agent_grace_s=30.0) as server:
        admin = server.admin_token()
        server.add_queue(admin, "sales", name="Sales & sizing")
        server.add_agent(admin, "alice", display_name="Alice Martin")
        agent_b = Browser(playwright, tmp_path / "agent-profile", server, args=denied)
        visitor_b = Browser(playwright, tmp_path / "visitor-profile", server, args=denied)
        agent, visitor = agent_b.page, visitor_b.page
        try:
            sign_in_agent(agent, server, "alice")
            panel = open_widget(visitor, server, "Bea Blocked")
            panel.get_by_role("button", name="Call", exact=True).click()
            error = panel.locator(".call-error")
            expect(error).to_have_text(re.compile(r"^Your browser blocked the microphone\."))
            expect(panel.locator(".call-status")).to_have_text("The call was not placed")
            assert server.api("GET", "/api/calls", admin).json()["calls"] == []
            panel.get_by_role("button", name="OK").click()
            expect(panel.locator(".call")).to_be_hidden()
            expect(panel.get_by_role("button", name="Video call")).to_be_visible()

            # The visitor allows the microphone; the agent's is blocked.
            visitor_b.context.grant_permissions(["microphone", "camera"], origin=server.base_url)
            panel.get_by_role("button", name="Call", exact=True).click()
            card = agent.locator(".call-offer")
            expect(card).to_contain_text("Incoming call")
            card.get_by_role("button", name="Accept").click()
            expect(agent.locator("#call .call-error")).to_have_text(
                re.compile(r"^Your browser blocked the microphone\.")
            )
            # Declined for routing (not hung up): the visitor's call still waits.
            calls = server.api("GET", "/api/calls", admin).json()["calls"]
            assert [c["state"] for c in calls] in (["initiating"], ["ringing"])
            panel.locator(".call").get_by_role("button", name="Hang up").click()
            expect(panel.locator(".call-status")).to_have_text("Call canceled")
            wait_until(
                lambda: server.api("GET", "/api/calls", admin).json()["calls"][0]["end_reason"] == "canceled"
            )
            agent_b.watched.assert_clean()
            visitor_b.watched.assert_clean()
        finally:
            visitor_b.close()
            agent_b.close()


def test_the_widget_is_served_with_the_consoles_call_engine(tmp_path: Path) -> None:
    """Sites embed one file: /widget.js is widget.js with the console's call engine
    spliced in, so the two always run the same engine."""
    import httpx

    engine = (STATIC / "agent" / "call-engine.js").read_text()
    section = engine[
        engine.index("// ---- call engine: begin ----") : engine.index("// ---- call engine: end ----")
    ]
    with live_server(tmp_path) as server:
        for path in ("/widget.js", "/static/widget/widget.js"):
            served = httpx.get(server.base_url + path).text
            assert section in served
            assert "// ---- call engine: include ----" not in served
            assert "class CallEngine" in served and "export {" not in served
