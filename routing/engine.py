"""The routing engine: events in, decisions out, nothing else.

:class:`RoutingEngine` is a sans-I/O state machine.  It never reads a clock, never
draws a random number and never awaits: time is whatever the events say (``at``), and
every timer (offer expiry, wrap-up end, max wait, opening and closing) fires at its own
*deadline* as the logical time, before the first event at or after that deadline is
applied.  So the decisions depend only on the event log, not on how often the
application ticks, and a standby router that restores a :meth:`~RoutingEngine.snapshot`
and replays the rest of the log makes exactly the decisions the dead one would have.

Semantics chosen where the contract leaves room (each one is documented where it lives):

* Agent state (reported in ``AgentStateChanged``), first match wins: ``offline`` /
  ``away`` (the agent's presence), ``wrap_up`` (after-contact work), ``busy`` (holds
  at least one active contact), ``available``.  Outstanding offers do not make an
  agent busy.
* Calls and chats: see :mod:`routing.records` (at most one call; calls may be offered
  on top of chats; no new chat during a call unless ``chat_while_on_call``).
* Wrap-up blocks *every* channel (it is after-contact work on the agent, not on a
  slot); contacts already active or offered go on.  Several wrap-ups overlap into the
  latest end.
* A declined, expired or transferred-away contact is not offered again to that agent
  while another eligible agent has room; when none has, it may be (see
  :mod:`routing.strategies`).
* Max wait and closing time never pull an outstanding offer from an agent: the
  contact overflows if that offer fails.  Waiting contacts overflow at the deadline.
* Positions (``QueuePosition``) are published by ``tick()`` only, for queues whose
  line or estimate inputs changed since the previous tick, and only for contacts whose
  (position, rounded ETA) changed: arrivals and departures stay O(log n).
* Estimated waits: ``position * AHT / N`` (Erlang C's conditional wait) once the queue
  has enough handled contacts and is stable, else the observed pace; see
  :mod:`routing.estimate`.
* Events stamped earlier than the engine's time are applied at the engine's time.

Other modules, one concept each: :mod:`routing.queues` (service order, eligibility
classes, agent pools), :mod:`routing.strategies` (who gets a contact),
:mod:`routing.records` (agent and contact records, channel rules),
:mod:`routing.timers`, :mod:`routing.hours`, :mod:`routing.estimate`,
:mod:`routing.sortedlist`, :mod:`routing.views` (query results).
"""

from __future__ import annotations

import dataclasses
from collections import OrderedDict
from collections.abc import Callable, Iterator
from typing import Any

from routing import hours as business_hours
from routing.estimate import (
    QueueFigures,
    QueueWindow,
    erlang_figures,
    round_eta,
    seconds_per_place,
)
from routing.events import (
    CHANNELS,
    AgentPresenceChanged,
    AgentRemoved,
    AgentState,
    AgentStateChanged,
    AgentUpserted,
    Assigned,
    ContactAbandoned,
    ContactArrived,
    ContactEnded,
    ContactOverflowed,
    ContactQueued,
    ContactReleased,
    ContactRestored,
    ContactTaken,
    ContactTransferred,
    Decision,
    EngineConfig,
    Event,
    OfferAccepted,
    OfferDeclined,
    OfferMade,
    OfferRevoked,
    QueueConfig,
    QueuePosition,
    QueueRemoved,
    QueueUpserted,
    Refused,
    Tick,
    WrapUpEnded,
    event_from_dict,
    queue_config_to_dict,
)
from routing.queues import QueueState, effective_priority, pool_key
from routing.records import AgentRecord, ContactRecord, resolve_capacity
from routing.sortedlist import Key, SortedList
from routing.strategies import pick_agent
from routing.timers import TimerHeap
from routing.views import AgentView, ContactView, QueueStats, WaitingContact

SNAPSHOT_VERSION = 1
# An offer lasts at least this long, so a zero timeout cannot spin the timer loop.
MIN_OFFER_TIMEOUT_S = 1.0
# Finished contacts remembered so a late accept is told why it failed.
TOMBSTONES = 10_000

Rank = tuple[float, float, int]


def derived_state(agent: AgentRecord) -> AgentState:
    """offline / away (presence) > wrap_up > busy (holds a contact) > available."""
    if agent.presence == "offline":
        return "offline"
    if agent.presence == "away":
        return "away"
    if agent.wrap_until is not None:
        return "wrap_up"
    if agent.active:
        return "busy"
    return "available"


def _queue_config_from_dict(data: dict[str, Any]) -> QueueConfig:
    event = event_from_dict({"type": "QueueUpserted", "at": 0.0, "queue": data})
    assert isinstance(event, QueueUpserted)
    return event.queue


