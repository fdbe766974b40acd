"""Contact lifecycles: turn raw domain events into the facts KPIs are made of.

Events say what happened ("answered", "hold on", "wrap-up ended"); KPIs need what it
*meant*: how long the contact waited, how long the talk was net of hold, which agent
and which queue/channel/stage a wrap-up belongs to.  :class:`ContactTracker` keeps
each open contact's state and calls a :class:`LifecycleListener` with those facts.
The live aggregator and the Prometheus collectors both listen, so the rules below
are written once.

The rules
---------
* A **leg** is one stay in one queue: it starts at :class:`ContactQueued` and ends
  answered, abandoned, overflowed, transferred (queued elsewhere) or closed
  (:class:`ContactEnded` while waiting).  The wait runs from ``enqueued_at`` (the
  original enqueue time, so a transferred contact's wait includes its earlier queue).
  A repeated ``ContactQueued`` for a contact already waiting in that queue is ignored.
* A **segment** is one agent's handling: :class:`ContactAnswered` to
  :class:`ContactEnded`, a :class:`ContactTransferred` away from the agent, or a new
  ``ContactQueued``/``ContactAnswered`` for another agent.  Its end reports talk (net of
  hold; an open hold is closed at the end) and hold, and opens the agent's wrap-up.
* **Wrap-up** runs from the segment's end to :class:`WrapUpEnded` for that agent and
  contact (``contact_id=None`` ends all the agent's open wrap-ups).  An agent keeps at
  most ``WRAP_UPS_PER_AGENT`` open wrap-ups; older ones are dropped uncounted, so a
  shell that never sends WrapUpEnded cannot grow memory.
* **First response** is the first agent :class:`MessageSent` in a segment (sent by
  that agent, or with no agent named) minus the segment's start.
* **Ratings**: the first valid :class:`CsatRated` per contact counts; later ones are
  ignored.  Ratings may arrive after the contact closed: the last
  ``closed_kept`` closed contacts are remembered for that.
* Stages outside :data:`dashboard.events.STAGES` are read as "unknown", so a stray
  value cannot add rows (or Prometheus series) without bound.
* Events about contacts never queued (e.g. after a restart) are counted in
  ``unmatched`` and otherwise ignored: without the queue and enqueue time no KPI can
  use them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from dashboard import formulas
from dashboard.events import (
    STAGES,
    CallQualitySampled,
    ContactAbandoned,
    ContactAnswered,
    ContactEnded,
    ContactOverflowed,
    ContactQueued,
    ContactTransferred,
    CsatRated,
    DomainEvent,
    HoldChanged,
    MessageSent,
    OfferAnswered,
    OfferMade,
    WrapUpEnded,
)
from dashboard.tally import OfferOutcome

LegOutcome = Literal["answered", "abandoned", "overflowed", "transferred", "closed"]
Phase = Literal["waiting", "talking", "between", "closed"]

WRAP_UPS_PER_AGENT = 32
_KNOWN_STAGES = frozenset(STAGES)


def journey_stage(stage: str) -> str:
    """The stage as the dashboard cuts by it: one of STAGES, else "unknown"."""
    return stage if stage in _KNOWN_STAGES else "unknown"


@dataclass(frozen=True, slots=True)
class Dims:
    """The dimensions every figure is cut by (the agent is added per fact)."""

    queue: str
    channel: str
    stage: str


class Contact:
    """One contact's open state.  Mutable and slotted: there may be 10,000 waiting."""

    __slots__ = (
        "agent",
        "answered_at",
        "contact_id",
        "dims",
        "enqueued_at",
        "hold_s",
        "hold_since",
        "last_agent",
        "phase",
        "rated",
        "responded",
        "seq",
        "sl_target_s",
    )

    def __init__(self, contact_id: str) -> None:
        self.contact_id = contact_id
        self.dims = Dims("", "", "unknown")
        self.enqueued_at = 0.0
        self.sl_target_s = 20.0
        self.phase: Phase = "closed"
        self.seq = 0  # tie-breaker for sorted waiting lists, unique per leg
        self.agent: str | None = None  # agent of the open segment
        self.last_agent: str | None = None  # who handled it last (CSAT goes there)
        self.answered_at = 0.0
        self.hold_s = 0.0
        self.hold_since: float | None = None
        self.responded = False
        self.rated = False


