"""Offers and agent states through the real server: auto-away after missed offers,
wrap-up, decline with a reason, and a visitor leaving while offered."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.routing_e2e.desk import Desk, offered_to, quiet
from tests.support.client import ProtocolError
from tests.support.server import LiveServer, live_server


async def test_auto_away_after_missed_offers_and_the_offer_moves_on(tmp_path: Path) -> None:
    with live_server(tmp_path, missed_offers_before_away=2) as server:
        desk = Desk(server)
        desk.queue("sales", offer_timeout_s=1.0)
        sleepy = await desk.agent("sleepy")
        backup = await desk.agent("backup", available=False)
        visitor = await desk.visitor("sales", "Vera")

        # Sleepy is the only one available: offered, expired, offered again, expired.
        first = await sleepy.wait_offer(visitor.contact_id)
        gone = await sleepy.wait("offer.revoked", contact_id=visitor.contact_id)
        assert gone["reason"] == "expired"
        second = await sleepy.wait_offer(visitor.contact_id)
        assert second["expires_at"] > first["expires_at"]
        away = await sleepy.wait_state("away", reason="missed_offers")
        revoked = [e["reason"] for e in sleepy.ws.of_type("offer.revoked")]
        assert revoked == ["expired", "expired"]

        # The chat goes to the next agent who becomes available, not back to sleepy.
        await backup.available()
        await backup.wait_offer(visitor.contact_id)
        await backup.accept(visitor.contact_id)
        await visitor.wait("contact.joined", agent_id=backup.id)
        assert len(sleepy.offers()) == 2
        assert sleepy.ws.events.index(away) > sleepy.ws.events.index(second)
        # Back from away, sleepy is routed again (the missed count starts over).
        await sleepy.available()
        another = await desk.visitor("sales", "Walt")
        assert await offered_to([sleepy, backup], another.contact_id) is sleepy
        await sleepy.accept(another.contact_id)
        await desk.close()


async def test_wrap_up_blocks_offers_until_it_ends(server: LiveServer) -> None:
    desk = Desk(server)
    desk.queue("support", wrap_up_s=3.0)
    alice = await desk.agent("alice", capacity={"chat": 1})
    first = await desk.visitor("support", "V1")
    await alice.wait_offer(first.contact_id)
    await alice.accept(first.contact_id)

    mark = len(alice.ws.events)
    await alice.end(first.contact_id, disposition="follow_up")
    wrap = await alice.wait_state("wrap_up", since=mark)
    assert wrap["until"] is not None
    ended = await first.wait("contact.ended")
    assert wrap["until"] == pytest.approx(ended["at"] + 3.0, abs=1.0)
    stored = desk.contact(first.contact_id)
    assert stored["disposition"] == "follow_up"
    assert stored["contact"]["disposition"] == "follow_up"

    # A contact arriving during wrap-up waits for it to end.
    second = await desk.visitor("support", "V2")
    offer = await alice.wait_offer(second.contact_id)
    assert offer["server_time"] >= wrap["until"] - 0.05
    back = next(
        e for e in alice.ws.events[mark:] if e.get("type") == "agent.state" and e.get("state") == "available"
    )
    assert back["reason"] == "wrap_up_ended"
    assert alice.ws.events.index(back) < alice.ws.events.index(offer)

    # wrapup.end ends it early: the next offer comes long before "until".  (A longer
    # wrap-up from now on, set through the admin API, leaves no doubt about "before".)
    response = server.api("PATCH", "/api/admin/queues/support", desk.admin, json={"wrap_up_s": 120})
    assert response.status_code == 200 and response.json()["wrap_up_s"] == 120
    await alice.accept(second.contact_id)
    mark = len(alice.ws.events)
    await alice.end(second.contact_id)
    wrap = await alice.wait_state("wrap_up", since=mark)
    third = await desk.visitor("support", "V3")
    await third.wait("queue.position", position=1)
    await quiet(0.5)
    assert third.contact_id not in alice.offered_ids()
    await alice.ws.request({"type": "wrapup.end"})
    available = await alice.wait_state("available", since=mark, reason="wrap_up_ended")
    offer = await alice.wait_offer(third.contact_id)
    assert wrap["until"] - offer["server_time"] > 60
    assert alice.ws.events.index(available) < alice.ws.events.index(offer)
    await desk.close()


async def test_declined_offer_goes_to_another_agent_not_back_to_the_decliner(server: LiveServer) -> None:
    desk = Desk(server)
    desk.queue("sales")
    alice = await desk.agent("alice")
    bob = await desk.agent("bob")
    carol = await desk.agent("carol")
    team = [alice, bob, carol]
    visitor = await desk.visitor("sales", "Vera")

    assert await offered_to(team, visitor.contact_id) is alice
    await alice.ws.request({"type": "offer.decline", "contact_id": visitor.contact_id, "reason": "no French"})
    revoked = await alice.wait("offer.revoked", contact_id=visitor.contact_id)
    assert revoked["reason"] == "declined"
    # Alice has been idle longest, but she declined: bob, then carol.
    assert await offered_to(team, visitor.contact_id) is bob
    await bob.ws.request({"type": "offer.decline", "contact_id": visitor.contact_id, "reason": "on a break"})
    assert await offered_to(team, visitor.contact_id) is carol
    await carol.accept(visitor.contact_id)
    assert alice.offered_ids() == [visitor.contact_id]
    assert bob.offered_ids() == [visitor.contact_id]

    # A decline arriving after the offer is gone is refused, with why.
    await alice.ws.request({"type": "offer.decline", "contact_id": visitor.contact_id})
    refused = await alice.wait("refused", contact_id=visitor.contact_id)
    assert refused["action"] == "decline" and refused["reason"] == "taken"

    # When every agent with room has declined, it comes back to one of them rather than
    # wait for an agent who will never come.
    lonely = await desk.visitor("sales", "Lone")
    decliners = []
    for _ in range(3):
        holder = await offered_to(team, lonely.contact_id)
        assert holder not in decliners
        decliners.append(holder)
        await holder.ws.request({"type": "offer.decline", "contact_id": lonely.contact_id})
    assert await offered_to(team, lonely.contact_id) in decliners
    await desk.close()


async def test_visitor_leaving_while_offered_revokes_the_offer(server: LiveServer) -> None:
    desk = Desk(server)
    desk.queue("sales", offer_timeout_s=60.0)
    alice = await desk.agent("alice")
    visitor = await desk.visitor("sales", "Vera")
    await alice.wait_offer(visitor.contact_id)
    await visitor.ws.request({"type": "chat.end", "contact_id": visitor.contact_id})
    revoked = await alice.wait("offer.revoked", contact_id=visitor.contact_id)
    assert revoked["reason"] == "abandoned"
    # Accepting now is refused, and says why.
    await alice.ws.request({"type": "offer.accept", "contact_id": visitor.contact_id})
    refused = await alice.wait("refused", contact_id=visitor.contact_id)
    assert refused["action"] == "accept" and refused["reason"] == "abandoned"
    assert alice.ws.of_type("contact.assigned") == []
    assert desk.contact(visitor.contact_id)["contact"]["status"] == "abandoned"
    # The agents' queue view no longer lists the visitor.
    view = await alice.ws.wait_for(
        lambda e: e.get("type") == "queue.view", 30, since=alice.ws.events.index(refused)
    )
    assert view["waiting"] == [] and view["queues"][0]["waiting"] == 0
    with pytest.raises(ProtocolError, match="closed"):
        await visitor.ws.request({"type": "chat.message", "contact_id": visitor.contact_id, "body": "hi"})
    await desk.close()
