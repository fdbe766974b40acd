"""Call quality: one-second client stats to a MOS score and warnings.

The server never sees the media, so quality comes from what each browser measures
(``RTCPeerConnection.getStats()``) and sends once a second as ``call.stats``.  We
turn that into a Mean Opinion Score with the simplified ITU-T G.107 E-model given in
DESIGN section 6, *exactly*:

    L   = RTT + 2 * jitter + 10 ms                       (effective latency)
    R   = 94.768 - L / 40            if L < 160
        = 94.768 - (L - 120) / 10    otherwise
    R   = max(R - 2.5 * loss%, 6.52)
    MOS = 1 + 0.035 R + 7e-6 R (R - 60) (100 - R)

so a perfect path (0 ms, 0 ms, 0 %) scores 4.433 and the floor R = 6.52 scores 1.0.

One bad second is noise; supervisors must not be paged for it.  So the RTT, jitter
and loss warnings fire only when the threshold is crossed in 3 of the last 5 samples,
and the MOS warning needs both the mean MOS of those samples (the smoothed MOS) under
3.5 and 3 of the 5 samples under it, so one catastrophic second among good ones
cannot trip it, and neither can a few barely-low seconds next to excellent ones.
Each party (caller, callee) is judged on its own window, because a bad uplink on one
side says nothing about the other.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from typing import Any, Literal

__all__ = [
    "WARNINGS",
    "CallQualityTracker",
    "QualityAlert",
    "QualityThresholds",
    "QualityWarning",
    "StatsSample",
    "effective_latency_ms",
    "mos",
    "mos_from_r",
    "r_factor",
]

QualityWarning = Literal["high_rtt", "high_jitter", "high_loss", "low_mos"]
WARNINGS: tuple[QualityWarning, ...] = ("high_rtt", "high_jitter", "high_loss", "low_mos")

R_FLOOR = 6.52


def effective_latency_ms(rtt_ms: float, jitter_ms: float) -> float:
    """L = RTT + 2 * jitter + 10 ms (the 10 ms stands for codec delay)."""
    return rtt_ms + 2.0 * jitter_ms + 10.0


def r_factor(rtt_ms: float, jitter_ms: float, loss_pct: float) -> float:
    """The E-model transmission rating R, floored at 6.52 (MOS 1.0)."""
    latency = effective_latency_ms(rtt_ms, jitter_ms)
    r = 94.768 - latency / 40.0 if latency < 160.0 else 94.768 - (latency - 120.0) / 10.0
    return max(r - 2.5 * loss_pct, R_FLOOR)


def mos_from_r(r: float) -> float:
    """MOS = 1 + 0.035 R + 7e-6 R (R - 60) (100 - R)."""
    return 1.0 + 0.035 * r + 7e-6 * r * (r - 60.0) * (100.0 - r)


def mos(rtt_ms: float, jitter_ms: float, loss_pct: float) -> float:
    """MOS for one sample: RTT and jitter in milliseconds, loss in percent (0-100)."""
    return mos_from_r(r_factor(rtt_ms, jitter_ms, loss_pct))


@dataclass(frozen=True, slots=True)
class StatsSample:
    """One second of a client's view of the call (``call.stats``).

    ``relayed`` says whether the selected ICE pair goes through TURN; ``codec`` is the
    audio codec's MIME type (``audio/opus``).  Both are optional: not every client
    reports them.
    """

    at: float
    rtt_ms: float
    jitter_ms: float
    loss_pct: float
    relayed: bool | None = None
    codec: str | None = None

    @property
    def mos(self) -> float:
        return mos(self.rtt_ms, self.jitter_ms, self.loss_pct)


@dataclass(frozen=True, slots=True)
class QualityThresholds:
    """When to warn.  Defaults are DESIGN section 6."""

    rtt_ms: float = 400.0
    jitter_ms: float = 30.0
    loss_pct: float = 1.0
    mos: float = 3.5
    # A threshold must be crossed in ``hits`` of the last ``window`` samples (for MOS,
    # the window's mean must be under it too).
    window: int = 5
    hits: int = 3


@dataclass(frozen=True, slots=True)
class QualityAlert:
    """A warning for one party started (``active``) or stopped.

    ``value`` is what tripped or cleared it: the worst RTT/jitter/loss in the window,
    or the smoothed MOS.
    """

    party_id: str
    warning: QualityWarning
    active: bool
    at: float
    value: float


class _PartyWindow:
    """The last few samples of one party and the warnings they currently raise."""

    __slots__ = ("active", "samples")

    def __init__(self, size: int) -> None:
        self.samples: deque[tuple[StatsSample, float]] = deque(maxlen=size)
        self.active: set[QualityWarning] = set()

    def smoothed_mos(self) -> float | None:
        if not self.samples:
            return None
        return sum(m for _, m in self.samples) / len(self.samples)


class CallQualityTracker:
    """Per-call, sans-I/O: feed samples, read the smoothed MOS, warnings and summary.

    ``ingest`` returns only *changes* (a warning raised or cleared) so the gateway can
    push alerts to supervisors without repeating them every second.
    """

    def __init__(self, thresholds: QualityThresholds | None = None) -> None:
        self.thresholds = thresholds or QualityThresholds()
        if not 1 <= self.thresholds.hits <= self.thresholds.window:
            raise ValueError("need 1 <= hits <= window")
        self._parties: dict[str, _PartyWindow] = {}
        self._count = 0
        self._mos_sum = 0.0
        self._mos_min: float | None = None
        self._rtt_max = 0.0
        self._jitter_sum = 0.0
        self._loss_sum = 0.0
        self._relayed: bool | None = None
        self._codecs: list[str] = []
        self._seen: set[QualityWarning] = set()

    # ------------------------------------------------------------------ input

    def ingest(self, sample: StatsSample, party_id: str = "") -> list[QualityAlert]:
        """Add one sample from ``party_id``; return the warnings that changed."""
        score = sample.mos
        self._count += 1
        self._mos_sum += score
        self._mos_min = score if self._mos_min is None else min(self._mos_min, score)
        self._rtt_max = max(self._rtt_max, sample.rtt_ms)
        self._jitter_sum += sample.jitter_ms
        self._loss_sum += sample.loss_pct
        if sample.relayed is not None:
            self._relayed = bool(self._relayed) or sample.relayed
        if sample.codec and sample.codec not in self._codecs:
            self._codecs.append(sample.codec)

        window = self._parties.get(party_id)
        if window is None:
            window = self._parties[party_id] = _PartyWindow(self.thresholds.window)
        window.samples.append((sample, score))
        return self._evaluate(party_id, window, sample.at)

    def _evaluate(self, party_id: str, window: _PartyWindow, at: float) -> list[QualityAlert]:
        t = self.thresholds
        samples = [s for s, _ in window.samples]
        checks: list[tuple[QualityWarning, bool, float]] = []
        metrics: tuple[tuple[QualityWarning, list[float], float], ...] = (
            ("high_rtt", [s.rtt_ms for s in samples], t.rtt_ms),
            ("high_jitter", [s.jitter_ms for s in samples], t.jitter_ms),
            ("high_loss", [s.loss_pct for s in samples], t.loss_pct),
        )
        for name, values, limit in metrics:
            hits = sum(1 for v in values if v > limit)
            checks.append((name, hits >= t.hits, max(values)))
        smoothed = window.smoothed_mos()
        assert smoothed is not None
        low_hits = sum(1 for _, score in window.samples if score < t.mos)
        checks.append(("low_mos", low_hits >= t.hits and smoothed < t.mos, smoothed))

        alerts = []
        for name, on, value in checks:
            if on and name not in window.active:
                window.active.add(name)
                self._seen.add(name)
                alerts.append(QualityAlert(party_id, name, True, at, value))
            elif not on and name in window.active:
                window.active.discard(name)
                alerts.append(QualityAlert(party_id, name, False, at, value))
        return alerts

    # ----------------------------------------------------------------- output

    def smoothed_mos(self, party_id: str | None = None) -> float | None:
        """Mean MOS over the party's window; without a party, the worst party's."""
        if party_id is not None:
            window = self._parties.get(party_id)
            return window.smoothed_mos() if window else None
        scores = [s for w in self._parties.values() if (s := w.smoothed_mos()) is not None]
        return min(scores) if scores else None

    def active_warnings(self) -> list[tuple[str, QualityWarning]]:
        """``(party_id, warning)`` pairs active now, sorted."""
        return sorted((p, w) for p, win in self._parties.items() for w in win.active)

    def current_warning(self, party_id: str | None = None) -> QualityWarning | None:
        """The most telling active warning (low_mos, then loss, jitter, RTT), for a
        one-word status on the supervisor's board; None when all is well."""
        active = {w for p, w in self.active_warnings() if party_id is None or p == party_id}
        for name in ("low_mos", "high_loss", "high_jitter", "high_rtt"):
            if name in active:
                return name
        return None

    @property
    def warnings_seen(self) -> frozenset[QualityWarning]:
        return frozenset(self._seen)

    def summary(self) -> dict[str, Any]:
        """What the touchpoint keeps about the call's quality.

        ``relayed`` is True if any sample reported a TURN-relayed path, False if
        samples reported only direct paths, None if none said.
        """
        n = self._count
        smoothed = self.smoothed_mos()
        return {
            "samples": n,
            "mos_mean": round(self._mos_sum / n, 3) if n else None,
            "mos_min": round(self._mos_min, 3) if self._mos_min is not None else None,
            "mos_smoothed": round(smoothed, 3) if smoothed is not None else None,
            "rtt_max_ms": round(self._rtt_max, 3) if n else None,
            "jitter_mean_ms": round(self._jitter_sum / n, 3) if n else None,
            "loss_mean_pct": round(self._loss_sum / n, 3) if n else None,
            "relayed": self._relayed,
            "codec": self._codecs[-1] if self._codecs else None,
            "codecs": list(self._codecs),
            "warnings_seen": sorted(self._seen),
        }
