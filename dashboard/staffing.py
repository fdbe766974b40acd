"""Staffing now: how many agents a queue needs for its service-level target, by
Erlang C (:mod:`routing.erlang`), beside how many it has.

Inputs, per queue: the arrival rate over a recent window (30 minutes by default:
long enough to smooth bursts, short enough to follow the day's curve), the AHT
observed today (or ``default_aht_s`` before the first contact is handled), the
queue's T and target level.  ``A = arrivals / window * AHT``; agents needed is the
fewest N with ``1 - P(wait) * exp(-(N - A) * T / AHT) >= target``.  Staffed agents are
those available, busy or in wrap-up who serve the queue.  Right after start-up the
window is shortened to the time actually observed so the rate is not diluted by
minutes nobody was counting.
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TypedDict

from routing import erlang

STAFFING_FORMULA = (
    "Erlang C: fewest N with 1 - P(wait) * exp(-(N - A) * T / AHT) >= target level; "
    "A = arrivals in window / window * AHT"
)


@dataclass(frozen=True, slots=True)
class StaffingConfig:
    window_s: float = 1800.0
    default_aht_s: float = 180.0
    target_level: float = 0.8
    # Per-queue target levels overriding ``target_level``.
    target_levels: Mapping[str, float] = field(default_factory=dict)
    max_agents: int = 10_000

    def level_for(self, queue: str) -> float:
        return self.target_levels.get(queue, self.target_level)


class StaffingRow(TypedDict):
    window_s: float
    arrivals: int
    arrival_rate_per_s: float
    aht_s: float
    aht_source: str  # "observed" or "default"
    load_erlangs: float
    sl_target_s: float
    target_level: float
    agents_needed: int
    agents_staffed: int
    agents_available: int
    predicted_service_level: float | None
    formula: str


class ArrivalWindow:
    """Arrival times of one queue within the window, for an exact count at any ``now``.

    Pruned on insert (amortised O(1)); read by bisection, so reading never mutates.
    """

    __slots__ = ("_head", "_times", "window_s")

    def __init__(self, window_s: float) -> None:
        self.window_s = window_s
        self._times: list[float] = []
        self._head = 0

    def add(self, at: float) -> None:
        times = self._times
        if not times or at >= times[-1]:
            times.append(at)
        else:
            bisect.insort(times, at, lo=self._head)
        horizon = times[-1] - self.window_s
        while self._head < len(times) and times[self._head] < horizon:
            self._head += 1
        if self._head > 1024 and self._head * 2 > len(times):
            del times[: self._head]
            self._head = 0

    def count(self, start: float, end: float) -> int:
        """Arrivals with ``start <= at <= end``."""
        lo = bisect.bisect_left(self._times, start, lo=self._head)
        hi = bisect.bisect_right(self._times, end, lo=lo)
        return hi - lo


def staffing_row(
    *,
    now: float,
    observed_from: float,
    arrivals: ArrivalWindow,
    aht_observed_s: float | None,
    sl_target_s: float,
    target_level: float,
    agents_staffed: int,
    agents_available: int,
    config: StaffingConfig,
) -> StaffingRow:
    window = max(0.0, min(config.window_s, now - observed_from))
    count = arrivals.count(now - window, now) if window > 0 else 0
    rate = count / window if window > 0 else 0.0
    aht = aht_observed_s if aht_observed_s else config.default_aht_s
    load = rate * aht
    needed = erlang.agents_needed(load, aht, sl_target_s, target_level, config.max_agents)
    predicted = erlang.service_level(agents_staffed, load, aht, sl_target_s) if load > 0 else None
    if predicted is not None and not math.isfinite(predicted):
        predicted = None
    return {
        "window_s": window,
        "arrivals": count,
        "arrival_rate_per_s": rate,
        "aht_s": aht,
        "aht_source": "observed" if aht_observed_s else "default",
        "load_erlangs": load,
        "sl_target_s": sl_target_s,
        "target_level": target_level,
        "agents_needed": needed,
        "agents_staffed": agents_staffed,
        "agents_available": agents_available,
        "predicted_service_level": predicted,
        "formula": STAFFING_FORMULA,
    }
