"""Untrusted text is text on every page.  Markup and ``javascript:`` links go into
everything a visitor or a colleague can type: the visitor's name, e-mail and messages,
the pre-chat question, page titles, URLs and referrers, UTM values, queue names and
descriptions, agent names, decline reasons, dispositions, transfer notes, ratings'
comments and offline messages.  Then the widget, the agent console, the supervisor
page and the journey page are opened in Chromium, and each must show the payload as
text (so the check is not vacuous), contain no element it would have made, no
``javascript:`` link, and have run nothing.

The pages' Content-Security-Policy would block an inline handler anyway; the DOM check
is what catches a page that renders text as HTML, CSP or not.
"""

from __future__ import annotations

import asyncio
import threading
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest

from tests.browser.test_chat_browser import chromium, new_page, sign_in_agent, start_chat, wait_until
from tests.support.client import WsClient
from tests.support.server import LiveServer, live_server

pytestmark = pytest.mark.browser
_ = chromium  # the fixture, shared with the chat tests

IMG = '<img src=x onerror="window.__xss=1">'
LINK = "javascript:window.__xss=2"
PAYLOAD = f'{IMG} <a href="{LINK}">click</a> <script>window.__xss=3</script>'

# Every root (the widget lives in a shadow root): elements the payload would have
# made, javascript: URLs, whether anything ran, and whether the payload shows as text.
INSPECT = """() => {
  const roots = [document];
  const walk = (root) => root.querySelectorAll('*').forEach((el) => {
    if (el.shadowRoot) { roots.push(el.shadowRoot); walk(el.shadowRoot); }
  });
  walk(document);
  const made = [];
  let text = '';
  for (const root of roots) {
    root.querySelectorAll('img[src="x"], [onerror], [onload], [onclick], script:not([src])')
      .forEach((el) => made.push(el.outerHTML.slice(0, 120)));
    root.querySelectorAll('[href], [src], [action]').forEach((el) => {
      const value = el.getAttribute('href') || el.getAttribute('src') || el.getAttribute('action') || '';
      if (/^\\s*javascript:/i.test(value)) made.push(el.outerHTML.slice(0, 120));
    });
    text += ' ' + (root.body ? root.body.innerText : root.textContent);
  }
  return {made, ran: window.__xss || 0, shown: text.includes('onerror=') || text.includes('javascript:')};
}"""


def _assert_inert(watched: Any, page_name: str) -> None:
    def shown() -> Any:
        result = watched.page.evaluate(INSPECT)
        return result if result["shown"] else None

    result = wait_until(shown, timeout=30)
    assert result["made"] == [], f"{page_name} rendered untrusted text as HTML: {result['made']}"
    assert result["ran"] == 0, f"injected script ran on {page_name}"
    assert not watched.dialogs, watched.dialogs


