"""Transfers through the real server: to a queue and to a named agent, the note going
with the conversation and the contact keeping its original enqueue time."""

from __future__ import annotations

import pytest

from tests.routing_e2e.desk import Desk, offered_to, quiet
from tests.support.client import ProtocolError
from tests.support.server import LiveServer

NOTE = "Order 1042: wants a refund for the damaged frame; photos already sent."


async def test_transfer_to_a_queue_with_a_note(server: LiveServer) -> None:
    desk = Desk(server)
    desk.queue("sales", name="Sales")
    desk.queue("support", name="Support")
    alice = await desk.agent("alice", queues=["sales"])
    bob = await desk.agent("bob", queues=["support"])
    visitor = await desk.visitor("sales", "Vera", message="My new frame arrived cracked")

    await alice.wait_offer(visitor.contact_id)
    first = await alice.accept(visitor.contact_id)
    enqueued_at = first["contact"]["enqueued_at"]
    assert first["contact"].get("transfer_note", "") == ""
    await alice.ws.request(
        {"type": "chat.message", "contact_id": visitor.contact_id, "body": "Passing you to support"}
    )
    await alice.ws.request(
        {"type": "contact.transfer", "contact_id": visitor.contact_id, "to_queue": "support", "note": NOTE}
    )
    released = await alice.wait("contact.released", contact_id=visitor.contact_id)
    assert released["reason"] == "transferred"
    moved = await visitor.wait("contact.transferred")
    assert moved["to_queue"] == "support"
    # The note is for staff only: the visitor's event does not carry it.
    assert "note" not in moved and NOTE not in str(visitor.ws.events)

    offer = await bob.wait_offer(visitor.contact_id)
    assert offer["contact"]["transfer_note"] == NOTE
    assigned = await bob.accept(visitor.contact_id)
    summary = assigned["contact"]
    assert summary["transfer_note"] == NOTE
    assert summary["queue_id"] == "support"
    assert summary["enqueued_at"] == enqueued_at
    assert summary["agent_id"] == bob.id
    # Bob gets the history so far, and the visitor sees him join.
    for body in ("My new frame arrived cracked", "Passing you to support"):
        await bob.ws.wait_for(lambda e, b=body: e.get("type") == "chat.message" and e.get("body") == b, 30)
    await visitor.wait("contact.joined", agent_id=bob.id)
    await bob.ws.request({"type": "chat.message", "contact_id": visitor.contact_id, "body": "Hi, Bob here"})
    await visitor.wait("chat.message", body="Hi, Bob here")
    # Alice no longer holds it.
    with pytest.raises(ProtocolError, match="forbidden"):
        await alice.ws.request(
            {"type": "chat.message", "contact_id": visitor.contact_id, "body": "still here?"}
        )

    detail = desk.contact(visitor.contact_id)
    assert detail["contact"]["agent_id"] == bob.id and detail["contact"]["enqueued_at"] == enqueued_at
    transferred = [e for e in detail["transcript"] if e["kind"] == "contact.transferred"]
    assert len(transferred) == 1
    assert transferred[0]["data"] == {
        "to_queue": "support",
        "to_agent": None,
        "from_agent": alice.id,
        "note": NOTE,
    }
    await desk.close()


