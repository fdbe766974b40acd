"""MOS by the simplified E-model of DESIGN section 6, and warning smoothing."""

from __future__ import annotations

import pytest

from signalling.quality import (
    CallQualityTracker,
    QualityThresholds,
    StatsSample,
    effective_latency_ms,
    mos,
    mos_from_r,
    r_factor,
)


def by_hand(r: float) -> float:
    return 1 + 0.035 * r + 7e-6 * r * (r - 60) * (100 - r)


def test_perfect_path() -> None:
    # L = 0 + 0 + 10 = 10 ms; R = 94.768 - 10/40 = 94.518
    assert effective_latency_ms(0, 0) == 10
    assert r_factor(0, 0, 0) == pytest.approx(94.518)
    # 1 + 3.30813 + 7e-6 * 94.518 * 34.518 * 5.482 = 4.43333
    assert mos(0, 0, 0) == pytest.approx(4.43333, abs=5e-5)


@pytest.mark.parametrize(
    ("rtt", "jitter", "loss", "r"),
    [
        (40, 5, 0.5, 94.768 - 60 / 40 - 1.25),  # L = 60
        (100, 20, 2, 94.768 - 150 / 40 - 5),  # L = 150, just under the knee
        (150, 0, 0, 94.768 - (160 - 120) / 10),  # L = 160: the second branch
        (300, 50, 1, 94.768 - (410 - 120) / 10 - 2.5),  # L = 410
        (1000, 100, 50, 6.52),  # floored
    ],
)
def test_known_points(rtt: float, jitter: float, loss: float, r: float) -> None:
    assert r_factor(rtt, jitter, loss) == pytest.approx(r)
    assert mos(rtt, jitter, loss) == pytest.approx(by_hand(r))


def test_hand_computed_values() -> None:
    assert mos(100, 20, 2) == pytest.approx(4.22967, abs=5e-5)  # R = 86.018
    assert mos(300, 50, 1) == pytest.approx(3.26754, abs=5e-5)  # R = 63.268
    assert mos_from_r(6.52) == pytest.approx(1.0, abs=1e-4)


def test_the_knee_is_continuous_and_mos_falls_with_latency() -> None:
    assert r_factor(149.999, 0, 0) == pytest.approx(r_factor(150, 0, 0), abs=1e-3)
    scores = [mos(rtt, 0, 0) for rtt in range(0, 2000, 50)]
    assert scores == sorted(scores, reverse=True)


def sample(at: float, rtt: float = 20, jitter: float = 2, loss: float = 0) -> StatsSample:
    return StatsSample(at, rtt, jitter, loss, relayed=False, codec="audio/opus")


def test_rtt_warning_needs_three_of_the_last_five() -> None:
    tracker = CallQualityTracker(QualityThresholds(mos=0))  # RTT alone
    assert tracker.ingest(sample(0, rtt=500)) == []
    assert tracker.ingest(sample(1)) == []
    assert tracker.ingest(sample(2, rtt=450)) == []
    [alert] = tracker.ingest(sample(3, rtt=401))
    assert (alert.warning, alert.active, alert.at, alert.value) == ("high_rtt", True, 3, 500)
    assert tracker.active_warnings() == [("", "high_rtt")]
    assert tracker.ingest(sample(4, rtt=600)) == []  # no repeat while it lasts
    assert tracker.ingest(sample(5)) == []  # window: ok 450 401 600 ok -> 3
    assert tracker.ingest(sample(6)) == []  # window: 450 401 600 ok ok -> 3
    [cleared] = tracker.ingest(sample(7))  # window: 401 600 ok ok ok -> 2
    assert (cleared.warning, cleared.active) == ("high_rtt", False)
    assert tracker.active_warnings() == []
    assert tracker.warnings_seen == {"high_rtt"}


def test_jitter_and_loss_warnings() -> None:
    tracker = CallQualityTracker()
    raised = []
    for t in range(3):
        raised += tracker.ingest(sample(t, jitter=31, loss=1.5))
    assert {a.warning for a in raised} == {"high_jitter", "high_loss"}
    assert tracker.current_warning() == "high_loss"


