"""Saved replies: the canned answers agents pick with ``/shortcut`` in the console.

Three scopes: ``personal`` (one agent's own), ``queue`` (shared with the agents of one
queue) and ``global`` (shared with every queue).  What applies to a conversation in a
queue is the agent's personal replies, that queue's and the global ones, in that order
(the nearest first).  Who may change which is the REST layer's rule; this store only
keeps a shortcut unique within its scope.
"""

from __future__ import annotations

import time
from typing import Any

from sqlalchemy import and_, delete, func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from contact_center.security import new_id
from contact_center.store.models import SavedReply

SCOPES = ("personal", "queue", "global")
# Listed nearest first: what the agent wrote, then the queue's, then everyone's.
_SCOPE_ORDER = {scope: rank for rank, scope in enumerate(SCOPES)}
EDITABLE_FIELDS = ("shortcut", "title", "body")


class ReplyExists(Exception):
    """The shortcut is taken within that scope."""


def saved_reply_dict(reply: SavedReply) -> dict[str, Any]:
    return {
        "id": reply.id,
        "scope": reply.scope,
        "queue_id": reply.queue_id or None,
        "owner_id": reply.owner_id or None,
        "shortcut": reply.shortcut,
        "title": reply.title,
        "body": reply.body,
        "created_by": reply.created_by,
        "created_at": reply.created_at,
        "updated_at": reply.updated_at,
    }


def _nearest_first(replies: list[SavedReply]) -> list[SavedReply]:
    return sorted(replies, key=lambda r: (_SCOPE_ORDER.get(r.scope, 9), r.shortcut, r.queue_id))


class SavedReplyStore:
    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    async def create(
        self,
        *,
        scope: str,
        shortcut: str,
        title: str,
        body: str,
        queue_id: str = "",
        owner_id: str = "",
        created_by: str = "",
    ) -> SavedReply:
        if scope not in SCOPES:
            raise ValueError(f"scope must be one of {', '.join(SCOPES)}")
        now = time.time()
        reply = SavedReply(
            id=new_id(),
            scope=scope,
            queue_id=queue_id if scope == "queue" else "",
            owner_id=owner_id if scope == "personal" else "",
            shortcut=shortcut,
            title=title,
            body=body,
            created_by=created_by[:128],
            created_at=now,
            updated_at=now,
        )
        try:
            async with AsyncSession(self._engine, expire_on_commit=False) as session:
                session.add(reply)
                await session.commit()
        except IntegrityError:
            raise ReplyExists(shortcut) from None
        return reply

    async def get(self, reply_id: str) -> SavedReply | None:
        async with AsyncSession(self._engine, expire_on_commit=False) as session:
            return await session.get(SavedReply, reply_id)

    async def find(
        self, scope: str, shortcut: str, *, queue_id: str = "", owner_id: str = ""
    ) -> SavedReply | None:
        """The reply with this shortcut in this scope (the CLI names replies so)."""
        stmt = select(SavedReply).where(
            SavedReply.scope == scope,
            SavedReply.shortcut == shortcut,
            SavedReply.queue_id == (queue_id if scope == "queue" else ""),
            SavedReply.owner_id == (owner_id if scope == "personal" else ""),
        )
        async with AsyncSession(self._engine, expire_on_commit=False) as session:
            return (await session.scalars(stmt)).first()

    async def visible(
        self,
        owner_id: str,
        *,
        queue_id: str | None = None,
        search: str = "",
        scope: str | None = None,
        shared_only: bool = False,
        limit: int = 500,
    ) -> list[SavedReply]:
        """What ``owner_id`` may pick, nearest first.  With ``queue_id``: their personal
        replies, that queue's and the global ones (what applies to a conversation in
        it); without: their personal ones and every shared one.  ``search`` matches
        the shortcut, title or body, ignoring case."""
        mine = and_(SavedReply.scope == "personal", SavedReply.owner_id == owner_id)
        queues = SavedReply.scope == "queue"
        if queue_id is not None:
            queues = and_(queues, SavedReply.queue_id == queue_id)
        stmt = select(SavedReply).where(
            or_(queues, SavedReply.scope == "global")
            if shared_only
            else or_(mine, queues, SavedReply.scope == "global")
        )
        if scope is not None:
            stmt = stmt.where(SavedReply.scope == scope)
        words = search.strip().lower()
        if words:
            stmt = stmt.where(
                or_(
                    func.lower(SavedReply.shortcut).contains(words, autoescape=True),
                    func.lower(SavedReply.title).contains(words, autoescape=True),
                    func.lower(SavedReply.body).contains(words, autoescape=True),
                )
            )
        stmt = stmt.order_by(SavedReply.shortcut, SavedReply.id).limit(limit)
        async with AsyncSession(self._engine, expire_on_commit=False) as session:
            return _nearest_first(list((await session.scalars(stmt)).all()))

    async def update(self, reply_id: str, **changes: Any) -> SavedReply | None:
        unknown = set(changes) - set(EDITABLE_FIELDS)
        if unknown:
            raise ValueError(f"unknown saved reply fields: {', '.join(sorted(unknown))}")
        if changes:
            try:
                async with self._engine.begin() as conn:
                    await conn.execute(
                        update(SavedReply)
                        .where(SavedReply.id == reply_id)
                        .values(**changes, updated_at=time.time())
                    )
            except IntegrityError:
                raise ReplyExists(changes.get("shortcut", "")) from None
        return await self.get(reply_id)

    async def delete(self, reply_id: str) -> bool:
        async with self._engine.begin() as conn:
            result = await conn.execute(delete(SavedReply).where(SavedReply.id == reply_id))
            return bool(result.rowcount)
