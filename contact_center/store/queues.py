"""Queues and their routing settings."""

from __future__ import annotations

import time
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from contact_center.store.models import Queue

QUEUE_FIELDS = (
    "name",
    "description",
    "strategy",
    "skills",
    "priority",
    "sl_target_s",
    "offer_timeout_s",
    "max_wait_s",
    "overflow_to",
    "ageing_s",
    "wrap_up_s",
    "hours",
    "position",
    "labels",
)


def queue_dict(queue: Queue) -> dict[str, Any]:
    row = {"id": queue.id, **{name: getattr(queue, name) for name in QUEUE_FIELDS}}
    row["labels"] = dict(queue.labels or {})
    return row


def queue_label(queue: Queue, locale: str) -> str:
    """The queue's name in ``locale`` (its ``labels``), else its name."""
    return str((queue.labels or {}).get(locale) or queue.name or queue.id)


class QueueStore:
    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    async def create(self, queue_id: str, name: str = "", **fields: Any) -> Queue:
        unknown = set(fields) - set(QUEUE_FIELDS)
        if unknown:
            raise ValueError(f"unknown queue fields: {', '.join(sorted(unknown))}")
        queue = Queue(
            id=queue_id,
            name=name or queue_id.replace("-", " ").title(),
            description=fields.pop("description", ""),
            strategy=fields.pop("strategy", "longest_idle"),
            skills=fields.pop("skills", []),
            priority=fields.pop("priority", 0),
            sl_target_s=fields.pop("sl_target_s", 20.0),
            offer_timeout_s=fields.pop("offer_timeout_s", 20.0),
            max_wait_s=fields.pop("max_wait_s", None),
            overflow_to=fields.pop("overflow_to", None),
            ageing_s=fields.pop("ageing_s", None),
            wrap_up_s=fields.pop("wrap_up_s", 0.0),
            hours=fields.pop("hours", None),
            labels=fields.pop("labels", None) or {},
            position=fields.pop("position", 0),
            created_at=time.time(),
        )
        async with AsyncSession(self._engine, expire_on_commit=False) as session:
            session.add(queue)
            await session.commit()
        return queue

    async def get(self, queue_id: str) -> Queue | None:
        async with AsyncSession(self._engine, expire_on_commit=False) as session:
            return await session.get(Queue, queue_id)

    async def all(self) -> list[Queue]:
        async with AsyncSession(self._engine, expire_on_commit=False) as session:
            stmt = select(Queue).order_by(Queue.position, Queue.id)
            return list((await session.scalars(stmt)).all())

    async def update(self, queue_id: str, **changes: Any) -> Queue | None:
        unknown = set(changes) - set(QUEUE_FIELDS)
        if unknown:
            raise ValueError(f"unknown queue fields: {', '.join(sorted(unknown))}")
        if changes:
            async with self._engine.begin() as conn:
                await conn.execute(update(Queue).where(Queue.id == queue_id).values(**changes))
        return await self.get(queue_id)

    async def delete(self, queue_id: str) -> bool:
        async with self._engine.begin() as conn:
            result = await conn.execute(delete(Queue).where(Queue.id == queue_id))
            return bool(result.rowcount)
