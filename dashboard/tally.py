"""Running sums behind the contact KPIs, for one cut (all, a queue, a channel, a
stage, an agent, or one report interval).

A tally only ever adds: each method records one fact (a contact answered after a
wait, an abandon, a talk that ended...), so updating it is O(1) and a KPI is a
division at read time.  The live aggregator keeps one tally per cut and the reports
one per (interval, cut); both read the figures through :meth:`Tally.kpis`, which is
where :mod:`dashboard.formulas` is applied.  One tally class, one set of formulas:
the live page and the CSV agree by construction.
"""

from __future__ import annotations

from typing import Literal

from dashboard import formulas as f
from dashboard.formulas import Kpi
from dashboard.quantiles import QuantileSketch

OfferOutcome = Literal["accepted", "declined", "expired"]

# KPIs that describe a queue's service rather than an agent's work: they make no sense
# cut by agent (an abandon has no agent) and are left out of ``by_agent``.
QUEUE_ONLY = frozenset({"queued", "service_level", "abandoned", "short_abandons", "abandonment_rate"})


class Tally:
    __slots__ = (
        "abandoned",
        "acceptance_s",
        "answered",
        "answered_within_target",
        "first_response",
        "good_ratings",
        "handled",
        "hold_s",
        "left",
        "mos_samples",
        "mos_sum",
        "offers_accepted",
        "offers_declined",
        "offers_expired",
        "offers_made",
        "quality_warnings",
        "queued",
        "ratings",
        "short_abandons",
        "talk_s",
        "wait_s",
        "wrap_up_s",
        "wrap_ups",
    )

    def __init__(self) -> None:
        self.queued = 0
        self.answered = 0
        self.answered_within_target = 0
        self.wait_s = 0.0  # sum of waits of answered contacts (ASA numerator)
        self.abandoned = 0
        self.short_abandons = 0
        self.left = 0  # left the queue otherwise: overflowed, transferred, closed
        self.handled = 0
        self.talk_s = 0.0
        self.hold_s = 0.0
        self.wrap_up_s = 0.0
        self.wrap_ups = 0
        self.first_response = QuantileSketch()
        self.offers_made = 0
        self.offers_accepted = 0
        self.offers_declined = 0
        self.offers_expired = 0
        self.acceptance_s = 0.0
        self.ratings = 0
        self.good_ratings = 0
        self.mos_sum = 0.0
        self.mos_samples = 0
        self.quality_warnings = 0

    # ---------------------------------------------------------------- facts in

    def add_queued(self) -> None:
        self.queued += 1

    def add_answered(self, wait_s: float, target_s: float) -> None:
        self.answered += 1
        self.wait_s += wait_s
        if f.within_target(wait_s, target_s):
            self.answered_within_target += 1

    def add_abandoned(self, wait_s: float) -> None:
        self.abandoned += 1
        if f.is_short_abandon(wait_s):
            self.short_abandons += 1

    def add_left(self) -> None:
        self.left += 1

    def add_handled(self, talk_s: float, hold_s: float) -> None:
        self.handled += 1
        self.talk_s += talk_s
        self.hold_s += hold_s

    def add_wrap_up(self, wrap_up_s: float) -> None:
        self.wrap_ups += 1
        self.wrap_up_s += wrap_up_s

    def add_first_response(self, seconds: float) -> None:
        self.first_response.add(seconds)

    def add_offer_made(self) -> None:
        self.offers_made += 1

    def add_offer(self, outcome: OfferOutcome, acceptance_s: float | None) -> None:
        if outcome == "accepted":
            self.offers_accepted += 1
            self.acceptance_s += acceptance_s or 0.0
        elif outcome == "declined":
            self.offers_declined += 1
        else:
            self.offers_expired += 1

    def add_rating(self, rating: int) -> None:
        if not f.is_rating(rating):
            return
        self.ratings += 1
        if f.is_good_rating(rating):
            self.good_ratings += 1

    def add_quality(self, mos: float, warning_raised: bool) -> None:
        self.mos_sum += mos
        self.mos_samples += 1
        if warning_raised:
            self.quality_warnings += 1

    # ---------------------------------------------------------------- KPIs out

    def kpis(self, *, queue_figures: bool = True) -> dict[str, Kpi]:
        """Every contact KPI of this cut; ``queue_figures=False`` drops the ones in
        :data:`QUEUE_ONLY` (for an agent's row)."""
        offers = self.offers_accepted + self.offers_declined + self.offers_expired
        fr = self.first_response
        out: dict[str, Kpi] = {}
        if queue_figures:
            out["queued"] = f.count("queued", self.queued)
        out["answered"] = f.count("answered", self.answered)
        out["asa_s"] = f.ratio("asa_s", self.wait_s, self.answered)
        if queue_figures:
            out["service_level"] = f.ratio(
                "service_level",
                self.answered_within_target,
                self.answered + self.abandoned - self.short_abandons,
            )
            out["abandoned"] = f.count("abandoned", self.abandoned)
            out["short_abandons"] = f.count("short_abandons", self.short_abandons)
            out["abandonment_rate"] = f.ratio("abandonment_rate", self.abandoned, self.queued)
        out["handled"] = f.count("handled", self.handled)
        out["aht_s"] = f.ratio("aht_s", self.talk_s + self.hold_s + self.wrap_up_s, self.handled)
        out["avg_talk_s"] = f.ratio("avg_talk_s", self.talk_s, self.handled)
        out["avg_hold_s"] = f.ratio("avg_hold_s", self.hold_s, self.handled)
        out["avg_wrap_up_s"] = f.ratio("avg_wrap_up_s", self.wrap_up_s, self.handled)
        out["first_response_median_s"] = f.measure("first_response_median_s", fr.quantile(0.5), fr.count)
        out["first_response_p90_s"] = f.measure("first_response_p90_s", fr.quantile(0.9), fr.count)
        out["offers_accepted"] = f.count("offers_accepted", self.offers_accepted)
        out["offers_declined"] = f.count("offers_declined", self.offers_declined)
        out["offers_expired"] = f.count("offers_expired", self.offers_expired)
        out["answer_rate"] = f.ratio("answer_rate", self.offers_accepted, offers)
        out["avg_acceptance_s"] = f.ratio("avg_acceptance_s", self.acceptance_s, self.offers_accepted)
        out["csat"] = f.ratio("csat", self.good_ratings, self.ratings)
        out["mean_mos"] = f.ratio("mean_mos", self.mos_sum, self.mos_samples)
        out["quality_warnings"] = f.count("quality_warnings", self.quality_warnings)
        return out
