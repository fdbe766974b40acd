"""Erlang C against published values (10 Erlangs, 3-minute handle time, T = 20 s)."""

import math

import pytest

from routing import erlang


def test_published_service_levels() -> None:
    # The classic worked example: 13 agents -> 79.6 %, 14 agents -> 88.8 %.
    assert erlang.service_level(13, 10.0, 180.0, 20.0) == pytest.approx(0.796, abs=5e-4)
    assert erlang.service_level(14, 10.0, 180.0, 20.0) == pytest.approx(0.888, abs=5e-4)


def test_probability_of_waiting_and_asa() -> None:
    # Same example: P(wait) with 13 agents is 28.5 %, ASA about 17.1 s; the service
    # level above follows from it: 1 - 0.2853 * exp(-3 * 20 / 180) = 0.796.
    p_wait = erlang.probability_of_waiting(13, 10.0)
    assert p_wait == pytest.approx(0.2853, abs=5e-4)
    assert 1 - p_wait * math.exp(-3 * 20 / 180) == pytest.approx(0.796, abs=5e-4)
    assert erlang.average_speed_of_answer(13, 10.0, 180.0) == pytest.approx(p_wait * 180.0 / 3.0)


def test_agents_needed_for_80_20() -> None:
    assert erlang.agents_needed(10.0, 180.0, 20.0, 0.8) == 14
    assert erlang.agents_needed(0.0, 180.0, 20.0, 0.8) == 0


def test_unstable_queue() -> None:
    assert erlang.probability_of_waiting(10, 10.0) == 1.0
    assert erlang.service_level(9, 10.0, 180.0, 20.0) == 0.0
    assert math.isinf(erlang.average_speed_of_answer(10, 12.0, 180.0))


def test_erlang_b_recursion_matches_closed_form() -> None:
    load, agents = 5.0, 7
    closed = (load**agents / math.factorial(agents)) / sum(
        load**k / math.factorial(k) for k in range(agents + 1)
    )
    assert erlang.erlang_b(agents, load) == pytest.approx(closed)
