"""Prometheus collectors for the contact centre, fed by the same domain events.

Prometheus keeps long-range history and drives paging; the live page reads the
aggregator.  The two are fed the same events and interpret contacts through the same
:class:`~dashboard.lifecycle.ContactTracker`, so a wait in a histogram here is the
wait the ASA counts there.

Every collector registers on the registry the caller passes (never the process-wide
default), so tests and several app instances can each have their own.  Labels stay
bounded: queue, channel, stage (normalised to the journey stages), outcome, sender,
state, role, reason, warning code (normalised to the signalling warning codes).  No
contact id, call id or agent id is ever a label.

The gateway metrics (``gateway_*`` attributes) are set by the shell, not by events.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

from dashboard.agents import AGENT_STATES
from dashboard.events import (
    AgentStateChanged,
    CallQualitySampled,
    DomainEvent,
    OfferMade,
)
from dashboard.lifecycle import Contact, ContactTracker, Dims, LegOutcome, LifecycleListener
from dashboard.tally import OfferOutcome

WAIT_BUCKETS = (1.0, 2.0, 5.0, 10.0, 15.0, 20.0, 30.0, 45.0, 60.0, 90.0, 120.0, 180.0, 300.0, 600.0)
HANDLE_BUCKETS = (
    10.0,
    30.0,
    60.0,
    120.0,
    180.0,
    300.0,
    450.0,
    600.0,
    900.0,
    1200.0,
    1800.0,
    3600.0,
)
RESPONSE_BUCKETS = (1.0, 2.0, 5.0, 10.0, 15.0, 20.0, 30.0, 45.0, 60.0, 120.0, 300.0)
MOS_BUCKETS = (1.5, 2.0, 2.5, 3.0, 3.5, 3.8, 4.0, 4.2, 4.4, 4.5)
# The codes signalling.quality emits; anything else is counted as "other".
WARNING_CODES = frozenset({"high_rtt", "high_jitter", "high_loss", "low_mos"})


class _Observer(LifecycleListener):
    def __init__(self, metrics: Metrics) -> None:
        self.m = metrics
        # Per live call, the warning of its latest sample, to count onsets only.
        self.call_warnings: dict[str, str] = {}
        self.calls_by_contact: dict[str, set[str]] = {}

    def leg_started(self, contact: Contact, at: float) -> None:
        d = contact.dims
        self.m.contacts_waiting.labels(d.queue).inc()
        self.m.contacts.labels(d.queue, d.channel, d.stage, "queued").inc()

    def leg_ended(
        self, contact: Contact, at: float, outcome: LegOutcome, wait_s: float, agent: str | None
    ) -> None:
        d = contact.dims
        self.m.contacts_waiting.labels(d.queue).dec()
        self.m.contacts.labels(d.queue, d.channel, d.stage, outcome).inc()
        if outcome in ("answered", "abandoned"):
            self.m.wait_seconds.labels(d.queue, d.channel, outcome).observe(max(0.0, wait_s))

    def talk_ended(self, contact: Contact, at: float, agent: str, talk_s: float, hold_s: float) -> None:
        d = contact.dims
        self.m.contacts.labels(d.queue, d.channel, d.stage, "handled").inc()
        self.m.handle_seconds.labels(d.queue, d.channel, "talk").observe(talk_s)
        self.m.handle_seconds.labels(d.queue, d.channel, "hold").observe(hold_s)

    def wrap_up_ended(self, dims: Dims, agent: str, at: float, wrap_up_s: float) -> None:
        self.m.handle_seconds.labels(dims.queue, dims.channel, "wrap_up").observe(wrap_up_s)

    def first_response(self, contact: Contact, at: float, agent: str, seconds: float) -> None:
        d = contact.dims
        self.m.first_response_seconds.labels(d.queue, d.channel).observe(max(0.0, seconds))

    def offer_answered(
        self,
        contact: Contact,
        at: float,
        agent: str,
        outcome: OfferOutcome,
        acceptance_s: float | None,
    ) -> None:
        self.m.offers.labels(outcome).inc()
        if acceptance_s is not None:
            self.m.acceptance_seconds.observe(max(0.0, acceptance_s))

    def rated(self, contact: Contact, at: float, rating: int) -> None:
        self.m.csat_ratings.labels(str(rating)).inc()

    def call_sampled(self, contact: Contact, event: CallQualitySampled) -> None:
        self.m.call_mos.observe(event.mos)
        warning = event.warning
        previous = self.call_warnings.get(event.call_id, "")
        if warning and warning != previous:
            code = warning if warning in WARNING_CODES else "other"
            self.m.call_warnings.labels(code).inc()
        if warning:
            self.call_warnings[event.call_id] = warning
        else:
            self.call_warnings.pop(event.call_id, None)
        self.calls_by_contact.setdefault(contact.contact_id, set()).add(event.call_id)

    def contact_closed(self, contact: Contact, at: float) -> None:
        for call_id in self.calls_by_contact.pop(contact.contact_id, ()):
            self.call_warnings.pop(call_id, None)


class Metrics:
    """All collectors, registered on ``registry``; feed with :meth:`observe`."""

    def __init__(self, registry: CollectorRegistry, *, namespace: str = "cc") -> None:
        ns = namespace
        r = registry
        self.wait_seconds = Histogram(
            "contact_wait_seconds",
            "Wait from enqueue to answer or abandon.",
            ["queue", "channel", "outcome"],
            namespace=ns,
            registry=r,
            buckets=WAIT_BUCKETS,
        )
        self.handle_seconds = Histogram(
            "contact_handle_seconds",
            "Handle time by part (talk, hold, wrap_up); AHT is their sum per contact.",
            ["queue", "channel", "part"],
            namespace=ns,
            registry=r,
            buckets=HANDLE_BUCKETS,
        )
        self.first_response_seconds = Histogram(
            "chat_first_response_seconds",
            "First agent message minus answer time.",
            ["queue", "channel"],
            namespace=ns,
            registry=r,
            buckets=RESPONSE_BUCKETS,
        )
        self.acceptance_seconds = Histogram(
            "offer_acceptance_seconds",
            "Offer made to offer accepted.",
            namespace=ns,
            registry=r,
            buckets=RESPONSE_BUCKETS,
        )
        self.contacts_waiting = Gauge(
            "contacts_waiting", "Contacts waiting now.", ["queue"], namespace=ns, registry=r
        )
        self.agents = Gauge("agents", "Agents by state.", ["state"], namespace=ns, registry=r)
        for state in AGENT_STATES:
            self.agents.labels(state)
        self.offers_made = Counter("offers_made", "Offers made.", namespace=ns, registry=r)
        self.offers = Counter("offers", "Offers answered, by outcome.", ["outcome"], namespace=ns, registry=r)
        for outcome in ("accepted", "declined", "expired"):
            self.offers.labels(outcome)
        self.messages = Counter("messages", "Messages sent, by sender.", ["sender"], namespace=ns, registry=r)
        self.contacts = Counter(
            "contacts",
            "Contact events by queue, channel, stage of origin and outcome "
            "(queued, answered, abandoned, overflowed, transferred, closed, handled).",
            ["queue", "channel", "stage", "outcome"],
            namespace=ns,
            registry=r,
        )
        self.csat_ratings = Counter(
            "csat_ratings", "CSAT ratings by value (1-5).", ["rating"], namespace=ns, registry=r
        )
        self.call_mos = Histogram(
            "call_mos",
            "MOS of call-quality samples.",
            namespace=ns,
            registry=r,
            buckets=MOS_BUCKETS,
        )
        self.call_warnings = Counter(
            "call_quality_warnings",
            "Call-quality warnings raised (onsets), by code.",
            ["warning"],
            namespace=ns,
            registry=r,
        )
        # Gateway metrics, set by the shell.
        self.gateway_connections = Gauge(
            "gateway_connections",
            "Open WebSocket connections by role.",
            ["role"],
            namespace=ns,
            registry=r,
        )
        self.gateway_frames_in = Counter(
            "gateway_frames_in", "Frames received, by role.", ["role"], namespace=ns, registry=r
        )
        self.gateway_frames_out = Counter(
            "gateway_frames_out", "Frames sent, by role.", ["role"], namespace=ns, registry=r
        )
        self.gateway_frames_rejected = Counter(
            "gateway_frames_rejected",
            "Frames rejected, by reason (error code).",
            ["reason"],
            namespace=ns,
            registry=r,
        )

        self._agent_state: dict[str, str] = {}
        self._tracker = ContactTracker(_Observer(self))
        self._direct: dict[type, Callable[[Any], None]] = {
            AgentStateChanged: self._agent_state_changed,
            OfferMade: self._offer_made,
        }

    def observe(self, event: DomainEvent) -> None:
        handler = self._direct.get(type(event))
        if handler is not None:
            handler(event)
        self._tracker.apply(event)

    def _agent_state_changed(self, ev: AgentStateChanged) -> None:
        old = self._agent_state.get(ev.agent_id)
        if old == ev.state:
            return
        if old in AGENT_STATES:
            self.agents.labels(old).dec()
        if ev.state in AGENT_STATES:
            self.agents.labels(ev.state).inc()
        self._agent_state[ev.agent_id] = ev.state

    def _offer_made(self, ev: OfferMade) -> None:
        self.offers_made.inc()
