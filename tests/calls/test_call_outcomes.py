"""How calls end: rejected, missed, canceled, busy, answered elsewhere, dropped; and
what moves on instead of ending (a routed call an agent declines rings the next)."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from contact_center.calls.bot import CallDevice
from tests.calls.support import (
    agent_and_visitor,
    agent_device,
    chat_with,
    close_all,
    desk,
    ended_row,
    media_flows,
    of_type,
    states,
    touchpoint,
    until,
    visitor_device,
)
from tests.support.server import live_server

pytestmark = pytest.mark.webrtc


async def test_a_routed_call_the_agent_rejects_rings_the_next_agent(tmp_path: Path) -> None:
    with live_server(tmp_path) as server:
        desk(server, agents=("alice", "bob"))
        alice = await agent_device(server, "alice")
        bob = await agent_device(server, "bob")
        visitor = await visitor_device(server)
        try:
            side = await visitor.invite("audio", queue="sales")
            call_id = side.call_id
            first, second = await _first_rung(alice, bob)
            await first.reject(call_id)
            await second.wait_invite()
            assert states(first, call_id)[-1] == ("ended", "canceled")  # it stops ringing there
            await second.accept(call_id)
            await visitor.wait_state(call_id, "active")
            await second.wait_state(call_id, "active")
            await second.hangup(call_id)
            assert (await visitor.wait_state(call_id, "ended"))["reason"] == "completed"
        finally:
            await close_all(visitor, alice, bob)
        row = await ended_row(server, call_id)
        assert row.end_reason == "completed" and row.agent_id == second.welcome["user_id"]


async def _first_rung(*devices: CallDevice) -> tuple[CallDevice, CallDevice]:
    """The console that rang first, and the other one."""
    waits = {asyncio.ensure_future(device.wait_invite()): device for device in devices}
    done, pending = await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
    for task in pending:
        task.cancel()
    first = waits[next(iter(done))]
    return first, next(device for device in devices if device is not first)


async def test_a_direct_call_the_agent_rejects_ends_rejected(tmp_path: Path) -> None:
    """A chat turned into a call rings the chat's agent; a reject ends it."""
    async with agent_and_visitor(tmp_path) as (server, agent, visitor):
        contact_id = await chat_with(visitor, agent)
        side = await visitor.invite("audio", contact_id=contact_id)
        invite = await agent.wait_invite()
        assert invite["call_id"] == side.call_id and invite["contact_id"] == contact_id
        await agent.reject(side.call_id)
        assert (await visitor.wait_state(side.call_id, "ended"))["reason"] == "rejected"
        assert (await agent.wait_state(side.call_id, "ended"))["reason"] == "rejected"
        # The chat goes on.
        reply = await agent.request({"type": "chat.message", "contact_id": contact_id, "body": "ok"})
        assert reply["seq"] > 0
        row = await ended_row(server, side.call_id)
        assert row.origin == "escalation" and row.end_reason == "rejected" and row.talk_s == 0
        point = touchpoint(server, row.touchpoint_id)
        assert (point.kind, point.channel, point.outcome) == ("call", "voice", "rejected")
        assert point.contact_id == contact_id and point.data["call"]["end_reason"] == "rejected"


async def test_ring_timeout_ends_the_call_missed(tmp_path: Path) -> None:
    with live_server(tmp_path, ring_timeout_s=2.0) as server:
        desk(server, offer_timeout_s=60)
        agent = await agent_device(server)
        visitor = await visitor_device(server)
        try:
            side = await visitor.invite("audio", queue="sales")
            invite = await agent.wait_invite()
            assert 0 < invite["lifetime"] <= 2000
            assert (await visitor.wait_state(side.call_id, "ended", 20))["reason"] == "missed"
            assert (await agent.wait_state(side.call_id, "ended", 20))["reason"] == "missed"
            await agent.wait_for(
                lambda e: e.get("type") == "offer.revoked" and e.get("contact_id") == side.contact_id
            )
        finally:
            await close_all(visitor, agent)
        row = await ended_row(server, side.call_id)
        assert row.end_reason == "missed" and row.ring_s is not None and row.ring_s >= 1.5
        point = touchpoint(server, row.touchpoint_id)
        assert point.outcome == "abandoned" and point.data["call"]["end_reason"] == "missed"


async def test_the_caller_cancels_while_it_rings(tmp_path: Path) -> None:
    async with agent_and_visitor(tmp_path) as (server, agent, visitor):
        side = await visitor.invite("video", queue="sales")
        await agent.wait_invite()
        await visitor.wait_state(side.call_id, "ringing")
        await visitor.hangup(side.call_id)
        assert (await agent.wait_state(side.call_id, "ended"))["reason"] == "canceled"
        assert (await visitor.wait_state(side.call_id, "ended"))["reason"] == "canceled"
        await agent.wait_for(lambda e: e.get("type") == "offer.revoked")
        row = await ended_row(server, side.call_id)
        assert row.end_reason == "canceled" and row.answered_at is None
        detail = server.api("GET", f"/api/contacts/{side.contact_id}", server.admin_token()).json()
        assert detail["contact"]["status"] == "abandoned"


