"""Each routing strategy, through the real server with concurrent clients."""

from __future__ import annotations

import asyncio
import functools

from tests.routing_e2e.desk import Desk, offered_to, quiet, until
from tests.support.client import next_id
from tests.support.server import LiveServer

ONE_CHAT = {"chat": 1}


async def test_longest_idle_gives_the_next_chat_to_the_agent_idle_longest(server: LiveServer) -> None:
    desk = Desk(server)
    desk.queue("sales", strategy="longest_idle")
    # Available in the order carol, alice, bob: carol has been idle longest.
    carol = await desk.agent("carol", capacity=ONE_CHAT)
    alice = await desk.agent("alice", capacity=ONE_CHAT)
    bob = await desk.agent("bob", capacity=ONE_CHAT)
    team = [alice, bob, carol]

    first = await desk.visitor("sales", "V1")
    assert await offered_to(team, first.contact_id) is carol
    await carol.accept(first.contact_id)
    second = await desk.visitor("sales", "V2")
    assert await offered_to(team, second.contact_id) is alice
    await alice.accept(second.contact_id)

    # Carol is free again, but only since now; bob has been idle since he signed in.
    await carol.end(first.contact_id)
    third = await desk.visitor("sales", "V3")
    assert await offered_to(team, third.contact_id) is bob
    await bob.accept(third.contact_id)
    fourth = await desk.visitor("sales", "V4")
    assert await offered_to(team, fourth.contact_id) is carol
    assert alice.offered_ids() == [second.contact_id]
    await desk.close()


async def test_least_occupied_gives_the_next_chat_to_the_agent_with_fewest_chats(server: LiveServer) -> None:
    desk = Desk(server)
    desk.queue("support", strategy="least_occupied")
    alice = await desk.agent("alice")
    bob = await desk.agent("bob")
    team = [alice, bob]

    taken: dict[str, list[str]] = {"alice": [], "bob": []}
    for n in range(1, 4):
        visitor = await desk.visitor("support", f"V{n}")
        agent = await offered_to(team, visitor.contact_id)
        await agent.accept(visitor.contact_id)
        taken[agent.username].append(visitor.contact_id)
    # Alice (idle longest) got the first, bob the second (he held none), and the tie at
    # one chat each went to alice again.
    assert [len(taken["alice"]), len(taken["bob"])] == [2, 1]

    # Alice has been idle longer, but bob holds fewer chats: least occupied picks bob
    # (longest idle would have picked alice).
    fourth = await desk.visitor("support", "V4")
    assert await offered_to(team, fourth.contact_id) is bob
    await bob.accept(fourth.contact_id)
    # Two each now; alice ends one and is the least occupied again.
    await alice.end(taken["alice"][0])
    fifth = await desk.visitor("support", "V5")
    assert await offered_to(team, fifth.contact_id) is alice
    await desk.close()


async def test_round_robin_rotates_in_a_fixed_order(server: LiveServer) -> None:
    desk = Desk(server)
    desk.queue("billing", strategy="round_robin")
    team = [await desk.agent(name) for name in ("alice", "bob", "carol")]
    rotation = sorted(team, key=lambda a: a.id)

    got = []
    for n in range(6):
        visitor = await desk.visitor("billing", f"V{n}")
        agent = await offered_to(team, visitor.contact_id)
        got.append(agent)
        # Each keeps the chat: load does not matter to round robin (capacity 3 each).
        await agent.accept(visitor.contact_id)
    assert [a.username for a in got] == [a.username for a in rotation + rotation]
    await desk.close()


async def test_best_skill_picks_the_most_proficient_agent(server: LiveServer) -> None:
    desk = Desk(server)
    desk.queue("repairs", strategy="best_skill", skills=["ebikes"])
    # Dave has no e-bike skill: he never gets these chats, though idle longest.
    dave = await desk.agent("dave", capacity=ONE_CHAT, skills={"road": 10})
    novice = await desk.agent("nora", capacity=ONE_CHAT, skills={"ebikes": 3})
    expert = await desk.agent("eric", capacity=ONE_CHAT, skills={"ebikes": 9, "road": 2})
    middle = await desk.agent("mia", capacity=ONE_CHAT, skills={"ebikes": 6})
    team = [dave, novice, expert, middle]

    order = []
    for n in range(3):
        visitor = await desk.visitor("repairs", f"V{n}")
        agent = await offered_to(team, visitor.contact_id)
        order.append(agent.username)
        await agent.accept(visitor.contact_id)
    assert order == ["eric", "mia", "nora"]

    # Everyone skilled is busy: the fourth waits rather than go to dave.
    waiting = await desk.visitor("repairs", "V3")
    await waiting.wait("queue.position", position=1)
    await quiet(1.0)
    assert dave.offers() == []
    # The expert frees up and gets it.
    await expert.end(expert.held()[0])
    assert await offered_to(team, waiting.contact_id) is expert
    await desk.close()


