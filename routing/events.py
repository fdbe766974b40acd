"""What goes into the routing engine and what comes out of it.

The engine is a sans-I/O state machine: the application feeds it *events* (each
stamped with the time it happened, ``at``, in Unix seconds) and carries out the
*decisions* it returns.  Nothing here reads a clock, touches a socket or a database,
so the same event log always yields the same decisions: the scaled deployment relies
on that to rebuild a dead router's state by replaying its log.

Every type is a frozen dataclass made of JSON-friendly values so an event can be
written to a log and read back with :func:`event_to_dict` / :func:`event_from_dict`.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Literal

Channel = Literal["chat", "voice", "video"]
CHANNELS: tuple[Channel, ...] = ("chat", "voice", "video")

# What an agent asks for; the engine derives busy / wrap_up on top of it.
Presence = Literal["available", "away", "offline"]
# What the engine reports: presence plus what it knows about the agent's work.
AgentState = Literal["available", "busy", "wrap_up", "away", "offline"]

Strategy = Literal["longest_idle", "least_occupied", "round_robin", "best_skill", "manual"]
STRATEGIES: tuple[Strategy, ...] = (
    "longest_idle",
    "least_occupied",
    "round_robin",
    "best_skill",
    "manual",
)


# --------------------------------------------------------------------------- config


@dataclass(frozen=True, slots=True)
class OpeningSpan:
    """One opening span in a queue's week: ``weekday`` 0 is Monday, times are "HH:MM"
    in the queue's time zone; ``closes`` may be "24:00"."""

    weekday: int
    opens: str
    closes: str


@dataclass(frozen=True, slots=True)
class BusinessHours:
    timezone: str = "UTC"
    spans: tuple[OpeningSpan, ...] = ()
    # Days closed whatever the week says (public holidays), as calendar days in
    # ``timezone``: no span opens on them.  The shell turns Jalali dates into these.
    closed_dates: frozenset[date] = frozenset()


@dataclass(frozen=True, slots=True)
class QueueConfig:
    queue_id: str
    strategy: Strategy = "longest_idle"
    # Service-level target T (seconds) used by the estimate and the dashboard.
    sl_target_s: float = 20.0
    # How long an agent has to accept an offer before it moves to the next agent.
    offer_timeout_s: float = 20.0
    # None: wait forever.  Otherwise, after this long the contact overflows.
    max_wait_s: float | None = None
    # Where an overflowing contact goes: another queue id, or None for the offline form.
    overflow_to: str | None = None
    # Priority ageing: a waiting contact gains one priority step per ``ageing_s``
    # seconds waited, so low priority never starves.  None turns ageing off.
    ageing_s: float | None = None
    # After-contact work: seconds an agent spends in wrap-up before new offers.
    wrap_up_s: float = 0.0
    # None: always open.
    hours: BusinessHours | None = None
    # The skills an agent needs to serve this queue.  A contact arriving here carries
    # them (the shell passes them in ContactArrived); one overflowing here takes them
    # on, since the queue it left and its requirements are behind it.
    skills: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class EngineConfig:
    # After this many consecutive missed (expired) offers an agent is set away.
    missed_offers_before_away: int = 3
    # While on a voice or video call an agent gets no new chats unless this is set.
    chat_while_on_call: bool = False
    default_chat_capacity: int = 3


# --------------------------------------------------------------------------- events


@dataclass(frozen=True, slots=True)
class QueueUpserted:
    at: float
    queue: QueueConfig


@dataclass(frozen=True, slots=True)
class QueueRemoved:
    at: float
    queue_id: str


@dataclass(frozen=True, slots=True)
class AgentUpserted:
    """An agent's routing profile.  Sent on start-up and whenever an admin edits it;
    it never changes the agent's presence or current work."""

    at: float
    agent_id: str
    # skill name -> proficiency 1..10
    skills: dict[str, int] = field(default_factory=dict)
    languages: tuple[str, ...] = ()
    # channel -> concurrent contacts; a missing channel means the engine default
    # (chat: EngineConfig.default_chat_capacity, voice 1, video 1).
    capacity: dict[str, int] = field(default_factory=dict)
    # Queues the agent serves; empty means every queue.
    queues: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class AgentRemoved:
    at: float
    agent_id: str


