"""The journey definitions written out in plain Python over a list of touchpoints,
independently of the SQL in ``contact_center.journey.analytics`` (no shared code but
the stage names), to check the queries against."""

from __future__ import annotations

import statistics
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

STAGES = ("awareness", "consideration", "decision", "purchase", "retention")
CONTACT_KINDS = ("contact", "offline_message")
CREDITED = ("page_view", "contact", "offline_message")


@dataclass
class T:
    """One touchpoint as the tests insert it (``order`` = insertion order = id order)."""

    visitor: str
    kind: str
    stage: str
    at: float
    channel: str = "web"
    queue: str = ""
    wait: float | None = None
    outcome: str = ""
    csat: int | None = None
    value: float | None = None
    stage_source: str = "declared"
    order: int = 0
    extra: dict[str, Any] = field(default_factory=dict)


def in_window(t: T, start: float, end: float) -> bool:
    return start <= t.at < end


def funnel(
    ts: list[T], start: float, end: float, sources: dict[str, str], source: str | None
) -> dict[str, Any]:
    def keep(t: T) -> bool:
        return in_window(t, start, end) and (source is None or sources.get(t.visitor) == source)

    first: dict[str, dict[str, float]] = defaultdict(dict)
    for t in ts:
        if keep(t) and t.stage in STAGES:
            seen = first[t.visitor]
            seen[t.stage] = min(seen.get(t.stage, t.at), t.at)
    visitors = [sum(1 for f in first.values() if s in f) for s in STAGES]
    reached = [sum(1 for f in first.values() if any(x in f for x in STAGES[i:])) for i in range(len(STAGES))]
    steps = []
    for i in range(len(STAGES) - 1):
        a, b = STAGES[i], STAGES[i + 1]
        dts = [f[b] - f[a] for f in first.values() if a in f and b in f and f[b] >= f[a]]
        steps.append(
            {
                "timed": len(dts),
                "avg": sum(dts) / len(dts) if dts else None,
                "median": statistics.median(dts) if dts else None,
            }
        )
    contacted = [
        len({t.visitor for t in ts if keep(t) and t.kind in CONTACT_KINDS and t.stage == s}) for s in STAGES
    ]
    return {"visitors": visitors, "reached": reached, "steps": steps, "contacted": contacted}


def grid(
    ts: list[T], start: float, end: float, window: float, queue: str | None = None
) -> dict[tuple[str, str], dict[str, Any]]:
    cells: dict[tuple[str, str], dict[str, Any]] = {}
    for t in ts:
        if t.kind not in CONTACT_KINDS or not in_window(t, start, end) or (queue and t.queue != queue):
            continue
        c = cells.setdefault(
            (t.stage, t.channel),
            {
                "volume": 0,
                "visitors": set(),
                "queued": 0,
                "abandoned": 0,
                "answered": 0,
                "waits": [],
                "ratings": [],
                "converted": 0,
            },
        )
        c["volume"] += 1
        c["visitors"].add(t.visitor)
        if t.kind == "contact":
            c["queued"] += 1
        if t.outcome == "abandoned":
            c["abandoned"] += 1
        if t.wait is not None:
            c["waits"].append(t.wait)
            if t.outcome not in ("abandoned", "overflowed"):
                c["answered"] += 1
        if t.csat is not None:
            c["ratings"].append(t.csat)
        if any(
            x.visitor == t.visitor and x.kind == "conversion" and t.at <= x.at <= t.at + window for x in ts
        ):
            c["converted"] += 1
    out = {}
    for key, c in cells.items():
        out[key] = {
            "volume": c["volume"],
            "visitors": len(c["visitors"]),
            "queued": c["queued"],
            "answered": c["answered"],
            "abandoned": c["abandoned"],
            "abandonment_rate": c["abandoned"] / c["queued"] if c["queued"] else None,
            "avg_wait_s": sum(c["waits"]) / len(c["waits"]) if c["waits"] else None,
            "csat": sum(1 for r in c["ratings"] if r >= 4) / len(c["ratings"]) if c["ratings"] else None,
            "rated": len(c["ratings"]),
            "converted": c["converted"],
            "conversion_rate": c["converted"] / c["volume"],
        }
    return out


def attribution(ts: list[T], start: float, end: float, lookback: float) -> dict[str, Any]:
    credit: dict[tuple[str, str], list[float]] = defaultdict(lambda: [0.0] * 6)
    conversions = 0
    unattributed = 0
    for conv in ts:
        if conv.kind != "conversion" or not in_window(conv, start, end):
            continue
        conversions += 1
        value = conv.value or 0.0
        path = sorted(
            (
                t
                for t in ts
                if t.visitor == conv.visitor and t.kind in CREDITED and conv.at - lookback <= t.at <= conv.at
            ),
            key=lambda t: (t.at, t.order),
        )
        if not path:
            unattributed += 1
            continue
        first, last = path[0], path[-1]
        credit[(first.channel, first.stage)][0] += 1
        credit[(first.channel, first.stage)][1] += value
        credit[(last.channel, last.stage)][2] += 1
        credit[(last.channel, last.stage)][3] += value
        for t in path:
            credit[(t.channel, t.stage)][4] += 1 / len(path)
            credit[(t.channel, t.stage)][5] += value / len(path)
    return {"conversions": conversions, "unattributed": unattributed, "credit": dict(credit)}