def test_one_bad_second_does_not_alert_low_mos() -> None:
    tracker = CallQualityTracker()
    tracker.ingest(sample(0))
    tracker.ingest(sample(1))
    alerts = tracker.ingest(sample(2, rtt=2000, loss=40))  # MOS 1.0 for one second
    assert alerts == []
    smoothed = tracker.smoothed_mos()
    assert smoothed is not None and smoothed < 3.5  # the mean alone would have fired
    assert tracker.ingest(sample(3, rtt=2000, loss=40)) == []  # two of five
    assert [a.warning for a in tracker.ingest(sample(4, rtt=2000, loss=40))] == [
        "high_rtt",
        "high_loss",
        "low_mos",
    ]


def test_barely_low_seconds_beside_excellent_ones_do_not_alert() -> None:
    tracker = CallQualityTracker()
    for t in range(3):
        tracker.ingest(sample(t, rtt=300, jitter=27, loss=1))  # MOS ~3.47
    for t in range(3, 5):
        tracker.ingest(sample(t, rtt=0, jitter=0))  # MOS 4.43
    assert tracker.active_warnings() == []


def test_sustained_low_mos_alerts_after_smoothing() -> None:
    tracker = CallQualityTracker()
    # MOS ~3.27 each second (300 ms, 50 ms, 1 %); needs three samples in the window.
    assert tracker.ingest(sample(0, rtt=300, jitter=50, loss=1)) == []
    assert tracker.ingest(sample(1, rtt=300, jitter=50, loss=1)) == []
    alerts = tracker.ingest(sample(2, rtt=300, jitter=50, loss=1))
    assert [a.warning for a in alerts] == ["high_jitter", "low_mos"]
    assert tracker.current_warning() == "low_mos"
    for t in range(3, 8):
        tracker.ingest(sample(t))
    assert tracker.active_warnings() == []


def test_parties_are_judged_separately() -> None:
    tracker = CallQualityTracker()
    for t in range(3):
        tracker.ingest(sample(t, rtt=500), party_id="visitor")  # MOS 2.86
        tracker.ingest(sample(t), party_id="agent")
    assert tracker.active_warnings() == [("visitor", "high_rtt"), ("visitor", "low_mos")]
    assert tracker.current_warning("agent") is None
    agent_mos = tracker.smoothed_mos("agent")
    visitor_mos = tracker.smoothed_mos("visitor")
    assert agent_mos is not None and visitor_mos is not None
    assert tracker.smoothed_mos() == visitor_mos < agent_mos
    assert tracker.smoothed_mos("nobody") is None


def test_summary() -> None:
    tracker = CallQualityTracker()
    assert tracker.summary()["samples"] == 0
    assert tracker.summary()["mos_mean"] is None
    tracker.ingest(StatsSample(0, 0, 0, 0, relayed=False, codec="audio/opus"))
    tracker.ingest(StatsSample(1, 100, 20, 2, relayed=True, codec="audio/opus"))
    summary = tracker.summary()
    assert summary["samples"] == 2
    assert summary["mos_mean"] == pytest.approx((4.43333 + 4.22967) / 2, abs=1e-3)
    assert summary["mos_min"] == pytest.approx(4.22967, abs=1e-3)
    assert summary["rtt_max_ms"] == 100
    assert summary["jitter_mean_ms"] == 10
    assert summary["loss_mean_pct"] == 1
    assert summary["relayed"] is True
    assert summary["codec"] == "audio/opus"
    assert summary["warnings_seen"] == []


def test_thresholds_are_configurable() -> None:
    tracker = CallQualityTracker(QualityThresholds(rtt_ms=100, window=3, hits=1))
    [alert] = tracker.ingest(sample(0, rtt=101))
    assert alert.warning == "high_rtt"
    with pytest.raises(ValueError):
        CallQualityTracker(QualityThresholds(window=2, hits=3))