@dataclass(frozen=True, slots=True)
class AgentPresenceChanged:
    at: float
    agent_id: str
    presence: Presence
    reason: str = ""


@dataclass(frozen=True, slots=True)
class ContactArrived:
    at: float
    contact_id: str
    queue_id: str
    channel: Channel = "chat"
    priority: int = 0
    # Skills every eligible agent must have (any proficiency).
    skills: tuple[str, ...] = ()
    language: str | None = None
    # The original enqueue time; a transferred or restored contact keeps its own.
    # None means ``at``.
    enqueued_at: float | None = None


@dataclass(frozen=True, slots=True)
class ContactRestored:
    """A contact already assigned to an agent when the engine (re)starts, so the
    agent's capacity is counted."""

    at: float
    contact_id: str
    queue_id: str
    agent_id: str
    channel: Channel = "chat"
    enqueued_at: float | None = None


@dataclass(frozen=True, slots=True)
class OfferAccepted:
    at: float
    contact_id: str
    agent_id: str


@dataclass(frozen=True, slots=True)
class OfferDeclined:
    at: float
    contact_id: str
    agent_id: str
    reason: str = ""


@dataclass(frozen=True, slots=True)
class ContactTaken:
    """Manual mode: an agent takes a waiting contact from the visible queue."""

    at: float
    contact_id: str
    agent_id: str


@dataclass(frozen=True, slots=True)
class ContactAbandoned:
    """The visitor left before the contact was assigned: it leaves the queue and any
    outstanding offer is rescinded."""

    at: float
    contact_id: str


@dataclass(frozen=True, slots=True)
class ContactEnded:
    """An assigned contact is over: the agent's capacity frees (after wrap-up)."""

    at: float
    contact_id: str


@dataclass(frozen=True, slots=True)
class ContactTransferred:
    """Move an assigned (or waiting) contact to another queue or to one agent.  The
    contact keeps its original enqueue time; the previous agent's slot frees at once.
    A transfer to an agent offers the contact to that agent only; if they decline or
    let it expire it waits in ``to_queue`` (or its current queue)."""

    at: float
    contact_id: str
    to_queue: str | None = None
    to_agent: str | None = None
    note: str = ""
    # The skills the contact needs from now on (the target queue's); None keeps its own.
    # Applied only when the contact moves to ``to_queue``.
    skills: tuple[str, ...] | None = None


@dataclass(frozen=True, slots=True)
class WrapUpEnded:
    """The agent finished after-contact work early."""

    at: float
    agent_id: str


@dataclass(frozen=True, slots=True)
class Tick:
    """Time passes: offers expire, wrap-ups end, contacts overflow, queues open and
    close, and queue positions / estimates are re-published."""

    at: float


Event = (
    QueueUpserted
    | QueueRemoved
    | AgentUpserted
    | AgentRemoved
    | AgentPresenceChanged
    | ContactArrived
    | ContactRestored
    | OfferAccepted
    | OfferDeclined
    | ContactTaken
    | ContactAbandoned
    | ContactEnded
    | ContactTransferred
    | WrapUpEnded
    | Tick
)

# --------------------------------------------------------------------------- decisions


@dataclass(frozen=True, slots=True)
class ContactQueued:
    contact_id: str
    queue_id: str
    position: int


@dataclass(frozen=True, slots=True)
class OfferMade:
    contact_id: str
    agent_id: str
    queue_id: str
    channel: Channel
    expires_at: float


@dataclass(frozen=True, slots=True)
class OfferRevoked:
    """An outstanding offer is gone.  reason: "expired", "declined", "abandoned",
    "transferred", "agent_unavailable", "queue_removed"."""

    contact_id: str
    agent_id: str
    reason: str


@dataclass(frozen=True, slots=True)
class Assigned:
    """The contact now belongs to the agent.  ``via``: "offer", "take", "restore"."""

    contact_id: str
    agent_id: str
    queue_id: str
    channel: Channel
    enqueued_at: float
    at: float
    via: str


@dataclass(frozen=True, slots=True)
class Refused:
    """An agent's accept / decline / take could not be applied (the offer expired, the
    contact went to someone else, capacity is full...).  The agent is told why.

    reason: why that agent's offer ended ("expired", "declined", "abandoned",
    "transferred", "agent_unavailable", "queue_removed"); what became of a contact no
    longer in the engine ("ended", "abandoned", "overflowed", "unknown_contact");
    "taken" / "already_assigned" / "offered_elsewhere" / "not_offered"; and for a take
    "unknown_agent", "unknown_queue", "not_in_queue", "not_available", "wrap_up",
    "no_capacity"."""

    contact_id: str
    agent_id: str
    action: Literal["accept", "decline", "take"]
    reason: str


