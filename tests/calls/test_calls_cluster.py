"""Calls across gateways: the visitor on one gateway, the agent's consoles on another,
the call's state machine in the process where it was placed, everything between them
on Redis.  A visitor whose socket drops and comes back on a third gateway gets its call
back."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from contact_center.calls.bot import CallDevice
from tests.calls.support import close_all, media_flows, states, until
from tests.support.cluster import Cluster, cluster

pytestmark = [pytest.mark.services, pytest.mark.webrtc, pytest.mark.slow]


async def _router_ready(c: Cluster, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    async with httpx.AsyncClient(timeout=5) as http:
        while time.monotonic() < deadline:
            for node in c.nodes:
                if node.alive and (await http.get(node.base_url + "/healthz")).json().get("routing"):
                    return
            await asyncio.sleep(0.2)
    raise AssertionError("no active router")


async def test_a_call_between_gateways(tmp_path: Path, redis_url: str, postgres_url: str) -> None:
    with cluster(
        tmp_path, redis_url, postgres_url, ["all", "gateway", "gateway"], reconnect_grace_s="20"
    ) as c:
        admin = c.admin_token()
        assert c.api("POST", "/api/admin/queues", admin, json={"id": "support"}).status_code == 201
        c.api("POST", "/api/admin/agents", admin, json={"username": "ann", "password": "agent-password"})
        await _router_ready(c)
        gw1, gw2, gw3 = c.nodes
        token = c.login("ann")
        console = CallDevice(gw2.ws_url + "/ws/agent", token, loopback=True, stats_every_s=0.5)
        laptop = CallDevice(gw3.ws_url + "/ws/agent", token, loopback=True, stats_every_s=0.5)
        visitor_token = c.visitor_token()
        visitor = CallDevice(gw1.ws_url + "/ws/visitor", visitor_token, loopback=True, stats_every_s=0.5)
        back = None
        try:
            for device in (console, laptop, visitor):
                await device.connect()
            await console.request({"type": "agent.status", "status": "available"})
            await console.wait_for(lambda e: e.get("type") == "agent.state" and e.get("state") == "available")

            side = await visitor.invite("video", queue="support")
            call_id = side.call_id
            # Both consoles ring, on two other gateways; the laptop answers.
            await console.wait_invite(30)
            await laptop.wait_invite(30)
            await laptop.accept(call_id)
            assert (await console.wait_state(call_id, "ended", 30))["reason"] == "answered_elsewhere"
            await visitor.wait_state(call_id, "active", 30)
            await laptop.wait_state(call_id, "active", 30)
            await until(lambda: media_flows(visitor, laptop, call_id=call_id), 60, "frames both ways")

            # The visitor's tab loses its socket and comes back on a third gateway.
            await visitor.drop()
            await laptop.wait_state(call_id, "reconnecting", 30)
            back = CallDevice(
                gw3.ws_url + "/ws/visitor",
                visitor_token,
                device_id=visitor.device_id,
                loopback=True,
                stats_every_s=0.5,
            )
            await back.connect()
            await back.wait_state(call_id, "active", 30)
            await until(lambda: states(laptop, call_id)[-1] == ("active", None), 30, "active again")

            await laptop.hangup(call_id)
            assert (await back.wait_state(call_id, "ended", 30))["reason"] == "completed"
        finally:
            await close_all(visitor, console, laptop, *([back] if back else []))


async def _signalling_in_row(db: Any, call_id: str, state: str) -> None:
    """Wait until the owner has written the call's state machine to its row (its
    writes are group-committed a moment after the change)."""
    from sqlalchemy import select

    from contact_center.store.models import CallRecord

    deadline = time.monotonic() + 30
    while True:
        async with db.connect() as conn:
            row = (await conn.execute(select(CallRecord.signalling).where(CallRecord.id == call_id))).one()
        if row.signalling is not None and row.signalling["state"] == state:
            return
        assert time.monotonic() < deadline, "the call's state never reached its row"
        await asyncio.sleep(0.2)


def _frames(*devices: CallDevice, call_id: str) -> list[int]:
    """Media frames each device has received on the call so far (audio + video)."""
    counts = []
    for device in devices:
        peer = device.calls[call_id].peer
        assert peer is not None
        counts.append(sum(peer.frames_received.values()))
    return counts


async def test_a_call_outlives_the_gateway_that_owned_it(
    tmp_path: Path, redis_url: str, postgres_url: str
) -> None:
    """Visitor and agent on the gateway that owns the call; kill -9 it mid-call.  The
    media goes on peer to peer the whole time; both sides reconnect to other gateways,
    one of which takes the call over from its row (state machine and all) and tells
    both it is active again; the hang-up afterwards reaches both, and the call is
    recorded once, completed."""
    from sqlalchemy import select

    from contact_center.store.database import create_engine
    from contact_center.store.models import CallRecord

    with cluster(
        tmp_path,
        redis_url,
        postgres_url,
        ["all", "gateway", "gateway"],
        presence_ttl_s="4",
        reconnect_grace_s="40",
    ) as c:
        admin = c.admin_token()
        assert c.api("POST", "/api/admin/queues", admin, json={"id": "support"}).status_code == 201
        c.api("POST", "/api/admin/agents", admin, json={"username": "ann", "password": "agent-password"})
        await _router_ready(c)
        router_node, owner_node, other_node = c.nodes
        token = c.login("ann")
        agent = CallDevice(owner_node.ws_url + "/ws/agent", token, loopback=True, stats_every_s=0.5)
        visitor = CallDevice(owner_node.ws_url + "/ws/visitor", c.visitor_token(), loopback=True)
        db = create_engine(postgres_url)
        try:
            await agent.connect()
            await visitor.connect()
            await agent.request({"type": "agent.status", "status": "available"})
            await agent.wait_for(lambda e: e.get("type") == "agent.state" and e.get("state") == "available")
            side = await visitor.invite("video", queue="support")
            call_id = side.call_id
            await agent.wait_invite(30)
            await agent.accept(call_id)
            await visitor.wait_state(call_id, "active", 30)
            await agent.wait_state(call_id, "active", 30)
            await until(lambda: media_flows(visitor, agent, call_id=call_id), 60, "frames both ways")

            async def row() -> CallRecord:
                async with db.connect() as conn:
                    found = (await conn.execute(select(CallRecord).where(CallRecord.id == call_id))).one()
                return found  # type: ignore[no-any-return]

            await _signalling_in_row(db, call_id, "active")
            dead_owner = (await row()).node

            owner_node.kill()
            counts = [_frames(visitor, agent, call_id=call_id)]
            await visitor.reconnect(other_node.ws_url + "/ws/visitor")
            await agent.reconnect(router_node.ws_url + "/ws/agent")
            marks = (len(visitor.events), len(agent.events))

            def active_again(device: CallDevice, since: int) -> bool:
                return any(
                    e.get("type") == "call.state"
                    and e.get("call_id") == call_id
                    and e.get("state") == "active"
                    for e in device.events[since:]
                )

            # Media never stops while the signalling moves: the counters rise at every
            # sample, through the outage and the takeover.
            deadline = time.monotonic() + 60
            while not (active_again(visitor, marks[0]) and active_again(agent, marks[1])):
                assert time.monotonic() < deadline, f"not active again: {visitor.events[-3:]}"
                await asyncio.sleep(1.0)
                counts.append(_frames(visitor, agent, call_id=call_id))
                for before, after in zip(counts[-2], counts[-1], strict=True):
                    assert after > before, f"media stalled: {counts}"
            assert len(counts) >= 4  # the takeover waited for the dead owner's heartbeat to lapse
            taken = await row()
            assert taken.node not in (dead_owner, "") and taken.state != "ended"

            await agent.hangup(call_id)
            assert (await visitor.wait_state(call_id, "ended", 30))["reason"] == "completed"
            assert (await agent.wait_state(call_id, "ended", 30))["reason"] == "completed"
            deadline = time.monotonic() + 30
            while (ended := await row()).state != "ended":
                assert time.monotonic() < deadline, "the end never reached the row"
                await asyncio.sleep(0.2)
            assert (ended.end_reason, ended.live_contact_id) == ("completed", None)
            assert ended.reconnects >= 1 and ended.talk_s > 0
        finally:
            await db.dispose()
            await close_all(agent, visitor)


async def test_a_call_whose_gateway_dies_is_ended_and_frees_its_agent(
    tmp_path: Path, redis_url: str, postgres_url: str
) -> None:
    """The visitor's gateway owns the call; kill -9 it mid-call, and the visitor never
    comes back.  The agent's gateway takes the call over (one side is still there) and
    ends it ``dropped`` when the visitor's reconnect grace runs out: the agent's console
    is told, the row and the contact end, and the agent's voice slot is free for the
    next call."""
    from sqlalchemy import select

    from contact_center.store.database import create_engine
    from contact_center.store.models import CallRecord, Contact

    with cluster(
        tmp_path, redis_url, postgres_url, ["all", "gateway"], presence_ttl_s="4", reconnect_grace_s="8"
    ) as c:
        admin = c.admin_token()
        assert c.api("POST", "/api/admin/queues", admin, json={"id": "support"}).status_code == 201
        c.api("POST", "/api/admin/agents", admin, json={"username": "ann", "password": "agent-password"})
        await _router_ready(c)
        router_node, visitor_node = c.nodes
        console = CallDevice(router_node.ws_url + "/ws/agent", c.login("ann"), loopback=True)
        visitor = CallDevice(visitor_node.ws_url + "/ws/visitor", c.visitor_token(), loopback=True)
        second = CallDevice(router_node.ws_url + "/ws/visitor", c.visitor_token(), loopback=True)
        db = create_engine(postgres_url)
        try:
            await console.connect()
            await visitor.connect()
            await console.request({"type": "agent.status", "status": "available"})
            await console.wait_for(lambda e: e.get("type") == "agent.state" and e.get("state") == "available")
            side = await visitor.invite("audio", queue="support")
            call_id = side.call_id
            await console.wait_invite(30)
            await console.accept(call_id)
            await console.wait_state(call_id, "active", 30)
            await _signalling_in_row(db, call_id, "active")

            visitor_node.kill()
            ended = await console.wait_state(call_id, "ended", 60)
            assert ended["reason"] == "dropped"

            deadline = time.monotonic() + 30
            while True:  # the end is written a moment after both sides are told
                async with db.connect() as conn:
                    call = (await conn.execute(select(CallRecord).where(CallRecord.id == call_id))).one()
                    contact = (await conn.execute(select(Contact).where(Contact.id == call.contact_id))).one()
                if (call.state == "ended" and contact.status == "ended") or time.monotonic() > deadline:
                    break
                await asyncio.sleep(0.2)
            assert call.state == "ended" and call.end_reason == "dropped" and call.live_contact_id is None
            assert contact.status == "ended"

            # Ann's voice slot is free again: the next call from the queue rings her.
            index = len(console.events)
            await second.connect()
            await second.invite("audio", queue="support")
            await console.wait_invite(30, since=index)
        finally:
            await db.dispose()
            await close_all(console, visitor, second)
