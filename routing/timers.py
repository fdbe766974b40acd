"""The engine's timers: offer expiry, wrap-up end, max wait, opening and closing.

A timer is a heap entry ``(deadline, seq, kind, key, token)``.  ``seq`` is a counter, so
two timers due at the same instant fire in the order they were set, on every replay.
Timers are never removed from the heap; each names the ``token`` of the thing it
guards (an offer, a wrap-up, a queue entry, a schedule), and the engine ignores a timer
whose token is no longer current.  That keeps "cancel" O(1) and the heap a plain list
that a snapshot can store as is.
"""

from __future__ import annotations

import heapq
from typing import Any, Literal

TimerKind = Literal["offer", "wrap", "max_wait", "hours"]
Timer = tuple[float, int, str, str, int]


class TimerHeap:
    __slots__ = ("_heap", "_seq")

    def __init__(self) -> None:
        self._heap: list[Timer] = []
        self._seq = 0

    def __len__(self) -> int:
        return len(self._heap)

    def push(self, deadline: float, kind: TimerKind, key: str, token: int) -> None:
        self._seq += 1
        heapq.heappush(self._heap, (deadline, self._seq, kind, key, token))

    def next_deadline(self) -> float | None:
        return self._heap[0][0] if self._heap else None

    def pop_due(self, until: float) -> Timer | None:
        """The earliest timer due at or before ``until``, removed; None if none is."""
        if self._heap and self._heap[0][0] <= until:
            return heapq.heappop(self._heap)
        return None

    def to_dict(self) -> dict[str, Any]:
        return {"seq": self._seq, "heap": [list(t) for t in self._heap]}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> TimerHeap:
        timers = cls()
        timers._seq = int(data["seq"])
        timers._heap = [(float(d), int(s), str(k), str(key), int(tok)) for d, s, k, key, tok in data["heap"]]
        heapq.heapify(timers._heap)
        return timers
