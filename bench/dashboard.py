"""Dashboard core benchmark: how fast the aggregator absorbs events, and what one
snapshot costs at contact-centre scale (1,000 agents, 10,000 contacts waiting).

Ratios against baselines measured in the same run (the machines are shared):

* ingest: the aggregator's cost per event against ``json.dumps`` of the event's
  fields (what the shell pays anyway to put an event on the bus or in a log);
* snapshot: building the snapshot against ``json.dumps`` of that same snapshot
  (the push to supervisors has to encode it in any case).

Run: ``python -m bench.dashboard``  (writes its section of docs/benchmarks.md).
Every loop is bounded; the whole run takes well under a minute.
"""

from __future__ import annotations

import dataclasses
import json
import random
import statistics
import time
from collections.abc import Callable
from typing import Any

from prometheus_client import CollectorRegistry

from bench.report import machine_line, write_section
from dashboard.aggregator import KpiAggregator
from dashboard.events import (
    STAGES,
    AgentLoadChanged,
    AgentStateChanged,
    ContactAnswered,
    ContactEnded,
    ContactQueued,
    CsatRated,
    DomainEvent,
    MessageSent,
    OfferAnswered,
    OfferMade,
    WrapUpEnded,
)
from dashboard.metrics import Metrics

T0 = 1_700_000_000.0
QUEUES = [f"q{i}" for i in range(10)]
CHANNELS = ["chat", "voice", "video"]
AGENTS = 1_000
HANDLED = 20_000  # contacts in the ingest stream (about 11 events each)
WAITING = 10_000


def handled_stream(n: int, rng: random.Random) -> list[DomainEvent]:
    """A day's worth of handled contacts: queue, offer, answer, chat, end, wrap, rate."""
    out: list[DomainEvent] = []
    for a in range(AGENTS):
        queues = (QUEUES[a % len(QUEUES)], QUEUES[(a + 3) % len(QUEUES)])
        out.append(AgentStateChanged(T0, f"a{a}", "available", queues=queues))
        out.append(AgentLoadChanged(T0, f"a{a}", 0, 3))
    at = T0
    for i in range(n):
        at += 0.5
        cid, agent = f"h{i}", f"a{rng.randrange(AGENTS)}"
        queue = rng.choice(QUEUES)
        stage = rng.choice(STAGES)
        out += [
            ContactQueued(at, cid, queue, rng.choice(CHANNELS), stage, enqueued_at=at),
            OfferMade(at + 5, cid, agent),
            OfferAnswered(at + 8, cid, agent, "accepted", offered_at=at + 5),
            ContactAnswered(at + 8, cid, agent),
            AgentLoadChanged(at + 8, agent, 1, 3),
            MessageSent(at + 9, cid, "visitor"),
            MessageSent(at + 15, cid, "agent", agent),
            MessageSent(at + 30, cid, "agent", agent),
            ContactEnded(at + 120, cid, agent),
            AgentLoadChanged(at + 120, agent, 0, 3),
            WrapUpEnded(at + 135, agent, cid),
            CsatRated(at + 140, cid, rng.randint(1, 5)),
        ]
    # Arrival order is time order in the real system; the stream above interleaves
    # contacts 0.5 s apart but each contact's events run ahead: sort by time.
    out.sort(key=lambda e: e.at)
    return out


def best_of(fn: Callable[[], object], repeat: int) -> float:
    """Median seconds of ``repeat`` calls (bounded; median resists noisy neighbours)."""
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - start)
    return statistics.median(samples)


def bench_ingest(events: list[DomainEvent]) -> dict[str, float]:
    def ingest() -> None:
        KpiAggregator(T0).ingest_many(events)

    def observe() -> None:
        metrics = Metrics(CollectorRegistry())
        for event in events:
            metrics.observe(event)

    def encode() -> None:
        dumps, asdict = json.dumps, dataclasses.asdict
        for event in events:
            dumps(asdict(event))

    n = len(events)
    t_ingest = best_of(ingest, 3)
    t_metrics = best_of(observe, 3)
    t_encode = best_of(encode, 3)
    return {
        "events": n,
        "ingest_eps": n / t_ingest,
        "metrics_eps": n / t_metrics,
        "encode_eps": n / t_encode,
        "ingest_us": t_ingest / n * 1e6,
        "metrics_us": t_metrics / n * 1e6,
        "encode_us": t_encode / n * 1e6,
    }


