"""Drive a small contact-centre floor through a live server and keep a record of what
happened, so the tests can compute every KPI by hand and compare.

Times in the record are the server's own stamps as the clients saw them (the offer's
``enqueued_at``, ``contact.assigned``'s ``answered_at``, the ack of the agent's first
message, ``contact.ended``'s ``at``), so the hand computation is exact.  Where the
clients see no stamp (an agent's status change, the end of a wrap-up) the record keeps
an interval: the test's clock just before sending and just after the answer; the
server's time lies inside it.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from tests.support.client import WsClient
from tests.support.server import LiveServer

TIMEOUT = 30.0


@dataclass
class Span:
    """A moment the server stamped but did not tell us: ``lo <= t <= hi``."""

    lo: float
    hi: float


@dataclass
class ContactFacts:
    contact_id: str
    queue: str
    stage: str
    channel: str = "chat"
    enqueued_at: float = 0.0
    agent: str | None = None
    answered_at: float | None = None
    first_reply_at: float | None = None
    ended_at: float | None = None
    abandoned_at: float | None = None
    wrap_up_end: Span | None = None
    # When the agent had been told the contact left it (the router applied the end by
    # then: the agent's load and any nil wrap-up are stamped in between).
    released_by: float | None = None
    rating: int | None = None
    offers: list[str] = field(default_factory=list)  # outcomes: accepted/declined/expired

    @property
    def wait(self) -> float:
        end = self.answered_at if self.answered_at is not None else self.abandoned_at
        assert end is not None
        return end - self.enqueued_at


@dataclass
class AgentFacts:
    user_id: str
    client: WsClient
    available: list[Span] = field(default_factory=list)
    away: list[Span] = field(default_factory=list)


async def timed(coro: Any) -> tuple[Any, Span]:
    lo = time.time()
    result = await coro
    return result, Span(lo, time.time())


class Floor:
    def __init__(self, server: LiveServer) -> None:
        self.server = server
        self.admin = server.admin_token()
        self.contacts: dict[str, ContactFacts] = {}
        self.agents: dict[str, AgentFacts] = {}
        self.visitors: dict[str, WsClient] = {}

    async def agent(self, username: str, **fields: Any) -> AgentFacts:
        user = self.server.add_agent(self.admin, username, display_name=username.title(), **fields)
        client = await WsClient.connect(self.server.ws_url + "/ws/agent", self.server.login(username))
        await client.wait_type("welcome", timeout=TIMEOUT)
        facts = self.agents[username] = AgentFacts(user["id"], client)
        return facts

    async def set_status(self, username: str, status: str) -> None:
        agent = self.agents[username]
        index = len(agent.client.events)
        _, span = await timed(agent.client.request({"type": "agent.status", "status": status}, TIMEOUT))
        (agent.available if status == "available" else agent.away).append(span)
        await agent.client.wait_for(
            lambda e: e["type"] == "agent.state" and e["state"] == status, TIMEOUT, since=index
        )

    async def arrive(self, queue: str, stage: str) -> ContactFacts:
        visitor = await WsClient.connect(self.server.ws_url + "/ws/visitor", self.server.visitor_token())
        await visitor.wait_type("welcome", timeout=TIMEOUT)
        page = {"url": f"http://shop.test/{stage or 'home'}"}
        if stage != "unknown":
            page["stage"] = stage
        ack = await visitor.request(
            {"type": "chat.start", "queue": queue, "name": f"visitor {len(self.contacts) + 1}", "page": page},
            TIMEOUT,
        )
        contact_id = ack["contact_id"]
        self.visitors[contact_id] = visitor
        facts = self.contacts[contact_id] = ContactFacts(contact_id, queue, stage)
        detail = self.server.api("GET", f"/api/contacts/{contact_id}", self.admin).json()
        facts.enqueued_at = detail["contact"]["enqueued_at"]
        return facts

    async def offer(self, username: str, contact: ContactFacts, since: int = 0) -> dict[str, Any]:
        client = self.agents[username].client
        return await client.wait_for(
            lambda e: e["type"] == "offer" and e["contact"]["id"] == contact.contact_id, TIMEOUT, since=since
        )

    async def accept(self, username: str, contact: ContactFacts, since: int = 0) -> None:
        client = self.agents[username].client
        offer = await self.offer(username, contact, since)
        assert offer["contact"]["enqueued_at"] == contact.enqueued_at
        index = len(client.events)
        await client.request({"type": "offer.accept", "contact_id": contact.contact_id}, TIMEOUT)
        assigned = await client.wait_for(
            lambda e: e["type"] == "contact.assigned" and e["contact"]["id"] == contact.contact_id,
            TIMEOUT,
            since=index,
        )
        contact.agent = self.agents[username].user_id
        contact.answered_at = assigned["contact"]["answered_at"]
        contact.offers.append("accepted")

    async def decline(self, username: str, contact: ContactFacts, reason: str = "") -> int:
        """Decline the offer; returns the event index to look for the next offer from."""
        client = self.agents[username].client
        await self.offer(username, contact)
        index = len(client.events)
        frame = {"type": "offer.decline", "contact_id": contact.contact_id}
        if reason:
            frame["reason"] = reason
        await client.request(frame, TIMEOUT)
        contact.offers.append("declined")
        return index

    async def let_expire(self, username: str, contact: ContactFacts) -> int:
        client = self.agents[username].client
        await self.offer(username, contact)
        index = len(client.events)
        await client.wait_for(
            lambda e: (
                e["type"] == "offer.revoked"
                and e["contact_id"] == contact.contact_id
                and e["reason"] == "expired"
            ),
            TIMEOUT,
        )
        contact.offers.append("expired")
        return index

    async def reply(self, username: str, contact: ContactFacts, body: str) -> None:
        ack = await self.agents[username].client.request(
            {"type": "chat.message", "contact_id": contact.contact_id, "body": body}, TIMEOUT
        )
        if contact.first_reply_at is None:
            contact.first_reply_at = ack["at"]

    async def end(self, username: str, contact: ContactFacts) -> None:
        visitor = self.visitors[contact.contact_id]
        client = self.agents[username].client
        index = len(client.events)
        await client.request(
            {"type": "contact.end", "contact_id": contact.contact_id, "disposition": "resolved"}, TIMEOUT
        )
        ended = await visitor.wait_type("contact.ended", TIMEOUT, contact_id=contact.contact_id)
        contact.ended_at = ended["at"]
        await client.wait_for(
            lambda e: e["type"] == "contact.released" and e["contact_id"] == contact.contact_id,
            TIMEOUT,
            since=index,
        )
        contact.released_by = time.time()

    async def abandon(self, contact: ContactFacts) -> None:
        visitor = self.visitors[contact.contact_id]
        await visitor.request({"type": "chat.end", "contact_id": contact.contact_id}, TIMEOUT)
        ended = await visitor.wait_type("contact.ended", TIMEOUT, contact_id=contact.contact_id)
        contact.abandoned_at = ended["at"]

    async def rate(self, contact: ContactFacts, rating: int) -> None:
        await self.visitors[contact.contact_id].request(
            {"type": "chat.rate", "contact_id": contact.contact_id, "rating": rating}, TIMEOUT
        )
        contact.rating = rating

    async def end_wrap_up(self, username: str, contact: ContactFacts) -> None:
        client = self.agents[username].client
        index = len(client.events)
        _, span = await timed(client.request({"type": "wrapup.end"}, TIMEOUT))
        contact.wrap_up_end = span
        await client.wait_for(
            lambda e: e["type"] == "agent.state" and e["state"] == "available", TIMEOUT, since=index
        )

    async def close(self) -> None:
        for agent in self.agents.values():
            await agent.client.close()
        for visitor in self.visitors.values():
            await visitor.close()
