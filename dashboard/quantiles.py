"""A streaming quantile estimator for first-response times: exact while small,
bounded and within 1 % once large.

A supervisor looks at the median and p90 of a queue's or an agent's first responses
for *today*; most cuts hold a few hundred samples.  Keeping those samples in a sorted
list gives exact answers (the figure matches a hand count) at O(log n) search plus a
short memmove per insert.  Past ``exact_limit`` samples the list is folded into
logarithmic buckets (the DDSketch idea): bucket ``i`` holds values in
``(gamma^(i-1), gamma^i]`` with ``gamma = (1 + a) / (1 - a)``, so every quantile read
from a bucket's midpoint is within relative error ``a`` (1 % by default) of a true
sample, and memory is bounded by the value range (about 1,200 buckets from 10 ms to a
day), not by the number of samples.
"""

from __future__ import annotations

import bisect
import math

from dashboard.formulas import quantile


class QuantileSketch:
    __slots__ = ("_buckets", "_exact", "_gamma_log", "_limit", "_zeros", "accuracy", "count")

    def __init__(self, exact_limit: int = 2048, accuracy: float = 0.01) -> None:
        self._limit = exact_limit
        self.accuracy = accuracy
        self._gamma_log = math.log((1 + accuracy) / (1 - accuracy))
        self._exact: list[float] | None = []
        self._buckets: dict[int, int] = {}
        self._zeros = 0
        self.count = 0

    @property
    def exact(self) -> bool:
        """True while every sample is still kept (quantiles are exact)."""
        return self._exact is not None

    def add(self, value: float) -> None:
        self.count += 1
        if self._exact is not None:
            bisect.insort(self._exact, value)
            if len(self._exact) > self._limit:
                samples, self._exact = self._exact, None
                for v in samples:
                    self._bucket(v)
            return
        self._bucket(value)

    def _bucket(self, value: float) -> None:
        if value <= 0.0:
            self._zeros += 1
            return
        key = math.ceil(math.log(value) / self._gamma_log)
        self._buckets[key] = self._buckets.get(key, 0) + 1

    def quantile(self, q: float) -> float | None:
        if self._exact is not None:
            return quantile(self._exact, q)
        if self.count == 0:
            return None
        rank = q * (self.count - 1)
        seen = self._zeros
        if rank < seen:
            return 0.0
        gamma = math.exp(self._gamma_log)
        for key in sorted(self._buckets):
            seen += self._buckets[key]
            if rank < seen:
                return 2.0 * gamma**key / (gamma + 1.0)
        return 2.0 * gamma ** max(self._buckets) / (gamma + 1.0)
