"""The offers ledger: one row per offer of a contact to an agent, and how it ended.

The router writes it (only the active one, only live: a replay carries nothing out),
so a restart does not zero each agent's accepted / declined / expired figures on the
supervisor wall, and the reason an agent gives for a decline stays readable.  An offer
is open (``outcome`` NULL) from ``opened`` to ``closed``; a contact has at most one
open offer at a time, so (contact, agent, open) finds it without carrying row ids
through the routing log.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import insert, select, update
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from contact_center.store.models import OfferRecord

# An open offer found at start-up was made by a process that is gone; nobody answered it.
ABANDONED_BY_RESTART = "router_restart"


class OfferLedger:
    def __init__(self, db: AsyncEngine) -> None:
        self._db = db

    async def opened(self, contact_id: str, agent_id: str, at: float) -> None:
        async with self._db.begin() as conn:
            await conn.execute(
                insert(OfferRecord).values(contact_id=contact_id, agent_id=agent_id, offered_at=at, reason="")
            )

    async def closed(self, contact_id: str, agent_id: str, at: float, outcome: str, reason: str = "") -> None:
        async with self._db.begin() as conn:
            await conn.execute(
                update(OfferRecord)
                .where(
                    OfferRecord.contact_id == contact_id,
                    OfferRecord.agent_id == agent_id,
                    OfferRecord.outcome.is_(None),
                )
                .values(answered_at=at, outcome=outcome, reason=reason)
            )

    async def of_contact(self, contact_id: str) -> Sequence[OfferRecord]:
        async with AsyncSession(self._db, expire_on_commit=False) as session:
            stmt = (
                select(OfferRecord)
                .where(OfferRecord.contact_id == contact_id)
                .order_by(OfferRecord.offered_at, OfferRecord.id)
            )
            return list((await session.scalars(stmt)).all())

    async def close_stale(self, at: float) -> None:
        """Start-up of the single-process install: the offers the last process left
        open are over (their contacts are offered again from scratch)."""
        async with self._db.begin() as conn:
            await conn.execute(
                update(OfferRecord)
                .where(OfferRecord.outcome.is_(None))
                .values(answered_at=at, outcome=ABANDONED_BY_RESTART)
            )
