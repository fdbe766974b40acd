"""Historical reports: contact records bucketed into 15-minute, hourly or daily
intervals, in the business's time zone, with the same KPIs as the live page.

The shell loads one :class:`ContactRecord` per contact (touchpoint) from SQL and calls
:func:`report`; everything here is pure.  Each record counts in the interval of its
``enqueued_at`` (the interval it arrived in, the usual convention for interval
reports: an interval's service level describes the contacts that arrived in it),
whereas the live aggregator counts each fact when it happens; the two agree on a
whole day except for contacts straddling midnight.

Intervals are local wall-clock intervals in ``tz``: "15min" and "hour" buckets start
at local quarter/whole hours; a day bucket runs from local midnight to the next, so
the day clocks change is 23 or 25 hours long, and the repeated hour of a fall-back
night gives two separate hour buckets (their ISO start times differ by offset).

Rows: without a cut, one row per interval in ``[start, end)``, empty intervals
included (so a chart has an unbroken axis); with a cut (``by``), one row per interval
and key that has contacts.  Cut by agent, a record counts for its answering agent;
unanswered records have no agent and are left out of that cut.

KPI values come from :meth:`dashboard.tally.Tally.kpis`, the implementation the live
page uses, so a formula cannot differ between the two.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, fields
from datetime import date, datetime, timedelta, tzinfo
from typing import Any, Literal, TypedDict

from dashboard import formulas
from dashboard.csv_cells import text_cell
from dashboard.lifecycle import journey_stage
from dashboard.tally import Tally

Interval = Literal["15min", "hour", "day"]
Cut = Literal["queue", "channel", "stage", "agent"]

_STEP_S: dict[str, int] = {"15min": 15 * 60, "hour": 3600}


@dataclass(frozen=True, slots=True)
class ContactRecord:
    """One contact as stored: times are Unix seconds; ``None`` for what did not happen.

    ``agent`` is the agent who answered; ``hold_s`` and ``wrap_up_s`` are totals for
    the contact; ``first_response_s`` the first agent message minus answer (chat)."""

    queue: str
    channel: str
    stage: str
    enqueued_at: float
    agent: str | None = None
    answered_at: float | None = None
    abandoned_at: float | None = None
    ended_at: float | None = None
    hold_s: float = 0.0
    wrap_up_s: float | None = None
    csat: int | None = None
    sl_target_s: float = 20.0
    first_response_s: float | None = None

    @classmethod
    def from_mapping(cls, row: Mapping[str, Any]) -> ContactRecord:
        """From a dict (e.g. a SQL row mapping); datetimes become Unix seconds,
        unknown keys are ignored, missing optional keys take their defaults."""
        names = {field.name for field in fields(cls)}
        values = {k: _seconds(v) for k, v in row.items() if k in names}
        if values.get("hold_s") is None:
            values.pop("hold_s", None)
        if values.get("sl_target_s") is None:
            values.pop("sl_target_s", None)
        return cls(**values)


def _seconds(value: Any) -> Any:
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise ValueError("naive datetime in a contact record; store aware UTC times")
        return value.timestamp()
    return value


def add_record(tally: Tally, record: ContactRecord) -> None:
    """Record one contact's facts in a tally (the report-side twin of the lifecycle)."""
    r = record
    tally.add_queued()
    if r.answered_at is not None:
        tally.add_answered(r.answered_at - r.enqueued_at, r.sl_target_s)
        if r.ended_at is not None:
            tally.add_handled(formulas.talk_time(r.answered_at, r.ended_at, r.hold_s), r.hold_s)
            if r.wrap_up_s is not None:
                tally.add_wrap_up(r.wrap_up_s)
        if r.first_response_s is not None:
            tally.add_first_response(r.first_response_s)
    elif r.abandoned_at is not None:
        tally.add_abandoned(r.abandoned_at - r.enqueued_at)
    else:
        tally.add_left()
    if r.csat is not None:
        tally.add_rating(r.csat)


# ------------------------------------------------------------------ intervals


def _day_start(day: date, tz: tzinfo) -> datetime:
    # fold=0 maps a skipped local midnight to the first instant that exists that day.
    return datetime.fromtimestamp(datetime(day.year, day.month, day.day, tzinfo=tz).timestamp(), tz)


def bucket_start(t: float, interval: Interval, tz: tzinfo) -> datetime:
    """The local start of the interval holding Unix time ``t``."""
    local = datetime.fromtimestamp(t, tz)
    if interval == "day":
        return _day_start(local.date(), tz)
    minute = local.minute - local.minute % 15 if interval == "15min" else 0
    # replace() keeps ``fold``, so the second 01:xx of a fall-back night stays second.
    return local.replace(minute=minute, second=0, microsecond=0)


def next_bucket(start: datetime, interval: Interval, tz: tzinfo) -> datetime:
    if interval == "day":
        return _day_start(start.date() + timedelta(days=1), tz)
    return datetime.fromtimestamp(start.timestamp() + _STEP_S[interval], tz)


