"""Erlang C: the queueing model behind estimated waits and staffing.

Written here rather than taken from a dependency because it is a dozen lines and the
engine must stay stdlib-only.  All functions take the offered load in Erlangs,
``A = arrival rate x average handle time``, and ``N`` agents (servers).

Erlang B by its stable recursion (B0 = 1, Bk = A*B(k-1) / (k + A*B(k-1))), then
P(wait) = N*B / (N - A*(1 - B)); service level(t) = 1 - P(wait) * exp(-(N - A) * t / AHT);
average speed of answer = P(wait) * AHT / (N - A).
"""

from __future__ import annotations

import math


def erlang_b(agents: int, load: float) -> float:
    """Blocking probability with ``agents`` servers and ``load`` Erlangs."""
    blocking = 1.0
    for k in range(1, agents + 1):
        blocking = load * blocking / (k + load * blocking)
    return blocking


def probability_of_waiting(agents: int, load: float) -> float:
    """Erlang C: the chance an arriving contact has to wait.  1.0 when the queue is
    unstable (load >= agents): every contact waits and the wait grows without bound."""
    if agents <= 0 or load >= agents:
        return 1.0
    if load <= 0:
        return 0.0
    blocking = erlang_b(agents, load)
    return agents * blocking / (agents - load * (1.0 - blocking))


def service_level(agents: int, load: float, aht_s: float, target_s: float) -> float:
    """Fraction of contacts answered within ``target_s`` seconds."""
    if agents <= 0 or load >= agents:
        return 0.0
    if load <= 0:
        return 1.0
    p_wait = probability_of_waiting(agents, load)
    return 1.0 - p_wait * math.exp(-(agents - load) * target_s / aht_s)


def average_speed_of_answer(agents: int, load: float, aht_s: float) -> float:
    """Mean wait in seconds over all contacts (``inf`` when the queue is unstable)."""
    if agents <= 0 or load >= agents:
        return math.inf
    if load <= 0:
        return 0.0
    return probability_of_waiting(agents, load) * aht_s / (agents - load)


def agents_needed(
    load: float, aht_s: float, target_s: float, target_level: float, max_agents: int = 10_000
) -> int:
    """The fewest agents that reach ``target_level`` (e.g. 0.8) answered within
    ``target_s`` seconds.  0 when there is no load."""
    if load <= 0:
        return 0
    agents = max(1, math.floor(load) + 1)
    while agents <= max_agents:
        if service_level(agents, load, aht_s, target_s) >= target_level:
            return agents
        agents += 1
    return max_agents
