"""Hypothesis: for random event sequences, the incremental aggregator's figures equal
a brute-force recomputation that reads the whole event list at once.

The brute force groups events by contact and by agent and recomputes each figure
from scratch, in a different shape from the aggregator (no running sums, no
lifecycle tracker), so a bookkeeping slip in either shows up as a mismatch.
"""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Literal

from hypothesis import given, settings
from hypothesis import strategies as st

from dashboard.aggregator import KpiAggregator
from dashboard.events import (
    STAGES,
    AgentLoadChanged,
    AgentStateChanged,
    CallQualitySampled,
    ContactAbandoned,
    ContactAnswered,
    ContactEnded,
    ContactQueued,
    CsatRated,
    DomainEvent,
    HoldChanged,
    MessageSent,
    OfferAnswered,
    OfferMade,
    WrapUpEnded,
)
from dashboard.formulas import Kpi

AGENTS = ("a1", "a2", "a3")
NOW = 1000.0

# Times on a half-second grid make waits of exactly T or exactly 5 s common.
times = st.integers(0, 400).map(lambda n: n / 2)
gaps = st.integers(0, 60).map(lambda n: n / 2)


@st.composite
def contact_script(draw: st.DrawFn, index: int) -> list[tuple[float, DomainEvent]]:
    cid = f"c{index}"
    queue = draw(st.sampled_from(["q1", "q2"]))
    channel = draw(st.sampled_from(["chat", "voice"]))
    stage = draw(st.sampled_from([*STAGES, "bogus"]))
    target = draw(st.sampled_from([10.0, 20.0]))
    at = draw(times)
    out: list[tuple[float, DomainEvent]] = [
        (at, ContactQueued(at, cid, queue, channel, stage, enqueued_at=at, sl_target_s=target))
    ]
    fate = draw(st.sampled_from(["answer", "answer", "abandon", "wait"]))
    agent = draw(st.sampled_from(AGENTS))
    outcomes: list[Literal["declined", "expired"]] = draw(
        st.lists(st.sampled_from(["declined", "expired"]), max_size=2)
    )
    for outcome in outcomes:
        offered = at + draw(gaps)
        at = offered + draw(gaps)
        out.append((offered, OfferMade(offered, cid, agent)))
        out.append((at, OfferAnswered(at, cid, agent, outcome, offered_at=offered)))
    if fate == "wait":
        return out
    at += draw(gaps)
    if fate == "abandon":
        out.append((at, ContactAbandoned(at, cid)))
        rating = draw(st.none() | st.integers(0, 6))
        if rating is not None:
            out.append((at + 1, CsatRated(at + 1, cid, rating)))
        return out
    if draw(st.booleans()):
        offered = at - draw(gaps)
        out.append((at, OfferAnswered(at, cid, agent, "accepted", offered_at=offered)))
    out.append((at, ContactAnswered(at, cid, agent)))
    for step in draw(st.lists(st.sampled_from(["hold", "resume", "msg", "vmsg", "call"]))):
        at += draw(gaps)
        if step == "hold":
            out.append((at, HoldChanged(at, cid, True)))
        elif step == "resume":
            out.append((at, HoldChanged(at, cid, False)))
        elif step == "msg":
            out.append((at, MessageSent(at, cid, "agent", agent)))
        elif step == "vmsg":
            out.append((at, MessageSent(at, cid, "visitor")))
        else:
            mos = draw(st.sampled_from([4.3, 3.9, 3.1, 2.5]))
            warning = draw(st.sampled_from(["", "", "high_rtt", "low_mos"]))
            out.append((at, CallQualitySampled(at, f"k{index}", cid, mos, warning)))
    if draw(st.booleans()):
        return out  # still talking
    at += draw(gaps)
    out.append((at, ContactEnded(at, cid, agent)))
    if draw(st.booleans()):
        wrap_at = at + draw(gaps)
        out.append((wrap_at, WrapUpEnded(wrap_at, agent, cid)))
    rating = draw(st.none() | st.integers(0, 6))
    if rating is not None:
        out.append((at + 2, CsatRated(at + 2, cid, rating)))
        if draw(st.booleans()):
            out.append((at + 3, CsatRated(at + 3, cid, 5)))  # ignored: second rating
    return out


