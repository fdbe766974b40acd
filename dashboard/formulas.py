"""The supervisor KPIs, defined once.

Every figure the live page and the historical reports show is computed here, so the
number on the wall board and the number in yesterday's CSV cannot drift apart.  The
live aggregator (:mod:`dashboard.aggregator`) and the reports (:mod:`dashboard.reports`)
both feed :class:`dashboard.tally.Tally`, whose ``kpis()`` calls these functions.

The rules (DESIGN.md section 6), made exact:

* a contact is answered *within T* when ``wait <= T`` (a wait of exactly T counts);
* an abandon is *short* when ``wait <= 5 s`` (exactly 5 s counts as short);
* ``talk = (ended_at - answered_at) - hold``, never negative;
* a rating is *good* when it is 4 or 5 on the 1-5 scale; other values are not ratings;
* an agent is *on contacts* while busy or in wrap-up, or while holding at least one
  contact in any state but offline; *available idle* while available with no contact.

The KPI shape
-------------
Each KPI is a JSON object ``{"value", "formula", "numerator", "denominator"}``:

* ratios and averages: ``value = numerator / denominator``, ``None`` when the
  denominator is 0 (shown as "-", never as 0 % or a division error);
* counts: ``value`` is the count, numerator and denominator are ``None``;
* quantiles: ``value`` is the quantile, ``numerator`` ``None``, ``denominator`` the
  number of samples;
* maxima (longest wait): ``value`` or ``None`` when there is nothing to measure.

``formula`` is the hover text.  :data:`LEGEND` repeats every formula with its unit
("count", "s", "ratio", "mos") so a page can render units without parsing names.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Final, Literal, TypedDict

SHORT_ABANDON_S: Final = 5.0
RATING_MIN: Final = 1
RATING_MAX: Final = 5
GOOD_RATING_MIN: Final = 4

AgentMode = Literal["on_contacts", "idle", "other"]
ON_CONTACT_STATES: Final = frozenset({"busy", "wrap_up"})


class Kpi(TypedDict):
    value: float | None
    formula: str
    numerator: float | None
    denominator: float | None


class LegendEntry(TypedDict):
    formula: str
    unit: str


# name -> (formula, unit).  Order is the order the page shows them in.
_DEFINITIONS: Final[dict[str, tuple[str, str]]] = {
    "contacts_waiting": ("count of contacts waiting now", "count"),
    "longest_wait_s": ("now - earliest enqueued_at among contacts waiting", "s"),
    "queued": ("contacts queued (a contact counts once per queue it enters)", "count"),
    "answered": ("contacts answered by an agent", "count"),
    "asa_s": ("sum(answered_at - enqueued_at) / answered", "s"),
    "service_level": (
        "answered within T / (answered + abandoned - abandoned within 5 s); "
        "within T means wait <= T, T per queue",
        "ratio",
    ),
    "abandoned": ("contacts that left before an agent answered", "count"),
    "short_abandons": ("abandoned with wait <= 5 s", "count"),
    "abandonment_rate": ("abandoned / queued", "ratio"),
    "handled": ("contacts whose talk ended (ContactEnded or transfer)", "count"),
    "aht_s": ("(talk + hold + wrap-up) / handled", "s"),
    "avg_talk_s": ("sum(answered -> ended - hold) / handled", "s"),
    "avg_hold_s": ("sum(hold) / handled", "s"),
    "avg_wrap_up_s": ("sum(ended -> WrapUpEnded) / handled", "s"),
    "first_response_median_s": ("median(first agent message - answered_at)", "s"),
    "first_response_p90_s": ("p90(first agent message - answered_at)", "s"),
    "offers_accepted": ("offers accepted", "count"),
    "offers_declined": ("offers declined", "count"),
    "offers_expired": ("offers expired", "count"),
    "answer_rate": ("offers accepted / (accepted + declined + expired)", "ratio"),
    "avg_acceptance_s": ("sum(accepted_at - offered_at) / offers accepted", "s"),
    "csat": ("ratings of 4-5 / all ratings (1-5)", "ratio"),
    "mean_mos": ("sum(MOS samples) / samples", "mos"),
    "quality_warnings": ("call-quality warnings raised (one per onset)", "count"),
    "occupancy": (
        "time on contacts / (time on contacts + available idle time)",
        "ratio",
    ),
    "slot_occupancy": (
        "integral(active contacts dt) / integral(slots dt) while on contacts or idle",
        "ratio",
    ),
}

FORMULAS: Final[dict[str, str]] = {name: f for name, (f, _) in _DEFINITIONS.items()}
LEGEND: Final[dict[str, LegendEntry]] = {
    name: {"formula": f, "unit": unit} for name, (f, unit) in _DEFINITIONS.items()
}


# --------------------------------------------------------------------- the rules


def within_target(wait_s: float, target_s: float) -> bool:
    """Answered within the service-level target: ``wait <= T`` (the edge counts)."""
    return wait_s <= target_s


def is_short_abandon(wait_s: float) -> bool:
    """Abandoned so quickly it says nothing about service: ``wait <= 5 s``."""
    return wait_s <= SHORT_ABANDON_S


def talk_time(answered_at: float, ended_at: float, hold_s: float) -> float:
    """Talk is the answered -> ended span less the time on hold."""
    return max(0.0, ended_at - answered_at - hold_s)


def is_rating(rating: int) -> bool:
    return RATING_MIN <= rating <= RATING_MAX


def is_good_rating(rating: int) -> bool:
    return rating >= GOOD_RATING_MIN


def agent_mode(state: str | None, active: int) -> AgentMode:
    """Which occupancy bucket an agent's time falls in (see the module docstring).

    A chat agent with one of three chats open stays "available" to the router yet is
    working, so load counts as much as state.  Away with no contact and offline (or a
    state never reported) count for neither side of the ratio.
    """
    if state is None or state == "offline":
        return "other"
    if state in ON_CONTACT_STATES or active > 0:
        return "on_contacts"
    if state == "available":
        return "idle"
    return "other"


def quantile(sorted_values: Sequence[float], q: float) -> float | None:
    """The q-quantile by linear interpolation between closest ranks (numpy's default,
    ``statistics.quantiles(method="inclusive")``): position ``h = (n - 1) * q``."""
    n = len(sorted_values)
    if n == 0:
        return None
    h = (n - 1) * q
    lo = math.floor(h)
    hi = min(lo + 1, n - 1)
    return sorted_values[lo] + (h - lo) * (sorted_values[hi] - sorted_values[lo])


# ------------------------------------------------------------ KPI constructors


def ratio(name: str, numerator: float, denominator: float) -> Kpi:
    """A ratio or an average; ``None`` when there is nothing to divide by."""
    value = numerator / denominator if denominator else None
    return {
        "value": value,
        "formula": FORMULAS[name],
        "numerator": numerator,
        "denominator": denominator,
    }


def count(name: str, n: float) -> Kpi:
    return {"value": n, "formula": FORMULAS[name], "numerator": None, "denominator": None}


def measure(name: str, value: float | None, samples: int | None = None) -> Kpi:
    """A value that is not a ratio: a quantile (with its sample count) or a maximum."""
    return {
        "value": value,
        "formula": FORMULAS[name],
        "numerator": None,
        "denominator": samples,
    }
