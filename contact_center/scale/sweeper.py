"""What a dead gateway cannot do for itself: notice that its people are gone.

The active router looks, every few seconds, for agents routing believes present and
visitors whose contacts wait, that have no live presence entry on any gateway.  After
the same grace periods a live gateway would give (an agent's consoles, a visitor's
tabs), it acts as that gateway would have: the agent goes offline and its chats return
to their queues; the visitor's waiting contact is abandoned.  Live calls whose owning
gateway has stopped its heartbeat are ended as that gateway would have ended them
(:mod:`contact_center.calls.orphans`).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable

from contact_center.router_input import AgentDisconnected, RouterInput
from contact_center.scale.presence import ClusterPresence
from contact_center.store.contacts import ContactStore
from contact_center.store.models import CallRecord
from routing.engine import RoutingEngine

log = logging.getLogger(__name__)


class PresenceSweeper:
    def __init__(
        self,
        *,
        presence: ClusterPresence,
        engine: Callable[[], RoutingEngine | None],
        contacts: ContactStore,
        router_input: RouterInput,
        abandon: Callable[[str], Awaitable[bool]],
        live_calls: Callable[[], Awaitable[list[CallRecord]]],
        end_orphaned_call: Callable[[CallRecord, float], Awaitable[None]],
        agent_grace_s: float,
        visitor_grace_s: float,
        call_grace_s: float = 0.0,
        period_s: float = 2.0,
    ) -> None:
        self._presence = presence
        self._engine = engine
        self._contacts = contacts
        self._input = router_input
        self._abandon = abandon
        self._live_calls = live_calls
        self._end_orphaned_call = end_orphaned_call
        # A gateway gone for as long as an agent's consoles may be, and as long as the
        # sides of its calls have to reconnect (to a gateway that then takes the call
        # over): its calls' owner is not coming back, nor is anyone to take them.
        node_grace = max(agent_grace_s, call_grace_s)
        # An entry can also be missing because Redis restarted empty: a living gateway
        # rewrites its own within one refresh period, so no shorter absence is a death
        # (the chaos soak lost waiting visitors and available agents this way).
        floor = presence.refresh_s + period_s
        self._grace = {
            "agent": max(agent_grace_s, floor),
            "visitor": max(visitor_grace_s, floor),
            "node": max(node_grace, floor),
        }
        self._period_s = period_s
        self._missing_since: dict[tuple[str, str], float] = {}
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._loop(), name="presence-sweeper")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def _loop(self) -> None:
        while True:
            await asyncio.sleep(self._period_s)
            try:
                await self.sweep(time.time())
            except Exception:
                log.exception("presence sweep failed")

    async def _gone_long_enough(self, kind: str, subject: str, now: float) -> bool:
        key = (kind, subject)
        if kind == "node":
            present = await self._presence.node_alive(subject)
        else:
            present = await self._presence.anywhere(kind, subject)
        if present:
            self._missing_since.pop(key, None)
            return False
        since = self._missing_since.setdefault(key, now)
        if now - since < self._grace[kind]:
            return False
        del self._missing_since[key]
        return True

    async def sweep(self, now: float) -> None:
        engine = self._engine()
        if engine is None:
            return  # not the active router
        for agent_id in engine.agent_ids():
            view = engine.agent_view(agent_id)
            if view is None or view.presence == "offline":
                continue
            if await self._gone_long_enough("agent", agent_id, now):
                log.info("agent %s has no console on any gateway: offline", agent_id)
                self._input.submit(AgentDisconnected(at=now, agent_id=agent_id))
        for contact in await self._contacts.with_status(("queued",)):
            if await self._gone_long_enough("visitor", contact.visitor_id, now):
                log.info("visitor %s has no tab on any gateway: abandoned", contact.visitor_id)
                await self._abandon(contact.id)
        calls = await self._live_calls()
        dead = {node for node in {c.node for c in calls} if await self._gone_long_enough("node", node, now)}
        for call in calls:
            if call.node in dead:
                await self._end_orphaned_call(call, now)
