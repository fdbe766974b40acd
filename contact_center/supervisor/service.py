"""The supervisor side of one process: the live push and the facts reports need.

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
from collections.abc import Callable

from sqlalchemy import insert
from sqlalchemy.ext.asyncio import AsyncEngine

from contact_center.store.models import AgentStateLog
from contact_center.supervisor.facts import FactWriter
from contact_center.supervisor.push import DashboardPush
from contact_center.supervisor.rebuild import load_today
from dashboard import events as dev
from dashboard.aggregator import KpiAggregator

log = logging.getLogger(__name__)


class Supervision:
    def __init__(
        self,
        *,
        aggregator: KpiAggregator,
        db: AsyncEngine,
        publish: Callable[[dev.DomainEvent], None],
        routes_here: Callable[[], bool],
        push_s: float,
        default_chat_capacity: int,
        on_push: Callable[[int], None] = lambda _served: None,
    ) -> None:
        """``publish`` sends a domain event to every process (the bus); ``routes_here``
        says whether this process runs the active router now; ``on_push`` counts the
        snapshots written to supervisors' sockets."""
        self.push = DashboardPush(aggregator, period_s=push_s, on_push=on_push)
        self.facts = FactWriter(db)
        self._db = db
        self._publish = publish
        self._routes_here = routes_here
        self._default_chat_capacity = default_chat_capacity
        self.rebuilt_events = 0
        # Live events that arrive while today is being rebuilt.
        self._held: list[dev.DomainEvent] | None = None

    # ------------------------------------------------------------------ events

    def ingest(self, event: dev.DomainEvent) -> None:
        if self._held is not None:
            self._held.append(event)
        else:
            self.push.ingest(event)

    def router_emit(self, event: dev.DomainEvent) -> None:
        self._publish(event)
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
        now = time.time()
        since = self.push.aggregator.since
        events = await load_today(self._db, since, self._default_chat_capacity)
        for event in events:
            self.push.ingest(event)
        self.rebuilt_events = len(events)
        if self._routes_here():
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
        async with self._db.begin() as conn:
            for agent_id in signed_in:
                await conn.execute(
                    insert(AgentStateLog).values(agent_id=agent_id, state="offline", reason="restart", at=now)
                )
        for agent_id in signed_in:
            self.push.ingest(
                dev.AgentStateChanged(at=now, agent_id=agent_id, state="offline", reason="restart")
            )
