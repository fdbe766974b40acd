"""Overflow by max wait (to another queue, keeping the contact's place, or to the
offline form) and business hours, through the real server."""

from __future__ import annotations

import datetime as dt
import time
from zoneinfo import ZoneInfo

import pytest

from tests.routing_e2e.desk import Desk, offered_to, until
from tests.support.client import ProtocolError
from tests.support.server import LiveServer


async def test_overflow_to_another_queue_keeps_the_contacts_place(server: LiveServer) -> None:
    desk = Desk(server)
    desk.queue("second", name="Second line")
    desk.queue("first", name="First line", max_wait_s=3.0, overflow_to="second")
    # Only bob serves "second", one chat at a time, and he is busy.
    bob = await desk.agent("bob", capacity={"chat": 1}, queues=["second"])
    busy = await desk.visitor("second", "Busy")
    await bob.wait_offer(busy.contact_id)
    await bob.accept(busy.contact_id)

    early = await desk.visitor("first", "Early")
    enqueued_at = desk.contact(early.contact_id)["contact"]["enqueued_at"]
    # Arrives in "second" after "Early" arrived in "first", before it overflows.
    later = await desk.visitor("second", "Later")
    await later.wait("queue.position", position=1)

    overflowed = await early.wait("contact.overflowed", timeout=30)
    assert overflowed["to_queue"] == "second"
    assert overflowed["reason"] == "max_wait"
    # It keeps its original enqueue time, so it goes ahead of "Later".
    await early.wait("queue.position", position=1)
    await later.wait("queue.position", position=2)
    moved = desk.contact(early.contact_id)["contact"]
    assert moved["queue_id"] == "second" and moved["status"] == "queued"
    assert moved["enqueued_at"] == enqueued_at

    # Bob frees up: the overflowed contact is served first, in its new queue.
    await bob.end(busy.contact_id)
    assert await offered_to([bob], early.contact_id) is bob
    assigned = await bob.accept(early.contact_id)
    assert assigned["contact"]["queue_id"] == "second"
    assert assigned["contact"]["enqueued_at"] == enqueued_at
    await early.wait("contact.joined", agent_id=bob.id)
    assert later.contact_id not in bob.offered_ids()
    await desk.close()


async def test_overflow_to_the_offline_form(server: LiveServer) -> None:
    desk = Desk(server)
    desk.queue("night", name="Night line", max_wait_s=1.0)
    visitor = await desk.visitor("night", "Nora", message="Anyone there?")
    overflowed = await visitor.wait("contact.overflowed", timeout=30)
    assert overflowed["to_queue"] is None
    assert overflowed["reason"] == "max_wait"
    detail = await until(
        lambda: (d := desk.contact(visitor.contact_id))["contact"]["status"] == "offline" and d,
        what="contact stored offline",
    )
    assert detail["contact"]["queue_id"] == "night"
    assert [e["body"] for e in detail["transcript"] if e["kind"] == "chat.message"] == ["Anyone there?"]
    offline = server.api("GET", "/api/contacts?status=offline", desk.admin).json()["contacts"]
    assert [c["id"] for c in offline] == [visitor.contact_id]
    await desk.close()


def _closed_now(zone: str) -> tuple[dict[str, object], float]:
    """Hours in ``zone`` open only two days from now (local), 09:00-17:00, and the
    Unix time they next open."""
    tz = ZoneInfo(zone)
    today = dt.datetime.now(tz)
    opening_day = (today + dt.timedelta(days=2)).date()
    opens = dt.datetime.combine(opening_day, dt.time(9, 0), tzinfo=tz)
    spans = [{"weekday": opening_day.weekday(), "opens": "09:00", "closes": "17:00"}]
    return {"timezone": zone, "spans": spans}, opens.timestamp()


def _open_now(zone: str) -> dict[str, object]:
    today = dt.datetime.now(ZoneInfo(zone)).date()
    days = {today.weekday(), (today + dt.timedelta(days=1)).weekday()}
    return {
        "timezone": zone,
        "spans": [{"weekday": d, "opens": "00:00", "closes": "24:00"} for d in sorted(days)],
    }


async def test_closed_queue_refuses_chats_and_says_when_it_opens(server: LiveServer) -> None:
    desk = Desk(server)
    hours, next_open = _closed_now("Pacific/Auckland")
    desk.queue("weekend", name="Weekend desk", hours=hours)
    desk.queue("always", name="Open desk", hours=_open_now("America/New_York"))
    await desk.agent("alice")

    def widget_queues() -> dict[str, dict[str, object]] | None:
        config = server.api("GET", "/api/widget/config").json()
        queues = {q["id"]: q for q in config["queues"]}
        # The router has published both queues' status.
        if queues.get("weekend", {}).get("next_open") is None or not queues["always"]["online"]:
            return None
        return queues

    queues = await until(widget_queues, what="queue status published")
    assert queues["weekend"]["open"] is False
    assert queues["weekend"]["next_open"] == pytest.approx(next_open)
    assert queues["always"]["open"] is True
    assert queues["always"].get("next_open") is None

    with pytest.raises(ProtocolError, match="'code': 'closed'"):
        await desk.visitor("weekend", "Wendy")
    # Nothing was stored for the refused start; the open queue takes chats.
    assert server.api("GET", "/api/contacts", desk.admin).json()["contacts"] == []
    visitor = await desk.visitor("always", "Olga")
    assert visitor.contact_id
    await desk.close()


async def test_queue_closing_sends_waiting_contacts_to_the_offline_form(server: LiveServer) -> None:
    """A queue whose hours change to closed while a contact waits: the contact is told
    (overflow reason closed, with the next opening time) and stored offline."""
    desk = Desk(server)
    desk.queue("late", name="Late desk")
    visitor = await desk.visitor("late", "Lena")
    await visitor.wait("queue.position", position=1)
    hours, next_open = _closed_now("Asia/Tokyo")
    response = server.api("PATCH", "/api/admin/queues/late", desk.admin, json={"hours": hours})
    assert response.status_code == 200, response.text
    overflowed = await visitor.wait("contact.overflowed", timeout=30)
    assert overflowed["reason"] == "closed" and overflowed["to_queue"] is None
    assert overflowed["next_open"] == pytest.approx(next_open)
    await until(lambda: desk.contact(visitor.contact_id)["contact"]["status"] == "offline")
    assert time.time() < next_open
    await desk.close()
