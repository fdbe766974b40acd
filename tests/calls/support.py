"""Helpers for call tests: a desk (queue and agents) on a live server, and devices
(agent consoles, visitor tabs) that place and answer real calls with aiortc."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

from contact_center.calls.bot import CallDevice
from tests.support.server import LiveServer, live_server

FRAMES = 10  # per kind, per side: enough to prove media flows both ways


async def until(predicate: Callable[[], bool], limit_s: float = 30.0, what: str = "condition") -> None:
    """Poll for a condition; a generous limit, never a timing assertion."""
    deadline = time.monotonic() + limit_s
    while not predicate():
        if time.monotonic() > deadline:
            raise TimeoutError(f"{what} not met")
        await asyncio.sleep(0.05)


def desk(server: LiveServer, agents: tuple[str, ...] = ("alice",), **queue: Any) -> str:
    admin = server.admin_token()
    server.add_queue(admin, "sales", name="Sales", **queue)
    for username in agents:
        server.add_agent(admin, username, display_name=username.title())
    return admin


async def agent_device(
    server: LiveServer, username: str = "alice", *, available: bool = True, **options: Any
) -> CallDevice:
    options.setdefault("loopback", True)
    options.setdefault("stats_every_s", 0.5)
    device = CallDevice(server.ws_url + "/ws/agent", server.login(username), **options)
    await device.connect()
    if available:
        await device.request({"type": "agent.status", "status": "available"})
        await device.wait_for(lambda e: e.get("type") == "agent.state" and e.get("state") == "available")
    return device


async def visitor_device(server: LiveServer, token: str | None = None, **options: Any) -> CallDevice:
    options.setdefault("loopback", True)
    options.setdefault("stats_every_s", 0.5)
    device = CallDevice(server.ws_url + "/ws/visitor", token or server.visitor_token(), **options)
    await device.connect()
    return device


def call_row(server: LiveServer, call_id: str) -> Any:
    return server.run_in_server(server.services.calls.store.get(call_id))


async def ended_row(server: LiveServer, call_id: str, limit_s: float = 30.0) -> Any:
    """The call's row once its end is written down (the owner writes it after the
    devices were told)."""
    found: list[Any] = []

    def done() -> bool:
        row = call_row(server, call_id)
        if row is not None and row.state == "ended" and row.live_contact_id is None:
            found.append(row)
            return True
        return False

    await until(done, limit_s, "call row ended")
    return found[0]


def touchpoint(server: LiveServer, touchpoint_id: int) -> Any:
    return server.run_in_server(server.services.calls.store.touchpoint(touchpoint_id))


def media_flows(*devices: CallDevice, call_id: str, kinds: tuple[str, ...] = ("audio", "video")) -> bool:
    for device in devices:
        peer = device.calls[call_id].peer
        if peer is None or any(peer.frames_received[kind] < FRAMES for kind in kinds):
            return False
    return True


async def close_all(*devices: CallDevice) -> None:
    await asyncio.gather(*(device.close() for device in devices), return_exceptions=True)


@contextlib.asynccontextmanager
async def agent_and_visitor(
    tmp_path: Path, **options: Any
) -> AsyncIterator[tuple[LiveServer, CallDevice, CallDevice]]:
    """The usual stage: a live server with the sales desk, alice's console available
    and one visitor tab (both with ``options``), closed afterwards."""
    with live_server(tmp_path) as server:
        desk(server)
        agent = await agent_device(server, **options)
        visitor = await visitor_device(server, **options)
        try:
            yield server, agent, visitor
        finally:
            await close_all(visitor, agent)


async def chat_with(visitor: CallDevice, agent: CallDevice, queue: str = "sales") -> str:
    """A chat from ``visitor`` that ``agent`` accepted; returns its contact id."""
    ack = await visitor.request({"type": "chat.start", "queue": queue, "name": "Vera", "message": "Hi"})
    contact_id = str(ack["contact_id"])
    await agent.wait_for(lambda e: e.get("type") == "offer" and e["contact"]["id"] == contact_id)
    await agent.request({"type": "offer.accept", "contact_id": contact_id})
    await agent.wait_for(lambda e: e.get("type") == "contact.assigned" and e["contact"]["id"] == contact_id)
    await visitor.wait_for(lambda e: e.get("type") == "contact.joined" and e.get("contact_id") == contact_id)
    return contact_id


def states(device: CallDevice, call_id: str) -> list[tuple[str, str | None]]:
    return [
        (e["state"], e.get("reason"))
        for e in device.events
        if e.get("type") == "call.state" and e.get("call_id") == call_id
    ]


def of_type(device: CallDevice, kind: str, **match: object) -> list[dict[str, object]]:
    return [
        e for e in device.events if e.get("type") == kind and all(e.get(k) == v for k, v in match.items())
    ]
