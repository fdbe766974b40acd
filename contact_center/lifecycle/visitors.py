"""One visitor's data, exported on request (everything held, as JSON) or erased.

Erasure keeps the figures and drops the person: the transcripts are deleted, every
text the visitor typed or brought (name, e-mail, topic, pages, referrers, UTM values,
rating comment) is blanked, and what is left (contact times, queue, channel, stage,
outcome, journey touchpoints without their URLs, call timings) is moved to a fresh
random visitor id that nothing links back to.  The browser's token still names the old
id, which now has nothing: if it comes back it starts as a new visitor.  A visitor with
a conversation still open is refused (end it first), so no live socket writes into
rows being erased.
"""

from __future__ import annotations

import time
from typing import Any

from sqlalchemy import delete, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from contact_center.lifecycle.retention import first_replies_of
from contact_center.security import new_id
from contact_center.store.models import (
    CallRecord,
    Contact,
    ConversationEvent,
    Customer,
    JourneyVisitorDay,
    Touchpoint,
    Visitor,
)

OPEN = ("queued", "active")
EXPORT_FORMAT = 1


class VisitorNotFound(Exception):
    pass


class VisitorBusy(Exception):
    """The visitor has a conversation that is still open."""


def _row(row: Any) -> dict[str, Any]:
    return dict(row._mapping)


async def _select(conn: AsyncConnection, stmt: Any) -> list[dict[str, Any]]:
    return [_row(r) for r in (await conn.execute(stmt)).all()]


async def export_visitor(engine: AsyncEngine, visitor_id: str) -> dict[str, Any]:
    """Everything held about one visitor."""
    async with engine.connect() as conn:
        visitor = (await conn.execute(select(Visitor.__table__).where(Visitor.id == visitor_id))).first()
        contacts = await _select(
            conn,
            select(Contact.__table__).where(Contact.visitor_id == visitor_id).order_by(Contact.created_at),
        )
        if visitor is None and not contacts:
            raise VisitorNotFound(visitor_id)
        ids = [c["id"] for c in contacts]
        events = await _select(
            conn,
            select(ConversationEvent.__table__)
            .where(ConversationEvent.contact_id.in_(ids))
            .order_by(ConversationEvent.contact_id, ConversationEvent.seq),
        )
        touchpoints = await _select(
            conn,
            select(Touchpoint.__table__)
            .where(Touchpoint.visitor_id == visitor_id)
            .order_by(Touchpoint.started_at, Touchpoint.id),
        )
        calls = await _select(
            conn,
            select(CallRecord.__table__)
            .where(CallRecord.visitor_id == visitor_id)
            .order_by(CallRecord.invited_at),
        )
        # The site's id for the person, when the visitor is a verified customer.
        customers = await _select(conn, select(Customer.__table__).where(Customer.visitor_id == visitor_id))
    by_contact: dict[str, list[dict[str, Any]]] = {}
    for event in events:
        event.pop("id", None)
        by_contact.setdefault(event["contact_id"], []).append(event)
    for contact in contacts:
        contact["transcript"] = by_contact.get(contact["id"], [])
    return {
        "format": EXPORT_FORMAT,
        "exported_at": time.time(),
        "visitor_id": visitor_id,
        "visitor": _row(visitor) if visitor is not None else None,
        "contacts": contacts,
        "touchpoints": touchpoints,
        "calls": calls,
        "customers": customers,
    }


async def erase_visitor(engine: AsyncEngine, visitor_id: str) -> dict[str, int | str]:
    """Erase one visitor (see the module docstring).  Returns what was changed."""
    now = time.time()
    async with engine.begin() as conn:
        visitor = (await conn.execute(select(Visitor.id).where(Visitor.id == visitor_id))).first()
        contact_rows = (
            await conn.execute(select(Contact.id, Contact.status).where(Contact.visitor_id == visitor_id))
        ).all()
        if visitor is None and not contact_rows:
            raise VisitorNotFound(visitor_id)
        if any(row.status in OPEN for row in contact_rows):
            raise VisitorBusy(visitor_id)
        ids = [row.id for row in contact_rows]
        anonymous = "erased" + new_id()[:26]
        await conn.execute(
            insert(Visitor).values(
                id=anonymous, created_at=now, last_seen_at=now, name="", email="", first_source="erased"
            )
        )
        first_replies = await first_replies_of(conn, ids)
        events = await conn.execute(delete(ConversationEvent).where(ConversationEvent.contact_id.in_(ids)))
        for contact_id, first_reply_at in first_replies.items():
            await conn.execute(
                update(Contact)
                .where(Contact.id == contact_id)
                .values(data={"erased_at": now, "first_reply_at": first_reply_at})
            )
        await conn.execute(
            update(Contact)
            .where(Contact.visitor_id == visitor_id, Contact.id.not_in(list(first_replies)))
            .values(data={"erased_at": now})
        )
        await conn.execute(
            update(Contact)
            .where(Contact.visitor_id == visitor_id)
            .values(
                visitor_id=anonymous,
                name="",
                email="",
                topic="",
                page_url="",
                page_title="",
                referrer="",
                utm_source="",
                utm_medium="",
                utm_campaign="",
                csat_comment="",
            )
        )
        touchpoints = await conn.execute(
            update(Touchpoint)
            .where(Touchpoint.visitor_id == visitor_id)
            .values(
                visitor_id=anonymous,
                url="",
                title="",
                referrer="",
                utm_source="",
                utm_medium="",
                utm_campaign="",
                utm_term="",
                utm_content="",
                data=None,
            )
        )
        # The funnel's per-day summary rows follow the touchpoints to the new id.
        await conn.execute(
            update(JourneyVisitorDay)
            .where(JourneyVisitorDay.visitor_id == visitor_id)
            .values(visitor_id=anonymous)
        )
        calls = await conn.execute(
            update(CallRecord)
            .where(CallRecord.visitor_id == visitor_id)
            .values(visitor_id=anonymous, caller_party="erased", callee_party=None)
        )
        # A verified customer's link to this visitor goes too: identifying again
        # starts a new visitor that nothing links to the erased one.
        await conn.execute(delete(Customer).where(Customer.visitor_id == visitor_id))
        await conn.execute(delete(Visitor).where(Visitor.id == visitor_id))
    return {
        "anonymous_id": anonymous,
        "contacts": len(ids),
        "events_deleted": int(events.rowcount or 0),
        "touchpoints": int(touchpoints.rowcount or 0),
        "calls": int(calls.rowcount or 0),
    }
