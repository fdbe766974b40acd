"""Saved replies in the agent console, in Chromium: "/ref" in the composer offers the
supervisor's shared reply, Enter puts it in with the visitor's and the agent's names
filled in, and the visitor's widget receives that text.  Also the agent's own replies
kept from the console's dialog, and the fill-in rule itself (saved-replies.js)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.browser.test_chat_browser import chromium, new_page, sign_in_agent, start_chat  # noqa: F401
from tests.support.screenshots import screenshot_path
from tests.support.server import live_server

pytestmark = pytest.mark.browser

REFUND = (
    "Hi {{visitor.name}}, {{agent.name}} from {{queue.name}} here: "
    "refunds reach you within 5 days ({{order.id}})."
)


def test_a_shared_reply_is_picked_with_slash_and_reaches_the_visitor_filled_in(
    tmp_path: Path,
    chromium: Any,  # noqa: F811
) -> None:
    from playwright.sync_api import expect

    with live_server(tmp_path / "server", visitor_grace_s=30.0) as server:
        admin = server.admin_token()
        server.add_queue(admin, "sales", name="Sales & sizing")
        server.add_agent(admin, "alice", display_name="Alice Martin")
        server.add_agent(admin, "sam", role="supervisor")
        sam = server.login("sam")
        for body in (
            {"shortcut": "refund", "title": "Refund policy", "body": REFUND, "scope": "global"},
            {
                "shortcut": "sizes",
                "title": "Size guide",
                "body": "Our M fits 170-180 cm.",
                "scope": "queue",
                "queue_id": "sales",
            },
            {
                "shortcut": "returns",
                "title": "Returns label",
                "body": "I've emailed you a label.",
                "scope": "global",
            },
        ):
            response = server.api("POST", "/api/saved-replies", sam, json=body)
            assert response.status_code == 201, response.text

        agent_w = new_page(chromium, server, viewport={"width": 1440, "height": 900})
        agent = agent_w.page
        sign_in_agent(agent, server, "alice")
        visitor_w = new_page(chromium, server, viewport={"width": 1280, "height": 860})
        visitor = visitor_w.page
        panel = start_chat(visitor, server.base_url + "/pricing", "Sara", "Hello, where is my refund?")
        agent.locator(".offer").get_by_role("button", name="Accept").click()
        expect(agent.locator("#messages")).to_contain_text("where is my refund?")

        composer = agent.locator("#composer-input")
        picker = agent.locator(".sr-picker")
        composer.press_sequentially("/", delay=20)
        expect(picker).to_be_visible()
        # What applies in this queue: the queue's own and those for every queue.
        expect(picker.locator(".sr-option")).to_have_count(3)
        composer.press_sequentially("re", delay=20)
        expect(picker.locator(".sr-option")).to_have_count(2)  # refund, returns
        composer.press_sequentially("f", delay=20)
        options = picker.locator(".sr-option")
        expect(options).to_have_count(1)
        expect(options.first).to_contain_text("/refund")
        expect(options.first).to_contain_text("Refund policy")
        # The preview is what will be inserted.
        expect(options.first.locator(".sr-preview")).to_contain_text(
            "Hi Sara, Alice Martin from Sales & sizing"
        )
        expect(composer).to_have_attribute("aria-expanded", "true")
        agent.screenshot(path=str(screenshot_path("saved-replies-picker.png")))

        # Escape closes and leaves the text; typing opens it again.
        composer.press("Escape")
        expect(picker).to_be_hidden()
        expect(composer).to_have_value("/ref")
        composer.press("Backspace")
        expect(picker.locator(".sr-option")).to_have_count(2)
        composer.press_sequentially("f", delay=20)
        expect(picker.locator(".sr-option")).to_have_count(1)
        composer.press("Enter")  # picks; does not send
        expect(picker).to_be_hidden()
        filled = (
            "Hi Sara, Alice Martin from Sales & sizing here: refunds reach you within 5 days ({{order.id}})."
        )
        expect(composer).to_have_value(filled)
        assert agent.locator("#messages .msg.mine").count() == 0

        # The agent edits the unknown variable, then sends as usual.
        composer.fill(filled.replace("{{order.id}}", "order 1042"))
        composer.press("Enter")
        sent = "Hi Sara, Alice Martin from Sales & sizing here: refunds reach you within 5 days (order 1042)."
        expect(panel.locator(".msg.theirs .text").last).to_have_text(sent)

        # Arrow keys choose among several; a click picks too.
        composer.press_sequentially("/", delay=20)
        expect(picker.locator(".sr-option")).to_have_count(3)
        first = picker.locator(".sr-option").nth(0).get_attribute("data-shortcut")
        second = picker.locator(".sr-option").nth(1).get_attribute("data-shortcut")
        composer.press("ArrowDown")
        expect(picker.locator(".sr-option").nth(1)).to_have_attribute("aria-selected", "true")
        composer.press("ArrowUp")
        expect(picker.locator(".sr-option").nth(0)).to_have_attribute("aria-selected", "true")
        assert first != second
        picker.locator('.sr-option[data-shortcut="sizes"]').click()
        expect(composer).to_have_value("Our M fits 170-180 cm.")
        composer.fill("")

        # The agent's own replies, kept from the console: add one, use it, delete it.
        agent.click("#sr-open")
        dialog = agent.locator("#sr-dialog")
        expect(dialog).to_be_visible()
        expect(dialog.locator(".sr-item")).to_have_count(3)
        # Shared ones are read-only for an agent; and an agent cannot share.
        expect(dialog.locator(".sr-item button")).to_have_count(0)
        expect(dialog.locator("[data-sr=scope-field]")).to_be_hidden()
        dialog.locator("#sr-shortcut").fill("Bad shortcut")
        dialog.locator("#sr-title").fill("Thanks")
        dialog.locator("#sr-body").fill("Thanks {{visitor.name}}, anything else?")
        dialog.locator("#sr-save").click()
        expect(dialog.locator("[data-sr=error]")).to_contain_text("lowercase")
        dialog.locator("#sr-shortcut").fill("thanks")
        dialog.locator("#sr-save").click()
        expect(dialog.locator(".sr-item")).to_have_count(4)
        mine = dialog.locator('.sr-item[data-shortcut="thanks"]')
        expect(mine).to_contain_text("Mine")
        dialog.get_by_role("button", name="Close").click()
        expect(dialog).to_be_hidden()
        composer.press_sequentially("/than", delay=20)
        expect(picker.locator(".sr-option")).to_have_count(1)
        composer.press("Tab")
        expect(composer).to_have_value("Thanks Sara, anything else?")
        composer.fill("")
        agent.click("#sr-open")
        dialog.locator('.sr-item[data-shortcut="thanks"] button').click()
        expect(dialog.locator(".sr-item")).to_have_count(3)
        dialog.get_by_role("button", name="Close").click()
        mine_left = [
            r
            for r in server.api("GET", "/api/saved-replies", server.login("alice")).json()
            if r["scope"] == "personal"
        ]
        assert mine_left == []

        # A "/word" nothing matches is not sent by accident.
        composer.press_sequentially("/zzz", delay=20)
        expect(picker).to_contain_text("No saved reply matches")
        composer.press("Enter")
        expect(composer).to_have_value("/zzz")
        assert panel.locator(".msg.theirs").count() == 1

        agent_w.assert_clean()
        visitor_w.assert_clean()


def test_the_fill_in_rule(tmp_path: Path, chromium: Any) -> None:  # noqa: F811
    """fillVariables, the one place the rule lives, run in the browser as the console runs it."""
    with live_server(tmp_path / "server") as server:
        watched = new_page(chromium, server)
        page = watched.page
        page.goto(server.base_url + "/agent")
        got = page.evaluate(
            """async () => {
              const module = await import("/static/agent/saved-replies.js");
              const { fillVariables, matchReplies, slashQuery } = module;
              const values = { "visitor.name": "Sara", "agent.name": "Alice", "queue.name": "Sales" };
              return {
                all: fillVariables("Hi {{visitor.name}}, {{ agent.name }} of {{queue.name}}", values),
                unknown: fillVariables("{{order.id}} {{Visitor.Name}} {visitor.name} {{}}", values),
                twice: fillVariables("{{visitor.name}} and {{visitor.name}}", values),
                once: fillVariables(
                  "{{visitor.name}}", { "visitor.name": "{{agent.name}}", "agent.name": "X" }
                ),
                empty: fillVariables("[{{agent.name}}]", { "agent.name": "" }),
                missing: fillVariables("{{visitor.name}}", {}),
                order: matchReplies(
                  [
                    { shortcut: "prefund", title: "x" },
                    { shortcut: "refund", title: "y" },
                    { shortcut: "a", title: "Refund" },
                  ],
                  "REF",
                ).map((r) => r.shortcut),
                slash: [slashQuery("/ref"), slashQuery("/"), slashQuery("hi /ref"), slashQuery("/ref now")],
              };
            }"""
        )
        watched.assert_clean()
    assert got["all"] == "Hi Sara, Alice of Sales"
    assert got["unknown"] == "{{order.id}} {{Visitor.Name}} {visitor.name} {{}}"
    assert got["twice"] == "Sara and Sara"
    assert got["once"] == "{{agent.name}}"  # a value is not expanded again
    assert got["empty"] == "[]"
    assert got["missing"] == "{{visitor.name}}"
    assert got["order"] == ["refund", "prefund", "a"]
    assert got["slash"] == ["ref", "", None, None]


def _fa(key: str) -> str:
    """The Persian text of a staff catalogue key (what the page must show)."""
    import json

    from contact_center.i18n import LOCALES_DIR

    return str(json.loads((LOCALES_DIR / "fa" / "staff.json").read_text(encoding="utf-8"))[key])


def test_the_picker_in_persian_mirrors(tmp_path: Path, chromium: Any) -> None:  # noqa: F811
    """In a right-to-left console the picker's texts are Persian, {{queue.name}} is the
    queue's Persian name, and the row is mirrored: the shortcut on the right, the scope
    on the left."""
    from playwright.sync_api import expect

    with live_server(tmp_path / "server", visitor_grace_s=30.0) as server:
        admin = server.admin_token()
        server.add_queue(admin, "sales", name="Sales", labels={"fa": "فروش"})
        server.add_agent(admin, "alice", display_name="آلیس")
        token = server.login("alice")
        assert server.api("PATCH", "/api/me", token, json={"locale": "fa"}).status_code == 200
        sam_reply = {
            "shortcut": "hello",
            "title": "سلام",
            "body": "سلام {{visitor.name}}، {{queue.name}} در خدمت است.",
        }
        server.add_agent(admin, "sam", role="supervisor")
        assert (
            server.api(
                "POST", "/api/saved-replies", server.login("sam"), json={**sam_reply, "scope": "global"}
            ).status_code
            == 201
        )

        agent_w = new_page(chromium, server, viewport={"width": 1440, "height": 900})
        agent = agent_w.page
        agent.goto(server.base_url + "/agent")
        agent.fill("#login-username", "alice")
        agent.fill("#login-password", "agent-password")
        agent.click("#login-submit")
        expect(agent.locator("html")).to_have_attribute("lang", "fa", timeout=20_000)
        expect(agent.locator("#conn")).to_have_attribute("data-state", "online")
        agent.click("#status-available")
        expect(agent.locator("#state-pill")).to_have_attribute("data-state", "available")
        visitor_w = new_page(chromium, server, viewport={"width": 1280, "height": 860})
        start_chat(visitor_w.page, server.base_url + "/pricing", "Sara", "Hi")
        agent.locator(".offer button.accept").click()
        expect(agent.locator("#messages")).to_contain_text("Hi")

        composer = agent.locator("#composer-input")
        composer.press_sequentially("/he", delay=20)
        option = agent.locator(".sr-picker .sr-option")
        expect(option).to_have_count(1)
        expect(option.locator(".sr-scope")).to_have_text(_fa("replies.scope.global"))
        expect(option.locator(".sr-preview")).to_have_text("سلام Sara، فروش در خدمت است.")
        shortcut = option.locator(".sr-shortcut").bounding_box()
        scope = option.locator(".sr-scope").bounding_box()
        assert shortcut and scope and shortcut["x"] > scope["x"]
        composer.press("Escape")
        composer.fill("")
        agent.click("#sr-open")
        expect(agent.locator("#sr-dialog-title")).to_have_text(_fa("replies.dialog_title"))
        agent.locator("#sr-dialog [data-close]").click()
        agent_w.assert_clean()
        visitor_w.assert_clean()
