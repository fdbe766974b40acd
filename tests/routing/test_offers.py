"""Offers: expiry, declines, auto-away, rescinding, late answers, wrap-up, capacity."""

from __future__ import annotations

from routing.events import (
    AgentPresenceChanged,
    AgentRemoved,
    AgentStateChanged,
    Assigned,
    ContactAbandoned,
    ContactArrived,
    ContactEnded,
    ContactQueued,
    ContactReleased,
    ContactRestored,
    EngineConfig,
    OfferAccepted,
    OfferDeclined,
    OfferMade,
    OfferRevoked,
    QueueConfig,
    Refused,
    WrapUpEnded,
)
from tests.routing.desk import Desk, offered, only


def test_offer_expires_at_its_deadline_and_moves_on() -> None:
    desk = Desk(QueueConfig("q", offer_timeout_s=20))
    desk.agent("a1")
    desk.wait(1)
    desk.agent("a2")
    out = desk.arrive("c1")
    assert out[-1] == OfferMade("c1", "a1", "q", "chat", desk.t + 20)
    # A late tick still expires the offer at its deadline and re-offers at once.
    out = desk.tick(100)
    assert out[0] == OfferRevoked("c1", "a1", "expired")
    assert out[1] == OfferMade("c1", "a2", "q", "chat", desk.t - 100 + 20 + 20)


def test_expired_offer_cannot_be_accepted() -> None:
    desk = Desk(QueueConfig("q", offer_timeout_s=10))
    desk.agent("a1")
    desk.wait(1)
    desk.agent("a2")
    desk.arrive("c1")
    desk.wait(10)  # exactly at the deadline: the timer goes first
    out = desk.do(OfferAccepted(desk.t, "c1", "a1"))
    assert out == [
        OfferRevoked("c1", "a1", "expired"),
        OfferMade("c1", "a2", "q", "chat", desk.t + 10),
        Refused("c1", "a1", "accept", "expired"),
    ]


def test_decline_moves_on_and_is_not_reoffered_while_someone_else_can_take_it() -> None:
    desk = Desk(QueueConfig("q"))
    desk.agent("a1", capacity={"chat": 1})
    desk.wait(1)
    desk.agent("a2", capacity={"chat": 1})
    desk.arrive("c1")
    out = desk.do(OfferDeclined(desk.t, "c1", "a1"))
    assert out == [OfferRevoked("c1", "a1", "declined"), OfferMade("c1", "a2", "q", "chat", desk.t + 20)]
    # a1 is free, but c2 should go to it, not c1 back.
    out = desk.arrive("c2")
    assert offered(out) == [("c2", "a1")]


def test_a_decliner_gets_the_contact_back_when_nobody_else_can() -> None:
    desk = Desk(QueueConfig("q"))
    desk.agent("a1")
    desk.arrive("c1")
    out = desk.do(OfferDeclined(desk.t, "c1", "a1"))
    assert offered(out) == [("c1", "a1")]


def test_a_decliner_takes_other_work_before_its_declined_contact() -> None:
    desk = Desk(QueueConfig("q"))
    desk.agent("a1", capacity={"chat": 1})
    desk.agent("a2", capacity={"chat": 1}, available=False)
    desk.arrive("c1")
    desk.arrive("c2")
    out = desk.do(OfferDeclined(desk.t, "c1", "a1"))
    assert offered(out) == [("c2", "a1")]
    out = desk.do(AgentPresenceChanged(desk.t, "a2", "available"))
    assert offered(out) == [("c1", "a2")]


def test_auto_away_after_k_consecutive_missed_offers() -> None:
    desk = Desk(
        QueueConfig("q", offer_timeout_s=10),
        config=EngineConfig(missed_offers_before_away=2),
    )
    desk.agent("a1")
    desk.arrive("c1")
    desk.arrive("c2")
    desk.arrive("c3")
    out = desk.tick(10)
    # c1 expires (miss 1) and, nobody else being there, is offered again; c2 expires
    # (miss 2): the agent is set away and its remaining offers are withdrawn.
    assert out[:2] == [
        OfferRevoked("c1", "a1", "expired"),
        OfferMade("c1", "a1", "q", "chat", desk.t + 10),
    ]
    assert out[2] == OfferRevoked("c2", "a1", "expired")
    assert set(out[3:5]) == {
        OfferRevoked("c3", "a1", "agent_unavailable"),
        OfferRevoked("c1", "a1", "agent_unavailable"),
    }
    assert out[5] == AgentStateChanged("a1", "away", "missed_offers")
    view = desk.engine.agent_view("a1")
    assert view is not None and view.presence == "away" and view.offers == ()
    assert [w.contact_id for w in desk.engine.waiting("q")] == ["c1", "c2", "c3"]
    # Coming back resets the count.
    desk.do(AgentPresenceChanged(desk.t, "a1", "available"))
    assert desk.engine.agent_view("a1").missed_offers == 0  # type: ignore[union-attr]


