"""The engine's mutable records of agents and contacts, and the channel rules.

Records are plain slotted dataclasses owned by :class:`routing.engine.RoutingEngine`;
nothing outside the engine mutates them.  Each converts to and from a JSON-able dict
for snapshots.  Index-only fields (pool keys, staffing contributions) are rebuilt on
restore rather than stored.

Channel rules (why they are what they are):

* Capacity is per channel and counts *outstanding offers* as well as active contacts:
  an offer reserves the slot it would fill, so accepting can never overflow an agent.
* Voice and video are calls: an agent is on at most one call, whatever the per-channel
  capacity says (a capacity of 0 turns the channel off).  A call can be offered on top
  of ongoing chats, because chats tolerate a pause and the agent chose to take chats.
* While a call is active *or ringing* (offered), no new chat is offered unless
  ``EngineConfig.chat_while_on_call``; chats the agent already has go on.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from routing.events import CHANNELS, AgentUpserted, Channel, EngineConfig
from routing.sortedlist import Key

CALL_CHANNELS: tuple[Channel, ...] = ("voice", "video")
# Proficiency runs 1..10 (events.AgentUpserted); higher values count as 10.
MAX_PROFICIENCY = 10


def resolve_capacity(requested: dict[str, int], config: EngineConfig) -> dict[str, int]:
    defaults = {"chat": config.default_chat_capacity, "voice": 1, "video": 1}
    return {ch: max(0, int(requested.get(ch, defaults[ch]))) for ch in CHANNELS}


@dataclass(slots=True)
class AgentRecord:
    agent_id: str
    skills: dict[str, int]
    languages: tuple[str, ...]
    capacity: dict[str, int]
    # Queues the agent serves; empty means every queue.
    queues: tuple[str, ...]
    presence: str = "offline"
    # contact id -> channel, in the order they were assigned / offered.
    active: dict[str, str] = field(default_factory=dict)
    offers: dict[str, str] = field(default_factory=dict)
    # Per channel: active + offered.
    used: dict[str, int] = field(default_factory=lambda: dict.fromkeys(CHANNELS, 0))
    wrap_until: float | None = None
    wrap_token: int = 0
    missed: int = 0
    # When the agent last became free (a slot freed, wrap-up ended, became available).
    idle_since: float = 0.0
    # The derived state last reported in an AgentStateChanged.
    reported: str = "offline"
    # --- indexes, rebuilt on restore
    skill_set: frozenset[str] = frozenset()
    language_set: frozenset[str] = frozenset()
    pool_keys: dict[tuple[str, str], Key] = field(default_factory=dict)
    staffing: dict[str, tuple[int, int, int]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.refresh_profile_indexes()

    def refresh_profile_indexes(self) -> None:
        self.skill_set = frozenset(name for name, level in self.skills.items() if level > 0)
        self.language_set = frozenset(self.languages)

    def apply_profile(self, event: AgentUpserted, config: EngineConfig) -> None:
        self.skills = dict(event.skills)
        self.languages = tuple(event.languages)
        self.capacity = resolve_capacity(event.capacity, config)
        self.queues = tuple(event.queues)
        self.refresh_profile_indexes()

    # ----------------------------------------------------------------- channel rules

    def calls_in_use(self) -> int:
        used = self.used
        return used["voice"] + used["video"]

    def has_room(self, channel: str, config: EngineConfig) -> bool:
        """Could one more contact on ``channel`` be offered, by capacity alone?"""
        used = self.used
        if channel == "chat":
            if used["chat"] >= self.capacity["chat"]:
                return False
            return config.chat_while_on_call or used["voice"] + used["video"] == 0
        return self.capacity[channel] > 0 and used["voice"] + used["video"] == 0

    def load(self) -> int:
        return len(self.active) + len(self.offers)

    def skill_score(self, skills: tuple[str, ...]) -> int:
        levels = self.skills
        return sum(min(levels.get(name, 0), MAX_PROFICIENCY) for name in skills)

    # ----------------------------------------------------------------- snapshot

    def to_dict(self) -> dict[str, Any]:
        return {
            "agent_id": self.agent_id,
            "skills": dict(self.skills),
            "languages": list(self.languages),
            "capacity": dict(self.capacity),
            "queues": list(self.queues),
            "presence": self.presence,
            "active": [[cid, ch] for cid, ch in self.active.items()],
            "offers": [[cid, ch] for cid, ch in self.offers.items()],
            "wrap_until": self.wrap_until,
            "wrap_token": self.wrap_token,
            "missed": self.missed,
            "idle_since": self.idle_since,
            "reported": self.reported,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> AgentRecord:
        agent = cls(
            agent_id=data["agent_id"],
            skills={str(k): int(v) for k, v in data["skills"].items()},
            languages=tuple(data["languages"]),
            capacity={str(k): int(v) for k, v in data["capacity"].items()},
            queues=tuple(data["queues"]),
            presence=data["presence"],
            active={cid: ch for cid, ch in data["active"]},
            offers={cid: ch for cid, ch in data["offers"]},
            wrap_until=data["wrap_until"],
            wrap_token=int(data["wrap_token"]),
            missed=int(data["missed"]),
            idle_since=float(data["idle_since"]),
            reported=data["reported"],
        )
        for ch in (*agent.active.values(), *agent.offers.values()):
            agent.used[ch] += 1
        return agent


@dataclass(slots=True)
class ContactRecord:
    contact_id: str
    queue_id: str
    channel: Channel
    priority: int
    skills: tuple[str, ...]
    language: str | None
    # The original enqueue time: ordering, waits and ETA use it; transfers keep it.
    enqueued_at: float
    # Entered the current queue (max wait counts from here).
    queued_at: float
    # Tie-break for equal keys, fixed at first arrival so a transfer keeps its place.
    seq: int
    state: str = "waiting"  # waiting | offered | assigned
    agent_id: str | None = None
    offer_expires_at: float | None = None
    offer_token: int = 0
    entry_token: int = 0
    # Agents that declined or let an offer of this contact expire (or transferred it).
    passed: set[str] = field(default_factory=set)
    # agent -> why their last offer of this contact ended (for a precise Refused).
    revoked: dict[str, str] = field(default_factory=dict)
    # A transfer to one agent: offered to them only, once.
    target_agent: str | None = None
    assigned_at: float | None = None
    arrival_position: int = 1
    # (position, rounded eta) last published in a QueuePosition, None: none yet.
    published: tuple[int, float | None] | None = None
    # Overflow loop guard: how many hops at the instant ``hop_at``.
    hop_at: float | None = None
    hops: int = 0
    # --- indexes, rebuilt on restore
    skill_set: frozenset[str] = frozenset()
    key: Key | None = None

    def __post_init__(self) -> None:
        self.skill_set = frozenset(self.skills)

    def class_key(self) -> tuple[str, tuple[str, ...], str | None]:
        """Contacts with the same class are interchangeable for eligibility."""
        return (self.channel, tuple(sorted(self.skill_set)), self.language)

    def to_dict(self) -> dict[str, Any]:
        return {
            "contact_id": self.contact_id,
            "queue_id": self.queue_id,
            "channel": self.channel,
            "priority": self.priority,
            "skills": list(self.skills),
            "language": self.language,
            "enqueued_at": self.enqueued_at,
            "queued_at": self.queued_at,
            "seq": self.seq,
            "state": self.state,
            "agent_id": self.agent_id,
            "offer_expires_at": self.offer_expires_at,
            "offer_token": self.offer_token,
            "entry_token": self.entry_token,
            "passed": sorted(self.passed),
            "revoked": dict(self.revoked),
            "target_agent": self.target_agent,
            "assigned_at": self.assigned_at,
            "arrival_position": self.arrival_position,
            "published": None if self.published is None else list(self.published),
            "hop_at": self.hop_at,
            "hops": self.hops,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ContactRecord:
        published = data["published"]
        return cls(
            contact_id=data["contact_id"],
            queue_id=data["queue_id"],
            channel=data["channel"],
            priority=int(data["priority"]),
            skills=tuple(data["skills"]),
            language=data["language"],
            enqueued_at=float(data["enqueued_at"]),
            queued_at=float(data["queued_at"]),
            seq=int(data["seq"]),
            state=data["state"],
            agent_id=data["agent_id"],
            offer_expires_at=data["offer_expires_at"],
            offer_token=int(data["offer_token"]),
            entry_token=int(data["entry_token"]),
            passed=set(data["passed"]),
            revoked=dict(data["revoked"]),
            target_agent=data["target_agent"],
            assigned_at=data["assigned_at"],
            arrival_position=int(data["arrival_position"]),
            published=None if published is None else (int(published[0]), published[1]),
            hop_at=data["hop_at"],
            hops=int(data["hops"]),
        )
