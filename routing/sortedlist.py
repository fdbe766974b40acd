"""A sorted list of tuples that stays cheap at tens of thousands of entries.

The engine keeps every queue in service order and needs, per decision, the head, an
insert, an arbitrary removal (abandon, offer) and sometimes a rank (queue position).
A flat ``list`` with ``bisect.insort`` shifts the whole tail on every insert; a heap
cannot remove or rank.  This is the classic "list of sorted chunks" layout (the one
``sortedcontainers`` uses): each chunk holds at most ``2 * LOAD`` items and ``_maxes``
holds each chunk's last item, so insert and remove are one bisect over the chunk
maxima, one bisect inside a chunk and a memmove of at most ``2 * LOAD`` pointers.  Rank
adds up the lengths of the preceding chunks (``n / LOAD`` integers).

Entries are tuples that compare totally (every engine key ends in a unique id), and an
entry is only ever removed with the exact tuple that was added.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right, insort
from collections.abc import Iterator
from typing import Any

Key = tuple[Any, ...]

LOAD = 256


class SortedList:
    """Tuples in ascending order.  Not thread-safe; the engine is single-threaded."""

    __slots__ = ("_len", "_lists", "_maxes")

    def __init__(self) -> None:
        self._lists: list[list[Key]] = []
        self._maxes: list[Key] = []
        self._len = 0

    def __len__(self) -> int:
        return self._len

    def __bool__(self) -> bool:
        return self._len > 0

    def __iter__(self) -> Iterator[Key]:
        for chunk in self._lists:
            yield from chunk

    def __contains__(self, value: Key) -> bool:
        i = bisect_left(self._maxes, value)
        if i == len(self._maxes):
            return False
        chunk = self._lists[i]
        j = bisect_left(chunk, value)
        return j < len(chunk) and chunk[j] == value

    def add(self, value: Key) -> None:
        maxes = self._maxes
        if not maxes:
            self._lists.append([value])
            maxes.append(value)
            self._len = 1
            return
        i = bisect_left(maxes, value)
        if i == len(maxes):
            i -= 1
            self._lists[i].append(value)
            maxes[i] = value
        else:
            insort(self._lists[i], value)
        self._len += 1
        if len(self._lists[i]) > 2 * LOAD:
            chunk = self._lists[i]
            half = chunk[LOAD:]
            del chunk[LOAD:]
            maxes[i] = chunk[-1]
            self._lists.insert(i + 1, half)
            maxes.insert(i + 1, half[-1])

    def remove(self, value: Key) -> None:
        """Remove ``value``; ``KeyError`` when it is not there."""
        maxes = self._maxes
        i = bisect_left(maxes, value)
        if i == len(maxes):
            raise KeyError(value)
        chunk = self._lists[i]
        j = bisect_left(chunk, value)
        if j == len(chunk) or chunk[j] != value:
            raise KeyError(value)
        del chunk[j]
        self._len -= 1
        if chunk:
            maxes[i] = chunk[-1]
        else:
            del self._lists[i]
            del maxes[i]

    def discard(self, value: Key) -> None:
        if value in self:
            self.remove(value)

    def first(self) -> Key | None:
        return self._lists[0][0] if self._lists else None

    def index(self, value: Key) -> int:
        """0-based rank of ``value`` (which must be present)."""
        i = bisect_left(self._maxes, value)
        if i == len(self._maxes):
            raise KeyError(value)
        chunk = self._lists[i]
        j = bisect_left(chunk, value)
        if j == len(chunk) or chunk[j] != value:
            raise KeyError(value)
        return sum(len(c) for c in self._lists[:i]) + j

    def iter_after(self, value: Key) -> Iterator[Key]:
        """Entries strictly greater than ``value``, ascending."""
        i = bisect_right(self._maxes, value)
        for k in range(i, len(self._lists)):
            chunk = self._lists[k]
            start = bisect_right(chunk, value) if k == i else 0
            for j in range(start, len(chunk)):
                yield chunk[j]
