"""Facts the reports need that only the router sees: when an agent's wrap-up ended.

The router driver emits :class:`~dashboard.events.WrapUpEnded` (for one contact, or
for all of an agent's ended contacts).  Reports read wrap-up from
``contacts.wrap_up_ended_at``, so the router process also writes it, off the routing
path: events are queued here and a background task writes them in one transaction per
batch.  Each update only fills an empty column of an ended contact of that agent, so a
repeat is harmless.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncEngine

from contact_center.store.models import Contact
from dashboard.events import DomainEvent, WrapUpEnded

log = logging.getLogger(__name__)

# An agent-wide wrap-up end never reaches back further than this (a contact that
# ended without a wrap-up being recorded, long ago, is not swept in).
WRAP_UP_HORIZON_S = 86400.0


class FactWriter:
    def __init__(self, db: AsyncEngine) -> None:
        self._db = db
        self._pending: list[WrapUpEnded] = []
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._idle = asyncio.Event()
        self._idle.set()

    def record(self, event: DomainEvent) -> None:
        if isinstance(event, WrapUpEnded):
            self._pending.append(event)
            self._idle.clear()
            self._wake.set()

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name="supervisor-facts")

    async def stop(self) -> None:
        await self.flush()
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def flush(self) -> None:
        """Wait until what was recorded so far is written."""
        if self._task is not None and not self._task.done():
            await self._idle.wait()

    async def _run(self) -> None:
        while True:
            await self._wake.wait()
            self._wake.clear()
            batch, self._pending = self._pending, []
            if batch:
                try:
                    await self._write(batch)
                except Exception:
                    log.exception("could not record %d wrap-up ends", len(batch))
            if not self._pending:
                self._idle.set()

    async def _write(self, batch: list[WrapUpEnded]) -> None:
        async with self._db.begin() as conn:
            for event in batch:
                stmt = update(Contact).where(
                    Contact.agent_id == event.agent_id,
                    Contact.status == "ended",
                    Contact.wrap_up_ended_at.is_(None),
                )
                if event.contact_id is not None:
                    stmt = stmt.where(Contact.id == event.contact_id)
                else:
                    stmt = stmt.where(
                        Contact.ended_at <= event.at, Contact.ended_at >= event.at - WRAP_UP_HORIZON_S
                    )
                await conn.execute(stmt.values(wrap_up_ended_at=event.at))
