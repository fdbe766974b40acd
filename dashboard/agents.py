"""Agents: state, load, and the time integrals behind occupancy.

Occupancy is a ratio of *times*, so it is integrated, not counted: each agent keeps
the time spent on contacts, available idle, and the slot-seconds used and offered
(chat concurrency), advanced whenever its state or load changes.  Each change closes
one interval in O(1); a snapshot adds the still-open interval up to ``now`` on the
side, without writing, so two snapshots at the same ``now`` agree and a snapshot never
changes what the next event sees.  Intervals are clipped at ``since`` so a reset at
midnight starts every integral at midnight even for an agent busy since 23:00.

Also here, because it is per-agent live state: consecutive expired offers (the
"agent missing offers" alert) and the queues an agent serves (for staffing).
"""

from __future__ import annotations

from typing import NamedTuple

from dashboard.formulas import agent_mode
from dashboard.tally import OfferOutcome

AGENT_STATES: tuple[str, ...] = ("available", "busy", "wrap_up", "away", "offline")


class AgentTimes(NamedTuple):
    on_contacts_s: float
    idle_s: float
    slot_used_s: float
    slot_offered_s: float


class Agent:
    __slots__ = (
        "active",
        "agent_id",
        "expired_in_a_row",
        "idle_s",
        "last_at",
        "last_decline_reason",
        "on_contacts_s",
        "queues",
        "slot_offered_s",
        "slot_used_s",
        "slots",
        "state",
        "state_since",
    )

    def __init__(self, agent_id: str) -> None:
        self.agent_id = agent_id
        self.state: str | None = None  # None until the first AgentStateChanged
        self.state_since: float | None = None
        self.queues: tuple[str, ...] = ()
        self.active = 0
        self.slots = 0
        self.last_at = float("-inf")  # integrals are complete up to here
        self.on_contacts_s = 0.0
        self.idle_s = 0.0
        self.slot_used_s = 0.0
        self.slot_offered_s = 0.0
        self.expired_in_a_row = 0
        self.last_decline_reason = ""  # what the agent said when last declining

    @property
    def staffed(self) -> bool:
        """Counts as a server for Erlang C: logged in and not away."""
        return self.state in ("available", "busy", "wrap_up")

    def serves(self, queue: str) -> bool:
        """An agent with no queue list is taken to serve every queue."""
        return not self.queues or queue in self.queues


class AgentBook:
    def __init__(self, since: float) -> None:
        self.since = since
        self.agents: dict[str, Agent] = {}
        self.by_state: dict[str, int] = dict.fromkeys(AGENT_STATES, 0)

    def get(self, agent_id: str) -> Agent:
        agent = self.agents.get(agent_id)
        if agent is None:
            agent = self.agents[agent_id] = Agent(agent_id)
        return agent

    def _span(self, agent: Agent, until: float) -> AgentTimes:
        """The open interval [last_at, until], clipped at ``since``."""
        dt = until - max(agent.last_at, self.since)
        if dt <= 0.0:
            return AgentTimes(0.0, 0.0, 0.0, 0.0)
        mode = agent_mode(agent.state, agent.active)
        if mode == "other":
            return AgentTimes(0.0, 0.0, 0.0, 0.0)
        used = min(agent.active, agent.slots) * dt
        offered = agent.slots * dt
        if mode == "on_contacts":
            return AgentTimes(dt, 0.0, used, offered)
        return AgentTimes(0.0, dt, used, offered)

    def _advance(self, agent: Agent, at: float) -> None:
        span = self._span(agent, at)
        agent.on_contacts_s += span.on_contacts_s
        agent.idle_s += span.idle_s
        agent.slot_used_s += span.slot_used_s
        agent.slot_offered_s += span.slot_offered_s
        if at > agent.last_at:
            agent.last_at = at

    def times(self, agent: Agent, now: float) -> AgentTimes:
        """The integrals up to ``now``, closing the open interval without mutating."""
        span = self._span(agent, now)
        return AgentTimes(
            agent.on_contacts_s + span.on_contacts_s,
            agent.idle_s + span.idle_s,
            agent.slot_used_s + span.slot_used_s,
            agent.slot_offered_s + span.slot_offered_s,
        )

    # ---------------------------------------------------------------- events

    def state_changed(self, agent_id: str, at: float, state: str, queues: tuple[str, ...]) -> None:
        agent = self.get(agent_id)
        self._advance(agent, at)
        if agent.state in self.by_state:
            self.by_state[agent.state] -= 1
        if state in self.by_state:
            self.by_state[state] += 1
        if state != agent.state:
            agent.state_since = at
        agent.state = state
        if queues:
            agent.queues = queues

    def load_changed(self, agent_id: str, at: float, active: int, slots: int) -> None:
        agent = self.get(agent_id)
        self._advance(agent, at)
        agent.active = max(0, active)
        agent.slots = max(0, slots)

    def offer_answered(self, agent_id: str, outcome: OfferOutcome, reason: str = "") -> None:
        agent = self.get(agent_id)
        agent.expired_in_a_row = agent.expired_in_a_row + 1 if outcome == "expired" else 0
        if outcome == "declined":
            agent.last_decline_reason = reason

    def reset(self, at: float) -> None:
        """Start every integral again at ``at``; state, load and streaks carry over."""
        self.since = at
        for agent in self.agents.values():
            agent.on_contacts_s = agent.idle_s = 0.0
            agent.slot_used_s = agent.slot_offered_s = 0.0
