"""Database rows -> the routing engine's configuration events."""

from __future__ import annotations

from datetime import date
from typing import Any

import jdatetime

from contact_center.store.models import Queue, User
from routing.events import AgentUpserted, BusinessHours, OpeningSpan, QueueConfig, QueueUpserted

# Weekday names a schedule may use instead of numbers (0 is Monday, as in Python).
WEEKDAYS = {
    "mon": 0, "monday": 0, "tue": 1, "tuesday": 1, "wed": 2, "wednesday": 2, "thu": 3, "thursday": 3,
    "fri": 4, "friday": 4, "sat": 5, "saturday": 5, "sun": 6, "sunday": 6,
}  # fmt: skip


def weekday_number(value: int | str) -> int:
    """0-6, from a number or a day's English name ("sat", "Saturday")."""
    if isinstance(value, int):
        if not 0 <= value <= 6:
            raise ValueError(f"weekday out of range: {value}")
        return value
    number = WEEKDAYS.get(str(value).strip().lower())
    if number is None:
        raise ValueError(f"unknown weekday {value!r}")
    return number


def holiday_date(text: str, calendar: str = "gregorian") -> date:
    """A holiday as a Gregorian day: "2025-03-21", or "1404-01-01" in the Jalali
    (persian) calendar, converted with jdatetime."""
    year, month, day = (int(part) for part in text.strip().replace("/", "-").split("-"))
    if calendar == "persian":
        gregorian: date = jdatetime.date(year, month, day).togregorian()
        return gregorian
    return date(year, month, day)


def business_hours(raw: dict[str, Any] | None) -> BusinessHours | None:
    if not raw:
        return None
    calendar = str(raw.get("holiday_calendar") or "gregorian")
    return BusinessHours(
        timezone=str(raw.get("timezone", "UTC")),
        spans=tuple(
            OpeningSpan(weekday_number(s["weekday"]), str(s["opens"]), str(s["closes"]))
            for s in raw.get("spans", ())
        ),
        closed_dates=frozenset(holiday_date(d, calendar) for d in raw.get("holidays", ())),
    )


def queue_config(queue: Queue) -> QueueConfig:
    return QueueConfig(
        queue_id=queue.id,
        strategy=queue.strategy,  # type: ignore[arg-type]
        sl_target_s=queue.sl_target_s,
        offer_timeout_s=queue.offer_timeout_s,
        max_wait_s=queue.max_wait_s,
        overflow_to=queue.overflow_to,
        ageing_s=queue.ageing_s,
        wrap_up_s=queue.wrap_up_s,
        hours=business_hours(queue.hours),
        skills=tuple(queue.skills or ()),
    )


def queue_upserted(queue: Queue, at: float) -> QueueUpserted:
    return QueueUpserted(at=at, queue=queue_config(queue))


def agent_upserted(user: User, at: float) -> AgentUpserted:
    return AgentUpserted(
        at=at,
        agent_id=user.id,
        skills={str(k): int(v) for k, v in (user.skills or {}).items()},
        languages=tuple(user.languages or ()),
        capacity={str(k): int(v) for k, v in (user.capacity or {}).items()},
        queues=tuple(user.queues or ()),
    )