def test_accepting_resets_the_missed_count_and_declining_does_not_count() -> None:
    desk = Desk(
        QueueConfig("q", offer_timeout_s=10),
        config=EngineConfig(missed_offers_before_away=2, default_chat_capacity=1),
    )
    desk.agent("a1")
    desk.arrive("c1")
    desk.tick(10)  # miss 1, re-offered to a1 (nobody else)
    assert desk.engine.agent_view("a1").missed_offers == 1  # type: ignore[union-attr]
    desk.do(OfferAccepted(desk.t, "c1", "a1"))
    assert desk.engine.agent_view("a1").missed_offers == 0  # type: ignore[union-attr]
    desk.do(ContactEnded(desk.t, "c1"))
    desk.arrive("c2")
    for _ in range(3):
        desk.do(OfferDeclined(desk.t, "c2", "a1"))
    view = desk.engine.agent_view("a1")
    assert view is not None and view.missed_offers == 0 and view.presence == "available"


def test_abandon_rescinds_the_offer_and_a_late_accept_is_refused() -> None:
    desk = Desk(QueueConfig("q"))
    desk.agent("a1")
    desk.arrive("c1")
    out = desk.do(ContactAbandoned(desk.t, "c1"))
    assert out == [OfferRevoked("c1", "a1", "abandoned")]
    assert desk.do(OfferAccepted(desk.t, "c1", "a1")) == [Refused("c1", "a1", "accept", "abandoned")]
    assert desk.engine.contact_view("c1") is None


def test_accept_of_someone_elses_offer_is_refused() -> None:
    desk = Desk(QueueConfig("q"))
    desk.agent("a1")
    desk.agent("a2", available=False)
    desk.arrive("c1")
    assert desk.do(OfferAccepted(desk.t, "c1", "a2")) == [Refused("c1", "a2", "accept", "offered_elsewhere")]
    desk.do(OfferAccepted(desk.t, "c1", "a1"))
    assert desk.do(OfferAccepted(desk.t, "c1", "a1")) == [Refused("c1", "a1", "accept", "already_assigned")]
    assert desk.do(OfferDeclined(desk.t, "c1", "a2")) == [Refused("c1", "a2", "decline", "taken")]


def test_going_away_withdraws_offers_to_the_next_agent() -> None:
    desk = Desk(QueueConfig("q"))
    desk.agent("a1")
    desk.wait(1)
    desk.agent("a2")
    desk.arrive("c1")
    out = desk.do(AgentPresenceChanged(desk.t, "a1", "away", "lunch"))
    assert out == [
        OfferRevoked("c1", "a1", "agent_unavailable"),
        AgentStateChanged("a1", "away", "lunch"),
        OfferMade("c1", "a2", "q", "chat", desk.t + 20),
    ]


def test_wrap_up_blocks_offers_until_its_timer() -> None:
    desk = Desk(QueueConfig("q", wrap_up_s=30))
    desk.agent("a1")
    desk.arrive("c1")
    desk.do(OfferAccepted(desk.t, "c1", "a1"))
    desk.wait(5)
    out = desk.do(ContactEnded(desk.t, "c1"))
    assert out == [
        ContactReleased("c1", "a1"),
        AgentStateChanged("a1", "wrap_up", "wrap_up", until=desk.t + 30),
    ]
    desk.wait(10)
    out = desk.arrive("c2")
    assert only(out, OfferMade) == []  # wrap-up blocks every channel
    assert only(desk.arrive("v1", channel="voice"), OfferMade) == []
    out = desk.tick(19)
    assert only(out, OfferMade) == []
    out = desk.tick(6)  # past the wrap-up's end (35 s after the start)
    assert out[0] == AgentStateChanged("a1", "available", "wrap_up_ended")
    # Offered at the wrap-up's end (the logical time), not at the tick.
    end = desk.t - 6 - 19 - 10 + 30
    assert [(o.contact_id, o.expires_at) for o in only(out, OfferMade)] == [
        ("c2", end + 20),
        ("v1", end + 20),
    ]


