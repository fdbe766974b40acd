"""The conversation log: every seq-numbered event, stored before it is acknowledged.

Writes are group-committed: callers await :meth:`ConversationLog.append`, a single
writer task gathers whatever is pending into one ``INSERT ... ON CONFLICT DO NOTHING
RETURNING`` and one commit, then wakes every caller.  Under load this turns hundreds of
commits (each an fsync on SQLite) into one.

Sequence numbers are allocated here, with the database as the authority: a per-process
cache holds each conversation's last seq, and the (contact, seq) unique constraint
catches a number another process took first; such a row is renumbered and retried.
The (contact, sender, client id) constraint makes a resent frame idempotent: the caller
gets the original seq back with ``duplicate=True``.  No Redis counter is involved, so
a Redis restart cannot reuse a seq.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, insert, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine

from contact_center.store.models import ConversationEvent
from contact_center.store.sqlite_writer import SqliteBatchWriter

log = logging.getLogger(__name__)

_TABLE = ConversationEvent.__table__
_MAX_BATCH = 500
_MAX_RETRIES = 8


@dataclass(slots=True)
class StoredEvent:
    contact_id: str
    seq: int
    kind: str
    sender_kind: str
    sender_id: str
    sender_name: str
    body: str
    data: dict[str, Any] | None
    client_id: str | None
    created_at: float


@dataclass(slots=True)
class Appended:
    event: StoredEvent
    duplicate: bool


@dataclass(slots=True)
class _Pending:
    event: StoredEvent
    future: asyncio.Future[Appended]
    attempts: int = 0


class _LruInts:
    """contact id -> last known seq, bounded so a long-running gateway stays small."""

    def __init__(self, capacity: int) -> None:
        self._data: OrderedDict[str, int] = OrderedDict()
        self._capacity = capacity

    def get(self, key: str) -> int | None:
        value = self._data.get(key)
        if value is not None:
            self._data.move_to_end(key)
        return value

    def raise_to(self, key: str, value: int) -> None:
        current = self._data.get(key)
        if current is None or value > current:
            self._data[key] = value
        self._data.move_to_end(key)
        while len(self._data) > self._capacity:
            self._data.popitem(last=False)


class ConversationLog:
    def __init__(self, engine: AsyncEngine, cache_size: int = 100_000) -> None:
        self._engine = engine
        self._queue: asyncio.Queue[_Pending] = asyncio.Queue()
        self._last_seq = _LruInts(cache_size)
        self._task: asyncio.Task[None] | None = None
        self._dialect = engine.dialect.name
        self._sqlite: SqliteBatchWriter | None = None
        database = engine.url.database
        if self._dialect == "sqlite" and database and database != ":memory:":
            self._sqlite = SqliteBatchWriter(database)
        self.batches = 0
        self.rows = 0

    # ------------------------------------------------------------------ lifecycle

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name="conversation-log-writer")

    async def stop(self) -> None:
        """Write what is pending, then stop."""
        if self._task is None:
            return
        await self._queue.join()
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task
        self._task = None
        if self._sqlite is not None:
            self._sqlite.close()

    # ------------------------------------------------------------------ API

    async def append(
        self,
        contact_id: str,
        kind: str,
        sender_kind: str,
        *,
        sender_id: str = "",
        sender_name: str = "",
        body: str = "",
        data: dict[str, Any] | None = None,
        client_id: str | None = None,
        at: float | None = None,
    ) -> Appended:
        """Store one event and return it with its seq once it is committed."""
        event = StoredEvent(
            contact_id=contact_id,
            seq=0,
            kind=kind,
            sender_kind=sender_kind,
            sender_id=sender_id,
            sender_name=sender_name,
            body=body,
            data=data,
            client_id=client_id,
            created_at=at if at is not None else time.time(),
        )
        future: asyncio.Future[Appended] = asyncio.get_running_loop().create_future()
        self._queue.put_nowait(_Pending(event, future))
        return await future

    def note_seq(self, contact_id: str, seq: int) -> None:
        """Another process stored ``seq`` on this conversation (seen on the bus)."""
        self._last_seq.raise_to(contact_id, seq)

    def known_last_seq(self, contact_id: str) -> int | None:
        return self._last_seq.get(contact_id)

    async def last_seq(self, contact_id: str) -> int:
        async with self._engine.connect() as conn:
            value = await conn.scalar(
                select(func.max(ConversationEvent.seq)).where(ConversationEvent.contact_id == contact_id)
            )
        seq = int(value or 0)
        self._last_seq.raise_to(contact_id, seq)
        return seq

    async def history(self, contact_id: str, after_seq: int = 0, limit: int = 1000) -> list[StoredEvent]:
        """Events after ``after_seq`` in seq order (what a reconnecting client missed)."""
        stmt = (
            select(_TABLE)
            .where(ConversationEvent.contact_id == contact_id, ConversationEvent.seq > after_seq)
            .order_by(ConversationEvent.seq)
            .limit(limit)
        )
        async with self._engine.connect() as conn:
            rows = (await conn.execute(stmt)).mappings().all()
        return [_from_row(row) for row in rows]

    # ------------------------------------------------------------------ writer

    async def _run(self) -> None:
        while True:
            batch = [await self._queue.get()]
            while len(batch) < _MAX_BATCH and not self._queue.empty():
                batch.append(self._queue.get_nowait())
            try:
                await self._flush(batch)
            except Exception as exc:  # the database is down: fail these callers, go on
                log.exception("conversation log write failed")
                for pending in batch:
                    if not pending.future.done():
                        pending.future.set_exception(exc)
            finally:
                for _ in batch:
                    self._queue.task_done()

    async def _flush(self, batch: list[_Pending]) -> None:
        await self._number(batch)
        if await self._insert_plain(batch):
            self.batches += 1
            for pending in batch:
                self.rows += 1
                pending.future.set_result(Appended(pending.event, duplicate=False))
            return
        # Some row collided (a resent client id, or a seq another process took):
        # the careful path sorts out which.
        todo = batch
        while todo:
            stored = await self._insert(todo)
            self.batches += 1
            retry: list[_Pending] = []
            for pending in todo:
                key = (pending.event.contact_id, pending.event.seq)
                if key in stored:
                    self.rows += 1
                    self._last_seq.raise_to(*key)
                    pending.future.set_result(Appended(pending.event, duplicate=False))
                    continue
                original = await self._find_duplicate(pending.event)
                if original is not None:
                    pending.future.set_result(Appended(original, duplicate=True))
                    continue
                # Someone else took this seq: renumber from the database and try again.
                pending.attempts += 1
                if pending.attempts > _MAX_RETRIES:
                    pending.future.set_exception(RuntimeError("could not allocate a seq"))
                    continue
                await self.last_seq(pending.event.contact_id)
                retry.append(pending)
            todo = retry
            await self._number(todo)

    async def _number(self, batch: list[_Pending]) -> None:
        for pending in batch:
            contact_id = pending.event.contact_id
            last = self._last_seq.get(contact_id)
            if last is None:
                last = await self.last_seq(contact_id)
            pending.event.seq = last + 1
            self._last_seq.raise_to(contact_id, last + 1)

    async def _insert_plain(self, batch: list[_Pending]) -> bool:
        """The fast path: one multi-row INSERT and one commit.  False (and nothing
        written) when any row violates a unique constraint."""
        rows = [_row_values(p.event) for p in batch]
        if self._sqlite is not None:
            return await self._sqlite.insert(rows)
        try:
            async with self._engine.begin() as conn:
                await conn.execute(insert(ConversationEvent), rows)
        except IntegrityError:
            return False
        return True

    async def _insert(self, batch: list[_Pending]) -> set[tuple[str, int]]:
        insert = postgresql.insert if self._dialect == "postgresql" else sqlite.insert
        # A client id resent within one batch must not be inserted twice either; the
        # unique constraint skips it and the duplicate path answers it.
        rows = [_row_values(p.event) for p in batch]
        stmt = (
            insert(ConversationEvent)
            .on_conflict_do_nothing()
            .returning(ConversationEvent.contact_id, ConversationEvent.seq)
        )
        async with self._engine.begin() as conn:
            result = await conn.execute(stmt, rows)
            return {(row[0], row[1]) for row in result.all()}

    async def _find_duplicate(self, event: StoredEvent) -> StoredEvent | None:
        if event.client_id is None:
            return None
        stmt = select(_TABLE).where(
            ConversationEvent.contact_id == event.contact_id,
            ConversationEvent.sender_id == event.sender_id,
            ConversationEvent.client_id == event.client_id,
        )
        async with self._engine.connect() as conn:
            row = (await conn.execute(stmt)).mappings().first()
        return _from_row(row) if row is not None else None


def _row_values(event: StoredEvent) -> dict[str, Any]:
    return {
        "contact_id": event.contact_id,
        "seq": event.seq,
        "kind": event.kind,
        "sender_kind": event.sender_kind,
        "sender_id": event.sender_id,
        "sender_name": event.sender_name,
        "body": event.body,
        "data": event.data,
        "client_id": event.client_id,
        "created_at": event.created_at,
    }


def _from_row(row: Any) -> StoredEvent:
    return StoredEvent(
        contact_id=row["contact_id"],
        seq=row["seq"],
        kind=row["kind"],
        sender_kind=row["sender_kind"],
        sender_id=row["sender_id"],
        sender_name=row["sender_name"],
        body=row["body"],
        data=row["data"],
        client_id=row["client_id"],
        created_at=row["created_at"],
    )
