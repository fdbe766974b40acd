"""Who is connected, with a grace period before "gone".

A visitor moving between pages, or an agent's laptop changing networks, drops its
socket for a moment; we only act (abandon a waiting visitor's contact, set an agent
offline and re-queue its chats) when nobody came back within the grace period.  The
counts are per process; a cluster asks ``elsewhere`` (presence keys in Redis) before
acting, so a visitor that reconnected to another gateway is not abandoned.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any

log = logging.getLogger(__name__)

GoneCallback = Callable[[str], Awaitable[None]]
ElsewhereCheck = Callable[[str, str], Awaitable[bool]]


async def _nowhere_else(_kind: str, _subject: str) -> bool:
    return False


class Presence:
    def __init__(
        self,
        *,
        grace_s: dict[str, float],
        on_gone: dict[str, GoneCallback],
        elsewhere: ElsewhereCheck = _nowhere_else,
    ) -> None:
        self._grace_s = grace_s
        self._on_gone = on_gone
        self.elsewhere = elsewhere
        self._counts: dict[tuple[str, str], int] = {}
        self._timers: dict[tuple[str, str], asyncio.TimerHandle | asyncio.Task[None]] = {}
        # Called (in the background) when a subject's first socket opens here.
        self.on_first: Callable[[str, str], Coroutine[Any, Any, None]] | None = None
        self._background: set[asyncio.Task[None]] = set()

    def connected(self, kind: str, subject: str) -> None:
        key = (kind, subject)
        self._counts[key] = self._counts.get(key, 0) + 1
        if self._counts[key] == 1 and self.on_first is not None:
            task = asyncio.create_task(self.on_first(kind, subject))
            self._background.add(task)
            task.add_done_callback(self._background.discard)
        timer = self._timers.pop(key, None)
        if timer is not None:
            timer.cancel()

    def disconnected(self, kind: str, subject: str) -> None:
        key = (kind, subject)
        count = self._counts.get(key, 0) - 1
        if count > 0:
            self._counts[key] = count
            return
        self._counts.pop(key, None)
        self._timers[key] = asyncio.create_task(self._expire(key))

    def is_connected(self, kind: str, subject: str) -> bool:
        return self._counts.get((kind, subject), 0) > 0

    def local_subjects(self, kind: str) -> list[str]:
        return [subject for (k, subject) in self._counts if k == kind]

    async def _expire(self, key: tuple[str, str]) -> None:
        kind, subject = key
        await asyncio.sleep(self._grace_s[kind])
        if self._timers.get(key) is not asyncio.current_task():
            return
        del self._timers[key]
        if self.is_connected(kind, subject) or await self.elsewhere(kind, subject):
            return
        try:
            await self._on_gone[kind](subject)
        except Exception:
            log.exception("presence: handling %s %s gone failed", kind, subject)

    def cancel_all(self) -> None:
        for timer in self._timers.values():
            timer.cancel()
        self._timers.clear()