@dataclass(frozen=True, slots=True)
class QueuePosition:
    """Where a waiting contact stands: 1 is next.  ``eta_s`` is the estimated wait from
    now in seconds (None when the engine cannot estimate it yet)."""

    contact_id: str
    queue_id: str
    position: int
    eta_s: float | None


@dataclass(frozen=True, slots=True)
class ContactOverflowed:
    """The contact left ``from_queue``.  ``to_queue`` None means the offline form.
    reason: "max_wait", "closed", "queue_removed", "unknown_queue" (it arrived for, or
    was sent to, a queue the engine does not know).  ``next_open`` is the Unix time the
    queue opens next when reason is "closed"."""

    contact_id: str
    from_queue: str
    to_queue: str | None
    reason: str
    next_open: float | None = None


@dataclass(frozen=True, slots=True)
class AgentStateChanged:
    """The agent's derived state changed.  ``until`` is the wrap-up end, if any.
    reason examples: "missed_offers" (auto-away), "wrap_up", "requested".  The engine
    also says "wrap_up_ended", "assigned", "contact_ended", "transferred", "restored",
    "removed", or passes on the ``reason`` of an AgentPresenceChanged."""

    agent_id: str
    state: AgentState
    reason: str = ""
    until: float | None = None


@dataclass(frozen=True, slots=True)
class ContactReleased:
    """An assigned contact no longer counts against its agent (ended or transferred)."""

    contact_id: str
    agent_id: str


Decision = (
    ContactQueued
    | OfferMade
    | OfferRevoked
    | Assigned
    | Refused
    | QueuePosition
    | ContactOverflowed
    | AgentStateChanged
    | ContactReleased
)

# --------------------------------------------------------------------------- log codec

EVENT_TYPES: dict[str, type[Any]] = {
    cls.__name__: cls
    for cls in (
        QueueUpserted,
        QueueRemoved,
        AgentUpserted,
        AgentRemoved,
        AgentPresenceChanged,
        ContactArrived,
        ContactRestored,
        OfferAccepted,
        OfferDeclined,
        ContactTaken,
        ContactAbandoned,
        ContactEnded,
        ContactTransferred,
        WrapUpEnded,
        Tick,
    )
}


def event_to_dict(event: Event) -> dict[str, Any]:
    """A JSON-able dict with the event's type name under ``"type"``."""
    data = dataclasses.asdict(event)
    data["type"] = type(event).__name__
    if isinstance(event, QueueUpserted):
        data["queue"] = queue_config_to_dict(event.queue)
    return data


def queue_config_to_dict(config: QueueConfig) -> dict[str, Any]:
    """A JSON-able dict of a queue's configuration (holidays as ISO dates)."""
    data = dataclasses.asdict(config)
    if data.get("hours") is not None:
        data["hours"]["closed_dates"] = sorted(day.isoformat() for day in config.hours.closed_dates)  # type: ignore[union-attr]
    return data


def _queue_config_from_dict(data: dict[str, Any]) -> QueueConfig:
    hours = data.get("hours")
    hours_obj = None
    if hours is not None:
        hours_obj = BusinessHours(
            timezone=hours.get("timezone", "UTC"),
            spans=tuple(OpeningSpan(**span) for span in hours.get("spans", ())),
            closed_dates=frozenset(date.fromisoformat(day) for day in hours.get("closed_dates", ())),
        )
    return QueueConfig(**{**data, "hours": hours_obj, "skills": tuple(data.get("skills", ()))})


def event_from_dict(data: dict[str, Any]) -> Event:
    """Inverse of :func:`event_to_dict`."""
    fields = dict(data)
    cls = EVENT_TYPES[fields.pop("type")]
    if cls is QueueUpserted:
        fields["queue"] = _queue_config_from_dict(fields["queue"])
    for name in ("languages", "queues", "skills"):
        if name in fields and isinstance(fields[name], list):
            fields[name] = tuple(fields[name])
    event: Event = cls(**fields)
    return event