async def test_transfer_to_a_named_agent(server: LiveServer) -> None:
    desk = Desk(server)
    desk.queue("sales", name="Sales")
    alice = await desk.agent("alice")
    # Carol has been idle longer than bob: the queue's strategy would pick her.
    carol = await desk.agent("carol")
    bob = await desk.agent("bob")
    visitor = await desk.visitor("sales", "Vera", message="Can I speak to Bob?")
    await alice.wait_offer(visitor.contact_id)
    first = await alice.accept(visitor.contact_id)

    # The colleague list the console offers.
    directory = server.api("GET", "/api/agents", server.login("alice")).json()
    assert {e["display_name"]: e["id"] for e in directory}["Bob"] == bob.id

    # Not to oneself, not to somebody who does not exist.
    with pytest.raises(ProtocolError, match="conflict"):
        await alice.ws.request(
            {"type": "contact.transfer", "contact_id": visitor.contact_id, "to_agent": alice.id}
        )
    with pytest.raises(ProtocolError, match="not_found"):
        await alice.ws.request(
            {"type": "contact.transfer", "contact_id": visitor.contact_id, "to_agent": "nobody"}
        )

    await alice.ws.request(
        {"type": "contact.transfer", "contact_id": visitor.contact_id, "to_agent": bob.id, "note": NOTE}
    )
    moved = await visitor.wait("contact.transferred")
    assert moved["to_agent"] == bob.id
    assert await offered_to([alice, bob, carol], visitor.contact_id) is bob
    assigned = await bob.accept(visitor.contact_id)
    assert assigned["contact"]["transfer_note"] == NOTE
    assert assigned["contact"]["enqueued_at"] == first["contact"]["enqueued_at"]
    assert assigned["contact"]["queue_id"] == "sales"
    await visitor.wait("contact.joined", agent_id=bob.id)
    assert carol.offers() == []
    await desk.close()


async def test_a_named_agent_who_declines_leaves_it_to_the_queue(server: LiveServer) -> None:
    desk = Desk(server)
    desk.queue("sales", name="Sales")
    alice = await desk.agent("alice")
    carol = await desk.agent("carol")
    bob = await desk.agent("bob")
    visitor = await desk.visitor("sales", "Vera")
    await alice.wait_offer(visitor.contact_id)
    await alice.accept(visitor.contact_id)
    await alice.ws.request(
        {"type": "contact.transfer", "contact_id": visitor.contact_id, "to_agent": bob.id, "note": NOTE}
    )
    await bob.wait_offer(visitor.contact_id)
    await bob.ws.request({"type": "offer.decline", "contact_id": visitor.contact_id, "reason": "in a call"})
    # Neither the decliner nor the agent who handed it over: carol gets it, note and all.
    assert await offered_to([alice, bob, carol], visitor.contact_id) is carol
    assigned = await carol.accept(visitor.contact_id)
    assert assigned["contact"]["transfer_note"] == NOTE
    await quiet(0.5)
    assert alice.offered_ids() == [visitor.contact_id]
    assert bob.offered_ids() == [visitor.contact_id]
    await desk.close()


async def test_transfer_takes_the_new_queues_skills(server: LiveServer) -> None:
    """A contact transferred out of a queue that needs a skill is served by the target
    queue's agents, who need not have it; one transferred into such a queue waits for
    an agent who has it."""
    desk = Desk(server)
    desk.queue("repairs", name="Repairs", skills=["ebikes"])
    desk.queue("sales", name="Sales")
    # Dave serves repairs but has no e-bike skill (and has been idle longest).
    dave = await desk.agent("dave", queues=["repairs"], skills={"road": 9})
    alice = await desk.agent("alice", queues=["repairs"], skills={"ebikes": 8})
    bob = await desk.agent("bob", queues=["sales"])
    visitor = await desk.visitor("repairs", "Vera")
    await alice.wait_offer(visitor.contact_id)
    await alice.accept(visitor.contact_id)
    await alice.ws.request(
        {"type": "contact.transfer", "contact_id": visitor.contact_id, "to_queue": "sales", "note": NOTE}
    )
    await bob.wait_offer(visitor.contact_id)
    assigned = await bob.accept(visitor.contact_id)
    assert assigned["contact"]["queue_id"] == "sales"

    # Back to repairs: it needs the skill again, so alice, not dave.
    await bob.ws.request(
        {
            "type": "contact.transfer",
            "contact_id": visitor.contact_id,
            "to_queue": "repairs",
            "note": "e-bike",
        }
    )
    assert await offered_to([dave, alice, bob], visitor.contact_id) is alice
    again = await alice.accept(visitor.contact_id)
    assert again["contact"]["transfer_note"] == "e-bike"
    assert dave.offers() == []
    await desk.close()
