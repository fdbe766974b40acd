"""Invariants of the routing engine over random event sequences (hypothesis).

The referee (tests/routing/model.py) checks, after every event: no agent over capacity
on any channel counting offers, at most one call per agent, no contact offered to two
agents at once or assigned twice, only a live offer becomes an assignment (an expired
or rescinded one never does), the engine's views agree with its decisions, and no
contact waits un-offered while an eligible agent has room.  The tests below add
replay determinism, snapshot/restore, tick-frequency independence, FIFO within a
priority, and no starvation under priority ageing.
"""

from __future__ import annotations

import json
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from routing.engine import RoutingEngine
from routing.events import (
    AgentPresenceChanged,
    AgentUpserted,
    Assigned,
    ContactArrived,
    ContactEnded,
    Decision,
    EngineConfig,
    Event,
    OfferAccepted,
    OfferMade,
    QueueConfig,
    QueuePosition,
    QueueUpserted,
    Tick,
    event_from_dict,
    event_to_dict,
)
from tests.routing.generate import T0, random_run
from tests.routing.model import Referee

RUNS = settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


def replay(log: list[Event], config: EngineConfig) -> list[list[Decision]]:
    engine = RoutingEngine(config)
    return [engine.handle(event) for event in log]


def flat(batches: list[list[Decision]]) -> list[Decision]:
    return [d for batch in batches for d in batch]


@RUNS
@given(st.data())
def test_invariants_hold_on_random_runs(data: Any) -> None:
    # Every check happens inside the referee as the run goes.
    random_run(data)


@RUNS
@given(st.data())
def test_replay_and_snapshot_restore_give_identical_decisions(data: Any) -> None:
    referee = random_run(data)
    config, log = referee.config, referee.log
    # The log survives its own codec.
    log = [event_from_dict(json.loads(json.dumps(event_to_dict(e)))) for e in log]
    full = replay(log, config)
    assert flat(full) == referee.decisions
    for cut in sorted(set(data.draw(st.lists(st.integers(0, len(log)), min_size=1, max_size=3)))):
        first = RoutingEngine(config)
        for event in log[:cut]:
            first.handle(event)
        snapshot = json.loads(json.dumps(first.snapshot()))
        standby = RoutingEngine.restore(snapshot, config)
        rest = [standby.handle(event) for event in log[cut:]]
        assert rest == full[cut:], f"diverged after restoring at event {cut}"
        # A snapshot of the restored engine is the snapshot it came from.
        again = RoutingEngine.restore(snapshot, config)
        assert json.loads(json.dumps(again.snapshot())) == snapshot


@RUNS
@given(st.data())
def test_decisions_do_not_depend_on_tick_frequency(data: Any) -> None:
    referee = random_run(data)
    config = referee.config
    events = [e for e in referee.log if not isinstance(e, Tick)]
    end = referee.log[-1].at
    period = data.draw(st.sampled_from([0.3, 1.0, 4.0]))

    def with_ticks(every: float | None) -> list[Event]:
        out: list[Event] = []
        t = events[0].at
        for event in events:
            while every is not None and t + every < event.at:
                t += every
                out.append(Tick(t))
            out.append(event)
        out.append(Tick(end))
        return out

    def routing_decisions(log: list[Event]) -> list[Decision]:
        return [d for d in flat(replay(log, config)) if not isinstance(d, QueuePosition)]

    baseline = routing_decisions(with_ticks(None))
    assert routing_decisions(with_ticks(period)) == baseline
    assert routing_decisions(referee.log) == baseline


def _fifo_run(data: Any, ageing: float | None) -> Referee:
    """One queue, interchangeable contacts and agents, every offer accepted at once."""
    config = EngineConfig(default_chat_capacity=data.draw(st.integers(1, 2)))
    referee = Referee(RoutingEngine(config), config)
    strategy = data.draw(st.sampled_from(["longest_idle", "least_occupied", "round_robin", "best_skill"]))
    t = T0
    referee.feed(QueueUpserted(t, QueueConfig("q", strategy=strategy, ageing_s=ageing)))
    for i in range(data.draw(st.integers(1, 3))):
        referee.feed(AgentUpserted(t, f"a{i}"))
        referee.feed(AgentPresenceChanged(t, f"a{i}", "available"))
    n = 0
    for _ in range(data.draw(st.integers(5, 60))):
        t += data.draw(st.sampled_from([0.0, 1.0, 2.0, 5.0]))
        if data.draw(st.booleans()) or not referee.assigned:
            priority = data.draw(st.integers(0, 1))
            referee.feed(ContactArrived(t, f"c{n}", "q", priority=priority))
            n += 1
        else:
            referee.feed(ContactEnded(t, data.draw(st.sampled_from(sorted(referee.assigned)))))
        for cid, aid in sorted(referee.offers.items()):
            referee.feed(OfferAccepted(t, cid, aid))
    return referee


