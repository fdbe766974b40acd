"""Retention: transcripts of conversations closed more than N days ago are deleted.

What goes: every conversation event of the contact (messages, notes, joins,
transfers: the transcript), the visitor's rating comment, and the contact's free-form
data (page trail, transfer notes).  What stays: the contact row's times, queue,
channel, stage, agent, disposition and rating, the journey touchpoints and the call
rows (timings and quality), i.e. everything the dashboard, the reports and the journey
analytics count.  The one figure reports read from the transcript, the first agent
reply (chat first response), is kept on the contact (``data.first_reply_at``) before
the events go.  The server stores no call recordings: media flows peer to peer.

The setting is global (``CC_RETENTION_DAYS``): conversations belong to queues, not to
sites (a site only reports conversions), so there is no per-site owner to hang a
per-site period on.  The process that routes runs the purge every
``CC_RETENTION_CHECK_S``; ``contact-center retention run`` and
``POST /api/admin/retention/run`` run it on demand.  Each run that deletes anything
leaves an audit entry.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import delete, exists, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine
from sqlalchemy.sql.elements import ColumnElement

from contact_center.audit import SYSTEM, Actor, AuditLog
from contact_center.store.models import Contact, ConversationEvent

log = logging.getLogger(__name__)

CLOSED = ("ended", "abandoned", "offline")
_BATCH = 500


@dataclass(frozen=True, slots=True)
class PurgeResult:
    cutoff: float
    contacts: int
    events: int


def _closed_at() -> ColumnElement[float]:
    return func.coalesce(Contact.ended_at, Contact.abandoned_at, Contact.created_at)


async def first_replies_of(conn: AsyncConnection, ids: list[str]) -> dict[str, float]:
    """Each contact's first agent message after its answer (chat first response): the
    one figure reports read from a transcript, kept on the contact when it goes."""
    rows = await conn.execute(
        select(ConversationEvent.contact_id, func.min(ConversationEvent.created_at))
        .join(Contact, Contact.id == ConversationEvent.contact_id)
        .where(
            ConversationEvent.contact_id.in_(ids),
            ConversationEvent.kind == "chat.message",
            ConversationEvent.sender_kind == "agent",
            ConversationEvent.created_at >= Contact.answered_at,
        )
        .group_by(ConversationEvent.contact_id)
    )
    return {contact_id: float(at) for contact_id, at in rows.all()}


async def purge_transcripts(engine: AsyncEngine, cutoff: float, now: float | None = None) -> PurgeResult:
    """Delete the transcripts of contacts closed before ``cutoff`` (idempotent)."""
    now = time.time() if now is None else now
    contacts = events = 0
    has_events = exists().where(ConversationEvent.contact_id == Contact.id)
    while True:
        async with engine.begin() as conn:
            batch = (
                await conn.execute(
                    select(Contact.id, Contact.answered_at, Contact.data)
                    .where(
                        Contact.status.in_(CLOSED),
                        _closed_at() < cutoff,
                        or_(has_events, Contact.csat_comment != ""),
                    )
                    .limit(_BATCH)
                )
            ).all()
            if not batch:
                break
            ids = [row.id for row in batch]
            first_replies = await first_replies_of(conn, ids)
            for row in batch:
                kept: dict[str, object] = {"purged_at": now}
                earlier = (row.data or {}).get("first_reply_at")
                first = first_replies.get(row.id, earlier)
                if first is not None:
                    kept["first_reply_at"] = first
                await conn.execute(
                    update(Contact).where(Contact.id == row.id).values(data=kept, csat_comment="")
                )
            result = await conn.execute(
                delete(ConversationEvent).where(ConversationEvent.contact_id.in_(ids))
            )
            contacts += len(ids)
            events += int(result.rowcount or 0)
    return PurgeResult(cutoff, contacts, events)


async def run_retention(
    engine: AsyncEngine, days: float, actor: Actor = SYSTEM, now: float | None = None
) -> PurgeResult:
    """One purge of what is older than ``days``, with its audit entry."""
    now = time.time() if now is None else now
    result = await purge_transcripts(engine, now - days * 86400, now)
    if result.contacts or actor is not SYSTEM:
        await AuditLog(engine).record(
            actor,
            "retention.purge",
            target_kind="transcripts",
            details={
                "days": days,
                "cutoff": result.cutoff,
                "contacts": result.contacts,
                "events": result.events,
            },
        )
    if result.contacts:
        log.info(
            "retention: deleted %d transcripts (%d events) older than %s days",
            result.contacts,
            result.events,
            days,
        )
    return result


class RetentionJob:
    """Runs the purge every ``every_s`` while ``active()`` says this process routes
    (one process of a cluster does the work; a second would find nothing left)."""

    def __init__(self, engine: AsyncEngine, days: int, every_s: float, active: Callable[[], bool]) -> None:
        self.engine = engine
        self.days = days
        self.every_s = every_s
        self.active = active
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        if self.days > 0 and self.every_s > 0:
            self._task = asyncio.create_task(self._loop())

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def _loop(self) -> None:
        while True:
            if self.active():
                try:
                    await run_retention(self.engine, self.days)
                except Exception:  # a failed run is retried at the next period
                    log.exception("retention run failed")
            await asyncio.sleep(self.every_s)
