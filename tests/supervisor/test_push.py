"""The live push without a server: encode once, the agent-table policy, midnight, a
slow reader keeps only the newest snapshot, and today's replay from database rows."""

from __future__ import annotations

import asyncio
from typing import Any

import msgspec

from contact_center import protocol as p
from contact_center.gateway.supervisor_session import SupervisorConnection
from contact_center.supervisor.push import DAY_S, DashboardPush, midnight_utc
from contact_center.supervisor.rebuild import AgentInfo, replay_events
from dashboard import events as dev
from dashboard.aggregator import KpiAggregator

T0 = 1_700_000_000.0 - (1_700_000_000.0 % DAY_S) + 8 * 3600  # 08:00 UTC
_decoder = msgspec.json.Decoder(p.ServerEvent)


class Sink:
    def __init__(self) -> None:
        self.got: list[tuple[bytes, str]] = []

    def offer_snapshot(self, payload: bytes, text: str) -> None:
        self.got.append((payload, text))


def floor(agents: int) -> KpiAggregator:
    agg = KpiAggregator(midnight_utc(T0))
    for i in range(agents):
        agg.ingest(dev.AgentStateChanged(T0, f"a{i}", "available", queues=("q",)))
    agg.ingest(dev.ContactQueued(T0 + 1, "c1", "q", "chat", "decision", enqueued_at=T0 + 1))
    agg.ingest(dev.ContactAnswered(T0 + 3, "c1", "a0"))
    return agg


def test_one_encoding_for_every_supervisor() -> None:
    push = DashboardPush(floor(3), clock=lambda: T0 + 10)
    sinks = [Sink() for _ in range(5)]
    for sink in sinks:
        push.subscribe(sink)
    assert push.push_now() == 5
    texts = [sink.got[-1][1] for sink in sinks]
    assert all(text is texts[0] for text in texts), "one encoded text, shared"
    event = _decoder.decode(texts[0])
    assert isinstance(event, p.DashboardSnapshotEvent)
    assert event.push == 1 and event.agent_table
    snapshot = event.snapshot
    assert snapshot["totals"]["answered"]["value"] == 1
    assert snapshot["totals"]["asa_s"]["value"] == 2.0
    assert snapshot["totals"]["asa_s"]["formula"] == "" and snapshot["legend"] == {}
    assert push.stats.deliveries == 5 and push.stats.last_bytes == len(sinks[0].got[-1][0])


def test_a_big_floor_gets_the_agent_table_every_few_pushes() -> None:
    push = DashboardPush(floor(30), clock=lambda: T0 + 10, agent_table_max=20, agent_table_every=3)
    sink = Sink()
    push.subscribe(sink)  # a new subscriber always gets the table at once
    first = _decoder.decode(sink.got[0][1])
    assert isinstance(first, p.DashboardSnapshotEvent) and first.agent_table
    assert len(first.snapshot["by_agent"]) == 30
    assert push.agent_table_every() == 3
    seen = []
    for _ in range(6):
        push.push_now()
        event = _decoder.decode(sink.got[-1][1])
        assert isinstance(event, p.DashboardSnapshotEvent)
        seen.append(event.agent_table)
        assert len(event.snapshot["agents"]) == 30, "live agent states are in every push"
        assert bool(event.snapshot["by_agent"]) == event.agent_table
    assert seen == [True, False, False, True, False, False]


def test_midnight_starts_a_new_day_before_counting() -> None:
    agg = floor(1)
    push = DashboardPush(agg, clock=lambda: T0 + 10)
    tomorrow = midnight_utc(T0) + DAY_S
    push.ingest(dev.ContactQueued(tomorrow + 5, "c2", "q", "chat", "awareness", enqueued_at=tomorrow + 5))
    snapshot = agg.snapshot(tomorrow + 6)
    assert snapshot["since"] == tomorrow
    assert snapshot["totals"]["queued"]["value"] == 1, "yesterday's contact is not today's"
    assert snapshot["totals"]["answered"]["value"] == 0


