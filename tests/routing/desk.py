"""A small driver for scenario tests: a clock, an engine and terse event helpers."""

from __future__ import annotations

from typing import Any, TypeVar

from routing.engine import RoutingEngine
from routing.events import (
    AgentPresenceChanged,
    AgentUpserted,
    ContactArrived,
    Decision,
    EngineConfig,
    Event,
    OfferMade,
    QueueConfig,
    QueueUpserted,
    Tick,
)

# 2024-01-01 12:00:00 UTC, a Monday.
T0 = 1_704_110_400.0

D = TypeVar("D")


class Desk:
    def __init__(self, *queues: QueueConfig, config: EngineConfig | None = None) -> None:
        self.config = config or EngineConfig()
        self.engine = RoutingEngine(self.config)
        self.t = T0
        self.log: list[Event] = []
        self.decisions: list[Decision] = []
        for queue in queues:
            self.do(QueueUpserted(self.t, queue))

    def do(self, event: Event) -> list[Decision]:
        self.log.append(event)
        out = self.engine.handle(event)
        self.decisions.extend(out)
        return out

    def wait(self, seconds: float) -> float:
        self.t += seconds
        return self.t

    def tick(self, seconds: float = 0.0) -> list[Decision]:
        self.wait(seconds)
        return self.do(Tick(self.t))

    def agent(self, agent_id: str, *, available: bool = True, **profile: Any) -> list[Decision]:
        out = self.do(AgentUpserted(self.t, agent_id, **profile))
        if available:
            out += self.do(AgentPresenceChanged(self.t, agent_id, "available"))
        return out

    def arrive(self, contact_id: str, queue_id: str = "q", **fields: Any) -> list[Decision]:
        return self.do(ContactArrived(self.t, contact_id, queue_id, **fields))


def only(decisions: list[Decision], kind: type[D]) -> list[D]:
    return [d for d in decisions if isinstance(d, kind)]


def offered(decisions: list[Decision]) -> list[tuple[str, str]]:
    return [(d.contact_id, d.agent_id) for d in only(decisions, OfferMade)]