class RoutingEngine:
    """See the module docstring.  Feed it with :meth:`handle`; read it with the query
    methods; persist it with :meth:`snapshot` / :meth:`restore`."""

    def __init__(self, config: EngineConfig = EngineConfig()) -> None:
        self.config = config
        self._now: float | None = None
        self._seq = 0
        self._queues: dict[str, QueueState] = {}
        self._agents: dict[str, AgentRecord] = {}
        self._contacts: dict[str, ContactRecord] = {}
        self._timers = TimerHeap()
        self._tombstones: OrderedDict[str, str] = OrderedDict()
        self._touched: set[str] = set()
        self._out: list[Decision] = []
        self._handlers: dict[type[Any], Callable[[Any], None]] = {
            QueueUpserted: self._on_queue_upserted,
            QueueRemoved: self._on_queue_removed,
            AgentUpserted: self._on_agent_upserted,
            AgentRemoved: self._on_agent_removed,
            AgentPresenceChanged: self._on_presence,
            ContactArrived: self._on_contact_arrived,
            ContactRestored: self._on_contact_restored,
            OfferAccepted: self._on_offer_accepted,
            OfferDeclined: self._on_offer_declined,
            ContactTaken: self._on_contact_taken,
            ContactAbandoned: self._on_contact_abandoned,
            ContactEnded: self._on_contact_ended,
            ContactTransferred: self._on_contact_transferred,
            WrapUpEnded: self._on_wrap_up_ended,
            Tick: self._on_tick,
        }

    # ================================================================== entry points

    @property
    def now(self) -> float | None:
        """The engine's logical time: the latest event or timer applied."""
        return self._now

    def handle(self, event: Event) -> list[Decision]:
        """Apply one event; return the decisions it (and the timers due before it) led to."""
        handler = self._handlers.get(type(event))
        if handler is None:
            raise TypeError(f"not a routing event: {event!r}")
        at = event.at if self._now is None else max(event.at, self._now)
        self._out = []
        self._fire_timers(at)
        self._now = at
        handler(event)
        out, self._out = self._out, []
        return out

    def tick(self, now: float) -> list[Decision]:
        return self.handle(Tick(now))

    def next_deadline(self) -> float | None:
        """When the earliest pending timer is due (stale timers included): a hint for
        an application that would rather sleep until then than tick blindly."""
        return self._timers.next_deadline()

    @property
    def _t(self) -> float:
        assert self._now is not None
        return self._now

    def _emit(self, decision: Decision) -> None:
        self._out.append(decision)

    # ================================================================== timers

    def _fire_timers(self, until: float) -> None:
        while (timer := self._timers.pop_due(until)) is not None:
            deadline, _, kind, key, token = timer
            self._now = deadline if self._now is None else max(deadline, self._now)
            if kind == "offer":
                self._on_offer_timer(key, token)
            elif kind == "wrap":
                self._on_wrap_timer(key, token)
            elif kind == "max_wait":
                self._on_max_wait_timer(key, token)
            elif kind == "hours":
                self._on_hours_timer(key, token)

    def _on_offer_timer(self, contact_id: str, token: int) -> None:
        contact = self._contacts.get(contact_id)
        if contact is None or contact.state != "offered" or contact.offer_token != token:
            return
        assert contact.agent_id is not None
        agent = self._agents[contact.agent_id]
        self._revoke(contact, "expired")
        agent.missed += 1
        also: list[ContactRecord] = []
        limit = self.config.missed_offers_before_away
        if limit > 0 and agent.missed >= limit and agent.presence == "available":
            agent.presence = "away"
            also = self._revoke_all_offers(agent)
            self._restaff(agent)
            self._reindex(agent)
            self._sync_state(agent, "missed_offers")
        stays = self._settle(contact)
        self._route_agent(agent)
        if stays:
            self._route_contact(contact)
        self._reroute(also)

    def _on_wrap_timer(self, agent_id: str, token: int) -> None:
        agent = self._agents.get(agent_id)
        if agent is not None and agent.wrap_until is not None and agent.wrap_token == token:
            self._end_wrap_up(agent)

    def _on_max_wait_timer(self, contact_id: str, token: int) -> None:
        contact = self._contacts.get(contact_id)
        if contact is None or contact.entry_token != token or contact.state != "waiting":
            return
        queue = self._queues.get(contact.queue_id)
        if queue is None:
            return
        limit = queue.config.max_wait_s
        if limit is not None and self._t >= contact.queued_at + limit:
            self._overflow(contact, queue, "max_wait")

    def _on_hours_timer(self, queue_id: str, token: int) -> None:
        queue = self._queues.get(queue_id)
        if queue is not None and queue.hours_token == token:
            self._reschedule_hours(queue)

    def _reschedule_hours(self, queue: QueueState) -> None:
        """Work out open/closed now, set the timer for the next change, and close the
        queue if it just closed."""
        queue.hours_token += 1
        hours = queue.config.hours
        was_open = queue.open
        queue.open = business_hours.is_open(hours, self._t)
        change = business_hours.next_change(hours, self._t)
        if change is not None:
            self._timers.push(change, "hours", queue.queue_id, queue.hours_token)
        if was_open and not queue.open:
            reopen = business_hours.next_open(hours, self._t)
            for key in list(queue.order):
                contact = self._contacts[key[-1]]
                if contact.state == "waiting":
                    self._overflow(contact, queue, "closed", reopen)

    # ================================================================== queue events

    def _on_queue_upserted(self, event: QueueUpserted) -> None:
        config = event.queue
        queue_id = config.queue_id
        queue = self._queues.get(queue_id)
        if queue is None:
            queue = self._queues[queue_id] = QueueState(config)
            for agent in self._agents.values():
                if self._serves(agent, queue_id):
                    queue.members.add(agent.agent_id)
            self._reschedule_hours(queue)
        else:
            old = queue.config
            queue.config = config
            if old.ageing_s != config.ageing_s:
                self._rekey(queue)
            if old.strategy != config.strategy:
                queue.pools = {ch: SortedList() for ch in CHANNELS}
                for agent_id in queue.members:
                    keys = self._agents[agent_id].pool_keys
                    for ch in CHANNELS:
                        keys.pop((queue_id, ch), None)
            if config.max_wait_s is not None and old.max_wait_s != config.max_wait_s:
                for key in queue.order:
                    contact = self._contacts[key[-1]]
                    self._timers.push(
                        contact.queued_at + config.max_wait_s,
                        "max_wait",
                        contact.contact_id,
                        contact.entry_token,
                    )
            if old.hours != config.hours:
                self._reschedule_hours(queue)
        self._touched.add(queue_id)
        members = sorted(queue.members)
        for agent_id in members:
            agent = self._agents[agent_id]
            self._restaff(agent)
            self._reindex(agent)
        if queue.routes:
            for agent_id in members:
                self._route_agent(self._agents[agent_id])

    def _rekey(self, queue: QueueState) -> None:
        contacts = [self._contacts[key[-1]] for key in queue.order]
        queue.order = SortedList()
        queue.ready = {}
        for contact in contacts:
            contact.key = None
            queue.add_contact(contact)

    def _on_queue_removed(self, event: QueueRemoved) -> None:
        queue = self._queues.pop(event.queue_id, None)
        if queue is None:
            return
        self._touched.discard(event.queue_id)
        freed: list[AgentRecord] = []
        for key in list(queue.order):
            contact = self._contacts[key[-1]]
            if contact.state == "offered":
                assert contact.agent_id is not None
                freed.append(self._agents[contact.agent_id])
                self._revoke(contact, "queue_removed")
            self._overflow(contact, queue, "queue_removed")
        for agent_id in sorted(queue.members):
            agent = self._agents[agent_id]
            for ch in CHANNELS:
                agent.pool_keys.pop((event.queue_id, ch), None)
            agent.staffing.pop(event.queue_id, None)
            self._reindex(agent)
        for agent in freed:
            self._route_agent(agent)

    # ================================================================== agent events

    def _serves(self, agent: AgentRecord, queue_id: str) -> bool:
        return not agent.queues or queue_id in agent.queues

    def _served_queues(self, agent: AgentRecord) -> Iterator[QueueState]:
        if agent.queues:
            for queue_id in agent.queues:
                queue = self._queues.get(queue_id)
                if queue is not None:
                    yield queue
        else:
            yield from self._queues.values()

    def _on_agent_upserted(self, event: AgentUpserted) -> None:
        agent = self._agents.get(event.agent_id)
        if agent is None:
            agent = AgentRecord(
                agent_id=event.agent_id,
                skills=dict(event.skills),
                languages=tuple(event.languages),
                capacity=resolve_capacity(event.capacity, self.config),
                queues=tuple(event.queues),
                idle_since=self._t,
            )
            self._agents[event.agent_id] = agent
        else:
            agent.apply_profile(event, self.config)
        for queue_id, queue in self._queues.items():
            if self._serves(agent, queue_id):
                queue.members.add(agent.agent_id)
            else:
                queue.members.discard(agent.agent_id)
        self._restaff(agent)
        self._reindex(agent)
        self._route_agent(agent)

    def _on_agent_removed(self, event: AgentRemoved) -> None:
        agent = self._agents.get(event.agent_id)
        if agent is None:
            return
        agent.presence = "offline"
        offered = self._revoke_all_offers(agent)
        released: list[ContactRecord] = []
        for contact_id in list(agent.active):
            contact = self._contacts[contact_id]
            self._release(agent, contact)
            released.append(contact)
        agent.wrap_until = None
        self._restaff(agent)
        self._reindex(agent)
        self._sync_state(agent, "removed")
        for queue in self._queues.values():
            queue.members.discard(agent.agent_id)
        del self._agents[agent.agent_id]
        self._reroute(offered)
        for contact in released:
            contact.passed.add(agent.agent_id)
            self._enqueue(contact, contact.queue_id)

    def _on_presence(self, event: AgentPresenceChanged) -> None:
        agent = self._agents.get(event.agent_id)
        if agent is None or agent.presence == event.presence:
            return
        agent.presence = event.presence
        revoked: list[ContactRecord] = []
        if event.presence == "available":
            agent.missed = 0
            agent.idle_since = self._t
        else:
            revoked = self._revoke_all_offers(agent)
        self._restaff(agent)
        self._reindex(agent)
        self._sync_state(agent, event.reason or "requested")
        self._route_agent(agent)
        self._reroute(revoked)

    def _on_wrap_up_ended(self, event: WrapUpEnded) -> None:
        agent = self._agents.get(event.agent_id)
        if agent is not None and agent.wrap_until is not None:
            self._end_wrap_up(agent)

    def _start_wrap_up(self, agent: AgentRecord, seconds: float) -> None:
        """Wrap-ups overlap: a second one during the first extends it to the later end."""
        previous = agent.wrap_until
        until = self._t + seconds
        if previous is not None and previous >= until:
            self._reindex(agent)
            return
        agent.wrap_until = until
        agent.wrap_token += 1
        self._timers.push(until, "wrap", agent.agent_id, agent.wrap_token)
        self._reindex(agent)
        if previous is not None and agent.reported == "wrap_up":
            # Still in wrap-up, with a later end: say so.
            self._emit(AgentStateChanged(agent.agent_id, "wrap_up", "wrap_up", until))
        else:
            self._sync_state(agent, "wrap_up")

    def _end_wrap_up(self, agent: AgentRecord) -> None:
        agent.wrap_until = None
        agent.wrap_token += 1
        agent.idle_since = self._t
        self._reindex(agent)
        self._sync_state(agent, "wrap_up_ended")
        self._route_agent(agent)

    # ================================================================== contact events

    def _on_contact_arrived(self, event: ContactArrived) -> None:
        if event.contact_id in self._contacts:
            return
        self._tombstones.pop(event.contact_id, None)
        self._seq += 1
        contact = ContactRecord(
            contact_id=event.contact_id,
            queue_id=event.queue_id,
            channel=event.channel,
            priority=event.priority,
            skills=tuple(event.skills),
            language=event.language,
            enqueued_at=self._t if event.enqueued_at is None else event.enqueued_at,
            queued_at=self._t,
            seq=self._seq,
        )
        self._contacts[contact.contact_id] = contact
        self._enqueue(contact, event.queue_id)

    def _on_contact_restored(self, event: ContactRestored) -> None:
        if event.contact_id in self._contacts:
            return
        self._tombstones.pop(event.contact_id, None)
        agent = self._agents.get(event.agent_id)
        if agent is None:
            agent = AgentRecord(
                agent_id=event.agent_id,
                skills={},
                languages=(),
                capacity=resolve_capacity({}, self.config),
                queues=(),
                idle_since=self._t,
            )
            self._agents[agent.agent_id] = agent
            for queue in self._queues.values():
                queue.members.add(agent.agent_id)
        self._seq += 1
        contact = ContactRecord(
            contact_id=event.contact_id,
            queue_id=event.queue_id,
            channel=event.channel,
            priority=0,
            skills=(),
            language=None,
            enqueued_at=self._t if event.enqueued_at is None else event.enqueued_at,
            queued_at=self._t,
            seq=self._seq,
            state="assigned",
            agent_id=agent.agent_id,
            assigned_at=self._t,
        )
        self._contacts[contact.contact_id] = contact
        agent.active[contact.contact_id] = contact.channel
        agent.used[contact.channel] += 1
        self._reindex(agent)
        self._emit(
            Assigned(
                contact.contact_id,
                agent.agent_id,
                contact.queue_id,
                contact.channel,
                contact.enqueued_at,
                self._t,
                "restore",
            )
        )
        self._sync_state(agent, "restored")

    def _on_offer_accepted(self, event: OfferAccepted) -> None:
        contact = self._contacts.get(event.contact_id)
        if contact is None:
            reason = self._tombstones.get(event.contact_id, "unknown_contact")
            self._emit(Refused(event.contact_id, event.agent_id, "accept", reason))
            return
        if contact.state != "offered" or contact.agent_id != event.agent_id:
            reason = self._refusal(contact, event.agent_id)
            self._emit(Refused(event.contact_id, event.agent_id, "accept", reason))
            return
        self._assign(contact, self._agents[event.agent_id], "offer")

    def _on_offer_declined(self, event: OfferDeclined) -> None:
        contact = self._contacts.get(event.contact_id)
        if contact is None:
            reason = self._tombstones.get(event.contact_id, "unknown_contact")
            self._emit(Refused(event.contact_id, event.agent_id, "decline", reason))
            return
        if contact.state != "offered" or contact.agent_id != event.agent_id:
            reason = self._refusal(contact, event.agent_id)
            self._emit(Refused(event.contact_id, event.agent_id, "decline", reason))
            return
        agent = self._agents[event.agent_id]
        self._revoke(contact, "declined")
        stays = self._settle(contact)
        self._route_agent(agent)
        if stays:
            self._route_contact(contact)

    def _on_contact_taken(self, event: ContactTaken) -> None:
        contact = self._contacts.get(event.contact_id)
        agent = self._agents.get(event.agent_id)
        reason: str | None = None
        if contact is None:
            reason = self._tombstones.get(event.contact_id, "unknown_contact")
        elif agent is None:
            reason = "unknown_agent"
        elif contact.state == "offered" and contact.agent_id == agent.agent_id:
            self._assign(contact, agent, "take")
            return
        elif contact.state != "waiting":
            reason = self._refusal(contact, agent.agent_id)
        elif contact.queue_id not in self._queues:
            reason = "unknown_queue"
        elif not self._serves(agent, contact.queue_id):
            reason = "not_in_queue"
        elif agent.presence != "available":
            reason = "not_available"
        elif agent.wrap_until is not None:
            reason = "wrap_up"
        elif not agent.has_room(contact.channel, self.config):
            reason = "no_capacity"
        if reason is not None or contact is None or agent is None:
            self._emit(Refused(event.contact_id, event.agent_id, "take", reason or "refused"))
            return
        self._assign(contact, agent, "take")

    def _on_contact_abandoned(self, event: ContactAbandoned) -> None:
        contact = self._contacts.get(event.contact_id)
        if contact is None:
            return
        if contact.state == "assigned":
            self._end(contact)
            return
        freed: AgentRecord | None = None
        if contact.state == "offered":
            assert contact.agent_id is not None
            freed = self._agents[contact.agent_id]
            self._revoke(contact, "abandoned")
        self._leave_queue(contact)
        self._forget(contact, "abandoned")
        if freed is not None:
            self._route_agent(freed)

    def _on_contact_ended(self, event: ContactEnded) -> None:
        contact = self._contacts.get(event.contact_id)
        if contact is None:
            return
        if contact.state != "assigned":
            # Ended before anyone answered: the visitor gave up.
            self._on_contact_abandoned(ContactAbandoned(event.at, event.contact_id))
            return
        self._end(contact)

    def _end(self, contact: ContactRecord) -> None:
        agent = self._agents.get(contact.agent_id or "")
        queue = self._queues.get(contact.queue_id)
        self._forget(contact, "ended")
        if agent is None:
            return
        self._release(agent, contact)
        if queue is not None and contact.assigned_at is not None:
            queue.window.record_handled(self._t, self._t - contact.assigned_at)
            self._touched.add(queue.queue_id)
        wrap_up = queue.config.wrap_up_s if queue is not None else 0.0
        if wrap_up > 0:
            self._start_wrap_up(agent, wrap_up)
        else:
            self._reindex(agent)
            self._sync_state(agent, "contact_ended")
            self._route_agent(agent)

    def _on_contact_transferred(self, event: ContactTransferred) -> None:
        contact = self._contacts.get(event.contact_id)
        if contact is None:
            return
        previous: AgentRecord | None = None
        if contact.state == "assigned":
            previous = self._agents.get(contact.agent_id or "")
            if previous is not None:
                self._release(previous, contact)
                contact.passed.add(previous.agent_id)
                self._reindex(previous)
                self._sync_state(previous, "transferred")
        elif contact.state == "offered":
            assert contact.agent_id is not None
            previous = self._agents[contact.agent_id]
            self._revoke(contact, "transferred")
        self._leave_queue(contact)
        # An unknown target queue is ignored: the contact stays in its own queue.
        target = contact.queue_id
        if event.to_queue is not None and event.to_queue in self._queues:
            target = event.to_queue
            if event.skills is not None:
                # Out of the line (and its eligibility class) first, then re-classed.
                contact.skills = tuple(event.skills)
                contact.skill_set = frozenset(contact.skills)
        contact.state = "waiting"
        contact.agent_id = None
        contact.assigned_at = None
        contact.target_agent = event.to_agent
        self._enqueue(contact, target, route=False)
        if self._contacts.get(contact.contact_id) is contact and contact.state == "waiting":
            self._dispatch(contact)
        if previous is not None and previous.agent_id in self._agents:
            self._route_agent(previous)

    def _on_tick(self, event: Tick) -> None:
        self._publish_positions()

    # ================================================================== mechanics

    def _enqueue(self, contact: ContactRecord, queue_id: str, *, route: bool = True) -> None:
        """Put ``contact`` in line in ``queue_id`` (keeping its enqueued_at), or overflow
        it when the queue is unknown, closed or has a zero max wait."""
        queue = self._queues.get(queue_id)
        if queue is None:
            self._emit(ContactOverflowed(contact.contact_id, queue_id, None, "unknown_queue"))
            self._forget(contact, "overflowed")
            return
        contact.queue_id = queue_id
        contact.queued_at = self._t
        contact.entry_token += 1
        contact.state = "waiting"
        contact.agent_id = None
        contact.published = None
        if not queue.open:
            reopen = business_hours.next_open(queue.config.hours, self._t)
            self._overflow(contact, queue, "closed", reopen)
            return
        limit = queue.config.max_wait_s
        if limit is not None and limit <= 0:
            self._overflow(contact, queue, "max_wait")
            return
        position = queue.add_contact(contact)
        contact.arrival_position = position
        queue.window.record_arrival(self._t)
        self._touched.add(queue_id)
        self._emit(ContactQueued(contact.contact_id, queue_id, position))
        if limit is not None:
            self._timers.push(contact.queued_at + limit, "max_wait", contact.contact_id, contact.entry_token)
        if route:
            self._dispatch(contact)

    def _dispatch(self, contact: ContactRecord) -> None:
        """Route a contact that just joined a line: to its transfer target if that agent
        can take it now, else by the queue's strategy."""
        target = contact.target_agent
        if target is not None:
            agent = self._agents.get(target)
            queue = self._queues[contact.queue_id]
            if (
                agent is not None
                and agent.presence == "available"
                and agent.wrap_until is None
                and agent.has_room(contact.channel, self.config)
            ):
                self._offer(contact, agent, queue)
                return
            contact.target_agent = None
        self._route_contact(contact)

    def _leave_queue(self, contact: ContactRecord) -> None:
        queue = self._queues.get(contact.queue_id)
        if queue is not None and contact.key is not None:
            queue.remove_contact(contact)
            self._touched.add(queue.queue_id)
        contact.key = None

    def _overflow(
        self,
        contact: ContactRecord,
        queue: QueueState,
        reason: str,
        reopen: float | None = None,
    ) -> None:
        """Send a waiting contact on from ``queue``: to ``overflow_to`` (keeping its
        enqueued_at) or, when that is unset, unknown, itself, or the contact has already
        bounced through every queue at this instant, to the offline form."""
        if contact.key is not None:
            queue.remove_contact(contact)
            self._touched.add(queue.queue_id)
        if contact.hop_at == self._t:
            contact.hops += 1
        else:
            contact.hop_at = self._t
            contact.hops = 1
        target = queue.config.overflow_to
        if (
            target is not None and (target == queue.queue_id or target not in self._queues)
        ) or contact.hops > len(self._queues):
            target = None
        self._emit(ContactOverflowed(contact.contact_id, queue.queue_id, target, reason, reopen))
        if target is None:
            self._forget(contact, "overflowed")
        else:
            # Out of the old line already: re-class it by the new queue's needs, or
            # a contact needing a skill nobody in the overflow queue has waits forever.
            contact.skills = self._queues[target].config.skills
            contact.skill_set = frozenset(contact.skills)
            self._enqueue(contact, target)

    def _settle(self, contact: ContactRecord) -> bool:
        """After an offer failed: overflow the contact if its queue closed or its max
        wait passed meanwhile.  True when it stays in line."""
        queue = self._queues.get(contact.queue_id)
        if queue is None:
            return False
        if not queue.open:
            reopen = business_hours.next_open(queue.config.hours, self._t)
            self._overflow(contact, queue, "closed", reopen)
            return False
        limit = queue.config.max_wait_s
        if limit is not None and self._t >= contact.queued_at + limit:
            self._overflow(contact, queue, "max_wait")
            return False
        return True

    def _reroute(self, contacts: list[ContactRecord]) -> None:
        for contact in contacts:
            if self._contacts.get(contact.contact_id) is contact and self._settle(contact):
                self._route_contact(contact)

    def _forget(self, contact: ContactRecord, reason: str) -> None:
        self._contacts.pop(contact.contact_id, None)
        self._tombstones[contact.contact_id] = reason
        self._tombstones.move_to_end(contact.contact_id)
        while len(self._tombstones) > TOMBSTONES:
            self._tombstones.popitem(last=False)

    def _refusal(self, contact: ContactRecord, agent_id: str) -> str:
        if contact.state == "assigned":
            return "already_assigned" if contact.agent_id == agent_id else "taken"
        if agent_id in contact.revoked:
            return contact.revoked[agent_id]
        if contact.state == "offered":
            return "offered_elsewhere"
        return "not_offered"

    # ------------------------------------------------------------------ offers

    def _offer(self, contact: ContactRecord, agent: AgentRecord, queue: QueueState) -> None:
        queue.remove_ready(contact)
        timeout = max(queue.config.offer_timeout_s, MIN_OFFER_TIMEOUT_S)
        expires = self._t + timeout
        contact.state = "offered"
        contact.agent_id = agent.agent_id
        contact.offer_token += 1
        contact.offer_expires_at = expires
        agent.offers[contact.contact_id] = contact.channel
        agent.used[contact.channel] += 1
        self._timers.push(expires, "offer", contact.contact_id, contact.offer_token)
        self._reindex(agent)
        self._emit(OfferMade(contact.contact_id, agent.agent_id, queue.queue_id, contact.channel, expires))

    def _revoke(self, contact: ContactRecord, reason: str) -> None:
        """End the contact's outstanding offer; the contact is waiting again (in its
        queue's ready set if it is still in line)."""
        agent_id = contact.agent_id
        assert agent_id is not None
        agent = self._agents.get(agent_id)
        if agent is not None and agent.offers.pop(contact.contact_id, None) is not None:
            agent.used[contact.channel] -= 1
            self._reindex(agent)
        self._emit(OfferRevoked(contact.contact_id, agent_id, reason))
        contact.revoked[agent_id] = reason
        if reason in ("declined", "expired", "transferred"):
            contact.passed.add(agent_id)
        contact.state = "waiting"
        contact.agent_id = None
        contact.offer_expires_at = None
        contact.target_agent = None
        queue = self._queues.get(contact.queue_id)
        if queue is not None and contact.key is not None:
            queue.add_ready(contact)

    def _revoke_all_offers(self, agent: AgentRecord) -> list[ContactRecord]:
        contacts = [self._contacts[contact_id] for contact_id in list(agent.offers)]
        for contact in contacts:
            self._revoke(contact, "agent_unavailable")
        return contacts

    def _assign(self, contact: ContactRecord, agent: AgentRecord, via: str) -> None:
        if contact.state == "offered":
            agent.offers.pop(contact.contact_id, None)
            agent.used[contact.channel] -= 1
        queue = self._queues.get(contact.queue_id)
        if queue is not None:
            queue.window.record_answer(self._t, self._t - contact.queued_at, contact.arrival_position)
        self._leave_queue(contact)
        contact.state = "assigned"
        contact.agent_id = agent.agent_id
        contact.assigned_at = self._t
        contact.offer_expires_at = None
        contact.target_agent = None
        agent.active[contact.contact_id] = contact.channel
        agent.used[contact.channel] += 1
        if via == "offer":
            agent.missed = 0
        self._reindex(agent)
        self._emit(
            Assigned(
                contact.contact_id,
                agent.agent_id,
                contact.queue_id,
                contact.channel,
                contact.enqueued_at,
                self._t,
                via,
            )
        )
        self._sync_state(agent, "assigned")

    def _release(self, agent: AgentRecord, contact: ContactRecord) -> None:
        if agent.active.pop(contact.contact_id, None) is not None:
            agent.used[contact.channel] -= 1
        agent.idle_since = self._t
        self._emit(ContactReleased(contact.contact_id, agent.agent_id))

    # ------------------------------------------------------------------ routing

    def _route_contact(self, contact: ContactRecord) -> None:
        """A contact is waiting: offer it to the agent the queue's strategy picks."""
        if contact.state != "waiting":
            return
        queue = self._queues.get(contact.queue_id)
        if queue is None or not queue.routes:
            return
        agent_id = pick_agent(queue, contact, self._agents)
        if agent_id is None:
            return
        if queue.config.strategy == "round_robin":
            queue.rr_last = agent_id
        self._offer(contact, self._agents[agent_id], queue)

    def _route_agent(self, agent: AgentRecord) -> None:
        """An agent has room: offer it the best waiting contacts it can take, one at a
        time (each offer changes its room), until it is full or none is left."""
        while agent.presence == "available" and agent.wrap_until is None:
            found = self._best_contact_for(agent)
            if found is None:
                return
            queue, contact = found
            self._offer(contact, agent, queue)

    def _rank(self, queue: QueueState, contact: ContactRecord) -> Rank:
        """Cross-queue service order: effective priority, then age, then arrival."""
        return (
            -effective_priority(queue.config, contact, self._t),
            contact.enqueued_at,
            contact.seq,
        )

    def _best_contact_for(self, agent: AgentRecord) -> tuple[QueueState, ContactRecord] | None:
        """The highest-ranked waiting contact across the agent's queues that it may
        take.  Per queue, each eligibility class is checked once and only its head is
        read (past contacts this agent passed on), so the cost is O(queues x classes),
        not O(contacts waiting)."""
        room: dict[str, bool] = {ch: agent.has_room(ch, self.config) for ch in CHANNELS}
        if not any(room.values()):
            return None
        agent_id = agent.agent_id
        contacts = self._contacts
        best: tuple[Rank, QueueState, ContactRecord] | None = None
        deferred: list[tuple[Rank, QueueState, ContactRecord]] = []
        for queue in self._served_queues(agent):
            if not queue.ready or not queue.routes:
                continue
            head: tuple[Key, ContactRecord] | None = None
            for (channel, skills, language), bucket in queue.ready.items():
                if not room[channel]:
                    continue
                if language is not None and language not in agent.language_set:
                    continue
                if skills and not agent.skill_set.issuperset(skills):
                    continue
                for key in bucket:
                    contact = contacts[key[-1]]
                    if agent_id in contact.passed:
                        deferred.append((self._rank(queue, contact), queue, contact))
                        continue
                    if head is None or key < head[0]:
                        head = (key, contact)
                    break
            if head is not None:
                rank = self._rank(queue, head[1])
                if best is None or rank < best[0]:
                    best = (rank, queue, head[1])
        if best is not None:
            return best[1], best[2]
        # Only contacts this agent passed on: take one back if nobody else could.
        deferred.sort(key=lambda item: item[0])
        for _, queue, contact in deferred:
            if pick_agent(queue, contact, self._agents, allow_passed=False) is None:
                return queue, contact
        return None

    # ------------------------------------------------------------------ indexes

    def _reindex(self, agent: AgentRecord) -> None:
        """Bring the agent's entries in the queues' pools up to date (only the entries
        whose key or membership changed are touched)."""
        desired: dict[tuple[str, str], Key] = {}
        if agent.presence == "available" and agent.wrap_until is None:
            room = [ch for ch in CHANNELS if agent.has_room(ch, self.config)]
            if room:
                for queue in self._served_queues(agent):
                    if not queue.routes:
                        continue
                    key = pool_key(queue.config, agent)
                    for ch in room:
                        desired[(queue.queue_id, ch)] = key
        current = agent.pool_keys
        for slot, key in current.items():
            if desired.get(slot) != key:
                owner = self._queues.get(slot[0])
                if owner is not None:
                    owner.pools[slot[1]].remove(key)
        for slot, key in desired.items():
            if current.get(slot) != key:
                self._queues[slot[0]].pools[slot[1]].add(key)
        agent.pool_keys = desired

    def _restaff(self, agent: AgentRecord) -> None:
        """Keep each queue's staffed-server counts (for estimates) in step with the
        agent's presence, queues and capacity."""
        desired: dict[str, tuple[int, int, int]] = {}
        if agent.presence == "available":
            cap = agent.capacity
            contribution = (cap["chat"], min(cap["voice"], 1), min(cap["video"], 1))
            for queue in self._served_queues(agent):
                desired[queue.queue_id] = contribution
        current = agent.staffing
        for queue_id, old in current.items():
            if desired.get(queue_id) != old:
                owner = self._queues.get(queue_id)
                if owner is not None:
                    owner.staffed -= 1
                    for ch, n in zip(CHANNELS, old, strict=True):
                        owner.servers[ch] -= n
                    self._touched.add(queue_id)
        for queue_id, new in desired.items():
            if current.get(queue_id) != new:
                queue = self._queues[queue_id]
                queue.staffed += 1
                for ch, n in zip(CHANNELS, new, strict=True):
                    queue.servers[ch] += n
                self._touched.add(queue_id)
        agent.staffing = desired

    def _sync_state(self, agent: AgentRecord, reason: str) -> None:
        state = derived_state(agent)
        if state != agent.reported:
            agent.reported = state
            until = agent.wrap_until if state == "wrap_up" else None
            self._emit(AgentStateChanged(agent.agent_id, state, reason, until))

    # ------------------------------------------------------------------ positions

    def _paces(self, queue: QueueState) -> dict[str, float | None]:
        figures = queue.window.figures(self._t)
        return {ch: seconds_per_place(queue.servers[ch], figures) for ch in CHANNELS}

    def _publish_positions(self) -> None:
        """Re-publish (position, rounded ETA) for every contact in the queues touched
        since the last tick whose figures changed.  O(waiting) per touched queue per
        tick, never per event."""
        if self._now is None:
            self._touched.clear()
            return
        for queue_id in sorted(self._touched):
            queue = self._queues.get(queue_id)
            if queue is None:
                continue
            paces = self._paces(queue)
            for position, key in enumerate(queue.order, start=1):
                contact = self._contacts[key[-1]]
                pace = paces[contact.channel]
                eta = None if pace is None else round_eta(position * pace)
                published = (position, eta)
                if contact.published != published:
                    contact.published = published
                    self._emit(QueuePosition(contact.contact_id, queue_id, position, eta))
        self._touched.clear()

    # ================================================================== queries

    def waiting(self, queue_id: str, limit: int | None = None) -> list[WaitingContact]:
        """Unassigned contacts of a queue in service order, with position and ETA;
        only the first ``limit`` when given (a console showing the head of a long line
        need not build 10,000 entries)."""
        queue = self._queues.get(queue_id)
        if queue is None:
            return []
        paces = self._paces(queue) if self._now is not None else dict.fromkeys(CHANNELS)
        result: list[WaitingContact] = []
        for position, key in enumerate(queue.order, start=1):
            if limit is not None and position > limit:
                break
            contact = self._contacts[key[-1]]
            pace = paces[contact.channel]
            result.append(
                WaitingContact(
                    contact_id=contact.contact_id,
                    queue_id=queue_id,
                    enqueued_at=contact.enqueued_at,
                    priority=contact.priority,
                    channel=contact.channel,
                    position=position,
                    eta_s=None if pace is None else round_eta(position * pace),
                    offered_to=contact.agent_id if contact.state == "offered" else None,
                )
            )
        return result

    def agent_view(self, agent_id: str) -> AgentView | None:
        agent = self._agents.get(agent_id)
        if agent is None:
            return None
        active: dict[str, tuple[str, ...]] = {
            ch: tuple(cid for cid, c in agent.active.items() if c == ch) for ch in CHANNELS
        }
        return AgentView(
            agent_id=agent.agent_id,
            state=derived_state(agent),
            presence=agent.presence,
            active=active,
            capacity=dict(agent.capacity),
            offers=tuple(agent.offers),
            wrap_up_until=agent.wrap_until,
            missed_offers=agent.missed,
            queues=agent.queues,
            idle_since=agent.idle_since,
        )

    def contact_view(self, contact_id: str) -> ContactView | None:
        contact = self._contacts.get(contact_id)
        if contact is None:
            return None
        position = None
        queue = self._queues.get(contact.queue_id)
        if queue is not None and contact.key is not None:
            position = queue.position(contact)
        return ContactView(
            contact_id=contact.contact_id,
            state=contact.state,
            queue_id=contact.queue_id,
            agent_id=contact.agent_id,
            enqueued_at=contact.enqueued_at,
            channel=contact.channel,
            priority=contact.priority,
            offer_expires_at=contact.offer_expires_at,
            position=position,
        )

    def queue_stats(self, queue_id: str) -> QueueStats | None:
        queue = self._queues.get(queue_id)
        if queue is None:
            return None
        figures = QueueFigures(0.0, None, 0, None) if self._now is None else queue.window.figures(self._now)
        # Erlang C for the queue's main channel: the one with most servers staffed.
        servers = max(queue.servers.values()) if queue.servers else 0
        erlang = erlang_figures(servers, figures, queue.config.sl_target_s)
        offered = sum(1 for key in queue.order if self._contacts[key[-1]].state == "offered")
        available = sum(
            1 for agent_id in queue.members if derived_state(self._agents[agent_id]) == "available"
        )
        return QueueStats(
            queue_id=queue_id,
            strategy=queue.config.strategy,
            open=queue.open,
            waiting=len(queue.order),
            offered=offered,
            agents_staffed=queue.staffed,
            agents_available=available,
            servers=dict(queue.servers),
            arrival_rate_per_s=figures.arrival_rate,
            aht_s=figures.aht_s,
            handled_in_window=figures.handled,
            p_wait=erlang.p_wait,
            asa_s=erlang.asa_s,
            service_level=erlang.service_level,
        )

    def agent_ids(self) -> list[str]:
        return list(self._agents)

    def contact_ids(self) -> list[str]:
        """Every contact the engine tracks (waiting, offered or assigned)."""
        return list(self._contacts)

    def queue_ids(self) -> list[str]:
        return list(self._queues)

    def is_open(self, queue_id: str, at: float) -> bool:
        """Is the queue taking contacts at ``at``?  Unknown queues are closed."""
        queue = self._queues.get(queue_id)
        return queue is not None and business_hours.is_open(queue.config.hours, at)

    def next_open(self, queue_id: str, at: float) -> float | None:
        """``at`` when open then, else when the queue opens next (None: never)."""
        queue = self._queues.get(queue_id)
        if queue is None:
            return None
        return business_hours.next_open(queue.config.hours, at)

    # ================================================================== snapshot

    def snapshot(self) -> dict[str, Any]:
        """Everything needed to carry on exactly where this engine is, as JSON-able
        data.  Indexes (sorted lines, pools, staffing) are rebuilt by :meth:`restore`."""
        return {
            "version": SNAPSHOT_VERSION,
            "config": dataclasses.asdict(self.config),
            "now": self._now,
            "seq": self._seq,
            "queues": [
                {
                    "config": queue_config_to_dict(queue.config),
                    "rr_last": queue.rr_last,
                    "open": queue.open,
                    "hours_token": queue.hours_token,
                    "window": queue.window.to_dict(),
                }
                for queue in self._queues.values()
            ],
            "agents": [agent.to_dict() for agent in self._agents.values()],
            "contacts": [contact.to_dict() for contact in self._contacts.values()],
            "timers": self._timers.to_dict(),
            "tombstones": [[cid, reason] for cid, reason in self._tombstones.items()],
            "touched": sorted(self._touched),
        }

    @classmethod
    def restore(cls, snapshot: dict[str, Any], config: EngineConfig | None = None) -> RoutingEngine:
        """An engine in exactly the state :meth:`snapshot` described.  ``config`` None
        means the configuration the snapshot was taken with."""
        if snapshot.get("version") != SNAPSHOT_VERSION:
            raise ValueError(f"unsupported snapshot version: {snapshot.get('version')!r}")
        if config is None:
            config = EngineConfig(**snapshot["config"])
        engine = cls(config)
        engine._now = snapshot["now"]
        engine._seq = int(snapshot["seq"])
        for data in snapshot["queues"]:
            queue = QueueState(
                _queue_config_from_dict(data["config"]),
                window=QueueWindow.from_dict(data["window"]),
                rr_last=data["rr_last"],
                open=bool(data["open"]),
                hours_token=int(data["hours_token"]),
            )
            engine._queues[queue.queue_id] = queue
        for data in snapshot["agents"]:
            agent = AgentRecord.from_dict(data)
            engine._agents[agent.agent_id] = agent
            for queue_id, queue in engine._queues.items():
                if engine._serves(agent, queue_id):
                    queue.members.add(agent.agent_id)
        for data in snapshot["contacts"]:
            contact = ContactRecord.from_dict(data)
            engine._contacts[contact.contact_id] = contact
            queue_state = engine._queues.get(contact.queue_id)
            if contact.state != "assigned" and queue_state is not None:
                queue_state.add_contact(contact)
        engine._timers = TimerHeap.from_dict(snapshot["timers"])
        engine._tombstones = OrderedDict((cid, reason) for cid, reason in snapshot["tombstones"])
        for agent in engine._agents.values():
            engine._restaff(agent)
            engine._reindex(agent)
        engine._touched = set(snapshot["touched"])
        return engine
