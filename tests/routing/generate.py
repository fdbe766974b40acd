"""Random but plausible routing runs for the property tests.

A run is built step by step with hypothesis' ``data.draw``: each step moves time on and
picks an action, usually one that makes sense given the decisions so far (accept an
offer that is out, end a contact that is assigned) and sometimes one that does not (a
late accept, a take of a contact somebody has).  Everything goes through a
:class:`~tests.routing.model.Referee`, which checks every decision as it happens.
"""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st

from routing.engine import RoutingEngine
from routing.events import (
    STRATEGIES,
    AgentPresenceChanged,
    AgentRemoved,
    AgentUpserted,
    BusinessHours,
    ContactAbandoned,
    ContactArrived,
    ContactEnded,
    ContactTaken,
    ContactTransferred,
    EngineConfig,
    OfferAccepted,
    OfferDeclined,
    OpeningSpan,
    QueueConfig,
    QueueUpserted,
    Tick,
    WrapUpEnded,
)
from tests.routing.model import Referee

# 2023-11-14 22:13:20 UTC, a Tuesday.
T0 = 1_700_000_000.0
QUEUE_IDS = ("q0", "q1", "q2")
AGENT_IDS = ("a0", "a1", "a2", "a3", "a4")
SKILLS = ("billing", "tech")
LANGUAGES = ("en", "fr")

# Opening hours that change state during a run: one closes ~4.5 min in, one opens
# ~6.5 min in (both every day, UTC).
HOURS = (
    BusinessHours("UTC", tuple(OpeningSpan(d, "22:10", "22:18") for d in range(7))),
    BusinessHours("UTC", tuple(OpeningSpan(d, "22:20", "23:00") for d in range(7))),
)

ACTIONS = (
    ["arrive"] * 6
    + ["accept"] * 9
    + ["decline"] * 2
    + ["end"] * 3
    + ["presence"] * 2
    + ["tick"] * 2
    + ["abandon", "take", "transfer", "wrap_end", "profile", "queue", "stale"]
    + ["remove_agent"]
)


def draw_queue(data: Any, queue_id: str, *, manual: bool = True) -> QueueConfig:
    strategies = STRATEGIES if manual else tuple(s for s in STRATEGIES if s != "manual")
    return QueueConfig(
        queue_id=queue_id,
        strategy=data.draw(st.sampled_from(strategies)),
        offer_timeout_s=data.draw(st.sampled_from([5.0, 15.0])),
        max_wait_s=data.draw(st.sampled_from([None, None, None, 30.0, 90.0])),
        overflow_to=data.draw(st.sampled_from([None, *QUEUE_IDS])),
        ageing_s=data.draw(st.sampled_from([None, None, 10.0, 60.0])),
        wrap_up_s=data.draw(st.sampled_from([0.0, 0.0, 5.0, 20.0])),
        hours=data.draw(st.sampled_from([None] * 6 + list(HOURS))),
    )


def draw_profile(data: Any, agent_id: str, capacity: dict[str, int]) -> AgentUpserted:
    skills = data.draw(st.dictionaries(st.sampled_from(SKILLS), st.integers(1, 10), max_size=2))
    languages = data.draw(st.lists(st.sampled_from(LANGUAGES), unique=True, max_size=2))
    queues = data.draw(st.lists(st.sampled_from(QUEUE_IDS), unique=True, max_size=2))
    return AgentUpserted(T0, agent_id, skills, tuple(languages), capacity, tuple(queues))


def draw_config(data: Any) -> EngineConfig:
    return EngineConfig(
        missed_offers_before_away=data.draw(st.integers(0, 3)),
        chat_while_on_call=data.draw(st.booleans()),
        default_chat_capacity=data.draw(st.integers(1, 3)),
    )