def test_a_pushed_figure_moves_before_the_period_is_over() -> None:
    async def scenario() -> list[int]:
        push = DashboardPush(floor(1), period_s=30.0)
        sink = Sink()
        push.start()
        push.subscribe(sink)
        await asyncio.sleep(0)  # first periodic push (nothing pushed yet)
        for _ in range(200):
            if push.stats.pushes:
                break
            await asyncio.sleep(0.01)
        push.min_gap_s = lambda: 0.0  # type: ignore[method-assign]
        push.ingest(dev.ContactQueued(T0 + 20, "c9", "q", "chat", "purchase", enqueued_at=T0 + 20))
        for _ in range(500):
            if push.stats.pushes >= 2:
                break
            await asyncio.sleep(0.01)
        await push.stop()
        return [_decoder.decode(text).push for _, text in sink.got]  # type: ignore[union-attr]

    pushes = asyncio.run(scenario())
    assert pushes[-1] == 2, "an event is pushed without waiting for the 30 s period"


def test_nothing_is_built_without_subscribers() -> None:
    async def scenario() -> int:
        push = DashboardPush(floor(1), period_s=0.01)
        push.start()
        push.ingest(dev.ContactQueued(T0 + 20, "c9", "q", "chat", "purchase", enqueued_at=T0 + 20))
        await asyncio.sleep(0.2)
        await push.stop()
        return push.stats.pushes

    assert asyncio.run(scenario()) == 0


class SlowSocket:
    """Stands in for a WebSocket whose client reads slowly: each send waits for a go."""

    application_state = None

    def __init__(self) -> None:
        self.sent: list[str] = []
        self.go = asyncio.Event()

    async def send_text(self, text: str) -> None:
        await self.go.wait()
        self.go.clear()
        self.sent.append(text)

    async def close(self, code: int = 1000) -> None:
        pass


class NoHub:
    def subscribe(self, *args: Any) -> None:
        pass

    def unsubscribe(self, *args: Any) -> None:
        pass


def test_a_slow_supervisor_gets_the_newest_snapshot_not_a_backlog() -> None:
    async def scenario() -> tuple[list[str], int]:
        socket = SlowSocket()
        conn = SupervisorConnection(socket, NoHub(), 10)  # type: ignore[arg-type]
        conn.start()
        conn.offer_snapshot(b"", "s1")
        await asyncio.sleep(0.01)  # the writer is now stuck sending s1
        for name in ("s2", "s3", "s4"):
            conn.offer_snapshot(b"", name)
        conn.send_raw(b'{"type":"ack","id":"x"}')
        for _ in range(3):
            socket.go.set()
            await asyncio.sleep(0.01)
        conn.close()
        socket.go.set()
        await conn.drain()
        return socket.sent, conn.snapshots_replaced

    sent, replaced = asyncio.run(scenario())
    assert sent == ["s1", '{"type":"ack","id":"x"}', "s4"], "acks first, then only the newest dashboard"
    assert replaced == 2


