"""A client that reconnects mid-conversation resumes by seq: nothing lost, nothing
duplicated."""

from __future__ import annotations

from typing import Any

from tests.support.client import WsClient
from tests.support.server import LiveServer


async def _setup(server: LiveServer) -> tuple[str, WsClient, WsClient, str, str]:
    admin = server.admin_token()
    server.add_queue(admin, "support")
    server.add_agent(admin, "ann")
    agent_token = server.login("ann")
    agent = await WsClient.connect(server.ws_url + "/ws/agent", agent_token)
    await agent.wait_type("welcome")
    await agent.request({"type": "agent.status", "status": "available"})
    visitor_token = server.visitor_token()
    visitor = await WsClient.connect(server.ws_url + "/ws/visitor", visitor_token)
    await visitor.wait_type("welcome")
    contact_id = (await visitor.request({"type": "chat.start", "queue": "support", "name": "Rae"}))[
        "contact_id"
    ]
    offer = await agent.wait_type("offer")
    await agent.request({"type": "offer.accept", "contact_id": offer["contact"]["id"]})
    await visitor.wait_type("contact.joined")
    return admin, agent, visitor, contact_id, visitor_token


def _conversation(events: list[dict[str, Any]], contact_id: str) -> list[tuple[int, str]]:
    return [(e["seq"], e["type"]) for e in events if e.get("contact_id") == contact_id and "seq" in e]


def _last_seen(events: list[dict[str, Any]], contact_id: str, sent: set[str]) -> int:
    """What a client knows: seqs of events received and of its own acked messages (the
    server does not echo a message back to the socket that sent it)."""
    seqs = [seq for seq, _ in _conversation(events, contact_id)]
    seqs += [e["seq"] for e in events if e["type"] == "ack" and e["id"] in sent and "seq" in e]
    return max(seqs)


async def test_visitor_resumes_after_a_drop(server: LiveServer) -> None:
    admin, agent, visitor, contact_id, visitor_token = await _setup(server)
    sent = set()
    for i in range(3):
        ack = await visitor.request({"type": "chat.message", "contact_id": contact_id, "body": f"before {i}"})
        sent.add(ack["id"])
    await agent.wait_for(lambda e: e.get("body") == "before 2")
    last_seen = _last_seen(visitor.events, contact_id, sent)
    await visitor.close()

    # The agent keeps talking while the visitor is away.
    for i in range(4):
        await agent.request({"type": "chat.message", "contact_id": contact_id, "body": f"while away {i}"})

    back = await WsClient.connect(
        server.ws_url + "/ws/visitor",
        visitor_token,
        resume=[{"contact_id": contact_id, "after_seq": last_seen}],
    )
    welcome = await back.wait_type("welcome")
    assert [c["id"] for c in welcome["contacts"]] == [contact_id]
    await back.wait_for(lambda e: e.get("body") == "while away 3")
    await back.request({"type": "chat.message", "contact_id": contact_id, "body": "back"})
    await agent.wait_for(lambda e: e.get("body") == "back")

    replayed = _conversation(back.events, contact_id)
    seqs = [seq for seq, _ in replayed if seq <= last_seen + 4]
    assert seqs == sorted(set(seqs)), "no duplicates, in order"
    assert seqs[0] == last_seen + 1, "starts right after what the visitor had seen"
    bodies = [e["body"] for e in back.events if e["type"] == "chat.message"]
    assert bodies == [f"while away {i}" for i in range(4)]

    transcript = server.api("GET", f"/api/contacts/{contact_id}", admin).json()["transcript"]
    own = {(e["seq"], "chat.message") for e in visitor.events if e["type"] == "ack" and e["id"] in sent}
    own |= {(e["seq"], "chat.message") for e in back.events if e["type"] == "ack" and "seq" in e}
    everything = sorted(set(_conversation(visitor.events, contact_id)) | set(replayed) | own)
    assert [seq for seq, _ in everything] == [e["seq"] for e in transcript], "together: all of it"
    await agent.close()
    await back.close()


async def test_agent_resumes_and_a_resent_frame_is_not_doubled(server: LiveServer) -> None:
    admin, agent, visitor, contact_id, _ = await _setup(server)
    first = await agent.request({"type": "chat.message", "contact_id": contact_id, "body": "first"})
    last_seen = _last_seen(agent.events, contact_id, {first["id"]})
    # The agent's socket dies right after sending a frame: did it arrive?  The client
    # cannot know, so it resends the same id after reconnecting.
    await agent.send(
        {"type": "chat.message", "id": "maybe-lost", "contact_id": contact_id, "body": "once only"}
    )
    await agent.close()
    await visitor.request({"type": "chat.message", "contact_id": contact_id, "body": "are you there?"})

    again = await WsClient.connect(
        server.ws_url + "/ws/agent",
        server.login("ann"),
        resume=[{"contact_id": contact_id, "after_seq": last_seen}],
    )
    welcome = await again.wait_type("welcome")
    assert [c["id"] for c in welcome["contacts"]] == [contact_id]
    await again.wait_for(lambda e: e.get("body") == "are you there?")
    await again.send(
        {"type": "chat.message", "id": "maybe-lost", "contact_id": contact_id, "body": "once only"}
    )
    ack = await again.wait_type("ack", id="maybe-lost")
    assert ack.get("duplicate") is True

    transcript = server.api("GET", f"/api/contacts/{contact_id}", admin).json()["transcript"]
    bodies = [e["body"] for e in transcript if e["kind"] == "chat.message"]
    assert bodies == ["first", "once only", "are you there?"]
    seqs = [seq for seq, _ in _conversation(again.events, contact_id)]
    assert seqs == sorted(set(seqs)) and seqs[0] == last_seen + 1
    await again.close()
    await visitor.close()
