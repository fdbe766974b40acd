"""Database rows -> the routing engine's configuration events."""

from __future__ import annotations

from typing import Any

from contact_center.store.models import Queue, User
from routing.events import AgentUpserted, BusinessHours, OpeningSpan, QueueConfig, QueueUpserted


def business_hours(raw: dict[str, Any] | None) -> BusinessHours | None:
    if not raw:
        return None
    return BusinessHours(
        timezone=str(raw.get("timezone", "UTC")),
        spans=tuple(
            OpeningSpan(int(s["weekday"]), str(s["opens"]), str(s["closes"])) for s in raw.get("spans", ())
        ),
    )


def queue_config(queue: Queue) -> QueueConfig:
    return QueueConfig(
        queue_id=queue.id,
        strategy=queue.strategy,  # type: ignore[arg-type]
        sl_target_s=queue.sl_target_s,
        offer_timeout_s=queue.offer_timeout_s,
        max_wait_s=queue.max_wait_s,
        overflow_to=queue.overflow_to,
        ageing_s=queue.ageing_s,
        wrap_up_s=queue.wrap_up_s,
        hours=business_hours(queue.hours),
        skills=tuple(queue.skills or ()),
    )


def queue_upserted(queue: Queue, at: float) -> QueueUpserted:
    return QueueUpserted(at=at, queue=queue_config(queue))


def agent_upserted(user: User, at: float) -> AgentUpserted:
    return AgentUpserted(
        at=at,
        agent_id=user.id,
        skills={str(k): int(v) for k, v in (user.skills or {}).items()},
        languages=tuple(user.languages or ()),
        capacity={str(k): int(v) for k, v in (user.capacity or {}).items()},
        queues=tuple(user.queues or ()),
    )
