"""Each queue strategy picks the agent it promises, and freed agents serve the best head."""

from __future__ import annotations

from routing.events import (
    AgentPresenceChanged,
    Assigned,
    ContactEnded,
    ContactTaken,
    OfferAccepted,
    OfferMade,
    QueueConfig,
    QueueUpserted,
    Refused,
)
from tests.routing.desk import Desk, offered, only


def test_longest_idle_picks_the_agent_free_longest() -> None:
    desk = Desk(QueueConfig("q"))
    desk.agent("a1")
    desk.wait(10)
    desk.agent("a2")
    desk.wait(10)
    desk.agent("a0")
    assert offered(desk.arrive("c1")) == [("c1", "a1")]
    # An agent holding an offer goes behind every agent holding nothing, so a burst of
    # chats spreads over the team before anyone gets a second one.
    assert offered(desk.arrive("c2")) == [("c2", "a2")]
    assert offered(desk.arrive("c3")) == [("c3", "a0")]
    assert offered(desk.arrive("c4")) == [("c4", "a1")]


def test_longest_idle_counts_from_the_last_contact_end() -> None:
    desk = Desk(QueueConfig("q"), config=None)
    desk.agent("a1", capacity={"chat": 1})
    desk.agent("a2", capacity={"chat": 1})
    desk.arrive("c1")
    desk.do(OfferAccepted(desk.t, "c1", "a1"))
    desk.arrive("c2")
    desk.do(OfferAccepted(desk.t, "c2", "a2"))
    desk.wait(5)
    desk.do(ContactEnded(desk.t, "c2"))  # a2 free first
    desk.wait(5)
    desk.do(ContactEnded(desk.t, "c1"))
    desk.wait(5)
    assert offered(desk.arrive("c3")) == [("c3", "a2")]


def test_least_occupied_picks_fewest_contacts() -> None:
    desk = Desk(QueueConfig("q", strategy="least_occupied"))
    desk.agent("a1")
    desk.agent("a2")
    for cid in ("c1", "c2", "c3"):
        for contact_id, agent_id in offered(desk.arrive(cid)):
            desk.do(OfferAccepted(desk.t, contact_id, agent_id))
    view1, view2 = desk.engine.agent_view("a1"), desk.engine.agent_view("a2")
    assert view1 is not None and view2 is not None
    loads = sorted([len(view1.active["chat"]), len(view2.active["chat"])])
    assert loads == [1, 2]
    lighter = "a1" if len(view1.active["chat"]) == 1 else "a2"
    assert offered(desk.arrive("c4")) == [("c4", lighter)]


def test_round_robin_rotates_in_a_fixed_order() -> None:
    desk = Desk(QueueConfig("q", strategy="round_robin"))
    for agent_id in ("a2", "a0", "a1"):
        desk.agent(agent_id)
    picks = [offered(desk.arrive(f"c{i}"))[0][1] for i in range(5)]
    assert picks == ["a0", "a1", "a2", "a0", "a1"]


def test_round_robin_skips_agents_without_room_or_skills() -> None:
    desk = Desk(QueueConfig("q", strategy="round_robin"))
    desk.agent("a0", skills={"tech": 3})
    desk.agent("a1")
    desk.agent("a2", skills={"tech": 1})
    picks = [offered(desk.arrive(f"c{i}", skills=("tech",)))[0][1] for i in range(3)]
    assert picks == ["a0", "a2", "a0"]


def test_best_skill_picks_highest_summed_proficiency() -> None:
    desk = Desk(QueueConfig("q", strategy="best_skill"))
    desk.agent("a1", skills={"tech": 5, "billing": 5})
    desk.agent("a2", skills={"tech": 9, "billing": 2})
    desk.agent("a3", skills={"tech": 4, "billing": 8})
    assert offered(desk.arrive("c1", skills=("tech", "billing"))) == [("c1", "a3")]
    assert offered(desk.arrive("c2", skills=("tech",))) == [("c2", "a2")]


