"""20 visitors and 3 agents of chat capacity 3: everyone is served, no agent ever holds
more than 3 chats, every message arrives once and in order."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from tests.support.client import WsClient, next_id
from tests.support.server import LiveServer

VISITORS = 20
AGENTS = 3
CAPACITY = 3
MESSAGES = 5


async def _agent(server: LiveServer, token: str, record: dict[str, Any], done: asyncio.Event) -> None:
    client = await WsClient.connect(server.ws_url + "/ws/agent", token)
    await client.wait_type("welcome")
    await client.request({"type": "agent.status", "status": "available"})
    active: set[str] = set()
    conversations: dict[str, asyncio.Task[None]] = {}

    async def converse(contact_id: str, since: int) -> None:
        for i in range(MESSAGES):
            await client.request({"type": "chat.message", "contact_id": contact_id, "body": f"a{i}"})
        for i in range(MESSAGES):
            await client.wait_for(
                lambda e, body=f"v{i}": (
                    e["type"] == "chat.message" and e["contact_id"] == contact_id and e["body"] == body
                ),
                timeout=30,
                since=since,
            )
        await client.request({"type": "contact.end", "contact_id": contact_id, "disposition": "resolved"})
        active.discard(contact_id)

    index = 0
    while not done.is_set():
        try:
            event = await client.wait_for(lambda e: True, timeout=0.5, since=index)
        except AssertionError:
            continue
        index = client.events.index(event, index) + 1
        if event["type"] == "offer":
            await client.send({"type": "offer.accept", "id": next_id(), "contact_id": event["contact"]["id"]})
        elif event["type"] == "contact.assigned":
            contact_id = event["contact"]["id"]
            active.add(contact_id)
            record["max_active"] = max(record["max_active"], len(active))
            record["served"].append(contact_id)
            conversations[contact_id] = asyncio.create_task(converse(contact_id, index))
    await asyncio.gather(*conversations.values())
    record["events"] = client.events
    await client.close()


async def _visitor(server: LiveServer, n: int) -> dict[str, Any]:
    client = await WsClient.connect(server.ws_url + "/ws/visitor", server.visitor_token())
    await client.wait_type("welcome")
    ack = await client.request({"type": "chat.start", "queue": "support", "name": f"visitor {n}"})
    contact_id = ack["contact_id"]
    await client.wait_type("contact.joined", timeout=120, contact_id=contact_id)
    for i in range(MESSAGES):
        await client.request({"type": "chat.message", "contact_id": contact_id, "body": f"v{i}"})
    await client.wait_type("contact.ended", timeout=120, contact_id=contact_id)
    await client.close()
    return {"contact_id": contact_id, "events": client.events}


@pytest.mark.slow
async def test_twenty_visitors_three_agents(server: LiveServer) -> None:
    admin = server.admin_token()
    server.add_queue(admin, "support")
    records = []
    done = asyncio.Event()
    agents = []
    for a in range(AGENTS):
        server.add_agent(admin, f"agent{a}", capacity={"chat": CAPACITY})
        record: dict[str, Any] = {"max_active": 0, "served": []}
        records.append(record)
        agents.append(asyncio.create_task(_agent(server, server.login(f"agent{a}"), record, done)))
    await asyncio.sleep(0.3)
    results = await asyncio.wait_for(asyncio.gather(*(_visitor(server, n) for n in range(VISITORS))), 180)
    done.set()
    await asyncio.wait_for(asyncio.gather(*agents), 60)

    served = [c for r in records for c in r["served"]]
    assert sorted(served) == sorted(r["contact_id"] for r in results), "each contact served exactly once"
    assert all(r["max_active"] <= CAPACITY for r in records)
    assert sum(1 for r in records if r["served"]) == AGENTS, "every agent took part"

    for result in results:
        contact_id = result["contact_id"]
        # The visitor saw the agent's messages once each, in order, with rising seqs.
        from_agent = [
            e for e in result["events"] if e["type"] == "chat.message" and e["sender"]["kind"] == "agent"
        ]
        assert [e["body"] for e in from_agent] == [f"a{i}" for i in range(MESSAGES)]
        seqs = [e["seq"] for e in result["events"] if e.get("contact_id") == contact_id and "seq" in e]
        assert seqs == sorted(set(seqs)), "no duplicate or out-of-order seq on the visitor side"
        # The agent saw the visitor's messages once each, in order.
        agent_events = next(r["events"] for r in records if contact_id in r["served"])
        from_visitor = [
            e["body"]
            for e in agent_events
            if e["type"] == "chat.message"
            and e["contact_id"] == contact_id
            and e["sender"]["kind"] == "visitor"
        ]
        assert from_visitor == [f"v{i}" for i in range(MESSAGES)]
        # And the stored transcript agrees.
        transcript = server.api("GET", f"/api/contacts/{contact_id}", admin).json()["transcript"]
        assert [e["seq"] for e in transcript] == list(range(1, len(transcript) + 1))
        assert sum(1 for e in transcript if e["kind"] == "chat.message") == 2 * MESSAGES
