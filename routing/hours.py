"""Business hours: when a queue takes contacts, in the queue's own time zone.

A queue's week is a set of :class:`~routing.events.OpeningSpan` (weekday, "HH:MM"
opens, "HH:MM" closes) read as *wall-clock* times in ``BusinessHours.timezone``.  Each
span becomes a half-open interval ``[opens, closes)`` of Unix time, worked out day by
day through :mod:`zoneinfo`, so a 09:00 opening is 09:00 local on both sides of a
daylight-saving change (the UTC instant moves, the wall time does not).

Reading of the spans:

* ``closes`` may be ``"24:00"`` (midnight at the end of that day).
* ``closes`` earlier than ``opens`` means the span runs past midnight into the next
  day (``22:00``-``02:00``); ``closes == opens`` is an empty span.
* A wall time that does not exist (the hour skipped when clocks go forward) resolves
  the way :mod:`zoneinfo` resolves ``fold=0``: with the offset in force before the
  change, i.e. 02:30 on a spring-forward night means 03:30 summer time.  A repeated
  wall time (clocks go back) means its first occurrence.
* Touching or overlapping spans merge, so Monday 00:00-24:00 plus Tuesday
  00:00-24:00 is one interval and a schedule covering the whole week is "always open"
  (:func:`next_close` returns None).

* A day in ``closed_dates`` (a public holiday) opens no span, whatever its weekday;
  the Iranian week is simply a week whose Friday has no span.

``hours`` None (no schedule) means always open; a schedule with no spans never opens.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

from routing.events import BusinessHours, OpeningSpan

Interval = tuple[float, float]

_DAY = timedelta(days=1)
# Intervals are generated from the day before ``at`` (a span running past midnight may
# still be open) to this many days after it: one week plus slack for merged spans.
_DAYS_AHEAD = 9


@lru_cache(maxsize=64)
def _zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


def _minutes(hhmm: str) -> int:
    hours_s, _, minutes_s = hhmm.partition(":")
    value = int(hours_s) * 60 + int(minutes_s or 0)
    if not 0 <= value <= 24 * 60:
        raise ValueError(f"time of day out of range: {hhmm!r}")
    return value


def _instant(day: date, minutes: int, zone: ZoneInfo) -> float:
    """Unix time of wall-clock ``day`` + ``minutes`` in ``zone`` (24:00 is the next day)."""
    day = day + timedelta(days=minutes // (24 * 60))
    minutes %= 24 * 60
    wall = datetime.combine(day, time(minutes // 60, minutes % 60), tzinfo=zone)
    return wall.timestamp()


def _span_interval(day: date, span: OpeningSpan, zone: ZoneInfo) -> Interval | None:
    opens, closes = _minutes(span.opens), _minutes(span.closes)
    if closes == opens:
        return None
    if closes < opens:
        closes += 24 * 60
    start, end = _instant(day, opens, zone), _instant(day, closes, zone)
    return (start, end) if end > start else None


def intervals(hours: BusinessHours, at: float) -> list[Interval]:
    """Merged opening intervals from the day before ``at`` to ``_DAYS_AHEAD`` after."""
    zone = _zone(hours.timezone)
    first = datetime.fromtimestamp(at, zone).date() - _DAY
    raw: list[Interval] = []
    for offset in range(_DAYS_AHEAD + 2):
        day = first + timedelta(days=offset)
        if day in hours.closed_dates:
            continue
        weekday = day.weekday()
        for span in hours.spans:
            if span.weekday == weekday:
                interval = _span_interval(day, span, zone)
                if interval is not None:
                    raw.append(interval)
    raw.sort()
    merged: list[Interval] = []
    for start, end in raw:
        if merged and start <= merged[-1][1]:
            if end > merged[-1][1]:
                merged[-1] = (merged[-1][0], end)
        else:
            merged.append((start, end))
    return merged


def is_open(hours: BusinessHours | None, at: float) -> bool:
    """True when ``at`` falls inside an opening span."""
    if hours is None:
        return True
    return any(start <= at < end for start, end in intervals(hours, at))


def next_open(hours: BusinessHours | None, at: float) -> float | None:
    """``at`` itself when open, else the next opening instant; None if it never opens."""
    if hours is None:
        return at
    for start, end in intervals(hours, at):
        if start <= at < end:
            return at
        if start > at:
            return start
    return None


def next_close(hours: BusinessHours | None, at: float) -> float | None:
    """When the interval holding ``at`` ends; None if closed now or never closes."""
    if hours is None:
        return None
    merged = intervals(hours, at)
    for start, end in merged:
        if start <= at < end:
            # An interval longer than a week means every hour of the week is covered.
            if end - start > 7 * 86400:
                return None
            return end
    return None


def next_change(hours: BusinessHours | None, at: float) -> float | None:
    """The next instant the open/closed state changes after ``at`` (None: never)."""
    if hours is None:
        return None
    if is_open(hours, at):
        return next_close(hours, at)
    return next_open(hours, at)
