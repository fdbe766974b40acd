"""Contacts and the journey touchpoint each one is recorded as.

A contact's row and its touchpoint change together, in one transaction, so the journey
never disagrees with the contact it describes.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import and_, or_, select, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession

from contact_center.security import new_id
from contact_center.store.models import Contact, Touchpoint

OPEN_STATUSES = ("queued", "active")
CLOSED_STATUSES = ("ended", "abandoned", "offline")


@dataclass(slots=True)
class NewContact:
    visitor_id: str
    queue_id: str
    channel: str
    name: str
    email: str = ""
    topic: str = ""
    status: str = "queued"
    priority: int = 0
    stage: str = "unknown"
    stage_source: str = "inferred"
    page_url: str = ""
    page_title: str = ""
    referrer: str = ""
    utm_source: str = ""
    utm_medium: str = ""
    utm_campaign: str = ""


class ContactStore:
    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    async def create(self, new: NewContact, now: float) -> Contact:
        contact = Contact(
            id=new_id(),
            visitor_id=new.visitor_id,
            queue_id=new.queue_id,
            channel=new.channel,
            status=new.status,
            priority=new.priority,
            name=new.name,
            email=new.email,
            topic=new.topic,
            stage=new.stage,
            stage_source=new.stage_source,
            page_url=new.page_url,
            page_title=new.page_title,
            referrer=new.referrer,
            utm_source=new.utm_source,
            utm_medium=new.utm_medium,
            utm_campaign=new.utm_campaign,
            created_at=now,
            enqueued_at=now,
            ended_at=now if new.status == "offline" else None,
            ended_by="",
            disposition="",
            csat_comment="",
            visitor_read_seq=0,
            agent_read_seq=0,
            visitor_delivered_seq=0,
            agent_delivered_seq=0,
            data={},
        )
        touchpoint = Touchpoint(
            visitor_id=new.visitor_id,
            contact_id=contact.id,
            kind="offline_message" if new.status == "offline" else "contact",
            channel="offline" if new.status == "offline" else new.channel,
            stage=new.stage,
            stage_source=new.stage_source,
            url=new.page_url,
            title=new.page_title,
            referrer=new.referrer,
            utm_source=new.utm_source,
            utm_medium=new.utm_medium,
            utm_campaign=new.utm_campaign,
            started_at=now,
            ended_at=now if new.status == "offline" else None,
            queue_id=new.queue_id,
            outcome="offline" if new.status == "offline" else "",
        )
        async with AsyncSession(self._engine, expire_on_commit=False) as session:
            session.add(contact)
            session.add(touchpoint)
            await session.commit()
        return contact

    async def get(self, contact_id: str) -> Contact | None:
        async with AsyncSession(self._engine, expire_on_commit=False) as session:
            return await session.get(Contact, contact_id)

    async def many(self, contact_ids: Sequence[str]) -> list[Contact]:
        if not contact_ids:
            return []
        async with AsyncSession(self._engine, expire_on_commit=False) as session:
            stmt = select(Contact).where(Contact.id.in_(list(contact_ids)))
            return list((await session.scalars(stmt)).all())

    async def for_visitor(self, visitor_id: str, *, recent_closed_since: float) -> list[Contact]:
        """The visitor's open contacts, plus closed ones since ``recent_closed_since``
        (so a reloaded page still shows a just-ended chat and its rating prompt)."""
        async with AsyncSession(self._engine, expire_on_commit=False) as session:
            stmt = (
                select(Contact)
                .where(
                    Contact.visitor_id == visitor_id,
                    or_(
                        Contact.status.in_(OPEN_STATUSES),
                        and_(
                            Contact.status.in_(("ended", "abandoned")),
                            Contact.ended_at >= recent_closed_since,
                        ),
                    ),
                )
                .order_by(Contact.created_at)
            )
            return list((await session.scalars(stmt)).all())

    async def history_for_visitor(self, visitor_id: str, limit: int = 20) -> list[Contact]:
        async with AsyncSession(self._engine, expire_on_commit=False) as session:
            stmt = (
                select(Contact)
                .where(Contact.visitor_id == visitor_id)
                .order_by(Contact.created_at.desc())
                .limit(limit)
            )
            return list((await session.scalars(stmt)).all())

    async def active_for_agent(self, agent_id: str) -> list[Contact]:
        async with AsyncSession(self._engine, expire_on_commit=False) as session:
            stmt = (
                select(Contact)
                .where(Contact.agent_id == agent_id, Contact.status == "active")
                .order_by(Contact.answered_at)
            )
            return list((await session.scalars(stmt)).all())

    async def with_status(self, statuses: Sequence[str]) -> list[Contact]:
        async with AsyncSession(self._engine, expire_on_commit=False) as session:
            stmt = select(Contact).where(Contact.status.in_(list(statuses))).order_by(Contact.enqueued_at)
            return list((await session.scalars(stmt)).all())

    async def search(
        self,
        *,
        status: str | None = None,
        agent_id: str | None = None,
        visitor_id: str | None = None,
        limit: int = 100,
        before: float | None = None,
    ) -> list[Contact]:
        stmt = select(Contact).order_by(Contact.created_at.desc()).limit(limit)
        if status:
            stmt = stmt.where(Contact.status == status)
        if agent_id:
            stmt = stmt.where(Contact.agent_id == agent_id)
        if visitor_id:
            stmt = stmt.where(Contact.visitor_id == visitor_id)
        if before is not None:
            stmt = stmt.where(Contact.created_at < before)
        async with AsyncSession(self._engine, expire_on_commit=False) as session:
            return list((await session.scalars(stmt)).all())

    # ------------------------------------------------------------------ transitions
    # Each guards on the current status so a late or repeated transition is a no-op
    # and returns False.

    async def mark_assigned(self, contact_id: str, agent_id: str, at: float) -> bool:
        async with self._engine.begin() as conn:
            result = await conn.execute(
                update(Contact)
                .where(Contact.id == contact_id, Contact.status == "queued")
                .values(status="active", agent_id=agent_id, answered_at=at)
            )
            if not result.rowcount:
                return False
            contact = await _row(conn, contact_id)
            # The first answer fixes the touchpoint's wait; a transfer keeps it.
            await conn.execute(
                update(Touchpoint)
                .where(Touchpoint.contact_id == contact_id, Touchpoint.wait_s.is_(None))
                .values(wait_s=at - contact["enqueued_at"], outcome="answered")
            )
        return True

    async def mark_ended(self, contact_id: str, at: float, by: str, disposition: str = "") -> bool:
        async with self._engine.begin() as conn:
            result = await conn.execute(
                update(Contact)
                .where(Contact.id == contact_id, Contact.status == "active")
                .values(status="ended", ended_at=at, ended_by=by, disposition=disposition)
            )
            if not result.rowcount:
                return False
            contact = await _row(conn, contact_id)
            answered = contact["answered_at"] or at
            await conn.execute(
                update(Touchpoint)
                .where(Touchpoint.contact_id == contact_id)
                .values(ended_at=at, handle_s=at - answered, outcome=disposition or "answered")
            )
        return True

    async def mark_abandoned(self, contact_id: str, at: float) -> bool:
        async with self._engine.begin() as conn:
            result = await conn.execute(
                update(Contact)
                .where(Contact.id == contact_id, Contact.status == "queued")
                .values(status="abandoned", abandoned_at=at, ended_at=at, ended_by="visitor")
            )
            if not result.rowcount:
                return False
            contact = await _row(conn, contact_id)
            await conn.execute(
                update(Touchpoint)
                .where(Touchpoint.contact_id == contact_id)
                .values(ended_at=at, wait_s=at - contact["enqueued_at"], outcome="abandoned")
            )
        return True

    async def mark_offline(self, contact_id: str, at: float, reason: str) -> bool:
        """No agent could take a waiting contact (overflow to the offline form)."""
        async with self._engine.begin() as conn:
            result = await conn.execute(
                update(Contact)
                .where(Contact.id == contact_id, Contact.status == "queued")
                .values(status="offline", ended_at=at, ended_by="system", disposition=reason)
            )
            if not result.rowcount:
                return False
            contact = await _row(conn, contact_id)
            await conn.execute(
                update(Touchpoint)
                .where(Touchpoint.contact_id == contact_id)
                .values(ended_at=at, wait_s=at - contact["enqueued_at"], outcome="overflowed")
            )
        return True

    async def requeue(self, contact_id: str, queue_id: str | None) -> bool:
        """Back to waiting (transfer, or its agent vanished); keeps enqueued_at."""
        values: dict[str, Any] = {"status": "queued", "agent_id": None}
        if queue_id:
            values["queue_id"] = queue_id
        async with self._engine.begin() as conn:
            result = await conn.execute(
                update(Contact)
                .where(Contact.id == contact_id, Contact.status.in_(OPEN_STATUSES))
                .values(**values)
            )
            return bool(result.rowcount)

    async def move_queue(self, contact_id: str, queue_id: str) -> None:
        async with self._engine.begin() as conn:
            await conn.execute(update(Contact).where(Contact.id == contact_id).values(queue_id=queue_id))

    async def set_data(self, contact_id: str, **values: Any) -> None:
        async with self._engine.begin() as conn:
            contact = await _row(conn, contact_id)
            data = dict(contact["data"] or {})
            data.update(values)
            await conn.execute(update(Contact).where(Contact.id == contact_id).values(data=data))

    async def set_csat(self, contact_id: str, rating: int, comment: str) -> bool:
        async with self._engine.begin() as conn:
            result = await conn.execute(
                update(Contact)
                .where(Contact.id == contact_id, Contact.status.in_(("ended", "abandoned")))
                .values(csat=rating, csat_comment=comment)
            )
            if not result.rowcount:
                return False
            await conn.execute(
                update(Touchpoint).where(Touchpoint.contact_id == contact_id).values(csat=rating)
            )
        return True

    async def set_disposition(self, contact_id: str, disposition: str) -> None:
        async with self._engine.begin() as conn:
            await conn.execute(
                update(Contact).where(Contact.id == contact_id).values(disposition=disposition)
            )
            await conn.execute(
                update(Touchpoint).where(Touchpoint.contact_id == contact_id).values(outcome=disposition)
            )

    async def set_receipt(self, contact_id: str, column: str, seq: int) -> None:
        """Raise a receipt column (never lower it: receipts can arrive out of order)."""
        col = getattr(Contact, column)
        async with self._engine.begin() as conn:
            await conn.execute(
                update(Contact).where(Contact.id == contact_id, col < seq).values({column: seq})
            )


async def _row(conn: AsyncConnection, contact_id: str) -> Any:
    return (await conn.execute(select(Contact.__table__).where(Contact.id == contact_id))).mappings().one()
