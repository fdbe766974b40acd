"""Calls in the database: the ``calls`` table and the journey touchpoint of each call.

A call from the widget's queue *is* a contact: its touchpoint is the contact's own
(channel voice or video), created with the contact.  A chat turned into a call, or
an agent calling the visitor of a chat, gets a touchpoint of its own (kind ``call``,
channel voice or video, the contact's stage of origin and source).  Either way, when
the call ends, the touchpoint records ring time, talk time, end reason and quality
summary under ``data["call"]``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import insert, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from contact_center.store.models import CallRecord, Contact, Touchpoint


class CallConflict(Exception):
    """The call id is taken, or the conversation already has a live call."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(slots=True)
class NewCall:
    call_id: str
    contact: Contact
    agent_id: str | None
    channel: str
    origin: str
    caller_party: str
    node: str
    invited_at: float


class CallStore:
    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    async def get(self, call_id: str) -> CallRecord | None:
        async with AsyncSession(self._engine, expire_on_commit=False) as session:
            return await session.get(CallRecord, call_id)

    async def exists(self, call_id: str) -> bool:
        return await self.get(call_id) is not None

    async def live_for_contact(self, contact_id: str) -> CallRecord | None:
        async with AsyncSession(self._engine, expire_on_commit=False) as session:
            stmt = select(CallRecord).where(CallRecord.live_contact_id == contact_id)
            return (await session.scalars(stmt)).first()

    async def live(self) -> list[CallRecord]:
        """Every call not over yet, in any process (the orphan sweep reads them)."""
        async with AsyncSession(self._engine, expire_on_commit=False) as session:
            stmt = select(CallRecord).where(CallRecord.live_contact_id.is_not(None))
            return list((await session.scalars(stmt)).all())

    async def live_for_party(self, party_id: str) -> list[CallRecord]:
        """Live calls this device (party id) is a side of, in any process."""
        async with AsyncSession(self._engine, expire_on_commit=False) as session:
            stmt = select(CallRecord).where(
                CallRecord.live_contact_id.is_not(None),
                or_(CallRecord.caller_party == party_id, CallRecord.callee_party == party_id),
            )
            return list((await session.scalars(stmt)).all())

    async def claim(self, call_id: str, from_node: str, to_node: str) -> CallRecord | None:
        """Move a live, answered call's ownership from a process that died (or let it
        go) to ``to_node``; the row, or None if another process (or the end) got there
        first or the call was never answered (it has no state machine to take over).
        The condition on ``node`` makes the move atomic across processes."""
        async with self._engine.begin() as conn:
            result = await conn.execute(
                update(CallRecord)
                .where(
                    CallRecord.id == call_id,
                    CallRecord.node == from_node,
                    CallRecord.live_contact_id.is_not(None),
                    CallRecord.signalling.is_not(None),
                )
                .values(node=to_node)
            )
        if not result.rowcount:
            return None
        return await self.get(call_id)

    async def search(
        self, *, contact_id: str | None = None, agent_id: str | None = None, limit: int = 100
    ) -> list[CallRecord]:
        """The latest calls first, of one conversation and/or one agent."""
        stmt = select(CallRecord).order_by(CallRecord.invited_at.desc()).limit(limit)
        if contact_id:
            stmt = stmt.where(CallRecord.contact_id == contact_id)
        if agent_id:
            stmt = stmt.where(CallRecord.agent_id == agent_id)
        async with AsyncSession(self._engine, expire_on_commit=False) as session:
            return list((await session.scalars(stmt)).all())

    async def for_contact(self, contact_id: str) -> list[CallRecord]:
        async with AsyncSession(self._engine, expire_on_commit=False) as session:
            stmt = (
                select(CallRecord).where(CallRecord.contact_id == contact_id).order_by(CallRecord.invited_at)
            )
            return list((await session.scalars(stmt)).all())

    async def create(self, new: NewCall) -> int | None:
        """Insert the call (live) and, for a call on a chat, its touchpoint; return the
        touchpoint id.  Raises :class:`CallConflict` when the id is taken or the
        conversation has a live call already."""
        try:
            return await self._create(new)
        except IntegrityError:
            reason = "call_id_taken" if await self.exists(new.call_id) else "call_in_progress"
            raise CallConflict(reason) from None

    async def _create(self, new: NewCall) -> int | None:
        contact = new.contact
        async with self._engine.begin() as conn:
            touchpoint_id: int | None
            if new.origin == "queue":
                row = await conn.execute(
                    select(Touchpoint.id)
                    .where(Touchpoint.contact_id == contact.id, Touchpoint.kind == "contact")
                    .order_by(Touchpoint.id)
                )
                touchpoint_id = row.scalar()
            else:
                result = await conn.execute(
                    insert(Touchpoint)
                    .values(
                        visitor_id=contact.visitor_id,
                        contact_id=contact.id,
                        kind="call",
                        channel=new.channel,
                        stage=contact.stage,
                        stage_source=contact.stage_source,
                        url=contact.page_url,
                        title=contact.page_title,
                        referrer=contact.referrer,
                        utm_source=contact.utm_source,
                        utm_medium=contact.utm_medium,
                        utm_campaign=contact.utm_campaign,
                        started_at=new.invited_at,
                        queue_id=contact.queue_id,
                        outcome="",
                        data={"call": {"call_id": new.call_id, "origin": new.origin}},
                    )
                    .returning(Touchpoint.id)
                )
                touchpoint_id = result.scalar()
            await conn.execute(
                insert(CallRecord).values(
                    id=new.call_id,
                    contact_id=contact.id,
                    live_contact_id=contact.id,
                    visitor_id=contact.visitor_id,
                    agent_id=new.agent_id,
                    channel=new.channel,
                    origin=new.origin,
                    caller_party=new.caller_party,
                    callee_party=None,
                    state="initiating",
                    end_reason="",
                    node=new.node,
                    invited_at=new.invited_at,
                    talk_s=0.0,
                    hold_s=0.0,
                    reconnects=0,
                    touchpoint_id=touchpoint_id,
                )
            )
        return touchpoint_id

    async def update(self, call_id: str, **values: Any) -> None:
        await self.update_many({call_id: values})

    async def update_many(self, updates: dict[str, dict[str, Any]]) -> None:
        """Several calls' state changes in one transaction (the owner batches them).
        A call already written as ended is left alone: a late batch never undoes the
        end."""
        async with self._engine.begin() as conn:
            for call_id, values in updates.items():
                await conn.execute(
                    update(CallRecord)
                    .where(CallRecord.id == call_id, CallRecord.state != "ended")
                    .values(**values)
                )

    async def finish(
        self,
        call_id: str,
        values: dict[str, Any],
        touchpoint_id: int | None,
        touchpoint_values: dict[str, Any],
        call_data: dict[str, Any],
        *,
        owner: str | None = None,
    ) -> bool:
        """The call is over: its final row (no longer live) and its touchpoint's
        timings, outcome and ``data["call"]``, in one transaction.  With ``owner``,
        only while that process still owns the call (a dead owner's call that another
        gateway took over is not ended behind its back); False when it did not."""
        async with self._engine.begin() as conn:
            stmt = update(CallRecord).where(CallRecord.id == call_id)
            if owner is not None:
                stmt = stmt.where(CallRecord.node == owner, CallRecord.live_contact_id.is_not(None))
            result = await conn.execute(stmt.values(live_contact_id=None, state="ended", **values))
            if owner is not None and not result.rowcount:
                return False
            if touchpoint_id is None:
                return True
            row = await conn.execute(select(Touchpoint.data).where(Touchpoint.id == touchpoint_id))
            data = dict(row.scalar() or {})
            data["call"] = {**data.get("call", {}), **call_data}
            await conn.execute(
                update(Touchpoint)
                .where(Touchpoint.id == touchpoint_id)
                .values(data=data, **touchpoint_values)
            )
        return True

    async def touchpoint(self, touchpoint_id: int) -> Touchpoint | None:
        async with AsyncSession(self._engine, expire_on_commit=False) as session:
            return await session.get(Touchpoint, touchpoint_id)
