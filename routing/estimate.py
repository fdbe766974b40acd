"""Estimated wait for a contact at a given place in its queue.

Inputs are measured per queue over a moving window of event times (the last
``WINDOW_S`` seconds; the engine never reads a clock):

* arrival rate ``lambda``: entries into the queue per second;
* average handle time ``AHT``: assigned -> ended, over contacts that ended in the window;
* seconds per place: for each contact answered in the window, its wait divided by the
  position it was given on arrival; their mean says how fast this queue moves one place.

The formula, and why:

1. **Erlang C (M/M/N) when there is enough data**: at least ``MIN_HANDLED`` handled
   contacts in the window and the queue is stable, ``N > A`` with ``A = lambda * AHT``
   (checked with :func:`routing.erlang.probability_of_waiting`, which is 1.0 exactly when
   it is not).  ``N`` is the number of *servers* staffed for the queue: agents present
   and serving it, counting a chat agent once per chat slot (a three-chat agent is three
   servers for chat).  In the M/M/N model a contact that is waiting with ``p - 1``
   contacts ahead of it is served after ``p`` more service completions, and while all
   ``N`` servers are busy completions arrive at rate ``N / AHT``, so its expected
   remaining wait is exactly ``p * AHT / N``.  This is the Erlang C model's own
   conditional wait; the unconditional Erlang C figures (P(wait), ASA
   ``= P(wait) * AHT / (N - A)``, service level) describe a contact *about to arrive*,
   averaged over those that never wait, so they are reported by ``queue_stats`` rather
   than used for a contact already in line.  The estimate grows linearly with ``p``.
2. **Observed pace while data is thin or the queue is unstable**: ``p`` times the mean
   seconds-per-place of recent answers (a moving average of actual waits, normalised by
   where each contact started).
3. **None** when neither is known: the visitor is told its position only.

Estimates are rounded (:func:`round_eta`) so that a queue position is re-published
only when the figure a visitor would see actually changes.
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass, field
from typing import Any

from routing import erlang

WINDOW_S = 900.0
MIN_HANDLED = 10
# Bound memory on very busy queues; the oldest samples go first.
MAX_SAMPLES = 5000
# The arrival rate is averaged over at least this long, so the first arrival of the
# day does not read as "one contact per 0 seconds".
MIN_RATE_SPAN_S = 60.0


@dataclass(frozen=True, slots=True)
class QueueFigures:
    """What the window says about one queue at one instant."""

    arrival_rate: float  # contacts per second
    aht_s: float | None
    handled: int
    seconds_per_place: float | None


@dataclass(slots=True)
class QueueWindow:
    """Moving-window samples for one queue.  All times are event times."""

    arrivals: deque[float] = field(default_factory=lambda: deque(maxlen=MAX_SAMPLES))
    # (ended_at, handle seconds)
    handled: deque[tuple[float, float]] = field(default_factory=lambda: deque(maxlen=MAX_SAMPLES))
    # (answered_at, wait seconds / position on arrival)
    paces: deque[tuple[float, float]] = field(default_factory=lambda: deque(maxlen=MAX_SAMPLES))
    # When the queue was first seen, so the rate's span is known on a fresh start.
    since: float | None = None

    def record_arrival(self, at: float) -> None:
        if self.since is None:
            self.since = at
        self.arrivals.append(at)

    def record_handled(self, at: float, handle_s: float) -> None:
        self.handled.append((at, max(0.0, handle_s)))

    def record_answer(self, at: float, wait_s: float, position: int) -> None:
        self.paces.append((at, max(0.0, wait_s) / max(1, position)))

    def figures(self, now: float) -> QueueFigures:
        """The window's figures at ``now``.  Samples older than the window are dropped;
        ``now`` never goes backwards, so dropping them cannot change a later answer."""
        cutoff = now - WINDOW_S
        while self.arrivals and self.arrivals[0] < cutoff:
            self.arrivals.popleft()
        while self.handled and self.handled[0][0] < cutoff:
            self.handled.popleft()
        while self.paces and self.paces[0][0] < cutoff:
            self.paces.popleft()
        span = WINDOW_S if self.since is None else min(WINDOW_S, now - self.since)
        rate = len(self.arrivals) / max(span, MIN_RATE_SPAN_S)
        handled = len(self.handled)
        aht = math.fsum(h for _, h in self.handled) / handled if handled else None
        paces = len(self.paces)
        pace = math.fsum(p for _, p in self.paces) / paces if paces else None
        return QueueFigures(rate, aht, handled, pace)

    def to_dict(self) -> dict[str, Any]:
        return {
            "arrivals": list(self.arrivals),
            "handled": [list(x) for x in self.handled],
            "paces": [list(x) for x in self.paces],
            "since": self.since,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> QueueWindow:
        window = cls(since=data["since"])
        window.arrivals.extend(float(x) for x in data["arrivals"])
        window.handled.extend((float(a), float(b)) for a, b in data["handled"])
        window.paces.extend((float(a), float(b)) for a, b in data["paces"])
        return window


def is_stable(servers: int, figures: QueueFigures) -> bool:
    """Erlang C's condition for a finite wait: offered load below the servers."""
    if figures.aht_s is None or servers <= 0:
        return False
    load = figures.arrival_rate * figures.aht_s
    return erlang.probability_of_waiting(servers, load) < 1.0


def seconds_per_place(servers: int, figures: QueueFigures) -> float | None:
    """How many seconds one place in line is worth, or None when nothing is known.

    Erlang C's conditional wait ``AHT / N`` when the window has ``MIN_HANDLED`` handled
    contacts and the queue is stable; otherwise the observed pace; otherwise None.
    Computed once per queue and channel, then multiplied by each position, so
    publishing 10,000 positions costs one Erlang recursion, not 10,000.
    """
    if figures.handled >= MIN_HANDLED and figures.aht_s is not None and is_stable(servers, figures):
        return figures.aht_s / servers
    return figures.seconds_per_place


def estimate_wait(position: int, servers: int, figures: QueueFigures) -> float | None:
    """Expected seconds until a contact at ``position`` (1 = next) is answered."""
    if position < 1:
        return 0.0
    pace = seconds_per_place(servers, figures)
    return None if pace is None else position * pace


def round_eta(eta: float | None) -> float | None:
    """What a visitor is shown: 5 s steps under 2 min, 30 s under 10 min, then minutes."""
    if eta is None:
        return None
    if eta <= 0:
        return 0.0
    step = 5.0 if eta < 120 else 30.0 if eta < 600 else 60.0
    return max(step, round(eta / step) * step)


@dataclass(frozen=True, slots=True)
class ErlangFigures:
    """Erlang C's view of a queue for a contact about to arrive."""

    load: float | None
    p_wait: float | None
    asa_s: float | None
    service_level: float | None


def erlang_figures(servers: int, figures: QueueFigures, target_s: float) -> ErlangFigures:
    """P(wait), ASA and service level(target) from the window, when AHT is known."""
    if figures.aht_s is None or figures.aht_s <= 0:
        return ErlangFigures(None, None, None, None)
    load = figures.arrival_rate * figures.aht_s
    asa = erlang.average_speed_of_answer(servers, load, figures.aht_s)
    return ErlangFigures(
        load=load,
        p_wait=erlang.probability_of_waiting(servers, load),
        asa_s=None if math.isinf(asa) else asa,
        service_level=erlang.service_level(servers, load, figures.aht_s, target_s),
    )
