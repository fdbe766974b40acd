"""Conversions reported by sites (``POST /api/journey/events``).

A conversion is stored as a touchpoint of kind ``conversion`` on the visitor's journey:
``outcome`` is the event's name (``purchase_completed``), ``value`` its value, ``stage``
the stage the site says it belongs to (default purchase; ``stage_source`` "declared"),
``data`` the site, event id, currency and the site's extra fields.  With an event id,
``dedupe_key`` = "<site id>:<event id>" is unique, so a retried report is stored once.

The visitor row is not created here: the first-touch source is only ever taken from a
page the visitor saw, never from a conversion that happened to arrive first.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncEngine

from contact_center.journey.schemas import JourneyEventIn
from contact_center.store.models import Site, Touchpoint

MAX_AGE_S = 30 * 86400.0
MAX_AHEAD_S = 300.0


class InvalidEvent(ValueError):
    pass


class ConversionRecorder:
    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine
        self._insert = postgresql.insert if engine.dialect.name == "postgresql" else sqlite.insert

    async def record(
        self, site: Site, event: JourneyEventIn, visitor_id: str, now: float
    ) -> tuple[int, bool]:
        """Store the conversion; (touchpoint id, whether it was a repeat of one stored)."""
        at = now if event.occurred_at is None else event.occurred_at
        if not now - MAX_AGE_S <= at <= now + MAX_AHEAD_S:
            raise InvalidEvent("occurred_at must be within the last 30 days")
        data: dict[str, Any] = {"site": site.id, **event.data}
        if event.event_id:
            data["event_id"] = event.event_id
        if event.currency:
            data["currency"] = event.currency
        dedupe = f"{site.id}:{event.event_id}" if event.event_id else None
        row = {
            "visitor_id": visitor_id,
            "contact_id": None,
            "kind": "conversion",
            "channel": event.channel,
            "stage": event.stage,
            "stage_source": "declared",
            "url": event.url,
            "title": event.title,
            "referrer": "",
            "utm_source": "",
            "utm_medium": "",
            "utm_campaign": "",
            "started_at": at,
            "ended_at": at,
            "queue_id": "",
            "outcome": event.event,
            "value": event.value,
            "data": data,
            "dedupe_key": dedupe,
        }
        async with self._engine.begin() as conn:
            inserted = await conn.scalar(
                self._insert(Touchpoint).values(row).on_conflict_do_nothing().returning(Touchpoint.id)
            )
            if inserted is not None:
                return int(inserted), False
            existing = await conn.scalar(select(Touchpoint.id).where(Touchpoint.dedupe_key == dedupe))
        if existing is None:  # pragma: no cover - a conflict without a dedupe key cannot happen
            raise InvalidEvent("the event could not be stored")
        return int(existing), True
