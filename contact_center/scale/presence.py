"""Who is connected anywhere in the cluster: presence entries with a time to live.

Each gateway keeps, per visitor and per agent it has sockets for, an entry in a sorted
set ``cc:presence:<kind>:<id>`` (member: the gateway's node id, score: when the entry
expires) and refreshes it every few seconds.  A gateway that dies stops refreshing, so
its entries lapse on their own: nobody has to clean up after a ``kill -9``.

A Redis that restarts empty loses every entry at once, for living gateways too: each
rewrites its own as soon as its bus is back (:meth:`ClusterPresence.refresh_now`), and
the sweeper never judges an absence shorter than one refresh period
(:attr:`ClusterPresence.refresh_s`), the longest a living gateway can take to rewrite
what was lost.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable

import redis.asyncio as aioredis
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

log = logging.getLogger(__name__)

_ERRORS = (RedisConnectionError, RedisTimeoutError, OSError)


def presence_key(kind: str, subject: str) -> str:
    return f"cc:presence:{kind}:{subject}"


def node_key(node_id: str) -> str:
    """The gateway process's own heartbeat: what it owns in memory (calls) dies with it."""
    return f"cc:node:{node_id}"


class ClusterPresence:
    def __init__(
        self,
        client: aioredis.Redis,
        node_id: str,
        local_subjects: Callable[[str], list[str]],
        *,
        ttl_s: float = 15.0,
        refresh_s: float = 5.0,
    ) -> None:
        self._redis = client
        self.node_id = node_id
        self._local = local_subjects
        self._ttl_s = ttl_s
        self.refresh_s = refresh_s
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._refresh_loop(), name="cluster-presence")

    def refresh_now(self) -> None:
        """Rewrite this gateway's entries at once (Redis came back, perhaps empty)."""
        self._wake.set()

    async def node_alive(self, node_id: str) -> bool:
        """That gateway process refreshed its heartbeat within the time to live."""
        try:
            return bool(await self._redis.exists(node_key(node_id)))
        except _ERRORS:
            return True  # cannot tell: do not declare a gateway dead while Redis is away

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def announce(self, kind: str, subject: str) -> None:
        """A socket for ``subject`` opened here (written at once, not at the next
        refresh, so a reconnect to this gateway counts immediately)."""
        with contextlib.suppress(*_ERRORS):
            await self._redis.zadd(presence_key(kind, subject), {self.node_id: time.time() + self._ttl_s})

    async def withdraw(self, kind: str, subject: str) -> None:
        with contextlib.suppress(*_ERRORS):
            await self._redis.zrem(presence_key(kind, subject), self.node_id)

    async def elsewhere(self, kind: str, subject: str) -> bool:
        """Another gateway has a live socket for ``subject``."""
        try:
            members = await self._redis.zrangebyscore(presence_key(kind, subject), time.time(), "+inf")
        except _ERRORS:
            return True  # cannot tell: do not declare anyone gone while Redis is away
        node = self.node_id.encode()
        return any(member != node for member in members)

    async def anywhere(self, kind: str, subject: str) -> bool:
        try:
            return bool(await self._redis.zcount(presence_key(kind, subject), time.time(), "+inf"))
        except _ERRORS:
            return True

    async def _refresh_loop(self) -> None:
        while True:
            expires = time.time() + self._ttl_s
            try:
                async with self._redis.pipeline(transaction=False) as pipe:
                    pipe.set(node_key(self.node_id), "1", px=int(self._ttl_s * 1000))
                    for kind in ("visitor", "agent"):
                        for subject in self._local(kind):
                            key = presence_key(kind, subject)
                            pipe.zadd(key, {self.node_id: expires})
                            pipe.zremrangebyscore(key, "-inf", time.time())
                            pipe.expire(key, int(self._ttl_s * 4))
                    await pipe.execute()
            except _ERRORS:
                log.warning("presence: refresh failed (Redis unreachable)")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self.refresh_s)
            self._wake.clear()
