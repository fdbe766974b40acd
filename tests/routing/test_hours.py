"""Business hours, including daylight-saving changes."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from routing.events import BusinessHours, OpeningSpan
from routing.hours import is_open, next_change, next_close, next_open

NY = ZoneInfo("America/New_York")
LONDON = ZoneInfo("Europe/London")


def ts(zone: ZoneInfo, *fields: int, fold: int = 0) -> float:
    return datetime(*fields, tzinfo=zone, fold=fold).timestamp()  # type: ignore[misc]


def every_day(tz: str, opens: str, closes: str) -> BusinessHours:
    return BusinessHours(tz, tuple(OpeningSpan(d, opens, closes) for d in range(7)))


def test_no_schedule_is_always_open() -> None:
    assert is_open(None, 0.0)
    assert next_open(None, 123.0) == 123.0
    assert next_close(None, 123.0) is None
    assert next_change(None, 123.0) is None


def test_empty_schedule_never_opens() -> None:
    hours = BusinessHours("UTC", ())
    assert not is_open(hours, 0.0)
    assert next_open(hours, 0.0) is None


def test_weekday_hours_and_weekend() -> None:
    hours = BusinessHours("Europe/London", tuple(OpeningSpan(d, "09:00", "17:30") for d in range(5)))
    friday_noon = ts(LONDON, 2024, 1, 5, 12, 0)
    assert is_open(hours, friday_noon)
    assert next_open(hours, friday_noon) == friday_noon
    assert next_close(hours, friday_noon) == ts(LONDON, 2024, 1, 5, 17, 30)
    friday_close = ts(LONDON, 2024, 1, 5, 17, 30)
    assert not is_open(hours, friday_close)  # half-open: closed at closing time
    assert next_open(hours, friday_close) == ts(LONDON, 2024, 1, 8, 9, 0)  # Monday
    assert is_open(hours, ts(LONDON, 2024, 1, 8, 9, 0))


def test_opening_stays_at_local_time_across_spring_forward() -> None:
    hours = every_day("America/New_York", "09:00", "17:00")
    # 2024-03-10: clocks go from 02:00 EST to 03:00 EDT.
    saturday_9 = ts(NY, 2024, 3, 9, 9, 0)
    sunday_9 = ts(NY, 2024, 3, 10, 9, 0)
    assert saturday_9 == datetime(2024, 3, 9, 14, 0, tzinfo=ZoneInfo("UTC")).timestamp()
    assert sunday_9 == datetime(2024, 3, 10, 13, 0, tzinfo=ZoneInfo("UTC")).timestamp()
    assert next_open(hours, ts(NY, 2024, 3, 9, 18, 0)) == sunday_9
    assert sunday_9 - saturday_9 == 23 * 3600  # a short night
    assert not is_open(hours, sunday_9 - 1)
    assert is_open(hours, sunday_9)


def test_fall_back_day_is_an_hour_longer() -> None:
    hours = every_day("America/New_York", "00:00", "03:00")
    # 2024-11-03: 01:00-02:00 happens twice, so 00:00-03:00 lasts four hours.
    start = ts(NY, 2024, 11, 3, 0, 0)
    assert next_close(hours, start) == start + 4 * 3600
    second_one_thirty = ts(NY, 2024, 11, 3, 1, 30, fold=1)
    assert is_open(hours, second_one_thirty)


def test_skipped_wall_time_opens_when_clocks_reach_it() -> None:
    # 02:30 does not exist on 2024-03-10 in New York; it is read with the offset in
    # force before the change (EST), which is 03:30 EDT.
    hours = BusinessHours("America/New_York", (OpeningSpan(6, "02:30", "05:00"),))
    opens = next_open(hours, ts(NY, 2024, 3, 10, 0, 0))
    assert opens == ts(NY, 2024, 3, 10, 3, 30)


def test_overnight_and_midnight_spans() -> None:
    hours = BusinessHours("UTC", (OpeningSpan(0, "22:00", "02:00"), OpeningSpan(1, "12:00", "24:00")))
    utc = ZoneInfo("UTC")
    monday_23 = ts(utc, 2024, 1, 1, 23, 0)
    assert is_open(hours, monday_23)
    assert next_close(hours, monday_23) == ts(utc, 2024, 1, 2, 2, 0)
    tuesday_23 = ts(utc, 2024, 1, 2, 23, 0)
    assert next_close(hours, tuesday_23) == ts(utc, 2024, 1, 3, 0, 0)


def test_touching_spans_merge_and_a_full_week_never_closes() -> None:
    hours = every_day("Europe/London", "00:00", "24:00")
    at = ts(LONDON, 2024, 3, 31, 1, 30)  # inside the UK spring-forward gap
    assert is_open(hours, at)
    assert next_close(hours, at) is None
    assert next_change(hours, at) is None
    two_days = BusinessHours("UTC", (OpeningSpan(0, "00:00", "24:00"), OpeningSpan(1, "00:00", "12:00")))
    monday = ts(ZoneInfo("UTC"), 2024, 1, 1, 10, 0)
    assert next_close(two_days, monday) == ts(ZoneInfo("UTC"), 2024, 1, 2, 12, 0)


def test_next_change_alternates() -> None:
    hours = every_day("UTC", "09:00", "17:00")
    at = ts(ZoneInfo("UTC"), 2024, 1, 1, 8, 0)
    first = next_change(hours, at)
    assert first == ts(ZoneInfo("UTC"), 2024, 1, 1, 9, 0)
    assert first is not None
    assert next_change(hours, first) == ts(ZoneInfo("UTC"), 2024, 1, 1, 17, 0)


def test_the_iranian_week_closes_on_friday_and_on_holidays() -> None:
    """Saturday to Thursday 09:00-17:00 in Tehran, Friday closed (no span), and Nowruz
    (1 Farvardin 1404 = 21 March 2025, a Friday) plus 2 Farvardin (a Saturday) closed as
    public holidays, given in the Jalali calendar."""
    from contact_center.routing_config import business_hours
    from routing.events import QueueConfig, QueueUpserted, event_from_dict, event_to_dict
    from routing.hours import is_open, next_open

    tehran = ZoneInfo("Asia/Tehran")
    week = [
        {"weekday": day, "opens": "09:00", "closes": "17:00"}
        for day in ("sat", "sun", "mon", "tue", "wed", "thu")
    ]
    hours = business_hours(
        {
            "timezone": "Asia/Tehran",
            "spans": week,
            "holidays": ["1404-01-01", "1404/01/02"],
            "holiday_calendar": "persian",
        }
    )
    assert hours is not None

    def at(*parts: int) -> float:
        return datetime(*parts, tzinfo=tehran).timestamp()

    assert not is_open(hours, at(2025, 3, 28, 10))  # a Friday
    assert is_open(hours, at(2025, 3, 27, 10))  # Thursday
    assert not is_open(hours, at(2025, 3, 22, 10))  # Saturday, 2 Farvardin: a holiday
    assert next_open(hours, at(2025, 3, 21, 10)) == at(2025, 3, 23, 9)  # Nowruz -> Sunday
    assert next_open(hours, at(2025, 3, 27, 18)) == at(2025, 3, 29, 9)  # Thursday night -> Saturday
    # The holidays survive the router's event log.
    event = QueueUpserted(at=0.0, queue=QueueConfig(queue_id="q", hours=hours))
    assert event_from_dict(event_to_dict(event)) == event
