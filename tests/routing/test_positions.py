"""Queue positions and estimated waits: on arrival, then re-published by tick only."""

from __future__ import annotations

import json

from routing.engine import RoutingEngine
from routing.estimate import round_eta
from routing.events import (
    ContactAbandoned,
    ContactEnded,
    ContactQueued,
    ContactRestored,
    OfferAccepted,
    OfferMade,
    QueueConfig,
    QueuePosition,
)
from tests.routing.desk import Desk, only


def test_arrival_reports_position_and_ticks_publish_changes_only() -> None:
    desk = Desk(QueueConfig("q"), QueueConfig("other"))
    out = [desk.arrive(f"c{i}")[0] for i in range(4)]
    assert out == [ContactQueued(f"c{i}", "q", i + 1) for i in range(4)]
    # Nothing is known about waits yet: positions only.
    assert desk.tick(1) == [QueuePosition(f"c{i}", "q", i + 1, None) for i in range(4)]
    assert desk.tick(1) == []  # nothing changed
    desk.do(ContactAbandoned(desk.t, "c1"))
    # Only the contacts behind the one that left move; nothing is sent per event.
    assert desk.tick(1) == [
        QueuePosition("c2", "q", 2, None),
        QueuePosition("c3", "q", 3, None),
    ]
    desk.arrive("o1", "other")
    assert desk.tick(1) == [QueuePosition("o1", "other", 1, None)]


def test_priority_arrival_moves_everyone_back() -> None:
    desk = Desk(QueueConfig("q"))
    desk.arrive("c0")
    desk.arrive("c1")
    desk.tick()
    assert desk.arrive("vip", priority=5) == [ContactQueued("vip", "q", 1)]
    assert desk.tick() == [
        QueuePosition("vip", "q", 1, None),
        QueuePosition("c0", "q", 2, None),
        QueuePosition("c1", "q", 3, None),
    ]


def test_eta_falls_back_to_observed_pace() -> None:
    desk = Desk(QueueConfig("q"))
    desk.agent("a", capacity={"chat": 1})
    desk.do(ContactRestored(desk.t, "busy", "q", "a"))
    desk.arrive("c1")
    desk.arrive("c2")
    desk.wait(40)
    desk.do(ContactEnded(desk.t, "busy"))
    desk.do(OfferAccepted(desk.t, "c1", "a"))  # waited 40 s from position 1
    out = desk.tick()
    # 40 s per place, so c2 (now first) is told 40 s.
    assert out == [QueuePosition("c2", "q", 1, 40.0)]


def test_eta_uses_erlang_c_pace_with_enough_data() -> None:
    desk = Desk(QueueConfig("q"))
    for i in range(2):
        desk.agent(f"a{i}", capacity={"chat": 1})
    # Twelve contacts handled in 60 s each, one pair every 2 minutes: AHT 60 s, offered
    # load ~1.4 Erlangs on 2 servers (stable) -> 60 / 2 = 30 s per place.
    for n in range(6):
        for i in range(2):
            cid = f"h{n}-{i}"
            desk.arrive(cid)
            desk.do(OfferAccepted(desk.t, cid, f"a{i}"))
        desk.wait(60)
        for i in range(2):
            desk.do(ContactEnded(desk.t, f"h{n}-{i}"))
        desk.wait(60)
    for i in range(2):
        desk.arrive(f"busy{i}")
        desk.do(OfferAccepted(desk.t, f"busy{i}", f"a{i}"))
    for p in range(1, 4):
        desk.arrive(f"w{p}")
    stats = desk.engine.queue_stats("q")
    assert stats is not None and stats.aht_s == 60.0 and stats.handled_in_window == 12
    assert stats.p_wait is not None and 0 < stats.p_wait < 1 and stats.asa_s is not None
    out = only(desk.tick(), QueuePosition)
    assert [(d.contact_id, d.position, d.eta_s) for d in out] == [
        ("w1", 1, 30.0),
        ("w2", 2, 60.0),
        ("w3", 3, 90.0),
    ]
    assert [w.eta_s for w in desk.engine.waiting("q")] == [30.0, 60.0, 90.0]


def test_eta_rounding_steps() -> None:
    assert round_eta(None) is None
    assert round_eta(0.0) == 0.0
    assert round_eta(1.0) == 5.0
    assert round_eta(62.0) == 60.0
    assert round_eta(130.0) == 120.0
    assert round_eta(1000.0) == 1020.0


def test_offered_contacts_keep_their_place_in_line() -> None:
    desk = Desk(QueueConfig("q"))
    desk.agent("a")
    desk.arrive("c1")
    waiting = desk.engine.waiting("q")
    assert [(w.contact_id, w.position, w.offered_to) for w in waiting] == [("c1", 1, "a")]
    assert only(desk.decisions, OfferMade)


def test_snapshot_keeps_what_was_published() -> None:
    desk = Desk(QueueConfig("q"))
    desk.arrive("c1")
    desk.arrive("c2")
    desk.tick(1)
    restored = RoutingEngine.restore(json.loads(json.dumps(desk.engine.snapshot())))
    assert restored.tick(desk.t + 1) == []
    assert desk.tick(1) == []