agent_event = st.builds(
    lambda at, agent, kind, state, active, slots: (
        AgentStateChanged(at, agent, state) if kind == "state" else AgentLoadChanged(at, agent, active, slots)
    ),
    times,
    st.sampled_from(AGENTS),
    st.sampled_from(["state", "load"]),
    st.sampled_from(["available", "busy", "wrap_up", "away", "offline"]),
    st.integers(0, 3),
    st.integers(1, 3),
)


@st.composite
def event_lists(draw: st.DrawFn) -> list[DomainEvent]:
    n = draw(st.integers(0, 8))
    keyed: list[tuple[float, int, int, DomainEvent]] = []
    for i in range(n):
        for j, (at, ev) in enumerate(draw(contact_script(i))):
            keyed.append((at, i, j, ev))
    for j, ev in enumerate(draw(st.lists(agent_event, max_size=12))):
        keyed.append((ev.at, -1, j, ev))
    keyed.sort(key=lambda k: (k[0], k[1], k[2]))
    return [k[3] for k in keyed]


# ----------------------------------------------------------------- brute force


@dataclass
class Figures:
    queued: int = 0
    answered: int = 0
    wait: float = 0.0
    within: int = 0
    abandoned: int = 0
    short: int = 0
    handled: int = 0
    talk: float = 0.0
    hold: float = 0.0
    wrap: float = 0.0
    responses: list[float] = field(default_factory=list)
    offers: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    acceptance: float = 0.0
    ratings: int = 0
    good: int = 0
    mos: list[float] = field(default_factory=list)
    onsets: int = 0
    waiting: list[float] = field(default_factory=list)


def brute(events: list[DomainEvent], keep: object = None) -> Figures:
    """Recompute from the whole list; ``keep`` filters contacts by a dimension value."""
    by_contact: dict[str, list[DomainEvent]] = defaultdict(list)
    for ev in events:
        cid = getattr(ev, "contact_id", None)
        if isinstance(cid, str):
            by_contact[cid].append(ev)
    fig = Figures()
    for evs in by_contact.values():
        q = evs[0]
        assert isinstance(q, ContactQueued)
        stage = q.stage if q.stage in STAGES else "unknown"
        if keep is not None and keep not in (q.queue_id, q.channel, stage):
            continue
        fig.queued += 1
        answered = next((e for e in evs if isinstance(e, ContactAnswered)), None)
        abandoned = next((e for e in evs if isinstance(e, ContactAbandoned)), None)
        ended = next((e for e in evs if isinstance(e, ContactEnded)), None)
        for e in evs:
            if isinstance(e, OfferAnswered):
                fig.offers[e.outcome] += 1
                if e.outcome == "accepted":
                    fig.acceptance += e.at - e.offered_at
        ratings = [e.rating for e in evs if isinstance(e, CsatRated) and 1 <= e.rating <= 5]
        if ratings:
            fig.ratings += 1
            fig.good += ratings[0] >= 4
        if abandoned is not None:
            fig.abandoned += 1
            fig.short += abandoned.at - q.enqueued_at <= 5
        if answered is None:
            if abandoned is None:
                fig.waiting.append(q.enqueued_at)
            continue
        wait = answered.at - q.enqueued_at
        fig.answered += 1
        fig.wait += wait
        fig.within += wait <= q.sl_target_s
        end = ended.at if ended is not None else None
        msgs = [e.at for e in evs if isinstance(e, MessageSent) and e.sender == "agent"]
        if msgs:
            fig.responses.append(msgs[0] - answered.at)
        last_warning: dict[str, str] = {}
        for e in evs:
            if isinstance(e, CallQualitySampled):
                fig.mos.append(e.mos)
                fig.onsets += bool(e.warning) and e.warning != last_warning.get(e.call_id, "")
                last_warning[e.call_id] = e.warning
        if end is None:
            continue
        hold, since = 0.0, None
        for e in evs:
            if isinstance(e, HoldChanged):
                if e.on_hold and since is None:
                    since = e.at
                elif not e.on_hold and since is not None:
                    hold, since = hold + e.at - since, None
        if since is not None:
            hold += end - since
        fig.handled += 1
        fig.hold += hold
        fig.talk += end - answered.at - hold
        fig.wrap += sum(e.at - end for e in evs if isinstance(e, WrapUpEnded))
    return fig


