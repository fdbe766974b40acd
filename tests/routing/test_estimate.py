"""The wait estimator on its own."""

from __future__ import annotations

import pytest

from routing.estimate import (
    MIN_HANDLED,
    WINDOW_S,
    QueueFigures,
    QueueWindow,
    erlang_figures,
    estimate_wait,
    is_stable,
    seconds_per_place,
)


def test_nothing_known_means_no_estimate() -> None:
    figures = QueueWindow().figures(0.0)
    assert figures == QueueFigures(0.0, None, 0, None)
    assert estimate_wait(3, 5, figures) is None


def test_erlang_c_pace_grows_linearly_with_position() -> None:
    figures = QueueFigures(arrival_rate=0.01, aht_s=120.0, handled=MIN_HANDLED, seconds_per_place=7.0)
    assert is_stable(4, figures)  # A = 1.2 < 4
    assert seconds_per_place(4, figures) == 30.0
    assert [estimate_wait(p, 4, figures) for p in (1, 2, 5)] == [30.0, 60.0, 150.0]


def test_thin_data_or_unstable_queue_falls_back_to_observed_pace() -> None:
    thin = QueueFigures(arrival_rate=0.01, aht_s=120.0, handled=MIN_HANDLED - 1, seconds_per_place=7.0)
    assert estimate_wait(2, 4, thin) == 14.0
    unstable = QueueFigures(arrival_rate=0.05, aht_s=120.0, handled=50, seconds_per_place=7.0)
    assert not is_stable(4, unstable)  # A = 6 >= 4
    assert estimate_wait(2, 4, unstable) == 14.0
    no_servers = QueueFigures(arrival_rate=0.0, aht_s=120.0, handled=50, seconds_per_place=None)
    assert estimate_wait(2, 0, no_servers) is None


def test_window_measures_rate_aht_and_pace_and_forgets_old_samples() -> None:
    window = QueueWindow()
    for i in range(30):
        window.record_arrival(i * 10.0)
    window.record_handled(100.0, 60.0)
    window.record_handled(200.0, 120.0)
    window.record_answer(200.0, 40.0, 2)
    figures = window.figures(300.0)
    assert figures.arrival_rate == pytest.approx(30 / 300.0)
    assert figures.aht_s == 90.0
    assert figures.handled == 2
    assert figures.seconds_per_place == 20.0
    later = window.figures(290.0 + WINDOW_S + 1)
    assert later.handled == 0 and later.aht_s is None and later.seconds_per_place is None
    assert later.arrival_rate == 0.0


def test_window_round_trips_through_a_dict() -> None:
    window = QueueWindow()
    window.record_arrival(5.0)
    window.record_handled(6.0, 1.5)
    window.record_answer(6.0, 1.0, 1)
    again = QueueWindow.from_dict(window.to_dict())
    assert again.figures(10.0) == window.figures(10.0)


def test_erlang_figures_for_a_new_arrival() -> None:
    # The published example: 10 Erlangs, AHT 180 s, 13 agents -> P(wait) 28.5 %.
    figures = QueueFigures(arrival_rate=10 / 180, aht_s=180.0, handled=100, seconds_per_place=None)
    result = erlang_figures(13, figures, 20.0)
    assert result.p_wait == pytest.approx(0.2853, abs=5e-4)
    assert result.service_level == pytest.approx(0.796, abs=5e-4)
    assert erlang_figures(13, QueueFigures(0.1, None, 0, None), 20.0).p_wait is None
    assert erlang_figures(5, figures, 20.0).asa_s is None  # unstable: no finite ASA
