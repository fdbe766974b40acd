"""Who is waiting, kept in wait order per queue, channel and stage.

The page shows each queue's longest waiters first and the longest wait per cut.  A
scan over every waiting contact each second would cost O(waiting) per snapshot; keeping
sorted lists instead makes "longest wait" the head of a list and "top 50" a slice.
Entries are ``(enqueued_at, seq, contact)`` tuples: ``seq`` is unique per leg, so
ordering never reaches the contact object and removal finds its entry by bisection.
An insert or removal is O(log n) compares plus a memmove (microseconds at 10,000).
Lists are not ordered by arrival because a transferred contact keeps its original
``enqueued_at`` and lands in the middle.
"""

from __future__ import annotations

import bisect

from dashboard.lifecycle import Contact

Entry = tuple[float, int, Contact]


class WaitingBoard:
    def __init__(self) -> None:
        self.by_queue: dict[str, list[Entry]] = {}
        self.by_channel: dict[str, list[Entry]] = {}
        self.by_stage: dict[str, list[Entry]] = {}
        # (stage, channel) -> waiting count, for the journey grid.
        self.cells: dict[tuple[str, str], int] = {}
        self.count = 0

    def add(self, contact: Contact) -> None:
        entry = (contact.enqueued_at, contact.seq, contact)
        dims = contact.dims
        for table, key in (
            (self.by_queue, dims.queue),
            (self.by_channel, dims.channel),
            (self.by_stage, dims.stage),
        ):
            bisect.insort(table.setdefault(key, []), entry)
        cell = (dims.stage, dims.channel)
        self.cells[cell] = self.cells.get(cell, 0) + 1
        self.count += 1

    def remove(self, contact: Contact) -> None:
        probe = (contact.enqueued_at, contact.seq)
        dims = contact.dims
        for table, key in (
            (self.by_queue, dims.queue),
            (self.by_channel, dims.channel),
            (self.by_stage, dims.stage),
        ):
            entries = table[key]
            i = bisect.bisect_left(entries, probe)
            assert entries[i][2] is contact
            del entries[i]
        self.cells[(dims.stage, dims.channel)] -= 1
        self.count -= 1

    def earliest(self) -> float | None:
        """The earliest ``enqueued_at`` over every queue."""
        heads = [entries[0][0] for entries in self.by_queue.values() if entries]
        return min(heads) if heads else None
