"""Read and delivery receipts, coalesced.

A busy widget sends a receipt for every message it receives; writing each to the
contact row doubled the database work of the message path.  Receipts only need to
survive so a reloaded page shows its ticks, so the highest seq per (contact, column) is
kept in memory and written once a second.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from contact_center.store.contacts import ContactStore

log = logging.getLogger(__name__)

COLUMNS = ("visitor_read_seq", "visitor_delivered_seq", "agent_read_seq", "agent_delivered_seq")


class ReceiptWriter:
    def __init__(self, contacts: ContactStore, period_s: float = 1.0) -> None:
        self._contacts = contacts
        self._period_s = period_s
        self._pending: dict[tuple[str, str], int] = {}
        self._task: asyncio.Task[None] | None = None

    def record(self, contact_id: str, column: str, seq: int) -> None:
        if column not in COLUMNS:
            raise ValueError(column)
        key = (contact_id, column)
        if seq > self._pending.get(key, 0):
            self._pending[key] = seq

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="receipt-writer")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        await self.flush()

    async def flush(self) -> None:
        pending, self._pending = self._pending, {}
        for (contact_id, column), seq in pending.items():
            await self._contacts.set_receipt(contact_id, column, seq)

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self._period_s)
            try:
                await self.flush()
            except Exception:
                log.exception("receipt flush failed")