class LifecycleListener:
    """Receives the facts.  Every method is a no-op here; listeners override what they
    need.  ``at`` is always the time of the event that produced the fact."""

    def leg_started(self, contact: Contact, at: float) -> None:
        """The contact entered ``contact.dims.queue`` and is waiting."""

    def leg_ended(
        self, contact: Contact, at: float, outcome: LegOutcome, wait_s: float, agent: str | None
    ) -> None:
        """The contact stopped waiting in its queue (``agent`` only when answered)."""

    def talk_ended(self, contact: Contact, at: float, agent: str, talk_s: float, hold_s: float) -> None:
        """A segment ended: one contact handled by ``agent``."""

    def wrap_up_ended(self, dims: Dims, agent: str, at: float, wrap_up_s: float) -> None:
        """The agent finished after-contact work for a handled contact."""

    def first_response(self, contact: Contact, at: float, agent: str, seconds: float) -> None:
        """The segment's first agent message."""

    def offer_made(self, contact: Contact, at: float, agent: str) -> None:
        """An offer of this contact to ``agent``."""

    def offer_answered(
        self,
        contact: Contact,
        at: float,
        agent: str,
        outcome: OfferOutcome,
        acceptance_s: float | None,
    ) -> None:
        """An offer's outcome (``acceptance_s`` only when accepted)."""

    def rated(self, contact: Contact, at: float, rating: int) -> None:
        """A valid first rating; credit ``contact.last_agent``."""

    def call_sampled(self, contact: Contact, event: CallQualitySampled) -> None:
        """A call-quality sample on a known contact."""

    def contact_closed(self, contact: Contact, at: float) -> None:
        """The contact is over (ended, abandoned, or left with nowhere to go)."""


class _PendingWrapUp:
    __slots__ = ("contact", "dims", "ended_at")

    def __init__(self, contact: Contact, dims: Dims, ended_at: float) -> None:
        self.contact = contact
        self.dims = dims
        self.ended_at = ended_at