async def test_manual_queue_makes_no_offers_and_agents_take_contacts(server: LiveServer) -> None:
    desk = Desk(server)
    desk.queue("vip", strategy="manual")
    alice = await desk.agent("alice")
    bob = await desk.agent("bob")

    visitor = await desk.visitor("vip", "Vic", message="Hello?")
    # The contact shows in the agents' queue view, but nobody is offered it.
    view = await alice.ws.wait_for(
        lambda e: (
            e.get("type") == "queue.view" and any(w["contact_id"] == visitor.contact_id for w in e["waiting"])
        ),
        30,
    )
    listed = next(w for w in view["waiting"] if w["contact_id"] == visitor.contact_id)
    assert listed["queue_id"] == "vip" and listed["position"] == 1
    await quiet(1.0)
    assert alice.offers() == [] and bob.offers() == []

    await bob.ws.request({"type": "contact.take", "contact_id": visitor.contact_id})
    assigned = await bob.wait("contact.assigned")
    assert assigned["contact"]["id"] == visitor.contact_id
    assert assigned["contact"]["agent_id"] == bob.id
    message = await bob.ws.wait_type("chat.message", 30, contact_id=visitor.contact_id)
    assert message["body"] == "Hello?"
    await visitor.wait("contact.joined", agent_id=bob.id)
    # Taking it again: refused, with a reason the console can show.
    await alice.ws.request({"type": "contact.take", "contact_id": visitor.contact_id})
    refused = await alice.wait("refused", contact_id=visitor.contact_id)
    assert refused["action"] == "take" and refused["reason"] == "taken"
    await desk.close()


async def test_manual_take_race_exactly_one_agent_wins(server: LiveServer) -> None:
    desk = Desk(server)
    desk.queue("vip", strategy="manual")
    capacity = {"chat": 10}
    alice = await desk.agent("alice", capacity=capacity)
    bob = await desk.agent("bob", capacity=capacity)
    visitors = [await desk.visitor("vip", f"V{n}") for n in range(5)]
    for visitor in visitors:
        await visitor.wait("queue.position")

    for visitor in visitors:
        # Both frames leave at the same moment.
        await asyncio.gather(
            alice.ws.send({"type": "contact.take", "id": next_id("take"), "contact_id": visitor.contact_id}),
            bob.ws.send({"type": "contact.take", "id": next_id("take"), "contact_id": visitor.contact_id}),
        )

    def outcome(contact_id: str) -> tuple[list[str], list[str]] | None:
        won = [
            a.username
            for a in (alice, bob)
            if any(e["contact"]["id"] == contact_id for e in a.ws.of_type("contact.assigned"))
        ]
        lost = [
            a.username
            for a in (alice, bob)
            if any(e["contact_id"] == contact_id for e in a.ws.of_type("refused"))
        ]
        return (won, lost) if len(won) + len(lost) == 2 else None

    for visitor in visitors:
        settled: tuple[list[str], list[str]] = await until(
            functools.partial(outcome, visitor.contact_id),
            what="take race settled",
        )
        won, lost = settled
        assert len(won) == 1 and len(lost) == 1 and won != lost, (won, lost)
        loser = alice if lost == ["alice"] else bob
        refused = next(e for e in loser.ws.of_type("refused") if e["contact_id"] == visitor.contact_id)
        assert refused == {
            "type": "refused",
            "contact_id": visitor.contact_id,
            "action": "take",
            "reason": "taken",
        }
        # The database agrees with the winner, and the visitor sees one agent join.
        winner = bob if loser is alice else alice
        contact = desk.contact(visitor.contact_id)["contact"]
        assert contact["status"] == "active" and contact["agent_id"] == winner.id
        joined = await visitor.wait("contact.joined")
        assert joined["agent_id"] == winner.id
    await quiet(0.5)
    for visitor in visitors:
        assert len(visitor.ws.of_type("contact.joined")) == 1
    await desk.close()