def test_wrap_up_can_end_early() -> None:
    desk = Desk(QueueConfig("q", wrap_up_s=30))
    desk.agent("a1")
    desk.arrive("c1")
    desk.do(OfferAccepted(desk.t, "c1", "a1"))
    desk.do(ContactEnded(desk.t, "c1"))
    desk.arrive("c2")
    desk.wait(3)
    out = desk.do(WrapUpEnded(desk.t, "a1"))
    assert out == [
        AgentStateChanged("a1", "available", "wrap_up_ended"),
        OfferMade("c2", "a1", "q", "chat", desk.t + 20),
    ]
    # The stale wrap-up timer does nothing later.
    assert only(desk.tick(19), AgentStateChanged) == []
    assert desk.engine.agent_view("a1").state == "available"  # type: ignore[union-attr]


def test_agent_state_is_busy_while_holding_a_contact() -> None:
    desk = Desk(QueueConfig("q"))
    desk.agent("a1")
    desk.arrive("c1")
    out = desk.do(OfferAccepted(desk.t, "c1", "a1"))
    assert out[-1] == AgentStateChanged("a1", "busy", "assigned")
    out = desk.do(ContactEnded(desk.t, "c1"))
    assert AgentStateChanged("a1", "available", "contact_ended") in out


def test_a_call_blocks_new_chats_but_chats_do_not_block_a_call() -> None:
    desk = Desk(QueueConfig("q"))
    desk.agent("a1")
    desk.arrive("chat1")
    desk.do(OfferAccepted(desk.t, "chat1", "a1"))
    assert offered(desk.arrive("call1", channel="voice")) == [("call1", "a1")]
    desk.do(OfferAccepted(desk.t, "call1", "a1"))
    assert offered(desk.arrive("chat2")) == []
    assert offered(desk.arrive("video1", channel="video")) == []  # one call at a time
    out = desk.do(ContactEnded(desk.t, "call1"))
    # Off the call: the older chat first, then the video call (chats never block one).
    assert offered(out) == [("chat2", "a1"), ("video1", "a1")]


def test_chat_while_on_call_when_configured() -> None:
    desk = Desk(QueueConfig("q"), config=EngineConfig(chat_while_on_call=True))
    desk.agent("a1")
    desk.arrive("call1", channel="voice")
    desk.do(OfferAccepted(desk.t, "call1", "a1"))
    assert offered(desk.arrive("chat1")) == [("chat1", "a1")]


def test_capacity_counts_outstanding_offers() -> None:
    desk = Desk(QueueConfig("q"), config=EngineConfig(default_chat_capacity=2))
    desk.agent("a1")
    assert offered(desk.arrive("c1")) == [("c1", "a1")]
    assert offered(desk.arrive("c2")) == [("c2", "a1")]
    assert offered(desk.arrive("c3")) == []
    view = desk.engine.agent_view("a1")
    assert view is not None and view.offers == ("c1", "c2")


def test_skills_and_language_decide_eligibility() -> None:
    desk = Desk(QueueConfig("q"))
    desk.agent("en", languages=("en",), skills={"tech": 2})
    desk.agent("fr", languages=("fr",), skills={"billing": 2})
    assert offered(desk.arrive("c1", language="fr")) == [("c1", "fr")]
    assert offered(desk.arrive("c2", skills=("tech",))) == [("c2", "en")]
    assert offered(desk.arrive("c3", skills=("tech",), language="fr")) == []


def test_restored_contacts_count_against_capacity() -> None:
    desk = Desk(QueueConfig("q"))
    desk.agent("a1", capacity={"chat": 1})
    out = desk.do(ContactRestored(desk.t, "old", "q", "a1", enqueued_at=desk.t - 60))
    assert only(out, Assigned)[0].via == "restore"
    assert offered(desk.arrive("c1")) == []
    assert offered(desk.do(ContactEnded(desk.t, "old"))) == [("c1", "a1")]


def test_removed_agent_puts_its_contacts_back_in_line() -> None:
    desk = Desk(QueueConfig("q"))
    desk.agent("a1")
    desk.agent("a2", available=False)
    desk.arrive("c1")
    desk.do(OfferAccepted(desk.t, "c1", "a1"))
    out = desk.do(AgentRemoved(desk.t, "a1"))
    assert ContactReleased("c1", "a1") in out
    assert ContactQueued("c1", "q", 1) in out
    assert desk.engine.agent_view("a1") is None
    assert offered(desk.do(AgentPresenceChanged(desk.t, "a2", "available"))) == [("c1", "a2")]


def test_events_stamped_in_the_past_apply_at_the_engine_time() -> None:
    desk = Desk(QueueConfig("q"))
    desk.agent("a1")
    desk.wait(50)
    desk.tick()
    out = desk.engine.handle(ContactArrived(desk.t - 40, "c1", "q"))
    assert only(out, OfferMade)[0].expires_at == desk.t + 20
