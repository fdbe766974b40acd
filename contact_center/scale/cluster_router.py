"""One active router in a cluster, under a Redis lease; the others stand by.

Every process started with ``--role all`` or ``--role router`` runs a
:class:`ClusterRouter`.  The one that holds the lease (``SET NX PX``, renewed by a
compare-and-extend script) routes; the rest retry.  Taking over means: restore the
newest snapshot, replay the routing log after it (no side effects), reconcile with the
database (carry out what the dead router decided but did not finish), then route live
from where the log ends.  The active router snapshots its state every few seconds, so
a replay stays short.  If a renewal fails (a pause longer than the lease, Redis lost
the key) the router stops at once; the database guards every assignment, so even a
router that has not noticed yet cannot assign a contact twice.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
import uuid
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import redis.asyncio as aioredis
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from contact_center.router_driver import RouterDriver
from contact_center.scale.roll_call import ROLL_CALL_TOPIC
from contact_center.scale.router_log import RedisRouterInput

log = logging.getLogger(__name__)
T = TypeVar("T")

LEASE_KEY = "cc:router:lease"
SNAPSHOT_KEY = "cc:router:snapshot"

_RENEW = """
if redis.call('get', KEYS[1]) == ARGV[1] then
  return redis.call('pexpire', KEYS[1], ARGV[2])
end
return 0
"""
_RELEASE = """
if redis.call('get', KEYS[1]) == ARGV[1] then
  return redis.call('del', KEYS[1])
end
return 0
"""


class RouterLease:
    def __init__(self, client: aioredis.Redis, node_id: str, ttl_s: float) -> None:
        self._redis = client
        self.node_id = node_id
        self.ttl_ms = int(ttl_s * 1000)

    async def acquire(self) -> bool:
        return bool(await self._redis.set(LEASE_KEY, self.node_id, nx=True, px=self.ttl_ms))

    async def renew(self) -> bool:
        return bool(await self._redis.eval(_RENEW, 1, LEASE_KEY, self.node_id, str(self.ttl_ms)))  # type: ignore[misc]

    async def release(self) -> None:
        await self._redis.eval(_RELEASE, 1, LEASE_KEY, self.node_id)  # type: ignore[misc]

    async def holder(self) -> str | None:
        value = await self._redis.get(LEASE_KEY)
        return value.decode() if isinstance(value, bytes) else value


class LeaseLost(Exception):
    """The router lease lapsed while this process was taking over."""


class ClusterRouter:
    def __init__(
        self,
        *,
        make_driver: Callable[[], RouterDriver],
        router_input: RedisRouterInput,
        lease_s: float = 5.0,
        snapshot_every_s: float = 5.0,
        node_id: str | None = None,
        on_active: Callable[[RouterDriver | None], None] = lambda _driver: None,
    ) -> None:
        self._make_driver = make_driver
        self._input = router_input
        self._redis = router_input.client
        self.lease = RouterLease(self._redis, node_id or uuid.uuid4().hex, lease_s)
        self._lease_s = lease_s
        self._snapshot_every_s = snapshot_every_s
        self._on_active = on_active
        self._task: asyncio.Task[None] | None = None
        self.driver: RouterDriver | None = None
        self.takeovers = 0
        self._last_snapshot = 0.0
        self._snapshot_task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="cluster-router")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        await self._step_down()
        with contextlib.suppress(Exception):
            await self.lease.release()

    @property
    def active(self) -> bool:
        return self.driver is not None

    async def _run(self) -> None:
        while True:
            try:
                if await self.lease.acquire():
                    await self._lead()
                else:
                    await asyncio.sleep(self._lease_s / 4)
            except asyncio.CancelledError:
                raise
            except (RedisConnectionError, RedisTimeoutError, OSError):
                log.warning("router: Redis unreachable; standing by")
                await self._step_down()
                await asyncio.sleep(0.5)
            except Exception:
                log.exception("router: leadership failed; standing by")
                await self._step_down()
                await asyncio.sleep(0.5)

    async def _lead(self) -> None:
        log.info("router %s: took the lease, taking over", self.lease.node_id)
        started = time.monotonic()
        driver = self._make_driver()
        try:
            # A takeover can outlast the lease (rebuilding from a database that is
            # itself recovering): keep the lease while it runs, or a standby takes it
            # meanwhile and both go on taking it from each other.
            replayed = await self._renewing(self._take_over(driver))
            self.driver = driver
            self.takeovers += 1
            driver.after_batch = self._maybe_snapshot
            await self._renewing(driver.start(restore_from_database=False))
        except LeaseLost:
            log.warning("router %s: lost the lease while taking over; standing by", self.lease.node_id)
            await self._step_down()
            return
        self._on_active(driver)
        log.info(
            "router %s: active after %.2fs (%d log items replayed)",
            self.lease.node_id,
            time.monotonic() - started,
            replayed,
        )
        try:
            while True:
                await asyncio.sleep(self._lease_s / 3)
                if not await self.lease.renew():
                    log.warning("router %s: lost the lease; stepping down", self.lease.node_id)
                    return
        finally:
            await self._step_down()

    async def _renewing(self, work: Awaitable[T]) -> T:
        """Run ``work`` while renewing the lease; LeaseLost (``work`` cancelled) if it
        lapses first."""
        task = asyncio.ensure_future(work)
        try:
            while True:
                done, _ = await asyncio.wait({task}, timeout=self._lease_s / 3)
                if done:
                    return task.result()
                if not await self.lease.renew():
                    raise LeaseLost
        finally:
            if not task.done():
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await task

    async def _step_down(self) -> None:
        driver, self.driver = self.driver, None
        if driver is not None:
            self._on_active(None)
            await driver.stop()

    async def _take_over(self, driver: RouterDriver) -> int:
        raw = await self._redis.get(SNAPSHOT_KEY)
        if raw:
            snapshot = json.loads(raw)
            driver.restore(snapshot["router"])
            after = str(snapshot["last_id"])
        else:
            # No snapshot (first start, or Redis lost its data): the database is the
            # truth.  Note where the log ends *before* reading it: whatever is logged
            # after that is replayed on top (duplicates are ignored by the engine).
            after = await self._input.end_id()
            await driver.load_from_database()
            # Who is signed in and available only ever travelled in the lost log: ask
            # the gateways (their answers are logged after ``after``).
            await self._redis.publish(ROLL_CALL_TOPIC, b"{}")
        replayed = 0
        while True:
            items = await self._input.read_range(after)
            if not items:
                break
            await driver.replay(items)
            replayed += len(items)
            after = self._input.last_id
        self._input.last_id = after
        await driver.reconcile()
        self._save_snapshot(driver)
        return replayed

    async def _maybe_snapshot(self, driver: RouterDriver) -> None:
        if time.monotonic() - self._last_snapshot >= self._snapshot_every_s:
            self._save_snapshot(driver)

    def _save_snapshot(self, driver: RouterDriver) -> None:
        """Capture now (between two log items), write in the background."""
        self._last_snapshot = time.monotonic()
        payload: dict[str, Any] = {"last_id": self._input.last_id, "router": driver.snapshot()}
        data = json.dumps(payload, separators=(",", ":"))
        if self._snapshot_task is not None and not self._snapshot_task.done():
            return  # the previous one is still being written; the next will do
        self._snapshot_task = asyncio.create_task(self._write(data))

    async def _write(self, data: str) -> None:
        try:
            await self._redis.set(SNAPSHOT_KEY, data)
        except (RedisConnectionError, RedisTimeoutError, OSError):
            log.warning("router: snapshot not saved (Redis unreachable)")
