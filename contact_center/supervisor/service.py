"""The supervisor side of one process, wired into :class:`~contact_center.services.Services`.

* :meth:`Supervision.ingest` is the domain-event listener that feeds the aggregator
  (through the push, which handles midnight and wakes the pushing task);
* :meth:`Supervision.router_emit` is what the router driver emits domain events
  through: it publishes them and keeps the facts reports need (wrap-up ends);
* :meth:`Supervision.start` rebuilds today from the database before any live event
  is counted (live events arriving meanwhile are held, then applied after it), then
  starts the push and the fact writer.
"""

from __future__ import annotations

import logging
import time
from typing import TYPE_CHECKING

from sqlalchemy import insert

from contact_center.store.models import AgentStateLog
from contact_center.supervisor.actions import SupervisorActions
from contact_center.supervisor.facts import FactWriter
from contact_center.supervisor.prom import DashboardCollector
from contact_center.supervisor.push import DashboardPush
from contact_center.supervisor.rebuild import load_today
from dashboard import events as dev

if TYPE_CHECKING:
    from contact_center.services import Services

log = logging.getLogger(__name__)


class Supervision:
    def __init__(self, services: Services) -> None:
        self.services = services
        metrics = services.metrics
        pushes_out = metrics.gateway_frames_out.labels(role="supervisor_page")
        self.push = DashboardPush(
            services.aggregator,
            period_s=services.settings.dashboard_push_s,
            on_push=lambda served: pushes_out.inc(served),
        )
        self.facts = FactWriter(services.db)
        self.actions = SupervisorActions(services)
        self.rebuilt_events = 0
        # Live events that arrive while today is being rebuilt.
        self._held: list[dev.DomainEvent] | None = None
        services.registry.register(DashboardCollector(self))

    # ------------------------------------------------------------------ events

    def ingest(self, event: dev.DomainEvent) -> None:
        if self._held is not None:
            self._held.append(event)
        else:
            self.push.ingest(event)

    def router_emit(self, event: dev.DomainEvent) -> None:
        self.services.domain.emit(event)
        self.facts.record(event)

    # ------------------------------------------------------------------ lifecycle

    async def start(self) -> None:
        self._held = []
        try:
            await self.rebuild()
        except Exception:
            log.exception("could not rebuild today's dashboard from the database")
        finally:
            held, self._held = self._held, None
            for event in held:
                self.push.ingest(event)
        self.push.start()
        self.facts.start()

    async def stop(self) -> None:
        await self.push.stop()
        await self.facts.stop()

    async def rebuild(self) -> None:
        services = self.services
        now = time.time()
        since = self.push.aggregator.since
        events = await load_today(services.db, since, services.settings.default_chat_capacity)
        for event in events:
            self.push.ingest(event)
        self.rebuilt_events = len(events)
        if services.driver is not None:
            # This process routes, and its router starts from the database with every
            # agent offline until their consoles reconnect: say so.
            await self._agents_offline(events, now)
        log.info("dashboard rebuilt from %d events of today", len(events))

    async def _agents_offline(self, events: list[dev.DomainEvent], now: float) -> None:
        last: dict[str, str] = {}
        for event in events:
            if isinstance(event, dev.AgentStateChanged):
                last[event.agent_id] = event.state
        signed_in = [agent for agent, state in last.items() if state != "offline"]
        if not signed_in:
            return
        async with self.services.db.begin() as conn:
            for agent_id in signed_in:
                await conn.execute(
                    insert(AgentStateLog).values(agent_id=agent_id, state="offline", reason="restart", at=now)
                )
        for agent_id in signed_in:
            self.push.ingest(
                dev.AgentStateChanged(at=now, agent_id=agent_id, state="offline", reason="restart")
            )