def test_best_skill_ties_go_to_the_longest_idle() -> None:
    desk = Desk(QueueConfig("q", strategy="best_skill"))
    desk.agent("a2", skills={"tech": 5})
    desk.wait(1)
    desk.agent("a1", skills={"tech": 5})
    assert offered(desk.arrive("c1", skills=("tech",))) == [("c1", "a2")]


def test_manual_queue_makes_no_offers_and_a_take_is_atomic() -> None:
    desk = Desk(QueueConfig("q", strategy="manual"))
    desk.agent("a1")
    desk.agent("a2")
    out = desk.arrive("c1")
    assert only(out, OfferMade) == []
    assert [w.contact_id for w in desk.engine.waiting("q")] == ["c1"]
    first = desk.do(ContactTaken(desk.t, "c1", "a1"))
    second = desk.do(ContactTaken(desk.t, "c1", "a2"))
    assert [a.agent_id for a in only(first, Assigned)] == ["a1"]
    assert only(first, Assigned)[0].via == "take"
    assert second == [Refused("c1", "a2", "take", "taken")]
    assert desk.engine.waiting("q") == []


def test_take_respects_capacity_and_presence() -> None:
    desk = Desk(QueueConfig("q", strategy="manual"))
    desk.agent("a1", capacity={"chat": 1})
    desk.agent("a2", available=False)
    desk.arrive("c1")
    desk.arrive("c2")
    desk.do(ContactTaken(desk.t, "c1", "a1"))
    assert desk.do(ContactTaken(desk.t, "c2", "a1")) == [Refused("c2", "a1", "take", "no_capacity")]
    assert desk.do(ContactTaken(desk.t, "c2", "a2")) == [Refused("c2", "a2", "take", "not_available")]
    assert desk.do(ContactTaken(desk.t, "nope", "a2")) == [Refused("nope", "a2", "take", "unknown_contact")]


def test_freed_agent_serves_the_best_head_across_its_queues() -> None:
    desk = Desk(QueueConfig("q1"), QueueConfig("q2"))
    desk.agent("a", capacity={"chat": 1})
    desk.arrive("busy", "q1")
    desk.do(OfferAccepted(desk.t, "busy", "a"))
    desk.wait(1)
    desk.arrive("old", "q2")
    desk.wait(1)
    desk.arrive("new", "q1")
    desk.wait(1)
    desk.arrive("vip", "q1", priority=1)
    out = desk.do(ContactEnded(desk.t, "busy"))
    assert offered(out) == [("vip", "a")]  # priority first
    desk.do(OfferAccepted(desk.t, "vip", "a"))
    assert offered(desk.do(ContactEnded(desk.t, "vip"))) == [("old", "a")]  # then age


def test_ageing_compares_effective_priority_across_queues() -> None:
    desk = Desk(QueueConfig("q1", ageing_s=10.0), QueueConfig("q2"))
    desk.agent("a", capacity={"chat": 1})
    desk.arrive("busy", "q1")
    desk.do(OfferAccepted(desk.t, "busy", "a"))
    desk.arrive("patient", "q1", priority=0)
    desk.wait(25)
    desk.arrive("urgent", "q2", priority=2)
    # patient has waited 25 s at one step per 10 s: effective priority 2.5 > 2.
    assert offered(desk.do(ContactEnded(desk.t, "busy"))) == [("patient", "a")]


def test_switching_a_queue_to_manual_and_back() -> None:
    desk = Desk(QueueConfig("q", strategy="manual"))
    desk.agent("a")
    desk.arrive("c1")
    assert desk.engine.contact_view("c1").state == "waiting"  # type: ignore[union-attr]
    out = desk.do(QueueUpserted(desk.t, QueueConfig("q", strategy="round_robin")))
    assert offered(out) == [("c1", "a")]


def test_agent_becoming_available_picks_up_waiting_work() -> None:
    desk = Desk(QueueConfig("q"))
    desk.agent("a", available=False)
    desk.arrive("c1")
    desk.arrive("c2", priority=1)
    out = desk.do(AgentPresenceChanged(desk.t, "a", "available"))
    assert offered(out) == [("c2", "a"), ("c1", "a")]
