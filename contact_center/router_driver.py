"""The router driver: reads the routing log, feeds the sans-I/O engine, carries out its
decisions (database, bus, domain events) and keeps time.

Two rules keep replay honest.  A command in the log (an agent's consoles came or
went) is turned into engine events *inline*, by a function of the engine's state alone,
so replaying the command at the same point of the log yields the same events.  And when
carrying out a decision shows the engine must learn something only the database knows
(an assignment lost a race with the visitor leaving), the driver *appends* an event to
the log rather than poking the engine.  So the log alone rebuilds the engine's state.
Ticks go through the log too, so an event is always applied at the same logical time
live and in replay (an accept that arrived just before an offer's expiry tick stays
before it).  While replaying (``live`` false) the driver only feeds the engine: the
decisions were carried out when they were first made, and :meth:`reconcile` repairs
what a router that died mid-way left undone.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import hashlib
import json
import logging
import time
from collections.abc import Awaitable, Callable, Iterable
from typing import Any

import msgspec
from sqlalchemy import insert
from sqlalchemy.ext.asyncio import AsyncEngine

from contact_center import protocol as p
from contact_center.bus import Bus
from contact_center.conversations import Conversations, contact_summary
from contact_center.router_input import (
    AgentConnected,
    AgentDisconnected,
    PositionRequested,
    ReloadConfig,
    RouterInput,
    RouterItem,
)
from contact_center.routing_config import agent_upserted, queue_upserted
from contact_center.store.contacts import ContactStore
from contact_center.store.models import AgentStateLog, Queue, User
from contact_center.store.offers import OfferLedger
from contact_center.store.queues import QueueStore, queue_dict
from contact_center.store.users import UserStore
from dashboard import events as dev
from routing import events as rev
from routing.engine import RoutingEngine

log = logging.getLogger(__name__)

AGENT_TOPIC = "agent:"
QUEUES_TOPIC = "queues"
STATUS_TOPIC = "router.status"
# The router re-announces queue status this often even when nothing changed, so a
# gateway that just started learns it quickly.
STATUS_HEARTBEAT_S = 5.0
# How often the router checks whether queues or agents changed behind its back (CLI).
CONFIG_POLL_S = 30.0
WAITING_SHOWN_PER_QUEUE = 100


def agent_topic(agent_id: str) -> str:
    return AGENT_TOPIC + agent_id


def config_fingerprint(queues: Iterable[Queue], users: Iterable[User]) -> str:
    """A digest of everything routing reads from the queue and agent rows."""
    rows: list[Any] = [queue_dict(queue) for queue in queues]
    for user in users:
        rows.append(
            [
                user.id,
                user.display_name,
                user.role,
                user.skills,
                user.languages,
                user.capacity,
                user.queues,
                user.disabled,
            ]
        )
    raw = json.dumps(rows, sort_keys=True, default=str).encode()
    return hashlib.sha256(raw).hexdigest()


class RouterStatusMessage(msgspec.Struct):
    queues: list[p.QueueStatus]
    at: float


class RouterDriver:
    def __init__(
        self,
        *,
        engine: RoutingEngine,
        router_input: RouterInput,
        contacts: ContactStore,
        queues: QueueStore,
        users: UserStore,
        conversations: Conversations,
        offers: OfferLedger,
        bus: Bus,
        db: AsyncEngine,
        emit: Callable[[dev.DomainEvent], None],
        tick_s: float = 0.5,
        clock: Callable[[], float] = time.time,
        config_poll_s: float = CONFIG_POLL_S,
    ) -> None:
        self.engine = engine
        self._input = router_input
        self._contacts = contacts
        self._queues = queues
        self._users = users
        self._conversations = conversations
        self._bus = bus
        self._db = db
        self._ledger = offers
        self._emit = emit
        self._tick_s = tick_s
        self._clock = clock
        self._config_poll_s = config_poll_s
        # Fingerprint of the queue and agent rows the router last read (see
        # _config_poll_loop); None until the first read.
        self._config_seen: str | None = None
        self._tasks: list[asyncio.Task[None]] = []
        self._last_at = 0.0
        # contact id -> (agent id, when offered, encoded offer event)
        self._offers: dict[str, tuple[str, float, bytes]] = {}
        self._agent_names: dict[str, str] = {}
        self._queue_names: dict[str, str] = {}
        # contact id -> (visitor name, stage) for the agents' queue view
        self._waiting_meta: dict[str, tuple[str, str]] = {}
        self._views_dirty = True
        self._last_status: bytes = b""
        self._last_status_at = 0.0
        self.applied = 0
        # Agents in wrap-up, to tell the dashboard when it ends however it ends.
        self._wrapping: set[str] = set()
        # False while replaying the log: feed the engine, carry nothing out.
        self.live = True
        # Called between two batches of log items (the cluster router snapshots there).
        self.after_batch: Callable[[RouterDriver], Awaitable[None]] | None = None

    # ------------------------------------------------------------------ lifecycle

    async def start(self, *, restore_from_database: bool = True) -> None:
        """Start routing.  The single-process install rebuilds the engine from the
        database; a cluster router has rebuilt it from a snapshot and the log."""
        if restore_from_database:
            await self.load_from_database()
        else:
            await self._load_names()
        self._tasks = [
            asyncio.create_task(self._run(), name="router-driver"),
            asyncio.create_task(self._tick_loop(), name="router-ticker"),
        ]
        if self._config_poll_s > 0:
            self._tasks.append(asyncio.create_task(self._config_poll_loop(), name="router-config-poll"))

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks = []

    async def _config_events(self, now: float) -> list[rev.Event]:
        events: list[rev.Event] = []
        queues = await self._queues.all()
        users = await self._users.all()
        self._config_seen = config_fingerprint(queues, users)
        for queue in queues:
            self._queue_names[queue.id] = queue.name
            events.append(queue_upserted(queue, now))
        for user in users:
            self._agent_names[user.id] = user.display_name
            events.append(
                rev.AgentRemoved(at=now, agent_id=user.id) if user.disabled else agent_upserted(user, now)
            )
        return events

    async def _queue_skills(self) -> dict[str, tuple[str, ...]]:
        """Each queue's required skills, which a contact put back in line needs again
        (as ContactActions.start_chat gave them on arrival)."""
        return {queue.id: tuple(queue.skills or ()) for queue in await self._queues.all()}

    async def _load_config(self, now: float) -> None:
        for event in await self._config_events(now):
            await self._apply_event(event)

    async def load_from_database(self) -> None:
        """Configuration, waiting and assigned contacts, straight into the engine."""
        await self._load_config(self._clock())
        await self._ledger.close_stale(self._clock())
        await self._restore_contacts(self._clock())

    async def _load_names(self) -> None:
        await self._config_events(self._clock())

    async def submit_config(self) -> None:
        """Queues or agents changed: put their current settings in the log (read
        from the database once, here, so replay does not depend on the database)."""
        for event in await self._config_events(self._clock()):
            self._input.submit(event)

    async def _restore_contacts(self, now: float) -> None:
        """After a restart of the single-process install: put back what was waiting
        (with its original enqueue time and its queue's required skills) and count what
        agents hold."""
        skills = await self._queue_skills()
        for contact in await self._contacts.with_status(("queued", "active")):
            if contact.status == "queued":
                await self._apply_event(
                    rev.ContactArrived(
                        at=now,
                        contact_id=contact.id,
                        queue_id=contact.queue_id,
                        channel=contact.channel,  # type: ignore[arg-type]
                        priority=contact.priority,
                        skills=skills.get(contact.queue_id, ()),
                        enqueued_at=contact.enqueued_at,
                    )
                )
            elif contact.agent_id:
                await self._apply_event(
                    rev.ContactRestored(
                        at=now,
                        contact_id=contact.id,
                        queue_id=contact.queue_id,
                        agent_id=contact.agent_id,
                        channel=contact.channel,  # type: ignore[arg-type]
                        enqueued_at=contact.enqueued_at,
                    )
                )

    # ------------------------------------------------------------------ loops

    async def _run(self) -> None:
        while True:
            items = await self._input.read()
            for item in items:
                try:
                    await self.apply(item)
                except Exception:
                    log.exception("router failed to apply %r", item)
            if self.after_batch is not None:
                await self.after_batch(self)

    async def _tick_loop(self) -> None:
        while True:
            await asyncio.sleep(self._tick_s)
            self._input.submit(rev.Tick(at=self._clock()))

    async def _config_poll_loop(self) -> None:
        """The admin REST API tells the router when it changes a queue or an agent
        (``ReloadConfig``), but the CLI writes the database from another process.  So
        every ``config_poll_s`` the router reads the queue and agent rows and, only if
        their fingerprint differs from what it last loaded, logs a ``ReloadConfig``.
        Two small SELECTs every 30 s by default; no schema change (no "updated"
        column) and no notification channel needed, and it also catches any other
        writer.  The reload goes through the log like any other, so replay stays exact."""
        while True:
            await asyncio.sleep(self._config_poll_s)
            try:
                seen = config_fingerprint(await self._queues.all(), await self._users.all())
            except Exception:
                log.exception("router could not read the configuration")
                continue
            if seen != self._config_seen:
                self._config_seen = seen
                self._input.submit(ReloadConfig(at=self._clock(), what="changed"))

    async def apply(self, item: RouterItem) -> None:
        """Apply one item of the log (live, or replaying when ``live`` is false)."""
        if isinstance(item, AgentConnected):
            await self._agent_connected(item)
        elif isinstance(item, AgentDisconnected):
            await self._agent_disconnected(item)
        elif isinstance(item, PositionRequested):
            if self.live:
                self._republish_position(item.contact_id)
        elif isinstance(item, ReloadConfig):
            if self.live:
                await self.submit_config()
        else:
            await self._apply_event(item)
            if isinstance(item, rev.Tick) and self.live:
                self._publish_views()

    async def replay(self, items: list[RouterItem]) -> None:
        """Rebuild state from the log without carrying anything out again."""
        self.live = False
        try:
            for item in items:
                await self.apply(item)
        finally:
            self.live = True

    async def _apply_event(self, event: rev.Event) -> None:
        # Time only moves forward, whatever clocks stamped the events.
        if event.at < self._last_at:
            event = dataclasses.replace(event, at=self._last_at)
        self._last_at = event.at
        decisions = self.engine.handle(event)
        self.applied += 1
        if not isinstance(event, rev.Tick):
            self._views_dirty = True
        if not self.live:
            return
        for decision in decisions:
            try:
                await self._execute(decision, event)
            except Exception:
                log.exception("router failed to carry out %r", decision)

    # ------------------------------------------------------------------ takeover

    def snapshot(self) -> dict[str, Any]:
        """The router's state between two log items (engine plus the driver's clock)."""
        return {"engine": self.engine.snapshot(), "last_at": self._last_at}

    def restore(self, snapshot: dict[str, Any]) -> None:
        self.engine = RoutingEngine.restore(snapshot["engine"], self.engine.config)
        self._last_at = float(snapshot.get("last_at", 0.0))

    async def reconcile(self, *, settle_s: float = 10.0) -> None:
        """Make the database and the agents agree with the engine.

        After a takeover the engine (snapshot + replayed log) knows every decision the
        dead router made, but not which it carried out: an assignment may be decided
        but not written, an offer made but its message lost.  And a gateway may have
        stored a contact but died before logging it.  Decisions are carried out again
        (each step is guarded, so doing it twice is harmless); what the engine must
        learn goes through the log.  Contacts younger than ``settle_s`` are left alone:
        their events may still be on their way.
        """
        now = self._clock()
        open_rows = {c.id: c for c in await self._contacts.with_status(("queued", "active"))}
        for contact_id in self.engine.contact_ids():
            view = self.engine.contact_view(contact_id)
            if view is None:
                continue
            row = open_rows.get(contact_id)
            if row is None:
                # Closed in the database (visitor left, ended) while the log lost it.
                closed = await self._contacts.get(contact_id)
                if closed is not None and now - (closed.ended_at or now) >= 0:
                    if view.state == "assigned":
                        self._input.submit(rev.ContactEnded(at=now, contact_id=contact_id))
                    else:
                        self._input.submit(rev.ContactAbandoned(at=now, contact_id=contact_id))
                continue
            if view.state == "assigned" and view.agent_id and row.status == "queued":
                await self._assign(
                    rev.Assigned(
                        contact_id=contact_id,
                        agent_id=view.agent_id,
                        queue_id=view.queue_id,
                        channel=view.channel,
                        enqueued_at=view.enqueued_at,
                        at=now,
                        via="offer",
                    ),
                    now,
                )
            elif view.state == "offered" and view.agent_id and view.offer_expires_at is not None:
                await self._offer(
                    rev.OfferMade(
                        contact_id=contact_id,
                        agent_id=view.agent_id,
                        queue_id=view.queue_id,
                        channel=view.channel,
                        expires_at=view.offer_expires_at,
                    ),
                    now,
                )
        skills = await self._queue_skills()
        for contact_id, row in open_rows.items():
            if self.engine.contact_view(contact_id) is not None or now - row.created_at < settle_s:
                continue
            if row.status == "queued":
                self._input.submit(
                    rev.ContactArrived(
                        at=now,
                        contact_id=contact_id,
                        queue_id=row.queue_id,
                        channel=row.channel,  # type: ignore[arg-type]
                        priority=row.priority,
                        skills=skills.get(row.queue_id, ()),
                        enqueued_at=row.enqueued_at,
                    )
                )
            elif row.agent_id:
                self._input.submit(
                    rev.ContactRestored(
                        at=now,
                        contact_id=contact_id,
                        queue_id=row.queue_id,
                        agent_id=row.agent_id,
                        channel=row.channel,  # type: ignore[arg-type]
                        enqueued_at=row.enqueued_at,
                    )
                )
        self._publish_views(force=True)

    # ------------------------------------------------------------------ commands

    async def _agent_connected(self, command: AgentConnected) -> None:
        view = self.engine.agent_view(command.agent_id)
        if view is None:
            if not self.live:
                return  # the live run logged what it learnt
            # Created behind the router's back (the CLI writes the database): learn the
            # profile through the log, then handle the command again after it.
            user = await self._users.get(command.agent_id)
            if user is not None and not user.disabled:
                self._agent_names[user.id] = user.display_name
                self._input.submit(agent_upserted(user, self._clock()))
                self._input.submit(command)
            return
        if view.state == "offline":
            # Signing in makes an agent reachable but not yet available: it chooses.
            await self._apply_event(
                rev.AgentPresenceChanged(
                    at=command.at, agent_id=command.agent_id, presence="away", reason="signed_in"
                )
            )
        elif self.live:
            self._send_agent(command.agent_id, p.AgentStateEvent(state=view.state, until=view.wrap_up_until))
        if not self.live:
            return
        for agent_id, _offered_at, payload in self._offers.values():
            if agent_id == command.agent_id:
                self._bus.publish(agent_topic(agent_id), payload)
        self._publish_views(force=True)

    async def _agent_disconnected(self, command: AgentDisconnected) -> None:
        """The agent is gone: offline, and its conversations go back to their queues
        (keeping their enqueue time) so visitors are not left talking to nobody."""
        view = self.engine.agent_view(command.agent_id)
        if view is None:
            return
        now = command.at
        held = [c for ids in view.active.values() for c in ids]
        await self._apply_event(
            rev.AgentPresenceChanged(
                at=now, agent_id=command.agent_id, presence="offline", reason="disconnected"
            )
        )
        for contact_id in held:
            contact = await self._contacts.get(contact_id) if self.live else None
            if contact is not None and contact.status == "active":
                await self._contacts.requeue(contact_id, None)
                await self._conversations.append(
                    contact_id,
                    "contact.transferred",
                    "system",
                    data={"to_queue": contact.queue_id, "to_agent": None, "reason": "agent_lost"},
                    at=now,
                )
            await self._apply_event(
                rev.ContactTransferred(
                    at=now, contact_id=contact_id, to_queue=None, note="agent disconnected"
                )
            )

    def _republish_position(self, contact_id: str) -> None:
        view = self.engine.contact_view(contact_id)
        if view is None or view.state == "assigned":
            return
        # A reconnect is rare: finding the contact's estimate in its queue is fine.
        for entry in self.engine.waiting(view.queue_id):
            if entry.contact_id == contact_id:
                self._conversations.publish(
                    contact_id,
                    p.QueuePositionEvent(contact_id=contact_id, position=entry.position, eta_s=entry.eta_s),
                )
                return

    # ------------------------------------------------------------------ decisions

    def _send_agent(self, agent_id: str, event: msgspec.Struct) -> None:
        self._bus.publish(agent_topic(agent_id), p.encode(event))

    async def _execute(self, decision: rev.Decision, cause: rev.Event) -> None:
        now = cause.at
        if isinstance(decision, rev.ContactQueued):
            if decision.contact_id not in self._waiting_meta:
                contact = await self._contacts.get(decision.contact_id)
                if contact is not None:
                    self._waiting_meta[decision.contact_id] = (contact.name, contact.stage)
                    # The view may have gone out while the row was being read.
                    self._views_dirty = True
            self._conversations.publish(
                decision.contact_id,
                p.QueuePositionEvent(contact_id=decision.contact_id, position=decision.position, eta_s=None),
            )
            if not (isinstance(cause, rev.ContactArrived) and cause.enqueued_at is None):
                await self._announce_requeued(decision, now)
        elif isinstance(decision, rev.QueuePosition):
            self._conversations.publish(
                decision.contact_id,
                p.QueuePositionEvent(
                    contact_id=decision.contact_id,
                    position=decision.position,
                    eta_s=decision.eta_s,
                ),
            )
        elif isinstance(decision, rev.OfferMade):
            await self._offer(decision, now)
        elif isinstance(decision, rev.OfferRevoked):
            offer = self._offers.pop(decision.contact_id, None)
            self._send_agent(
                decision.agent_id,
                p.OfferRevokedEvent(contact_id=decision.contact_id, reason=decision.reason),
            )
            said = cause.reason if isinstance(cause, rev.OfferDeclined) else ""
            if decision.reason in ("expired", "declined"):
                self._emit(
                    dev.OfferAnswered(
                        at=now,
                        contact_id=decision.contact_id,
                        agent_id=decision.agent_id,
                        outcome=decision.reason,  # type: ignore[arg-type]
                        offered_at=offer[1] if offer else now,
                        reason=said,
                    )
                )
            # Written after the events are out: an await here would let the agent's
            # next frame overtake them.
            await self._ledger.closed(decision.contact_id, decision.agent_id, now, decision.reason, said)
        elif isinstance(decision, rev.Assigned):
            await self._assign(decision, now)
        elif isinstance(decision, rev.Refused):
            self._send_agent(
                decision.agent_id,
                p.Refused(contact_id=decision.contact_id, action=decision.action, reason=decision.reason),
            )
        elif isinstance(decision, rev.ContactOverflowed):
            await self._overflow(decision, now)
        elif isinstance(decision, rev.AgentStateChanged):
            await self._agent_state(decision, now)
        elif isinstance(decision, rev.ContactReleased):
            reason = "transferred" if isinstance(cause, rev.ContactTransferred) else "ended"
            self._send_agent(
                decision.agent_id,
                p.ContactReleasedEvent(contact_id=decision.contact_id, reason=reason),
            )
            self._emit_load(decision.agent_id, now)
            view = self.engine.agent_view(decision.agent_id)
            if view is None or view.state != "wrap_up":
                # No after-contact work follows: this contact's wrap-up is nil.
                ended = dev.WrapUpEnded(at=now, agent_id=decision.agent_id, contact_id=decision.contact_id)
                self._emit(ended)

    async def _announce_requeued(self, decision: rev.ContactQueued, now: float) -> None:
        """Queued again (transfer, overflow, agent lost, restart): the dashboard follows
        the contact into its queue.  A first arrival was announced by its gateway."""
        contact = await self._contacts.get(decision.contact_id)
        queue = await self._queues.get(decision.queue_id)
        if contact is None or queue is None:
            return
        self._emit(
            dev.ContactQueued(
                at=now,
                contact_id=contact.id,
                queue_id=decision.queue_id,
                channel=contact.channel,
                stage=contact.stage,
                enqueued_at=contact.enqueued_at,
                sl_target_s=queue.sl_target_s,
            )
        )

    async def _offer(self, decision: rev.OfferMade, now: float) -> None:
        contact = await self._contacts.get(decision.contact_id)
        if contact is None:
            return
        event = p.OfferEvent(
            contact=contact_summary(contact),
            expires_at=decision.expires_at,
            server_time=self._clock(),
        )
        payload = p.encode(event)
        self._offers[decision.contact_id] = (decision.agent_id, now, payload)
        self._bus.publish(agent_topic(decision.agent_id), payload)
        self._emit(dev.OfferMade(at=now, contact_id=decision.contact_id, agent_id=decision.agent_id))
        await self._ledger.opened(decision.contact_id, decision.agent_id, now)

    async def _assign(self, decision: rev.Assigned, now: float) -> None:
        offer = self._offers.pop(decision.contact_id, None)
        if not await self._contacts.mark_assigned(decision.contact_id, decision.agent_id, now):
            # The visitor left (or the contact moved) while the agent was accepting:
            # tell the engine through the log, and the agent directly.
            await self._ledger.closed(decision.contact_id, decision.agent_id, now, "contact_gone")
            self._input.submit(rev.ContactEnded(at=self._clock(), contact_id=decision.contact_id))
            self._send_agent(
                decision.agent_id,
                p.Refused(contact_id=decision.contact_id, action="accept", reason="contact_gone"),
            )
            return
        contact = await self._contacts.get(decision.contact_id)
        if contact is None:
            return
        agent_name = await self._agent_name(decision.agent_id)
        appended = await self._conversations.append(
            contact.id,
            "contact.joined",
            "agent",
            sender_id=decision.agent_id,
            sender_name=agent_name,
            at=now,
        )
        self._send_agent(
            decision.agent_id,
            p.ContactAssigned(
                contact=contact_summary(contact, agent_name=agent_name, last_seq=appended.event.seq)
            ),
        )
        if decision.via == "offer":
            self._emit(
                dev.OfferAnswered(
                    at=now,
                    contact_id=contact.id,
                    agent_id=decision.agent_id,
                    outcome="accepted",
                    offered_at=offer[1] if offer else now,
                )
            )
        self._emit(dev.ContactAnswered(at=now, contact_id=contact.id, agent_id=decision.agent_id))
        self._emit_load(decision.agent_id, now)
        if decision.via == "offer":
            # After the events: the agent, told first, may already be replying.
            await self._ledger.closed(contact.id, decision.agent_id, now, "accepted")

    async def _overflow(self, decision: rev.ContactOverflowed, now: float) -> None:
        if decision.to_queue is not None:
            await self._contacts.move_queue(decision.contact_id, decision.to_queue)
        else:
            await self._contacts.mark_offline(decision.contact_id, now, decision.reason)
        self._conversations.publish(
            decision.contact_id,
            p.ContactOverflowedEvent(
                contact_id=decision.contact_id,
                reason=decision.reason,
                to_queue=decision.to_queue,
                next_open=decision.next_open,
            ),
        )
        self._emit(
            dev.ContactOverflowed(
                at=now,
                contact_id=decision.contact_id,
                to_queue=decision.to_queue,
                reason=decision.reason,
            )
        )

    async def _agent_state(self, decision: rev.AgentStateChanged, now: float) -> None:
        self._send_agent(
            decision.agent_id,
            p.AgentStateEvent(state=decision.state, reason=decision.reason, until=decision.until),
        )
        async with self._db.begin() as conn:
            await conn.execute(
                insert(AgentStateLog).values(
                    agent_id=decision.agent_id, state=decision.state, reason=decision.reason, at=now
                )
            )
        view = self.engine.agent_view(decision.agent_id)
        self._emit(
            dev.AgentStateChanged(
                at=now,
                agent_id=decision.agent_id,
                state=decision.state,
                reason=decision.reason,
                queues=view.queues if view is not None else (),
            )
        )
        if decision.state == "wrap_up":
            self._wrapping.add(decision.agent_id)
        elif decision.agent_id in self._wrapping:
            # Wrap-up is over, whether it ran out, was ended early or the agent left.
            self._wrapping.discard(decision.agent_id)
            self._emit(dev.WrapUpEnded(at=now, agent_id=decision.agent_id))

    def _emit_load(self, agent_id: str, now: float) -> None:
        view = self.engine.agent_view(agent_id)
        if view is None:
            return
        self._emit(
            dev.AgentLoadChanged(
                at=now,
                agent_id=agent_id,
                active=sum(len(ids) for ids in view.active.values()),
                slots=int(view.capacity.get("chat", 0)),
            )
        )

    async def _agent_name(self, agent_id: str) -> str:
        name = self._agent_names.get(agent_id)
        if name is None:
            user = await self._users.get(agent_id)
            name = user.display_name if user else agent_id
            self._agent_names[agent_id] = name
        return name

    # ------------------------------------------------------------------ views

    def queue_statuses(self) -> list[p.QueueStatus]:
        statuses = []
        now = self._clock()
        for queue_id, name in self._queue_names.items():
            stats = self.engine.queue_stats(queue_id)
            if stats is None:
                continue
            is_open = self.engine.is_open(queue_id, now)
            statuses.append(
                p.QueueStatus(
                    queue_id=queue_id,
                    name=name,
                    open=is_open,
                    agents_available=stats.agents_available,
                    agents_online=stats.agents_staffed,
                    waiting=stats.waiting,
                    next_open=None if is_open else self.engine.next_open(queue_id, now),
                )
            )
        return statuses

    def _publish_views(self, force: bool = False) -> None:
        now = self._clock()
        statuses = self.queue_statuses()
        status = msgspec.json.encode(RouterStatusMessage(queues=statuses, at=0.0))
        if force or status != self._last_status or now - self._last_status_at > STATUS_HEARTBEAT_S:
            self._last_status = status
            self._last_status_at = now
            self._bus.publish(STATUS_TOPIC, msgspec.json.encode(RouterStatusMessage(queues=statuses, at=now)))
        if not (self._views_dirty or force):
            return
        self._views_dirty = False
        waiting: list[p.QueueWaiting] = []
        still_waiting: set[str] = set()
        for queue_id in self._queue_names:
            still_waiting.update(entry.contact_id for entry in self.engine.waiting(queue_id))
            for entry in self.engine.waiting(queue_id)[:WAITING_SHOWN_PER_QUEUE]:
                waiting.append(
                    p.QueueWaiting(
                        contact_id=entry.contact_id,
                        queue_id=queue_id,
                        channel=entry.channel,
                        name=self._waiting_meta.get(entry.contact_id, ("", ""))[0],
                        stage=self._waiting_meta.get(entry.contact_id, ("", ""))[1],
                        enqueued_at=entry.enqueued_at,
                        position=entry.position,
                    )
                )
        for gone in set(self._waiting_meta) - still_waiting:
            del self._waiting_meta[gone]
        self._bus.publish(
            QUEUES_TOPIC,
            p.encode(p.QueueViewEvent(queues=statuses, waiting=waiting, server_time=now)),
        )

    def snapshot_for_tests(self) -> dict[str, Any]:
        return self.engine.snapshot()