def loaded_aggregator(rng: random.Random) -> tuple[KpiAggregator, float]:
    """1,000 agents with a day's history, then 10,000 contacts waiting."""
    agg = KpiAggregator(T0)
    agg.ingest_many(handled_stream(HANDLED, rng))
    now = T0 + HANDLED * 0.5 + 200
    for a in range(AGENTS):  # a realistic mix of states
        state = ("available", "busy", "busy", "wrap_up", "away")[a % 5]
        agg.ingest(AgentStateChanged(now - 100, f"a{a}", state))
        agg.ingest(AgentLoadChanged(now - 100, f"a{a}", a % 4, 3))
    for i in range(WAITING):
        enq = now - rng.uniform(0, 600)
        queue, channel, stage = rng.choice(QUEUES), rng.choice(CHANNELS), rng.choice(STAGES)
        agg.ingest(ContactQueued(now - 1, f"w{i}", queue, channel, stage, enqueued_at=enq))
    return agg, now


def bench_snapshot(agg: KpiAggregator, now: float, **options: Any) -> dict[str, float]:
    snap = agg.snapshot(now, **options)
    text = json.dumps(snap)
    t_snap = best_of(lambda: agg.snapshot(now, **options), 15)
    t_json = best_of(lambda: json.dumps(snap), 15)
    return {
        "snapshot_ms": t_snap * 1e3,
        "json_ms": t_json * 1e3,
        "ratio": t_snap / t_json,
        "bytes": len(text.encode()),
        "agents": len(snap["agents"]),
        "waiting": snap["totals"]["contacts_waiting"]["value"] or 0,
    }


def ingest_row(label: str, r: dict[str, float], key: str) -> str:
    us = r[f"{key}_us"]
    return f"| {label} | {r[f'{key}_eps']:,.0f} | {us:.2f} | {us / r['encode_us']:.2f} |"


def row(label: str, r: dict[str, float]) -> str:
    return (
        f"| {label} | {r['snapshot_ms']:.1f} | {r['json_ms']:.1f} | {r['ratio']:.2f} "
        f"| {r['bytes'] / 1e6:.2f} MB |"
    )


def main() -> None:
    rng = random.Random(2024)
    events = handled_stream(HANDLED, rng)
    ingest = bench_ingest(events)
    agg, now = loaded_aggregator(random.Random(7))
    capped = bench_snapshot(agg, now)
    full = bench_snapshot(agg, now, waiting_limit=WAITING)
    push = bench_snapshot(agg, now, agent_table=False, formulas=False)
    push_cpu = (push["snapshot_ms"] + push["json_ms"]) / 10  # % of a core at 1 Hz

    md = f"""## Dashboard aggregator (`python -m bench.dashboard`)

{machine_line()}

**Ingest.** A stream of {ingest["events"]:,} events ({HANDLED:,} handled chats:
queued, offer, accept, answer, load, three messages, end, load, wrap-up, rating;
{AGENTS:,} agents), fed to a fresh `KpiAggregator`; baseline `json.dumps(asdict(event))`
per event in the same run.

| | events/s | µs/event | cost vs baseline |
|---|---:|---:|---:|
{ingest_row("baseline: json-encode each event", ingest, "encode")}
{ingest_row("`KpiAggregator.ingest`", ingest, "ingest")}
{ingest_row("`Metrics.observe` (Prometheus)", ingest, "metrics")}

**Snapshot.** {capped["agents"]:,.0f} agents (each with a day of history),
{capped["waiting"]:,.0f} contacts waiting across {len(QUEUES)} queues; median of 15;
baseline `json.dumps` of the same snapshot.

| snapshot | build ms | json.dumps ms | build / json | JSON size |
|---|---:|---:|---:|---:|
{row("default (waiting list: top 50 per queue)", capped)}
{row(f"all {WAITING:,} waiting listed", full)}
{row("push view: `agent_table=False, formulas=False`", push)}

Reading: building the full snapshot costs less than encoding it, so the aggregator is
not the bottleneck of the live push; the bytes are.  Listing all 10,000 waiters adds
{full["bytes"] / 1e6 - capped["bytes"] / 1e6:.1f} MB per push for rows nobody reads,
hence the default cap of 50 per queue (counts stay exact).  With 1,000 agents the
`by_agent` table (19 KPIs each, every KPI with its formula text) is most of what
remains, so the every-second push should use the push view (`by_agent` left empty,
formula text only in `legend`) and send the agent table less often: built and encoded
once per second for all 100 supervisors that is {push_cpu:.1f} % of one core and
{push["bytes"] * 100 / 1e6:.0f} MB/s on the wire before compression.
"""
    print(md)
    write_section("dashboard", md)


if __name__ == "__main__":
    main()
