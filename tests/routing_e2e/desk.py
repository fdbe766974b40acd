"""Helpers for routing scenarios through the real server: agents and visitors as real
WebSocket clients, and waits that look across several of them at once.

Every wait is generous (the test machine is small and shared); nothing asserts a
wall-clock duration.  Where a test needs "agent X was idle before agent Y", it waits
for X's ``agent.state`` before making Y available, so the server's order is the test's.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from tests.support.client import ProtocolError, WsClient
from tests.support.server import LiveServer

TIMEOUT = 30.0
Event = dict[str, Any]


@dataclass
class Agent:
    username: str
    id: str
    ws: WsClient

    def offers(self) -> list[Event]:
        return self.ws.of_type("offer")

    def offered_ids(self) -> list[str]:
        return [e["contact"]["id"] for e in self.offers()]

    def held(self) -> list[str]:
        """Contacts assigned to this agent and not released since, as it was told."""
        held: list[str] = []
        for event in self.ws.events:
            if event.get("type") == "contact.assigned" and event["contact"]["id"] not in held:
                held.append(event["contact"]["id"])
            elif event.get("type") == "contact.released" and event["contact_id"] in held:
                held.remove(event["contact_id"])
        return held

    async def wait(self, kind: str, timeout: float = TIMEOUT, **match: Any) -> Event:
        return await self.ws.wait_type(kind, timeout, **match)

    async def wait_offer(self, contact_id: str, timeout: float = TIMEOUT) -> Event:
        """The next offer of ``contact_id`` to this agent not yet seen by a wait."""
        offer = await self.ws.wait_for(
            lambda e: e.get("type") == "offer" and e["contact"]["id"] == contact_id and not e.get("_claimed"),
            timeout,
        )
        offer["_claimed"] = True
        return offer

    async def wait_state(self, state: str, since: int = 0, timeout: float = TIMEOUT, **match: Any) -> Event:
        return await self.ws.wait_for(
            lambda e: (
                e.get("type") == "agent.state"
                and e.get("state") == state
                and all(e.get(k) == v for k, v in match.items())
            ),
            timeout,
            since=since,
        )

    async def accept(self, contact_id: str) -> Event:
        """Accept an offer and return the contact.assigned that follows."""
        mark = len(self.ws.events)
        await self.ws.request({"type": "offer.accept", "contact_id": contact_id})
        return await self.ws.wait_for(
            lambda e: e.get("type") == "contact.assigned" and e["contact"]["id"] == contact_id,
            TIMEOUT,
            since=mark,
        )

    async def available(self) -> None:
        mark = len(self.ws.events)
        await self.ws.request({"type": "agent.status", "status": "available"})
        await self.wait_state("available", since=mark)

    async def end(self, contact_id: str, disposition: str = "resolved") -> None:
        mark = len(self.ws.events)
        await self.ws.request({"type": "contact.end", "contact_id": contact_id, "disposition": disposition})
        await self.ws.wait_for(
            lambda e: e.get("type") == "contact.released" and e.get("contact_id") == contact_id,
            TIMEOUT,
            since=mark,
        )


@dataclass
class Visitor:
    ws: WsClient
    contact_id: str
    name: str
    token: str = ""

    async def wait(self, kind: str, timeout: float = TIMEOUT, **match: Any) -> Event:
        return await self.ws.wait_type(kind, timeout, contact_id=self.contact_id, **match)

    def positions(self) -> list[int]:
        return [
            int(e["position"])
            for e in self.ws.of_type("queue.position")
            if e.get("contact_id") == self.contact_id
        ]


@dataclass
class Desk:
    """One live server and everybody connected to it."""

    server: LiveServer
    admin: str = ""
    clients: list[WsClient] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.admin = self.server.admin_token()

    def queue(self, queue_id: str, **fields: Any) -> dict[str, Any]:
        return self.server.add_queue(self.admin, queue_id, **fields)

    async def agent(self, username: str, *, available: bool = True, **fields: Any) -> Agent:
        user = self.server.add_agent(self.admin, username, display_name=username.title(), **fields)
        ws = await WsClient.connect(self.server.ws_url + "/ws/agent", self.server.login(username))
        self.clients.append(ws)
        await ws.wait_type("welcome", TIMEOUT)
        # Signed in: the router answers with the agent's state (away until it chooses).
        await ws.wait_type("agent.state", TIMEOUT)
        agent = Agent(username, str(user["id"]), ws)
        if available:
            await agent.available()
        return agent

    async def visitor(self, queue: str, name: str, message: str = "") -> Visitor:
        token = self.server.visitor_token()
        ws = await WsClient.connect(self.server.ws_url + "/ws/visitor", token)
        self.clients.append(ws)
        await ws.wait_type("welcome", TIMEOUT)
        frame: dict[str, Any] = {"type": "chat.start", "queue": queue, "name": name}
        if message:
            frame["message"] = message
        ack = await ws.request(frame, TIMEOUT)
        return Visitor(ws, str(ack["contact_id"]), name, token)

    def contact(self, contact_id: str) -> dict[str, Any]:
        response = self.server.api("GET", f"/api/contacts/{contact_id}", self.admin)
        assert response.status_code == 200, response.text
        return dict(response.json())

    async def close(self) -> None:
        for ws in self.clients:
            await ws.close()


async def offered_to(agents: Iterable[Agent], contact_id: str, timeout: float = TIMEOUT) -> Agent:
    """The agent the contact is offered to next (the first offer for it not yet seen
    by :func:`offered_to`).  Fails if two agents hold an offer for it at once."""
    agents = list(agents)
    deadline = time.monotonic() + timeout
    while True:
        holders = [a for a in agents if _unclaimed_offer(a, contact_id) is not None]
        if holders:
            assert len(holders) == 1, (
                f"{contact_id} offered to several agents: {[a.username for a in holders]}"
            )
            offer = _unclaimed_offer(holders[0], contact_id)
            assert offer is not None
            offer["_claimed"] = True
            return holders[0]
        if time.monotonic() > deadline:
            raise ProtocolError(f"no agent was offered {contact_id}")
        await asyncio.sleep(0.02)


def _unclaimed_offer(agent: Agent, contact_id: str) -> Event | None:
    for event in agent.offers():
        if event["contact"]["id"] == contact_id and not event.get("_claimed"):
            return event
    return None


async def until(predicate: Callable[[], Any], timeout: float = TIMEOUT, what: str = "condition") -> Any:
    """Poll ``predicate`` until it returns something truthy (returned)."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise ProtocolError(f"{what}: not met in {timeout} s")
        await asyncio.sleep(0.05)


async def quiet(seconds: float) -> None:
    """Let the server run (ticks, timers) for a while: used before asserting that
    something did *not* happen."""
    await asyncio.sleep(seconds)
