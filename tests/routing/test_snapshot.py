"""Snapshots: JSON-able, complete, and a standby carries on exactly."""

from __future__ import annotations

import json

from routing.engine import RoutingEngine
from routing.events import (
    ContactEnded,
    EngineConfig,
    OfferAccepted,
    OfferDeclined,
    QueueConfig,
    Tick,
)
from tests.routing.desk import Desk


def _busy_desk() -> Desk:
    desk = Desk(
        QueueConfig("q", wrap_up_s=10, max_wait_s=120, overflow_to="b", ageing_s=30),
        QueueConfig("b", strategy="round_robin"),
        config=EngineConfig(missed_offers_before_away=2, default_chat_capacity=2),
    )
    desk.agent("a1", skills={"tech": 3})
    desk.agent("a2", languages=("fr",))
    for i in range(6):
        desk.arrive(f"c{i}", priority=i % 2, skills=("tech",) if i % 3 == 0 else ())
        desk.wait(3)
    desk.do(OfferAccepted(desk.t, "c0", "a1"))
    desk.do(OfferDeclined(desk.t, "c1", "a2"))
    desk.tick(5)
    return desk


def test_snapshot_is_json_and_restores_to_the_same_snapshot() -> None:
    desk = _busy_desk()
    snapshot = json.loads(json.dumps(desk.engine.snapshot()))
    restored = RoutingEngine.restore(snapshot)  # config taken from the snapshot
    assert restored.config == desk.config
    assert json.loads(json.dumps(restored.snapshot())) == snapshot
    assert restored.waiting("q") == desk.engine.waiting("q")
    assert restored.agent_view("a1") == desk.engine.agent_view("a1")
    assert restored.queue_stats("q") == desk.engine.queue_stats("q")


def test_standby_makes_the_same_decisions() -> None:
    desk = _busy_desk()
    standby = RoutingEngine.restore(json.loads(json.dumps(desk.engine.snapshot())), desk.config)
    rest = [
        ContactEnded(desk.t + 1, "c0"),
        Tick(desk.t + 30),
        Tick(desk.t + 300),
    ]
    assert [standby.handle(e) for e in rest] == [desk.do(e) for e in rest]


def test_waiting_can_return_only_the_head_of_the_line() -> None:
    desk = Desk(QueueConfig("q"))
    for i in range(5):
        desk.arrive(f"c{i}")
    assert [w.contact_id for w in desk.engine.waiting("q", limit=2)] == ["c0", "c1"]
    assert desk.engine.waiting("nope") == []
