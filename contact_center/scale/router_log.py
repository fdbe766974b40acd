"""The routing log in a Redis Stream.

Gateways ``XADD`` routing events (batched by one task, as the bus does); the active
router reads them in order with ``XREAD``.  The stream is the router's durable input:
a standby that takes over replays it from the last snapshot (see ``scale.router_lease``).
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
from collections import deque
from typing import Any

import msgspec
import redis.asyncio as aioredis
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from contact_center.router_input import RouterInput, RouterItem, item_from_dict, item_to_dict

log = logging.getLogger(__name__)

STREAM = "cc:router:log"
# Keep the log bounded; snapshots are taken far more often than this many events.
MAX_LEN = 1_000_000


def stamped(item: RouterItem, entry_id: str) -> RouterItem:
    """The item at the time Redis gave its log entry.  Gateways' clocks differ; the
    stream's ids only grow, so the router (and any replay of the log) sees one clock."""
    at = int(entry_id.split("-", 1)[0]) / 1000.0
    return dataclasses.replace(item, at=at)


class RedisRouterInput(RouterInput):
    def __init__(self, url: str, stream: str = STREAM) -> None:
        self._redis: aioredis.Redis = aioredis.from_url(url)
        self._stream = stream
        self._outbox: deque[bytes] = deque()
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        # The id of the last entry read; the router sets it after a snapshot restore.
        self.last_id = "$"

    @property
    def client(self) -> aioredis.Redis:
        return self._redis

    async def start(self) -> None:
        self._task = asyncio.create_task(self._appender(), name="router-log-appender")

    async def stop(self) -> None:
        deadline = asyncio.get_running_loop().time() + 2
        while self._outbox and asyncio.get_running_loop().time() < deadline:  # noqa: ASYNC110 - bounded drain
            await asyncio.sleep(0.01)
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        await self._redis.aclose()

    def submit(self, item: RouterItem) -> None:
        self._outbox.append(msgspec.json.encode(item_to_dict(item)))
        self._wake.set()

    async def _appender(self) -> None:
        while True:
            if not self._outbox:
                self._wake.clear()
                await self._wake.wait()
                continue
            batch = [self._outbox[i] for i in range(min(len(self._outbox), 500))]
            try:
                async with self._redis.pipeline(transaction=False) as pipe:
                    for payload in batch:
                        pipe.xadd(self._stream, {"e": payload}, maxlen=MAX_LEN, approximate=True)
                    await pipe.execute()
            except (RedisConnectionError, RedisTimeoutError, OSError):
                log.warning("router log: append failed, retrying")
                await asyncio.sleep(0.2)
                continue
            for _ in batch:
                self._outbox.popleft()

    async def read(self) -> list[RouterItem]:
        while True:
            try:
                response = await self._redis.xread({self._stream: self.last_id}, count=500, block=1000)
            except (RedisConnectionError, RedisTimeoutError, OSError):
                await asyncio.sleep(0.2)
                continue
            if not response:
                continue
            stream_entries: list[Any] = list(response)
            items: list[RouterItem] = []
            for _stream, entries in stream_entries:
                items.extend(self._decode(entries))
            return items

    def _decode(self, entries: list[Any]) -> list[RouterItem]:
        items: list[RouterItem] = []
        for entry_id, fields in entries:
            self.last_id = entry_id.decode() if isinstance(entry_id, bytes) else str(entry_id)
            items.append(stamped(item_from_dict(msgspec.json.decode(fields[b"e"])), self.last_id))
        return items

    async def read_range(self, after_id: str, count: int = 5000) -> list[RouterItem]:
        """Entries after ``after_id`` (exclusive), for replay; empty at the end."""
        entries = await self._redis.xrange(self._stream, min=f"({after_id}", max="+", count=count)
        return self._decode(list(entries or []))

    async def end_id(self) -> str:
        """The id of the newest entry ("0-0" for an empty log)."""
        newest = await self._redis.xrevrange(self._stream, count=1)
        if not newest:
            return "0-0"
        entry_id = newest[0][0]
        return entry_id.decode() if isinstance(entry_id, bytes) else str(entry_id)
