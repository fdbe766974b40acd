"""Transfers to a queue and to one agent."""

from __future__ import annotations

from routing.events import (
    AgentStateChanged,
    ContactQueued,
    ContactReleased,
    ContactTransferred,
    OfferAccepted,
    OfferDeclined,
    OfferMade,
    OfferRevoked,
    QueueConfig,
)
from tests.routing.desk import T0, Desk, offered


def _assigned_desk() -> Desk:
    desk = Desk(QueueConfig("sales", wrap_up_s=30), QueueConfig("support"))
    desk.agent("s1", queues=("sales",))
    desk.agent("t1", queues=("support",), capacity={"chat": 1})
    desk.agent("t2", queues=("support",), capacity={"chat": 1})
    desk.arrive("c1", "sales")
    desk.do(OfferAccepted(desk.t, "c1", "s1"))
    desk.wait(60)
    return desk


def test_transfer_to_a_queue_frees_the_agent_without_wrap_up() -> None:
    desk = _assigned_desk()
    out = desk.do(ContactTransferred(desk.t, "c1", to_queue="support"))
    assert out[0] == ContactReleased("c1", "s1")
    assert out[1] == AgentStateChanged("s1", "available", "transferred")
    assert ContactQueued("c1", "support", 1) in out
    assert offered(out) == [("c1", "t1")]
    view = desk.engine.contact_view("c1")
    assert view is not None and view.enqueued_at == T0 and view.queue_id == "support"


def test_transferred_contact_keeps_its_place_by_original_enqueue_time() -> None:
    desk = _assigned_desk()
    for agent_id in ("t1", "t2"):
        desk.arrive(f"busy-{agent_id}", "support")
        desk.do(OfferAccepted(desk.t, f"busy-{agent_id}", agent_id))
    desk.arrive("later", "support")
    out = desk.do(ContactTransferred(desk.t, "c1", to_queue="support"))
    assert ContactQueued("c1", "support", 1) in out
    assert [w.contact_id for w in desk.engine.waiting("support")] == ["c1", "later"]


def test_transfer_to_an_agent_offers_to_that_agent_only() -> None:
    desk = _assigned_desk()
    out = desk.do(ContactTransferred(desk.t, "c1", to_queue="support", to_agent="t2"))
    assert offered(out) == [("c1", "t2")]


def test_declined_agent_transfer_falls_back_to_the_queue() -> None:
    desk = _assigned_desk()
    desk.do(ContactTransferred(desk.t, "c1", to_queue="support", to_agent="t2"))
    out = desk.do(OfferDeclined(desk.t, "c1", "t2"))
    assert out == [
        OfferRevoked("c1", "t2", "declined"),
        OfferMade("c1", "t1", "support", "chat", desk.t + 20),
    ]


def test_expired_agent_transfer_waits_in_the_current_queue() -> None:
    desk = _assigned_desk()
    desk.do(ContactTransferred(desk.t, "c1", to_agent="s1"))  # back to the same queue
    out = desk.tick(20)
    # s1 let it expire; nobody else serves "sales", so it may come back to s1.
    assert out[0] == OfferRevoked("c1", "s1", "expired")
    assert offered(out) == [("c1", "s1")]


def test_transfer_to_a_busy_agent_routes_normally() -> None:
    desk = _assigned_desk()
    desk.arrive("x", "support")
    desk.do(OfferAccepted(desk.t, "x", "t1"))
    out = desk.do(ContactTransferred(desk.t, "c1", to_queue="support", to_agent="t1"))
    assert offered(out) == [("c1", "t2")]


def test_transferring_agent_is_not_offered_the_contact_back_while_others_can_take_it() -> None:
    desk = Desk(QueueConfig("q"))
    desk.agent("a1")
    desk.wait(1)
    desk.agent("a2")
    desk.arrive("c1")
    desk.do(OfferAccepted(desk.t, "c1", "a1"))
    out = desk.do(ContactTransferred(desk.t, "c1"))
    assert offered(out) == [("c1", "a2")]


def test_transfer_of_a_waiting_offered_contact_revokes_the_offer() -> None:
    desk = Desk(QueueConfig("q1"), QueueConfig("q2"))
    desk.agent("a1", queues=("q1",))
    desk.agent("a2", queues=("q2",))
    desk.arrive("c1", "q1")
    out = desk.do(ContactTransferred(desk.t, "c1", to_queue="q2"))
    assert out[0] == OfferRevoked("c1", "a1", "transferred")
    assert offered(out) == [("c1", "a2")]
