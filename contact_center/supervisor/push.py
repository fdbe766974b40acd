"""The live push: one snapshot per push for every supervisor socket of this process.

How it works
------------
* Every domain event of the cluster reaches :meth:`DashboardPush.ingest` (it feeds
  the aggregator, O(1) per event) and marks the dashboard *dirty*.
* One task pushes: at least every ``period_s`` (1 s by default, so the wait clocks
  move), and sooner after an event: a dirty dashboard is pushed once ``min_gap_s``
  has passed since the previous push (half the period, or ten times what the last
  push cost, whichever is longer).  So a figure changes on the page within about
  half a second of its event, and a busy floor is pushed at most twice a second.
* A push builds the snapshot **once** (``formulas=False``: the formula texts went out
  once, in ``dashboard.legend``), encodes it **once**, decodes the bytes to text
  once, and hands the same text object to every subscriber.
* Each subscriber holds at most one snapshot not yet written: a newer one replaces it
  (:class:`SnapshotSink`).  A slow supervisor sees fewer, fresher snapshots; it never
  builds a backlog of stale ones.
* The per-agent KPI table (``by_agent``) is the bulk of a snapshot on a big floor.
  Up to ``agent_table_max`` agents it goes in every push; above that, every
  ``agent_table_every`` pushes (``agent_table`` tells the page which pushes carry
  it).  ``agents`` (state, time in state, load) is in every push.
* Nobody subscribed: nothing is built.

"Today" is the UTC day: when an event or the clock passes midnight the aggregator is
reset before the event is counted (live state carries over).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from contact_center import protocol as p
from dashboard.aggregator import KpiAggregator
from dashboard.events import DomainEvent
from dashboard.snapshot import Snapshot

log = logging.getLogger(__name__)

DAY_S = 86400.0


def midnight_utc(t: float) -> float:
    return t - (t % DAY_S)


class SnapshotSink(Protocol):
    """A supervisor socket, as the push sees it."""

    def offer_snapshot(self, payload: bytes, text: str) -> None:
        """Replace any snapshot not yet written with this one."""


@dataclass(slots=True)
class PushStats:
    pushes: int = 0
    full_pushes: int = 0  # pushes carrying the agent table
    deliveries: int = 0  # snapshots handed to sockets
    last_bytes: int = 0
    last_build_s: float = 0.0
    last_encode_s: float = 0.0
    last_fanout_s: float = 0.0
    total_cost_s: float = 0.0

    @property
    def last_cost_s(self) -> float:
        return self.last_build_s + self.last_encode_s + self.last_fanout_s


class DashboardPush:
    def __init__(
        self,
        aggregator: KpiAggregator,
        *,
        period_s: float = 1.0,
        agent_table_max: int = 200,
        agent_table_every: int = 5,
        clock: Callable[[], float] = time.time,
        on_push: Callable[[int], None] | None = None,
    ) -> None:
        self.aggregator = aggregator
        self.period_s = period_s
        self.agent_table_max = agent_table_max
        self._agent_table_every = max(1, agent_table_every)
        self.clock = clock
        self.on_push = on_push  # called with the number of sockets served
        self.stats = PushStats()
        self._subscribers: set[SnapshotSink] = set()
        self._day_end = midnight_utc(aggregator.since) + DAY_S
        self._dirty = False
        self._wake = asyncio.Event()
        self._last_push_m = float("-inf")
        self._task: asyncio.Task[None] | None = None
        # The latest snapshot (for scrapers) and the latest one with the agent table
        # (for a socket that just subscribed), with when they were built.
        self.latest: Snapshot | None = None
        self.latest_at = 0.0
        self._full: tuple[float, bytes, str] | None = None

    # ------------------------------------------------------------------ input

    def ingest(self, event: DomainEvent) -> None:
        if event.at >= self._day_end:
            self._roll(event.at)
        self.aggregator.ingest(event)
        if not self._dirty:
            self._dirty = True
            if self._subscribers:
                self._wake.set()

    def _roll(self, t: float) -> None:
        midnight = midnight_utc(t)
        if midnight > self.aggregator.since:
            self.aggregator.reset(midnight)
            self._full = None
        self._day_end = midnight + DAY_S

    # ------------------------------------------------------------------ subscribers

    @property
    def subscribers(self) -> int:
        return len(self._subscribers)

    def agent_table_every(self) -> int:
        """Every how many pushes ``by_agent`` is sent (1 = every push)."""
        # Counted on the previous snapshot: the aggregator has no cheaper census.
        agents = len(self.latest["agents"]) if self.latest is not None else 0
        return 1 if agents <= self.agent_table_max else self._agent_table_every

    def subscribe(self, sink: SnapshotSink) -> None:
        """Add a socket and give it a complete snapshot (with the agent table) now."""
        self._subscribers.add(sink)
        payload, text = self._full_payload()
        sink.offer_snapshot(payload, text)
        self._wake.set()

    def unsubscribe(self, sink: SnapshotSink) -> None:
        self._subscribers.discard(sink)

    def _full_payload(self) -> tuple[bytes, str]:
        """The latest push that carried the agent table if it is fresh, else a new one
        for this subscriber (reconnect storms reuse it for a whole period)."""
        now = self.clock()
        if self._full is not None and now - self._full[0] < self.period_s:
            return self._full[1], self._full[2]
        payload, text, _ = self._build(now, with_agent_table=True, count=False)
        return payload, text

    # ------------------------------------------------------------------ pushing

    def min_gap_s(self) -> float:
        return max(self.period_s / 2, 10 * self.stats.last_cost_s)

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name="dashboard-push")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            if not self._subscribers:
                self._wake.clear()
                await self._wake.wait()
                continue
            due = self._last_push_m + self.period_s
            if self._dirty:
                due = min(due, self._last_push_m + self.min_gap_s())
            delay = due - loop.time()
            if delay > 0:
                self._wake.clear()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), delay)
                continue
            self._last_push_m = loop.time()
            try:
                self.push_now()
            except Exception:
                log.exception("dashboard push failed")

    def push_now(self) -> int:
        """Build, encode and hand one snapshot to every subscriber; returns how many."""
        now = self.clock()
        every = self.agent_table_every()
        with_table = every == 1 or self.stats.pushes % every == 0
        payload, text, _ = self._build(now, with_agent_table=with_table, count=True)
        start = time.perf_counter()
        sinks = tuple(self._subscribers)
        for sink in sinks:
            sink.offer_snapshot(payload, text)
        stats = self.stats
        stats.last_fanout_s = time.perf_counter() - start
        stats.total_cost_s += stats.last_fanout_s
        stats.deliveries += len(sinks)
        self._dirty = False
        if self.on_push is not None:
            self.on_push(len(sinks))
        return len(sinks)

    def _build(self, now: float, *, with_agent_table: bool, count: bool) -> tuple[bytes, str, Snapshot]:
        if now >= self._day_end:
            self._roll(now)
        t0 = time.perf_counter()
        snapshot = self.aggregator.snapshot(now, agent_table=with_agent_table, formulas=False)
        snapshot["legend"] = {}  # sent once, in dashboard.legend
        t1 = time.perf_counter()
        push = self.stats.pushes + 1 if count else self.stats.pushes
        payload = p.encode(
            p.DashboardSnapshotEvent(push=push, agent_table=with_agent_table, snapshot=snapshot)
        )
        text = payload.decode()
        t2 = time.perf_counter()
        self.latest, self.latest_at = snapshot, now
        if with_agent_table:
            self._full = (now, payload, text)
        if count:
            stats = self.stats
            stats.pushes += 1
            stats.full_pushes += with_agent_table
            stats.last_bytes = len(payload)
            stats.last_build_s = t1 - t0
            stats.last_encode_s = t2 - t1
            stats.total_cost_s += t2 - t0
        return payload, text, snapshot