def random_run(data: Any, *, steps: int = 60) -> Referee:
    config = draw_config(data)
    referee = Referee(RoutingEngine(config), config)
    t = T0
    for queue_id in QUEUE_IDS:
        referee.feed(QueueUpserted(t, draw_queue(data, queue_id)))
    capacities: dict[str, dict[str, int]] = {}
    for agent_id in AGENT_IDS[: data.draw(st.integers(1, len(AGENT_IDS)))]:
        capacities[agent_id] = data.draw(
            st.fixed_dictionaries(
                {},
                optional={
                    "chat": st.integers(0, 3),
                    "voice": st.integers(0, 1),
                    "video": st.integers(0, 1),
                },
            )
        )
        referee.feed(draw_profile(data, agent_id, capacities[agent_id]))
        if data.draw(st.booleans()) or agent_id == "a0":
            referee.feed(AgentPresenceChanged(t, agent_id, "available"))
    next_contact = 0
    offered_ever: list[tuple[str, str]] = []
    for _ in range(data.draw(st.integers(min(10, steps), steps))):
        t += data.draw(st.sampled_from([0.0, 0.0, 0.5, 1.0, 2.0, 3.0, 7.0, 15.0, 25.0]))
        action = data.draw(st.sampled_from(ACTIONS))
        offers = sorted(referee.offers.items())
        assigned = sorted(referee.assigned)
        known = sorted(referee.contacts)
        agents = sorted(capacities)
        event: Any = None
        if action == "arrive":
            queue = data.draw(st.sampled_from([*QUEUE_IDS, *QUEUE_IDS, "qx"]))
            event = ContactArrived(
                t,
                f"c{next_contact}",
                queue,
                channel=data.draw(st.sampled_from(["chat", "chat", "voice", "video"])),
                priority=data.draw(st.integers(0, 2)),
                skills=tuple(data.draw(st.lists(st.sampled_from(SKILLS), unique=True, max_size=1))),
                language=data.draw(st.sampled_from([None, None, *LANGUAGES])),
            )
            next_contact += 1
        elif action in ("accept", "decline") and offers:
            cid, aid = data.draw(st.sampled_from(offers))
            event = OfferAccepted(t, cid, aid) if action == "accept" else OfferDeclined(t, cid, aid)
        elif action == "stale" and offered_ever:
            cid, aid = data.draw(st.sampled_from(offered_ever))
            event = data.draw(st.sampled_from([OfferAccepted, OfferDeclined]))(t, cid, aid)
        elif action == "end" and assigned:
            event = ContactEnded(t, data.draw(st.sampled_from(assigned)))
        elif action == "abandon" and known:
            event = ContactAbandoned(t, data.draw(st.sampled_from(known)))
        elif action == "take" and known and agents:
            event = ContactTaken(t, data.draw(st.sampled_from(known)), data.draw(st.sampled_from(agents)))
        elif action == "transfer" and known:
            event = ContactTransferred(
                t,
                data.draw(st.sampled_from(known)),
                to_queue=data.draw(st.sampled_from([None, *QUEUE_IDS, "qx"])),
                to_agent=data.draw(st.sampled_from([None, *AGENT_IDS])),
            )
        elif action == "presence" and agents:
            event = AgentPresenceChanged(
                t,
                data.draw(st.sampled_from(agents)),
                data.draw(st.sampled_from(["available", "available", "away", "offline"])),
            )
        elif action == "wrap_end" and agents:
            event = WrapUpEnded(t, data.draw(st.sampled_from(agents)))
        elif action == "profile" and agents:
            agent_id = data.draw(st.sampled_from(agents))
            event = draw_profile(data, agent_id, capacities[agent_id])
            event = AgentUpserted(t, *_profile_fields(event))
        elif action == "queue":
            event = QueueUpserted(t, draw_queue(data, data.draw(st.sampled_from(QUEUE_IDS))))
        elif action == "remove_agent" and len(agents) > 1:
            agent_id = data.draw(st.sampled_from(agents))
            del capacities[agent_id]
            event = AgentRemoved(t, agent_id)
        elif action == "tick":
            event = Tick(t)
        if event is None:
            event = Tick(t)
        for decision in referee.feed(event):
            pair = (getattr(decision, "contact_id", ""), getattr(decision, "agent_id", ""))
            if type(decision).__name__ == "OfferMade":
                offered_ever.append(pair)
    referee.feed(Tick(t + 300.0))
    return referee


def _profile_fields(event: AgentUpserted) -> tuple[Any, ...]:
    return (event.agent_id, event.skills, event.languages, event.capacity, event.queues)
