"""What visitor and agent sessions share: acks, replay, idempotent frame ids."""

from __future__ import annotations

import asyncio
import time
from collections import OrderedDict
from typing import Protocol

import msgspec

from contact_center import protocol as p
from contact_center.conversations import Conversations
from contact_center.gateway.connection import Connection
from contact_center.security import Identity
from contact_center.store.contacts import ContactStore
from contact_center.store.models import Contact

_RECENT_IDS = 512


class SessionParts(Protocol):
    """What every session needs (its kind's parts extend it: gateway.parts)."""

    conversations: Conversations
    contacts: ContactStore


class Session:
    allowed_frames: frozenset[str] = frozenset()

    def __init__(self, parts: SessionParts, conn: Connection, identity: Identity) -> None:
        self._conversations = parts.conversations
        self.conn = conn
        self.identity = identity
        self._sync_lock = asyncio.Lock()
        # Frame ids already applied on this socket -> the ack sent for them, so a
        # frame resent after a lost ack is acknowledged again but not re-applied.
        self._recent: OrderedDict[str, p.Ack] = OrderedDict()
        self._background: set[asyncio.Task[None]] = set()
        conn.repair = parts.conversations.stored_after

    # ------------------------------------------------------------------ lifecycle

    async def open(self, hello: p.Hello) -> None:
        raise NotImplementedError

    async def handle(self, frame: msgspec.Struct) -> None:
        raise NotImplementedError

    async def close(self) -> None:
        for task in self._background:
            task.cancel()

    def spawn(self, coro: object) -> None:
        task: asyncio.Task[None] = asyncio.create_task(coro)  # type: ignore[arg-type]
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    # ------------------------------------------------------------------ helpers

    def ack(self, frame_id: str, **fields: object) -> None:
        ack = p.Ack(id=frame_id, **fields)  # type: ignore[arg-type]
        self._recent[frame_id] = ack
        if len(self._recent) > _RECENT_IDS:
            self._recent.popitem(last=False)
        self.conn.send(ack)

    def replay_ack(self, frame_id: str | None) -> bool:
        """True (and the ack re-sent) when this frame id was applied already."""
        if frame_id is None:
            return False
        ack = self._recent.get(frame_id)
        if ack is None:
            return False
        self.conn.send(msgspec.structs.replace(ack, duplicate=True))
        return True

    async def follow(self, contact: Contact) -> None:
        """Start following a conversation this socket just opened (a call from the
        widget's queue opens one): its history, then its live events."""
        await self.replay(contact.id, 0)

    async def replay(self, contact_id: str, after_seq: int, resend: bool = False) -> int:
        return await self._conversations.replay(self.conn, contact_id, after_seq, self._sync_lock, resend)

    def now(self) -> float:
        return time.time()