def test_replay_turns_rows_back_into_events_in_time_order() -> None:
    rows = [
        {
            "id": "c1",
            "queue_id": "q",
            "channel": "chat",
            "stage": "decision",
            "status": "ended",
            "enqueued_at": T0 + 1,
            "answered_at": T0 + 3,
            "ended_at": T0 + 30,
            "abandoned_at": None,
            "wrap_up_ended_at": T0 + 40,
            "agent_id": "a0",
            "csat": 5,
            "disposition": "resolved",
        },
        {
            "id": "c2",
            "queue_id": "q",
            "channel": "voice",
            "stage": "awareness",
            "status": "abandoned",
            "enqueued_at": T0 + 2,
            "answered_at": None,
            "ended_at": T0 + 4,
            "abandoned_at": T0 + 4,
            "wrap_up_ended_at": None,
            "agent_id": None,
            "csat": None,
            "disposition": "",
        },
    ]
    events = replay_events(
        rows,
        first_agent_message={"c1": T0 + 8},
        rated={"c1": T0 + 45},
        states=[(T0 - 100, "a0", "available", "")],
        targets={"q": 10.0},
        agents={"a0": AgentInfo(("q",), 3)},
    )
    assert [type(e).__name__ for e in events] == [
        "AgentStateChanged",
        "ContactQueued",
        "ContactQueued",
        "ContactAnswered",
        "AgentLoadChanged",
        "ContactAbandoned",
        "MessageSent",
        "ContactEnded",
        "AgentLoadChanged",
        "WrapUpEnded",
        "CsatRated",
    ]
    assert [e.at for e in events] == sorted(e.at for e in events)
    loads = [e for e in events if isinstance(e, dev.AgentLoadChanged)]
    assert [(e.active, e.slots) for e in loads] == [(1, 3), (0, 3)]
    agg = KpiAggregator(midnight_utc(T0))
    agg.ingest_many(events)
    totals = agg.snapshot(T0 + 60)["totals"]
    assert totals["asa_s"]["value"] == 2.0
    assert totals["short_abandons"]["value"] == 1
    assert totals["aht_s"]["value"] == 37.0  # talk 27 + wrap-up 10
    assert totals["first_response_median_s"]["value"] == 5.0
    assert totals["csat"]["value"] == 1.0


def test_replay_brings_offers_back_with_the_decline_reason() -> None:
    """The offers ledger: c1 declined with a reason, re-offered, expired, offered a
    third time and accepted; c2's offer ended when the visitor left (no answer)."""
    contact = {
        "queue_id": "q",
        "channel": "chat",
        "stage": "decision",
        "status": "queued",
        "enqueued_at": T0,
        "answered_at": None,
        "ended_at": None,
        "abandoned_at": None,
        "wrap_up_ended_at": None,
        "agent_id": None,
        "csat": None,
        "disposition": "",
    }
    rows = [{**contact, "id": "c1"}, {**contact, "id": "c2"}]

    def offer(cid: str, at: float, answered: float | None, outcome: str | None, reason: str = "") -> dict:
        return {
            "contact_id": cid,
            "agent_id": "a0",
            "offered_at": at,
            "answered_at": answered,
            "outcome": outcome,
            "reason": reason,
        }

    offers = [
        offer("c1", T0 + 1, T0 + 2, "declined", "on the phone"),
        offer("c1", T0 + 2, T0 + 22, "expired"),
        offer("c1", T0 + 22, T0 + 25, "accepted"),
        offer("c2", T0 + 30, T0 + 31, "contact_left"),
        offer("c2", T0 + 40, None, None),  # still open at the restart
    ]
    events = replay_events(
        rows,
        first_agent_message={},
        rated={},
        states=[(T0 - 100, "a0", "available", "")],
        targets={"q": 10.0},
        agents={"a0": AgentInfo(("q",), 3)},
        offers=offers,
    )
    made = [e for e in events if isinstance(e, dev.OfferMade)]
    answered = [e for e in events if isinstance(e, dev.OfferAnswered)]
    assert len(made) == 5
    assert [(e.outcome, e.reason) for e in answered] == [
        ("declined", "on the phone"),
        ("expired", ""),
        ("accepted", ""),
    ]
    assert [e.at for e in events] == sorted(e.at for e in events)
    agg = KpiAggregator(midnight_utc(T0))
    agg.ingest_many(events)
    snapshot = agg.snapshot(T0 + 60)
    row = snapshot["by_agent"]["a0"]
    assert (
        row["offers_accepted"]["value"],
        row["offers_declined"]["value"],
        row["offers_expired"]["value"],
    ) == (
        1,
        1,
        1,
    )
    assert row["avg_acceptance_s"]["value"] == 3.0
    assert snapshot["agents"]["a0"]["last_decline_reason"] == "on the phone"
    assert snapshot["agents"]["a0"]["missed_offers_in_a_row"] == 0
