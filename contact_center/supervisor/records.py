"""Contact records for historical reports, loaded from SQL.

One :class:`~dashboard.reports.ContactRecord` per contact enqueued in the range (the
reports bucket by enqueue time), read in one query: the contact row, its queue's
service-level target, and its first agent message after the answer (chat first
response) from the conversation log.  Wrap-up is ``wrap_up_ended_at - ended_at``
(filled by the router as wrap-ups end).  Offline messages (left with no queue
involved) are not contacts of a queue and are left out; contacts overflowed to the
offline form are in (they were queued).
"""

from __future__ import annotations

from sqlalchemy import and_, func, or_, select
from sqlalchemy.ext.asyncio import AsyncEngine

from contact_center.store.models import Contact, ConversationEvent, Queue
from dashboard.reports import ContactRecord


async def load_records(db: AsyncEngine, start: float, end: float) -> list[ContactRecord]:
    """Contacts enqueued in ``[start, end)``."""
    first_reply = (
        select(ConversationEvent.contact_id, func.min(ConversationEvent.created_at).label("at"))
        .join(Contact, Contact.id == ConversationEvent.contact_id)
        .where(
            Contact.enqueued_at >= start,
            Contact.enqueued_at < end,
            ConversationEvent.kind == "chat.message",
            ConversationEvent.sender_kind == "agent",
            ConversationEvent.created_at >= Contact.answered_at,
        )
        .group_by(ConversationEvent.contact_id)
        .subquery()
    )
    stmt = (
        select(
            Contact.queue_id,
            Contact.channel,
            Contact.stage,
            Contact.status,
            Contact.enqueued_at,
            Contact.agent_id,
            Contact.answered_at,
            Contact.abandoned_at,
            Contact.ended_at,
            Contact.wrap_up_ended_at,
            Contact.csat,
            Queue.sl_target_s,
            # After retention deleted the transcript, the contact keeps its first reply.
            func.coalesce(first_reply.c.at, Contact.data["first_reply_at"].as_float()).label(
                "first_reply_at"
            ),
        )
        .outerjoin(Queue, Queue.id == Contact.queue_id)
        .outerjoin(first_reply, first_reply.c.contact_id == Contact.id)
        .where(
            Contact.enqueued_at >= start,
            Contact.enqueued_at < end,
            or_(Contact.status != "offline", and_(Contact.status == "offline", Contact.ended_by != "")),
        )
    )
    async with db.connect() as conn:
        rows = (await conn.execute(stmt)).all()
    out: list[ContactRecord] = []
    for r in rows:
        # Answered and still with its agent (or ended by it); a contact sent back to a
        # queue waits again, as in the live view.
        answered = r.answered_at if r.status in ("active", "ended") and r.agent_id else None
        ended = r.ended_at if r.status == "ended" and answered is not None else None
        wrap_up = (
            r.wrap_up_ended_at - ended
            if ended is not None and r.wrap_up_ended_at is not None and r.wrap_up_ended_at >= ended
            else None
        )
        out.append(
            ContactRecord(
                queue=r.queue_id,
                channel=r.channel,
                stage=r.stage,
                enqueued_at=r.enqueued_at,
                agent=r.agent_id if answered is not None else None,
                answered_at=answered,
                abandoned_at=r.abandoned_at if r.status == "abandoned" else None,
                ended_at=ended,
                wrap_up_s=wrap_up,
                csat=r.csat,
                sl_target_s=r.sl_target_s if r.sl_target_s is not None else 20.0,
                first_response_s=(
                    r.first_reply_at - answered
                    if answered is not None and r.first_reply_at is not None
                    else None
                ),
            )
        )
    return out