def brute_occupancy(events: list[DomainEvent]) -> tuple[float, float, float, float]:
    on = idle = used = offered = 0.0
    for agent in AGENTS:
        state: str | None = None
        active = slots = 0
        last = 0.0
        changes = [e for e in events if isinstance(e, AgentStateChanged | AgentLoadChanged)]
        for e in [*(c for c in changes if c.agent_id == agent), None]:
            at = NOW if e is None else e.at
            dt = at - last
            working = state not in (None, "offline")
            if working and (state in ("busy", "wrap_up") or active > 0):
                on += dt
            elif working and state == "available":
                idle += dt
            else:
                working = False
            if working:
                used += min(active, slots) * dt
                offered += slots * dt
            last = at
            if isinstance(e, AgentStateChanged):
                state = e.state
            elif isinstance(e, AgentLoadChanged):
                active, slots = e.active, e.slots
    return on, idle, used, offered


def interpolated(values: list[float], q: float) -> float | None:
    if not values:
        return None
    xs = sorted(values)
    pos = (len(xs) - 1) * q
    lo = int(pos)
    hi = min(lo + 1, len(xs) - 1)
    return xs[lo] + (pos - lo) * (xs[hi] - xs[lo])


def close(a: object, b: object) -> bool:
    if isinstance(a, float | int) and isinstance(b, float | int):
        return abs(a - b) <= 1e-9 * max(1.0, abs(a), abs(b))
    return a == b


def check_table(table: dict[str, Kpi], fig: Figures) -> None:
    def v(name: str) -> object:
        return table[name]["value"]

    def ratio(n: float, d: float) -> float | None:
        return n / d if d else None

    offers = sum(fig.offers.values())
    expected = {
        "queued": fig.queued,
        "answered": fig.answered,
        "asa_s": ratio(fig.wait, fig.answered),
        "service_level": ratio(fig.within, fig.answered + fig.abandoned - fig.short),
        "abandoned": fig.abandoned,
        "short_abandons": fig.short,
        "abandonment_rate": ratio(fig.abandoned, fig.queued),
        "handled": fig.handled,
        "aht_s": ratio(fig.talk + fig.hold + fig.wrap, fig.handled),
        "avg_hold_s": ratio(fig.hold, fig.handled),
        "first_response_median_s": interpolated(fig.responses, 0.5),
        "first_response_p90_s": interpolated(fig.responses, 0.9),
        "offers_accepted": fig.offers["accepted"],
        "offers_declined": fig.offers["declined"],
        "offers_expired": fig.offers["expired"],
        "answer_rate": ratio(fig.offers["accepted"], offers),
        "avg_acceptance_s": ratio(fig.acceptance, fig.offers["accepted"]),
        "csat": ratio(fig.good, fig.ratings),
        "mean_mos": ratio(sum(fig.mos), len(fig.mos)),
        "quality_warnings": fig.onsets,
        "contacts_waiting": len(fig.waiting),
        "longest_wait_s": NOW - min(fig.waiting) if fig.waiting else None,
    }
    for name, want in expected.items():
        assert close(v(name), want), (name, v(name), want)


@settings(max_examples=300, deadline=None)
@given(event_lists())
def test_totals_match_brute_force(events: list[DomainEvent]) -> None:
    agg = KpiAggregator(0.0)
    agg.ingest_many(events)
    snap = agg.snapshot(NOW)
    check_table(snap["totals"], brute(events))
    for cut in ("by_queue", "by_channel", "by_stage"):
        for key, table in snap[cut].items():  # type: ignore[literal-required]
            check_table(table, brute(events, keep=key))
    on, idle, used, offered = brute_occupancy(events)
    occupancy = snap["totals"]["occupancy"]
    assert close(occupancy["numerator"], on)
    assert close(occupancy["denominator"], on + idle)
    slot = snap["totals"]["slot_occupancy"]
    assert close(slot["numerator"], used)
    assert close(slot["denominator"], offered)
    # Integrity: waiting + answered + abandoned = queued (no transfers here).
    t = snap["totals"]
    parts = ("contacts_waiting", "answered", "abandoned")
    assert t["queued"]["value"] == sum(t[name]["value"] or 0 for name in parts)
    json.dumps(snap, allow_nan=False)
    assert agg.snapshot(NOW) == snap