async def test_an_agent_already_on_a_call_is_busy(tmp_path: Path) -> None:
    with live_server(tmp_path) as server:
        desk(server)
        agent = await agent_device(server)
        chatting = await visitor_device(server)
        caller = await visitor_device(server)
        try:
            contact_id = await chat_with(chatting, agent)
            # A call from the queue is offered on top of the chat; the agent takes it.
            routed = await caller.invite("audio", queue="sales")
            await agent.wait_invite()
            await agent.accept(routed.call_id)
            await caller.wait_state(routed.call_id, "active")
            # The chatting visitor now wants to talk too: busy, without ringing.
            before = len(of_type(agent, "call.invite"))
            escalated = await chatting.invite("audio", contact_id=contact_id)
            assert (await chatting.wait_state(escalated.call_id, "ended"))["reason"] == "busy"
            assert len(of_type(agent, "call.invite")) == before
            assert states(caller, routed.call_id)[-1] == ("active", None)
            await caller.hangup(routed.call_id)
            await agent.wait_state(routed.call_id, "ended")
        finally:
            await close_all(chatting, caller, agent)
        row = await ended_row(server, escalated.call_id)
        assert row.end_reason == "busy"


async def test_routing_offers_no_call_to_an_agent_talking_on_a_chat_call(tmp_path: Path) -> None:
    """A chat turned into a call holds the agent's call capacity until it ends."""
    with live_server(tmp_path) as server:
        desk(server)
        agent = await agent_device(server)
        chatting = await visitor_device(server)
        caller = await visitor_device(server)
        try:
            contact_id = await chat_with(chatting, agent)
            escalated = await chatting.invite("audio", contact_id=contact_id)
            await agent.wait_invite()
            await agent.accept(escalated.call_id)
            await chatting.wait_state(escalated.call_id, "active")
            await asyncio.sleep(0.5)  # routing has heard of the call
            routed = await caller.invite("audio", queue="sales")
            await asyncio.sleep(1.5)
            assert [e for e in of_type(agent, "call.invite") if e["call_id"] == routed.call_id] == []
            assert states(caller, routed.call_id) == [("initiating", None)]
            await chatting.hangup(escalated.call_id)
            # Free again: now the queued call rings.
            invite = await agent.wait_for(
                lambda e: e.get("type") == "call.invite" and e.get("call_id") == routed.call_id, 20
            )
            assert invite["contact_id"] == routed.contact_id
            await caller.hangup(routed.call_id)
        finally:
            await close_all(chatting, caller, agent)


async def test_the_other_consoles_of_the_agent_are_told_answered_elsewhere(tmp_path: Path) -> None:
    with live_server(tmp_path) as server:
        desk(server)
        desk_console = await agent_device(server)
        laptop = await agent_device(server, available=False)
        visitor = await visitor_device(server)
        try:
            assert desk_console.party_id != laptop.party_id
            side = await visitor.invite("audio", queue="sales")
            await desk_console.wait_invite()
            await laptop.wait_invite()
            await laptop.accept(side.call_id)
            assert (await desk_console.wait_state(side.call_id, "ended"))["reason"] == "answered_elsewhere"
            await laptop.wait_state(side.call_id, "active")
            connecting = await visitor.wait_state(side.call_id, "connecting")
            assert connecting["peer_party_id"] == laptop.party_id
            # The offer went to the console that answered, never to the other one.
            assert of_type(laptop, "call.offer") and not of_type(desk_console, "call.offer")
            await until(lambda: media_flows(visitor, laptop, call_id=side.call_id, kinds=("audio",)), 60)
            await visitor.hangup(side.call_id)
            await laptop.wait_state(side.call_id, "ended")
        finally:
            await close_all(visitor, desk_console, laptop)


async def test_a_dropped_socket_gets_the_grace_then_the_call_ends_dropped(tmp_path: Path) -> None:
    with live_server(tmp_path, reconnect_grace_s=2.0) as server:
        desk(server)
        agent = await agent_device(server)
        visitor = await visitor_device(server)
        try:
            side = await visitor.invite("audio", queue="sales")
            await agent.wait_invite()
            await agent.accept(side.call_id)
            await agent.wait_state(side.call_id, "active")
            await visitor.drop()
            await agent.wait_state(side.call_id, "reconnecting")
            assert (await agent.wait_state(side.call_id, "ended", 20))["reason"] == "dropped"
        finally:
            await close_all(visitor, agent)
        row = await ended_row(server, side.call_id)
        assert row.end_reason == "dropped" and row.reconnects == 1 and row.connected_at is not None


async def test_a_socket_back_within_the_grace_gets_its_call_back(tmp_path: Path) -> None:
    with live_server(tmp_path, reconnect_grace_s=20.0) as server:
        desk(server)
        agent = await agent_device(server)
        token = server.visitor_token()
        visitor = await visitor_device(server, token)
        again = None
        try:
            side = await visitor.invite("audio", queue="sales")
            await agent.wait_invite()
            await agent.accept(side.call_id)
            await agent.wait_state(side.call_id, "active")
            await visitor.drop()
            await agent.wait_state(side.call_id, "reconnecting")
            # The same tab (same device id) comes back on a new socket.
            again = await visitor_device(server, token, device_id=visitor.device_id)
            assert again.party_id == visitor.party_id
            restored = await again.wait_state(side.call_id, "active")
            assert restored["role"] == "caller"
            await until(lambda: states(agent, side.call_id)[-1] == ("active", None), 20)
            await again.hangup(side.call_id)
            assert (await agent.wait_state(side.call_id, "ended"))["reason"] == "completed"
        finally:
            await close_all(visitor, agent, *([again] if again else []))
        row = await ended_row(server, side.call_id)
        assert row.reconnects == 1 and row.end_reason == "completed"
