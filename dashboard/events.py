"""Domain events: the facts the application records as contacts move through the
contact centre.  The shell (``contact_center``) emits them; the dashboard aggregator
and the Prometheus collectors consume them.  They live here, in a core package, so the
arrow points from the shell to the core and the aggregator can be tested and
benchmarked without a server.

Times are Unix seconds (float).  Every contact-scoped event names the contact; the
contact's dimensions (queue, channel, stage of origin) are given once, on
:class:`ContactQueued`, and the aggregator remembers them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Stage = Literal["awareness", "consideration", "decision", "purchase", "retention", "unknown"]
STAGES: tuple[Stage, ...] = (
    "awareness",
    "consideration",
    "decision",
    "purchase",
    "retention",
    "unknown",
)


@dataclass(frozen=True, slots=True)
class ContactQueued:
    at: float
    contact_id: str
    queue_id: str
    channel: str
    stage: str
    # The original enqueue time (differs from ``at`` after a transfer or restart).
    enqueued_at: float
    # The queue's service-level target T in seconds.
    sl_target_s: float = 20.0


@dataclass(frozen=True, slots=True)
class OfferMade:
    at: float
    contact_id: str
    agent_id: str


@dataclass(frozen=True, slots=True)
class OfferAnswered:
    """The agent's answer to an offer: "accepted", "declined" or "expired"."""

    at: float
    contact_id: str
    agent_id: str
    outcome: Literal["accepted", "declined", "expired"]
    # When the offer was made, so acceptance time can be measured.
    offered_at: float
    # The agent's words when declining ("on a call", "not my language"), else "".
    reason: str = ""


@dataclass(frozen=True, slots=True)
class ContactAnswered:
    """Assigned to an agent: the wait is over."""

    at: float
    contact_id: str
    agent_id: str


@dataclass(frozen=True, slots=True)
class ContactAbandoned:
    """The visitor left before an agent answered."""

    at: float
    contact_id: str


@dataclass(frozen=True, slots=True)
class ContactOverflowed:
    at: float
    contact_id: str
    to_queue: str | None
    reason: str


@dataclass(frozen=True, slots=True)
class ContactTransferred:
    at: float
    contact_id: str
    from_agent: str | None
    to_queue: str | None
    to_agent: str | None


@dataclass(frozen=True, slots=True)
class MessageSent:
    at: float
    contact_id: str
    sender: Literal["visitor", "agent", "system"]
    agent_id: str | None = None


@dataclass(frozen=True, slots=True)
class HoldChanged:
    """A call put on hold (``on_hold`` True) or resumed."""

    at: float
    contact_id: str
    on_hold: bool


@dataclass(frozen=True, slots=True)
class ContactEnded:
    """Talk is over; wrap-up (after-contact work) may follow."""

    at: float
    contact_id: str
    agent_id: str | None
    disposition: str = ""


@dataclass(frozen=True, slots=True)
class WrapUpEnded:
    at: float
    agent_id: str
    contact_id: str | None = None


@dataclass(frozen=True, slots=True)
class AgentStateChanged:
    """state: available, busy, wrap_up, away, offline.

    ``queues`` names the queues the agent serves, for staffing (agents staffed per
    queue); empty means "unchanged", and an agent never given a list counts for every
    queue."""

    at: float
    agent_id: str
    state: str
    reason: str = ""
    queues: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class AgentLoadChanged:
    """How many contacts the agent holds now and how many slots it has (chat
    concurrency), for slot occupancy."""

    at: float
    agent_id: str
    active: int
    slots: int


@dataclass(frozen=True, slots=True)
class CsatRated:
    at: float
    contact_id: str
    rating: int


@dataclass(frozen=True, slots=True)
class CallQualitySampled:
    """A scored ``call.stats`` sample; ``warning`` is a short code or ""."""

    at: float
    call_id: str
    contact_id: str
    mos: float
    warning: str = ""


DomainEvent = (
    ContactQueued
    | OfferMade
    | OfferAnswered
    | ContactAnswered
    | ContactAbandoned
    | ContactOverflowed
    | ContactTransferred
    | MessageSent
    | HoldChanged
    | ContactEnded
    | WrapUpEnded
    | AgentStateChanged
    | AgentLoadChanged
    | CsatRated
    | CallQualitySampled
)