@RUNS
@given(st.data())
def test_fifo_within_a_priority(data: Any) -> None:
    referee = _fifo_run(data, ageing=None)
    arrival = {cid: (c.at, int(cid[1:])) for cid, c in referee.contacts.items()}
    for priority in (0, 1):
        offered = [cid for cid, _ in referee.first_offers if referee.contacts[cid].priority == priority]
        assert offered == sorted(offered, key=arrival.__getitem__)
        assigned = [
            a.contact_id for a in referee.assignments if referee.contacts[a.contact_id].priority == priority
        ]
        assert assigned == sorted(assigned, key=arrival.__getitem__)


@RUNS
@given(st.data())
def test_higher_priority_first_without_ageing(data: Any) -> None:
    referee = _fifo_run(data, ageing=None)
    # Whenever a priority-0 contact got its first offer, every priority-1 contact that
    # had arrived before that event had already been offered (or was offered first in
    # the same event).
    order = {cid: i for i, (cid, _) in enumerate(referee.first_offers)}
    for cid, step in referee.first_offer_step.items():
        if referee.contacts[cid].priority != 0:
            continue
        for other in referee.contacts:
            if referee.contacts[other].priority == 1 and referee.arrival_step[other] < step:
                assert other in order and order[other] < order[cid], (cid, other)


@settings(max_examples=60, deadline=None)
@given(
    ageing=st.sampled_from([5.0, 20.0, 60.0]),
    handle=st.sampled_from([3.0, 10.0, 30.0]),
    high=st.integers(1, 4),
)
def test_ageing_serves_everyone_while_capacity_exists(ageing: float, handle: float, high: int) -> None:
    """One agent, arrivals of higher priority at twice its service rate, forever: with
    ageing the priority-0 contact is still served, within a bound that follows from
    the key (only contacts with a smaller ``enqueued_at - priority * ageing`` go first)."""
    served_at = _starvation_run(ageing, handle, high, horizon=30 * ageing * high + 60 * handle)
    assert served_at is not None
    # Contacts ahead of it: those arriving before ``high * ageing`` after it, at two per
    # ``handle``; each takes ``handle`` to serve.
    assert served_at - T0 <= (2 * high * ageing / handle + 3) * handle + high * ageing


def test_without_ageing_low_priority_starves() -> None:
    assert _starvation_run(None, 10.0, 1, horizon=3000.0) is None


def _starvation_run(ageing: float | None, handle: float, high: int, horizon: float) -> float | None:
    engine = RoutingEngine(EngineConfig(default_chat_capacity=1))
    engine.handle(QueueUpserted(T0, QueueConfig("q", ageing_s=ageing, offer_timeout_s=1e6)))
    engine.handle(AgentUpserted(T0, "a"))
    engine.handle(AgentPresenceChanged(T0, "a", "available"))
    engine.handle(ContactArrived(T0, "busy", "q", priority=high))
    engine.handle(OfferAccepted(T0, "busy", "a"))
    engine.handle(ContactArrived(T0, "low", "q", priority=0))
    current = "busy"
    t, n = T0, 0
    next_end = T0 + handle
    next_arrival = T0
    while t < T0 + horizon:
        if next_arrival <= next_end:
            t = next_arrival
            out = engine.handle(ContactArrived(t, f"h{n}", "q", priority=high))
            n += 1
            next_arrival += handle / 2
        else:
            t = next_end
            out = engine.handle(ContactEnded(t, current))
            next_end = t + handle
        for decision in out:
            if isinstance(decision, OfferMade):
                accepted = engine.handle(OfferAccepted(t, decision.contact_id, "a"))
                assert isinstance(accepted[0], Assigned)
                current = decision.contact_id
                if current == "low":
                    return t
    return None
