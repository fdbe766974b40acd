"""Visitors: browsers known by the id in their signed token."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncEngine

from contact_center.store.models import Visitor


class VisitorStore:
    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine
        self._insert = postgresql.insert if engine.dialect.name == "postgresql" else sqlite.insert

    async def touch(self, visitor_id: str, now: float, page: dict[str, str] | None = None) -> None:
        """Record that the visitor is here.  The first call stores the first-touch
        source; later calls never overwrite it (insert-or-ignore, then only
        ``last_seen_at`` moves)."""
        page = page or {}
        first = {
            "id": visitor_id,
            "created_at": now,
            "last_seen_at": now,
            "first_referrer": page.get("referrer", ""),
            "first_landing_url": page.get("url", ""),
            "first_utm_source": page.get("utm_source", ""),
            "first_utm_medium": page.get("utm_medium", ""),
            "first_utm_campaign": page.get("utm_campaign", ""),
            "first_utm_term": page.get("utm_term", ""),
            "first_utm_content": page.get("utm_content", ""),
        }
        async with self._engine.begin() as conn:
            result = await conn.execute(self._insert(Visitor).values(first).on_conflict_do_nothing())
            if not result.rowcount:
                await conn.execute(update(Visitor).where(Visitor.id == visitor_id).values(last_seen_at=now))

    async def seen(self, visitor_id: str, now: float) -> None:
        """Move ``last_seen_at`` of a known visitor.  It never creates the row: the
        first page view (or contact) does, with the source that brought the visitor."""
        async with self._engine.begin() as conn:
            await conn.execute(update(Visitor).where(Visitor.id == visitor_id).values(last_seen_at=now))

    async def set_contact_details(self, visitor_id: str, name: str, email: str) -> None:
        values: dict[str, Any] = {"name": name}
        if email:
            values["email"] = email
        async with self._engine.begin() as conn:
            await conn.execute(update(Visitor).where(Visitor.id == visitor_id).values(**values))

    async def get(self, visitor_id: str) -> dict[str, Any] | None:
        async with self._engine.connect() as conn:
            row = (
                (await conn.execute(select(Visitor.__table__).where(Visitor.id == visitor_id)))
                .mappings()
                .first()
            )
        return dict(row) if row is not None else None