def buckets(start: datetime, end: datetime, interval: Interval, tz: tzinfo) -> list[datetime]:
    """Interval starts covering ``[start, end)``; the first may begin before ``start``."""
    _require_aware(start, end)
    out: list[datetime] = []
    b = bucket_start(start.timestamp(), interval, tz)
    end_ts = end.timestamp()
    while b.timestamp() < end_ts:
        out.append(b)
        b = next_bucket(b, interval, tz)
    return out


def _require_aware(*moments: datetime) -> None:
    for moment in moments:
        if moment.tzinfo is None or moment.utcoffset() is None:
            raise ValueError("report range needs timezone-aware datetimes")


# ------------------------------------------------------------------ reports


class ReportRow(TypedDict):
    interval_start: str
    interval_end: str
    cut: str
    key: str
    queued: int
    answered: int
    answered_within_target: int
    abandoned: int
    short_abandons: int
    handled: int
    asa_s: float | None
    service_level: float | None
    abandonment_rate: float | None
    aht_s: float | None
    avg_talk_s: float | None
    avg_hold_s: float | None
    avg_wrap_up_s: float | None
    first_response_median_s: float | None
    first_response_p90_s: float | None
    ratings: int
    csat: float | None


COLUMNS: tuple[str, ...] = tuple(ReportRow.__annotations__)


def _key(record: ContactRecord, by: Cut | None) -> str | None:
    if by is None:
        return "all"
    if by == "queue":
        return record.queue
    if by == "channel":
        return record.channel
    if by == "stage":
        return journey_stage(record.stage)
    return record.agent


def report(
    records: Iterable[ContactRecord | Mapping[str, Any]],
    *,
    start: datetime,
    end: datetime,
    interval: Interval,
    tz: tzinfo,
    by: Cut | None = None,
) -> list[ReportRow]:
    """KPIs per interval (and per key of ``by``) for contacts enqueued in
    ``[start, end)``; see the module docstring for which rows appear."""
    starts = buckets(start, end, interval, tz)
    lo, hi = start.timestamp(), end.timestamp()
    tallies: dict[tuple[float, str], Tally] = {}
    for item in records:
        record = item if isinstance(item, ContactRecord) else ContactRecord.from_mapping(item)
        if not lo <= record.enqueued_at < hi:
            continue
        key = _key(record, by)
        if key is None:
            continue
        b = bucket_start(record.enqueued_at, interval, tz).timestamp()
        tally = tallies.get((b, key))
        if tally is None:
            tally = tallies[(b, key)] = Tally()
        add_record(tally, record)
    keys_by_bucket: dict[float, list[str]] = {}
    for b, key in tallies:
        keys_by_bucket.setdefault(b, []).append(key)
    rows: list[ReportRow] = []
    for b_start in starts:
        b_end = next_bucket(b_start, interval, tz)
        ts = b_start.timestamp()
        keys = sorted(keys_by_bucket.get(ts, ()))
        if by is None and not keys:
            keys = ["all"]
        for key in keys:
            tally = tallies.get((ts, key)) or Tally()
            rows.append(row(b_start, b_end, by or "all", key, tally))
    return rows


def row(b_start: datetime, b_end: datetime, cut: str, key: str, t: Tally) -> ReportRow:
    """One report row: a tally's figures for one interval and one cut."""
    k = t.kpis()
    return {
        "interval_start": b_start.isoformat(),
        "interval_end": b_end.isoformat(),
        "cut": cut,
        "key": key,
        "queued": t.queued,
        "answered": t.answered,
        "answered_within_target": t.answered_within_target,
        "abandoned": t.abandoned,
        "short_abandons": t.short_abandons,
        "handled": t.handled,
        "asa_s": k["asa_s"]["value"],
        "service_level": k["service_level"]["value"],
        "abandonment_rate": k["abandonment_rate"]["value"],
        "aht_s": k["aht_s"]["value"],
        "avg_talk_s": k["avg_talk_s"]["value"],
        "avg_hold_s": k["avg_hold_s"]["value"],
        "avg_wrap_up_s": k["avg_wrap_up_s"]["value"],
        "first_response_median_s": k["first_response_median_s"]["value"],
        "first_response_p90_s": k["first_response_p90_s"]["value"],
        "ratings": t.ratings,
        "csat": k["csat"]["value"],
    }


def to_csv(rows: Sequence[ReportRow] | Sequence[Mapping[str, Any]]) -> str:
    """Rows as CSV (RFC 4180, CRLF), columns in :data:`COLUMNS` order; ``None`` is an
    empty cell, floats are rounded to 6 decimals, and text that a spreadsheet would
    run as a formula is quoted (:mod:`dashboard.csv_cells`)."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(COLUMNS)
    for row in rows:
        writer.writerow([_cell(row.get(column)) for column in COLUMNS])
    return out.getvalue()


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return repr(round(value, 6))
    if isinstance(value, int):
        return str(value)
    # Keys (queue, agent, stage names) are text someone typed: never a formula.
    return text_cell(str(value))
