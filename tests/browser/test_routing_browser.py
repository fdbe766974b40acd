"""Routing in the agent console and the widget, in a real browser: a transfer to a named
colleague with a note (the colleague sees the note, the visitor the transfer), the
visitor's page followed live, away with a reason, the widget's queue position and
estimated wait, and the disposition in the History tab."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.browser.test_chat_browser import chromium, new_page, sign_in_agent, start_chat, wait_until
from tests.support.server import live_server

pytestmark = pytest.mark.browser
__all__ = ["chromium"]  # the fixture, shared with test_chat_browser

NOTE = "Wants the Trail 2 in M <b>before Saturday</b>; I checked stock in Amsterdam."


def test_transfer_to_a_colleague_with_a_note(tmp_path: Path, chromium: Any) -> None:
    from playwright.sync_api import expect

    with live_server(tmp_path / "server", visitor_grace_s=30.0, agent_grace_s=30.0) as server:
        admin = server.admin_token()
        server.add_queue(admin, "sales", name="Sales & sizing")
        server.add_agent(admin, "alice", display_name="Alice Martin")
        bob_id = server.add_agent(admin, "bob", display_name="Bob Baker", capacity={"chat": 1})["id"]

        alice_w = new_page(chromium, server, viewport={"width": 1280, "height": 800})
        alice = alice_w.page
        sign_in_agent(alice, server, "alice")  # available first: she gets the chat
        bob_w = new_page(chromium, server, viewport={"width": 1280, "height": 800})
        bob = bob_w.page
        sign_in_agent(bob, server, "bob")

        visitor_w = new_page(chromium, server, viewport={"width": 1100, "height": 800})
        visitor = visitor_w.page
        panel = start_chat(visitor, server.base_url + "/pricing", "Tara Transfer", "Which size for 1.80 m?")
        alice.locator(".offer").get_by_role("button", name="Accept").click()
        expect(alice.locator("#messages")).to_contain_text("Which size for 1.80 m?")

        # Alice hands the chat to Bob by name, with a note.
        alice.click("#transfer-btn")
        target = alice.locator("#transfer-target")
        expect(target.locator("optgroup[label=Colleagues] option")).to_have_text(
            ["Administrator (admin)", "Bob Baker"]
        )
        target.select_option(f"agent:{bob_id}")
        alice.fill("#transfer-note", NOTE)
        alice.click("#transfer-confirm")
        expect(alice.locator(".toast").last).to_contain_text("Chat transferred to Bob Baker")
        expect(alice.locator(".chat-item[data-contact-id]")).to_have_count(0)
        expect(panel.locator(".messages")).to_contain_text("You're being transferred")

        # Bob is offered it with the note, accepts, and keeps seeing the note.
        offer = bob.locator(".offer")
        expect(offer.locator(".offer-note")).to_have_text(f"Transfer note: {NOTE}")
        offer.get_by_role("button", name="Accept").click()
        expect(bob.locator("#conv-banner")).to_have_text(f"Transfer note: {NOTE}")
        expect(bob.locator("#messages")).to_contain_text("Which size for 1.80 m?")
        expect(bob.locator("#messages")).to_contain_text("Transferred to Bob Baker")
        expect(panel.locator(".messages")).to_contain_text("Bob Baker joined the chat")
        assert bob.locator("#conv-banner b").count() == 0  # the note stayed text

        # The visitor browses on: Bob sees the page they are on now.
        visitor.get_by_role("link", name="Bikes", exact=True).first.click()
        visitor.wait_for_url("**/product")
        now_on = bob.locator("#context .now-on")
        expect(now_on).to_contain_text("Trail 2 — Northwind Bikes")
        expect(now_on).to_contain_text("/product")

        # Alice goes away for a break, saying why.
        alice.click("#status-away")
        alice.get_by_role("menuitem", name="Break").click()
        expect(alice.locator("#state-text")).to_have_text("Away · Break")
        expect(alice.locator("#state-banner")).to_be_hidden()

        # Bob is full (one chat): a second visitor waits, told its place and the wait.
        second_w = new_page(chromium, server, viewport={"width": 1100, "height": 800})
        second = second_w.page
        second_panel = start_chat(second, server.base_url + "/pricing", "Walt Waiting", "Hello?")
        waiting = second_panel.locator(".waiting")
        expect(waiting).to_contain_text("you are number 1")
        expect(waiting.locator(".eta")).to_have_text(" · less than a minute")
        bob.click("#tab-queue")
        expect(bob.locator(".waiting-item")).to_contain_text("Walt Waiting")

        # Bob ends the first chat with a disposition; History shows it.
        bob.click("#tab-chats")
        bob.locator(".chat-item", has_text="Tara Transfer").click()
        bob.click("#end-btn")
        bob.locator("#end-disposition").select_option("follow_up")
        bob.click("#end-confirm")
        expect(bob.locator("#closed-bar")).to_contain_text("Follow-up needed")
        bob.click("#tab-history")
        item = bob.locator(".history-item", has_text="Tara Transfer")
        expect(item.locator(".badge.disposition")).to_have_text("Follow-up needed")

        contacts = wait_until(
            lambda: [
                c
                for c in server.api("GET", "/api/contacts", admin).json()["contacts"]
                if c["name"] == "Tara Transfer" and c["status"] == "ended"
            ]
        )
        assert contacts[0]["agent_id"] == bob_id
        assert contacts[0]["transfer_note"] == NOTE
        assert contacts[0]["disposition"] == "follow_up"
        for watched in (alice_w, bob_w, visitor_w, second_w):
            watched.assert_clean()
