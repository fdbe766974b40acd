"""Redis pub/sub bus, for several gateway processes.

Publishing never awaits Redis: ``publish`` appends to an outbox and one task drains it
into pipelined PUBLISH commands (DESIGN.md 5a: an awaited publish per message costs
~140 us of CPU and exhausts the connection pool under load; one pipelining task was
2-3x faster and fair).  One pub/sub connection carries every subscription of the
process; after Redis restarts, redis-py re-subscribes on reconnect and we retry the
outbox, so only messages in flight at the moment of the crash can be lost, and those
are stored conversation events that clients recover by seq on resume.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import deque
from collections.abc import Awaitable, Callable

import redis.asyncio as aioredis
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from contact_center.bus.base import Bus

log = logging.getLogger(__name__)

_MAX_PIPELINE = 1000
_MAX_OUTBOX = 100_000


class RedisBus(Bus):
    def __init__(self, url: str) -> None:
        super().__init__()
        self._url = url
        self._redis: aioredis.Redis = aioredis.from_url(url, health_check_interval=10)
        # Subscribe confirmations are read (not ignored): a replay waits for its
        # topic's, so no event is published between reading history and listening.
        self._pubsub = self._redis.pubsub()
        self._confirmed: dict[str, asyncio.Event] = {}
        self._outbox: deque[tuple[str, bytes]] = deque()
        self._wake = asyncio.Event()
        self._topics: set[str] = set()
        self._changes: asyncio.Queue[tuple[str, str]] = asyncio.Queue()
        self._tasks: list[asyncio.Task[None]] = []
        self._flushed = asyncio.Event()
        self.published = 0
        self.dropped = 0
        # Awaited after the subscriber connection came back (messages published
        # meanwhile were not delivered to this process).
        self.on_reconnect: list[Callable[[], Awaitable[None]]] = []

    @property
    def client(self) -> aioredis.Redis:
        return self._redis

    async def start(self) -> None:
        await self._redis.ping()
        # A pub/sub connection needs one subscription before it can be read from.
        await self._pubsub.subscribe("cc:bus:hello")
        self._tasks = [
            asyncio.create_task(self._publisher(), name="redis-bus-publisher"),
            asyncio.create_task(self._reader(), name="redis-bus-reader"),
            asyncio.create_task(self._subscriber(), name="redis-bus-subscriber"),
        ]

    async def stop(self) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.flush(), 2)
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        with contextlib.suppress(Exception):
            await self._pubsub.aclose()  # type: ignore[no-untyped-call]
        with contextlib.suppress(Exception):
            await self._redis.aclose()

    # ------------------------------------------------------------------ publish

    def publish(self, topic: str, payload: bytes) -> None:
        if len(self._outbox) >= _MAX_OUTBOX:
            # Redis has been gone for a while: shed the oldest (clients resume by seq).
            self._outbox.popleft()
            self.dropped += 1
        self._outbox.append((topic, payload))
        self._flushed.clear()
        self._wake.set()

    async def flush(self) -> None:
        while self._outbox:
            self._flushed.clear()
            await self._flushed.wait()

    async def _publisher(self) -> None:
        backoff = 0.05
        while True:
            if not self._outbox:
                self._flushed.set()
                self._wake.clear()
                await self._wake.wait()
                continue
            batch = [self._outbox[i] for i in range(min(len(self._outbox), _MAX_PIPELINE))]
            try:
                async with self._redis.pipeline(transaction=False) as pipe:
                    for topic, payload in batch:
                        pipe.publish(topic, payload)
                    await pipe.execute()
            except (RedisConnectionError, RedisTimeoutError, OSError):
                log.warning("redis bus: publish failed, retrying in %.2fs", backoff)
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, 2.0)
                continue
            backoff = 0.05
            for _ in batch:
                self._outbox.popleft()
            self.published += len(batch)

    # ------------------------------------------------------------------ subscribe

    def subscribe(self, topic: str) -> None:
        if topic not in self._topics:
            self._topics.add(topic)
            self._confirmed[topic] = asyncio.Event()
            self._changes.put_nowait(("+", topic))

    def unsubscribe(self, topic: str) -> None:
        if topic in self._topics:
            self._topics.discard(topic)
            self._confirmed.pop(topic, None)
            self._changes.put_nowait(("-", topic))

    async def subscribed(self, topic: str, timeout_s: float = 5.0) -> None:
        """Wait for Redis to confirm the subscription (bounded: with Redis down the
        caller goes on, and the resync after the outage covers the rest)."""
        confirmed = self._confirmed.get(topic)
        if confirmed is None or confirmed.is_set():
            return
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(confirmed.wait(), timeout_s)

    async def _subscriber(self) -> None:
        """Applies subscription changes in order, in batches."""
        while True:
            change = await self._changes.get()
            changes = [change]
            while not self._changes.empty():
                changes.append(self._changes.get_nowait())
            adds = [t for op, t in changes if op == "+" and t in self._topics]
            removes = [t for op, t in changes if op == "-" and t not in self._topics]
            while True:
                try:
                    if adds:
                        await self._pubsub.subscribe(*adds)
                    if removes:
                        await self._pubsub.unsubscribe(*removes)
                    break
                except (RedisConnectionError, RedisTimeoutError, OSError):
                    await asyncio.sleep(0.2)

    async def _reader(self) -> None:
        while True:
            try:
                message = await self._pubsub.get_message(timeout=1.0)
            except (RedisConnectionError, RedisTimeoutError, OSError):
                log.warning("redis bus: connection lost, reconnecting")
                while not await self._resubscribe():  # noqa: ASYNC110 - polling Redis until it is back
                    await asyncio.sleep(0.2)
                log.info("redis bus: reconnected")
                for callback in self.on_reconnect:
                    try:
                        await callback()
                    except Exception:
                        log.exception("redis bus: reconnect callback failed")
                continue
            if message is None:
                continue
            kind = message.get("type")
            if kind not in ("message", "subscribe"):
                continue
            channel = message["channel"]
            topic = channel.decode() if isinstance(channel, bytes) else str(channel)
            if kind == "subscribe":
                confirmed = self._confirmed.get(topic)
                if confirmed is not None:
                    confirmed.set()
                continue
            try:
                self._dispatch(topic, message["data"])
            except Exception:
                log.exception("redis bus: handler failed for %s", topic)

    async def _resubscribe(self) -> bool:
        for confirmed in self._confirmed.values():
            confirmed.clear()
        try:
            await self._pubsub.subscribe("cc:bus:hello", *self._topics)
        except (RedisConnectionError, RedisTimeoutError, OSError):
            return False
        return True
