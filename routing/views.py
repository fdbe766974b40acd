"""Read-only answers the engine gives the application (never part of the event log)."""

from __future__ import annotations

from dataclasses import dataclass

from routing.events import AgentState, Channel, Strategy


@dataclass(frozen=True, slots=True)
class WaitingContact:
    """One unassigned contact, in service order.  ``offered_to`` is the agent holding
    its outstanding offer, if any (the contact still waits until they accept)."""

    contact_id: str
    queue_id: str
    enqueued_at: float
    priority: int
    channel: Channel
    position: int
    eta_s: float | None
    offered_to: str | None = None


@dataclass(frozen=True, slots=True)
class AgentView:
    agent_id: str
    state: AgentState
    presence: str
    # channel -> contact ids the agent is handling
    active: dict[str, tuple[str, ...]]
    capacity: dict[str, int]
    # contact ids offered to the agent and not yet answered
    offers: tuple[str, ...]
    wrap_up_until: float | None
    missed_offers: int
    queues: tuple[str, ...]
    idle_since: float


@dataclass(frozen=True, slots=True)
class ContactView:
    contact_id: str
    # "waiting" (in line, no offer), "offered" (an agent is being asked), "assigned"
    state: str
    queue_id: str
    agent_id: str | None
    enqueued_at: float
    channel: Channel
    priority: int
    offer_expires_at: float | None
    # 1-based place in line while unassigned
    position: int | None


@dataclass(frozen=True, slots=True)
class QueueStats:
    """A queue at the engine's current time.  Rates and AHT come from the estimator's
    moving window; the Erlang C figures are for a contact about to arrive."""

    queue_id: str
    strategy: Strategy
    open: bool
    waiting: int  # unassigned: in line, with or without an outstanding offer
    offered: int
    agents_staffed: int  # presence available and serving the queue
    agents_available: int  # of those, holding no contact and not in wrap-up
    servers: dict[str, int]  # staffed servers per channel (chat counts slots)
    arrival_rate_per_s: float
    aht_s: float | None
    handled_in_window: int
    p_wait: float | None
    asa_s: float | None
    service_level: float | None