class ContactTracker:
    """Open contacts and open wrap-ups; see the module docstring for the rules."""

    def __init__(self, listener: LifecycleListener, closed_kept: int = 100_000) -> None:
        self._listener = listener
        self._closed_kept = closed_kept
        self.live: dict[str, Contact] = {}
        self._closed: dict[str, Contact] = {}
        self._wrap_ups: dict[str, dict[str, _PendingWrapUp]] = {}
        self._dims: dict[tuple[str, str, str], Dims] = {}
        self._seq = 0
        self.unmatched = 0
        self._handlers = {
            ContactQueued: self._queued,
            OfferMade: self._offer_made,
            OfferAnswered: self._offer_answered,
            ContactAnswered: self._answered,
            ContactAbandoned: self._abandoned,
            ContactOverflowed: self._overflowed,
            ContactTransferred: self._transferred,
            MessageSent: self._message,
            HoldChanged: self._hold,
            ContactEnded: self._ended,
            WrapUpEnded: self._wrap_up_ended,
            CsatRated: self._rated,
            CallQualitySampled: self._call_sampled,
        }

    def apply(self, event: DomainEvent) -> None:
        handler = self._handlers.get(type(event))
        if handler is not None:
            handler(event)  # type: ignore[operator]

    def open_wrap_ups(self, agent_id: str) -> int:
        return len(self._wrap_ups.get(agent_id, ()))

    # ------------------------------------------------------------------ helpers

    def _find(self, contact_id: str) -> Contact | None:
        contact = self.live.get(contact_id)
        if contact is None and contact_id not in self._closed:
            self.unmatched += 1
        return contact

    def _intern(self, queue: str, channel: str, stage: str) -> Dims:
        stage = journey_stage(stage)
        key = (queue, channel, stage)
        dims = self._dims.get(key)
        if dims is None:
            dims = self._dims[key] = Dims(queue, channel, stage)
        return dims

    def _close(self, contact: Contact, at: float) -> None:
        contact.phase = "closed"
        self.live.pop(contact.contact_id, None)
        closed = self._closed
        closed.pop(contact.contact_id, None)
        closed[contact.contact_id] = contact
        if len(closed) > self._closed_kept:
            del closed[next(iter(closed))]
        self._listener.contact_closed(contact, at)

    def _end_leg(self, contact: Contact, at: float, outcome: LegOutcome, agent: str | None = None) -> None:
        contact.phase = "between"
        self._listener.leg_ended(contact, at, outcome, at - contact.enqueued_at, agent)

    def _start_segment(self, contact: Contact, at: float, agent: str) -> None:
        contact.phase = "talking"
        contact.agent = agent
        contact.last_agent = agent
        contact.answered_at = at
        contact.hold_s = 0.0
        contact.hold_since = None
        contact.responded = False

    def _end_segment(self, contact: Contact, at: float) -> None:
        agent = contact.agent
        assert agent is not None
        if contact.hold_since is not None:
            contact.hold_s += max(0.0, at - contact.hold_since)
            contact.hold_since = None
        talk = formulas.talk_time(contact.answered_at, at, contact.hold_s)
        contact.phase = "between"
        contact.agent = None
        self._listener.talk_ended(contact, at, agent, talk, contact.hold_s)
        pending = self._wrap_ups.setdefault(agent, {})
        pending.pop(contact.contact_id, None)
        pending[contact.contact_id] = _PendingWrapUp(contact, contact.dims, at)
        if len(pending) > WRAP_UPS_PER_AGENT:
            del pending[next(iter(pending))]

    def _leave(self, contact: Contact, at: float, outcome: LegOutcome) -> None:
        """End whatever the contact is doing now (wait or segment)."""
        if contact.phase == "waiting":
            self._end_leg(contact, at, outcome)
        elif contact.phase == "talking":
            self._end_segment(contact, at)

    # ------------------------------------------------------------------ events

    def _queued(self, ev: ContactQueued) -> None:
        contact = self.live.get(ev.contact_id)
        if contact is not None:
            if contact.phase == "waiting" and contact.dims.queue == ev.queue_id:
                return
            self._leave(contact, ev.at, "transferred")
        else:
            contact = self._closed.pop(ev.contact_id, None) or Contact(ev.contact_id)
            self.live[ev.contact_id] = contact
        self._seq += 1
        contact.seq = self._seq
        contact.dims = self._intern(ev.queue_id, ev.channel, ev.stage)
        contact.enqueued_at = ev.enqueued_at
        contact.sl_target_s = ev.sl_target_s
        contact.phase = "waiting"
        self._listener.leg_started(contact, ev.at)

    def _offer_made(self, ev: OfferMade) -> None:
        contact = self._find(ev.contact_id)
        if contact is not None:
            self._listener.offer_made(contact, ev.at, ev.agent_id)

    def _offer_answered(self, ev: OfferAnswered) -> None:
        contact = self._find(ev.contact_id)
        if contact is not None:
            accepted = ev.at - ev.offered_at if ev.outcome == "accepted" else None
            self._listener.offer_answered(contact, ev.at, ev.agent_id, ev.outcome, accepted)

    def _answered(self, ev: ContactAnswered) -> None:
        contact = self._find(ev.contact_id)
        if contact is None:
            return
        if contact.phase == "waiting":
            self._end_leg(contact, ev.at, "answered", ev.agent_id)
        elif contact.phase == "talking":
            if contact.agent == ev.agent_id:
                return
            self._end_segment(contact, ev.at)  # handed straight to another agent
        self._start_segment(contact, ev.at, ev.agent_id)

    def _abandoned(self, ev: ContactAbandoned) -> None:
        contact = self._find(ev.contact_id)
        if contact is None or contact.phase == "talking":
            return  # leaving mid-conversation is not an abandon; ContactEnded follows
        if contact.phase == "waiting":
            self._end_leg(contact, ev.at, "abandoned")
        self._close(contact, ev.at)

    def _overflowed(self, ev: ContactOverflowed) -> None:
        contact = self._find(ev.contact_id)
        if contact is None or contact.phase != "waiting":
            return
        self._end_leg(contact, ev.at, "overflowed")
        if ev.to_queue is None:
            self._close(contact, ev.at)

    def _transferred(self, ev: ContactTransferred) -> None:
        contact = self._find(ev.contact_id)
        if contact is None:
            return
        self._leave(contact, ev.at, "transferred")
        if ev.to_queue is None and ev.to_agent is None:
            self._close(contact, ev.at)

    def _message(self, ev: MessageSent) -> None:
        if ev.sender != "agent":
            return
        contact = self.live.get(ev.contact_id)
        if contact is None or contact.phase != "talking" or contact.responded:
            return
        agent = contact.agent
        assert agent is not None
        if ev.agent_id is not None and ev.agent_id != agent:
            return
        contact.responded = True
        self._listener.first_response(contact, ev.at, agent, ev.at - contact.answered_at)

    def _hold(self, ev: HoldChanged) -> None:
        contact = self.live.get(ev.contact_id)
        if contact is None or contact.phase != "talking":
            return
        if ev.on_hold:
            if contact.hold_since is None:
                contact.hold_since = ev.at
        elif contact.hold_since is not None:
            contact.hold_s += max(0.0, ev.at - contact.hold_since)
            contact.hold_since = None

    def _ended(self, ev: ContactEnded) -> None:
        contact = self._find(ev.contact_id)
        if contact is None:
            return
        self._leave(contact, ev.at, "closed")
        self._close(contact, ev.at)

    def _wrap_up_ended(self, ev: WrapUpEnded) -> None:
        pending = self._wrap_ups.get(ev.agent_id)
        if not pending:
            return
        if ev.contact_id is None:
            done = list(pending.values())
            pending.clear()
        else:
            one = pending.pop(ev.contact_id, None)
            done = [one] if one is not None else []
        for item in done:
            wrap = max(0.0, ev.at - item.ended_at)
            self._listener.wrap_up_ended(item.dims, ev.agent_id, ev.at, wrap)

    def _rated(self, ev: CsatRated) -> None:
        contact = self.live.get(ev.contact_id) or self._closed.get(ev.contact_id)
        if contact is None:
            self.unmatched += 1
            return
        if contact.rated or not formulas.is_rating(ev.rating):
            return
        contact.rated = True
        self._listener.rated(contact, ev.at, ev.rating)

    def _call_sampled(self, ev: CallQualitySampled) -> None:
        contact = self._find(ev.contact_id)
        if contact is not None:
            self._listener.call_sampled(contact, ev)
