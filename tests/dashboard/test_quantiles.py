"""The first-response quantile sketch: exact while small, within 1 % once folded."""

from __future__ import annotations

import random

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dashboard.formulas import quantile
from dashboard.quantiles import QuantileSketch


def test_exact_values_by_hand() -> None:
    sketch = QuantileSketch()
    for v in (30.0, 5.0, 12.0, 7.0):
        sketch.add(v)
    # sorted [5, 7, 12, 30]: median at 1.5 -> 7 + 0.5 * 5 = 9.5;
    # p90 at 2.7 -> 12 + 0.7 * 18 = 24.6
    assert sketch.quantile(0.5) == 9.5
    assert sketch.quantile(0.9) == pytest.approx(24.6)
    assert QuantileSketch().quantile(0.5) is None


@given(st.lists(st.floats(0, 1e5, allow_nan=False), min_size=1, max_size=50))
def test_exact_mode_matches_sorting(values: list[float]) -> None:
    sketch = QuantileSketch()
    for v in values:
        sketch.add(v)
    assert sketch.exact
    for q in (0.0, 0.5, 0.9, 1.0):
        assert sketch.quantile(q) == quantile(sorted(values), q)


def test_folded_mode_is_within_one_percent() -> None:
    rng = random.Random(7)
    values = [rng.lognormvariate(2.5, 1.0) for _ in range(20_000)] + [0.0] * 100
    sketch = QuantileSketch(exact_limit=1000)
    for v in values:
        sketch.add(v)
    assert not sketch.exact
    assert sketch.count == len(values)
    xs = sorted(values)
    for q in (0.5, 0.9, 0.99):
        true = xs[round(q * (len(xs) - 1))]
        assert sketch.quantile(q) == pytest.approx(true, rel=0.0101)
    assert sketch.quantile(0.001) == 0.0  # the zeros