def _seed(server: LiveServer) -> dict[str, str]:
    """Payloads everywhere a person can type, through the REST API and the protocol."""
    admin = server.admin_token()
    server.add_queue(admin, "sales", name=f"Sales {IMG}", description=PAYLOAD)
    alice = server.add_agent(admin, "alice", display_name=f"Alice {IMG}", capacity={"chat": 5})
    bob = server.add_agent(admin, "bob", display_name=f"Bob {IMG}")
    server.add_agent(admin, "sue", role="supervisor", display_name=f"Sue {IMG}")
    page = {
        "url": LINK,
        "title": PAYLOAD,
        "referrer": LINK,
        "utm_source": IMG,
        "utm_medium": LINK,
        "utm_campaign": PAYLOAD,
        "utm_term": IMG,
        "utm_content": LINK,
    }

    async def conversations() -> None:
        bob_ws = await WsClient.connect(server.ws_url + "/ws/agent", server.login("bob"))
        await bob_ws.wait_type("welcome")
        await bob_ws.request({"type": "agent.status", "status": "available"})
        ended = await WsClient.connect(server.ws_url + "/ws/visitor", server.visitor_token())
        await ended.wait_type("welcome")
        await ended.send({"type": "page.view", "page": page})
        first = (
            await ended.request(
                {
                    "type": "chat.start",
                    "queue": "sales",
                    "name": PAYLOAD,
                    "email": IMG,
                    "message": PAYLOAD,
                    "page": page,
                }
            )
        )["contact_id"]
        await bob_ws.wait_type("offer", timeout=20)
        await bob_ws.request({"type": "offer.accept", "contact_id": first})
        await ended.wait_type("contact.joined", timeout=20)
        await bob_ws.request({"type": "chat.message", "contact_id": first, "body": PAYLOAD})
        await ended.request({"type": "chat.message", "contact_id": first, "body": LINK})
        await bob_ws.request({"type": "contact.end", "contact_id": first, "disposition": PAYLOAD[:200]})
        await ended.wait_type("contact.ended", contact_id=first, timeout=20)
        await ended.request({"type": "chat.rate", "contact_id": first, "rating": 2, "comment": PAYLOAD})
        await ended.request(
            {
                "type": "offline.message",
                "queue": "sales",
                "name": PAYLOAD,
                "message": PAYLOAD,
                "email": IMG,
                "page": page,
            }
        )
        # A second visitor waits in the queue (the supervisor's waiting list); Bob
        # declines it with a hostile reason (the supervisor's agent table) and goes away.
        waiting = await WsClient.connect(server.ws_url + "/ws/visitor", server.visitor_token())
        await waiting.wait_type("welcome")
        second = (await waiting.request({"type": "chat.start", "queue": "sales", "name": IMG, "page": page}))[
            "contact_id"
        ]
        await bob_ws.wait_for(lambda e: e.get("type") == "offer" and e["contact"]["id"] == second, timeout=30)
        await bob_ws.request({"type": "offer.decline", "contact_id": second, "reason": PAYLOAD[:200]})
        await bob_ws.request({"type": "agent.status", "status": "away", "reason": PAYLOAD[:200]})
        for client in (bob_ws, ended):
            await client.close()
        # (the waiting visitor's socket stays open in a thread below)
        waiting_holder.append(waiting)

    # In a thread of its own (Playwright's sync API owns this one's event loop); the
    # loop goes on running afterwards so the waiting visitor's socket stays open.
    waiting_holder: list[WsClient] = []
    loop = asyncio.new_event_loop()
    seeded = asyncio.run_coroutine_threadsafe(conversations(), loop)
    threading.Thread(target=loop.run_forever, daemon=True).start()
    seeded.result(timeout=120)
    return {"admin": admin, "alice": alice["id"], "bob": bob["id"]}


def test_no_page_renders_untrusted_text_as_html(tmp_path: Path, chromium: Any) -> None:
    with live_server(tmp_path / "server", visitor_grace_s=120.0) as server:
        _seed(server)

        # Alice's console: she takes the waiting visitor's chat (its history, page
        # trail and UTM values in the journey panel) ...
        agent_w = new_page(chromium, server, viewport={"width": 1440, "height": 900})
        sign_in_agent(agent_w.page, server, "alice")
        agent = agent_w.page
        agent.locator(".offer").get_by_role("button", name="Accept").first.click(timeout=30_000)

        # ... and the widget's visitor, arriving with hostile UTM values and typing
        # hostile text, gets her next.
        visitor_w = new_page(chromium, server)
        url = server.base_url + "/pricing?utm_source=" + quote(IMG) + "&utm_campaign=" + quote(LINK)
        start_chat(visitor_w.page, url, PAYLOAD, PAYLOAD)
        agent.locator(".offer").get_by_role("button", name="Accept").first.click(timeout=30_000)
        agent.locator("#composer-input").fill(PAYLOAD)
        agent.locator("#composer-input").press("Enter")
        _assert_inert(agent_w, "the agent console")
        _assert_inert(visitor_w, "the widget")

        # The supervisor's floor and the journey page, as Sue.
        for path, name in (("/supervisor", "the supervisor page"), ("/journey", "the journey page")):
            watched = new_page(chromium, server, viewport={"width": 1440, "height": 1000})
            watched.page.goto(server.base_url + path)
            watched.page.fill("#login-username", "sue")
            watched.page.fill("#login-password", "agent-password")
            watched.page.click("#login-submit")
            _assert_inert(watched, name)
