"""Prometheus gauges read from the live dashboard at scrape time.

The event-fed collectors (:class:`dashboard.metrics.Metrics`) count what happened;
these report what the supervisors see now, per queue: Erlang C agents needed beside
agents staffed and available, the longest wait and today's service level, and
whether the queue is open (from the router's status).  Plus the cost of the live
push.  Every process serves the same per-queue figures (each aggregator hears the
whole cluster's events): aggregate across instances with ``max``, not ``sum``.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator
from typing import TYPE_CHECKING

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.registry import Collector

from contact_center.protocol import QueueStatus
from dashboard.snapshot import Snapshot

if TYPE_CHECKING:
    from contact_center.supervisor.service import Supervision

# A snapshot younger than this (built for a push) is reused by a scrape.
REUSE_S = 5.0


class DashboardCollector(Collector):
    def __init__(
        self,
        supervision: Supervision,
        queue_statuses: Callable[[], Iterable[QueueStatus]],
        namespace: str = "cc",
    ) -> None:
        self.supervision = supervision
        self.queue_statuses = queue_statuses
        self.ns = namespace

    def _snapshot(self) -> Snapshot:
        push = self.supervision.push
        now = time.time()
        if push.latest is not None and now - push.latest_at < REUSE_S:
            return push.latest
        return push.aggregator.snapshot(now, agent_table=False, formulas=False)

    def describe(self) -> Iterator[GaugeMetricFamily | CounterMetricFamily]:
        yield from self._families()

    def collect(self) -> Iterator[GaugeMetricFamily | CounterMetricFamily]:
        families = self._families()
        needed, staffed, available, longest, level, open_ = families[:6]
        snapshot = self._snapshot()
        for queue, row in snapshot["staffing"].items():
            needed.add_metric([queue], row["agents_needed"])
            staffed.add_metric([queue], row["agents_staffed"])
            available.add_metric([queue], row["agents_available"])
        for queue, kpis in snapshot["by_queue"].items():
            longest.add_metric([queue], kpis["longest_wait_s"]["value"] or 0.0)
            sl = kpis["service_level"]["value"]
            if sl is not None:
                level.add_metric([queue], sl)
        for status in self.queue_statuses():
            open_.add_metric([status.queue_id], 1.0 if status.open else 0.0)
        push = self.supervision.push
        stats = push.stats
        subscribers, pushes, deliveries, size, cost = families[6:]
        subscribers.add_metric([], push.subscribers)
        pushes.add_metric([], stats.pushes)
        deliveries.add_metric([], stats.deliveries)
        size.add_metric([], stats.last_bytes)
        cost.add_metric([], stats.total_cost_s)
        yield from families

    def _families(self) -> list[GaugeMetricFamily | CounterMetricFamily]:
        ns = self.ns
        q = ["queue"]
        return [
            GaugeMetricFamily(
                f"{ns}_queue_agents_needed",
                "Erlang C: agents needed now for the queue's service-level target.",
                labels=q,
            ),
            GaugeMetricFamily(
                f"{ns}_queue_agents_staffed",
                "Agents available, busy or in wrap-up serving the queue.",
                labels=q,
            ),
            GaugeMetricFamily(f"{ns}_queue_agents_available", "Staffed agents who are available.", labels=q),
            GaugeMetricFamily(
                f"{ns}_queue_longest_wait_seconds",
                "Now minus the earliest enqueue among waiting contacts.",
                labels=q,
            ),
            GaugeMetricFamily(
                f"{ns}_queue_service_level_ratio",
                "Today (UTC): answered within T / (answered + abandoned - abandoned within 5 s).",
                labels=q,
            ),
            GaugeMetricFamily(f"{ns}_queue_open", "1 when the queue is within its business hours.", labels=q),
            GaugeMetricFamily(f"{ns}_dashboard_subscribers", "Supervisor sockets receiving the live push."),
            CounterMetricFamily(f"{ns}_dashboard_pushes", "Dashboard snapshots built for the live push."),
            CounterMetricFamily(
                f"{ns}_dashboard_deliveries", "Dashboard snapshots handed to supervisor sockets."
            ),
            GaugeMetricFamily(f"{ns}_dashboard_push_bytes", "Size of the latest pushed snapshot."),
            CounterMetricFamily(
                f"{ns}_dashboard_push_cpu_seconds", "Time spent building, encoding and fanning out snapshots."
            ),
        ]
