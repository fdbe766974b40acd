"""Waiting visitors are told their queue position and estimated wait, and told again
as they move up."""

from __future__ import annotations

from typing import Any

from tests.routing_e2e.desk import Desk, Visitor, until
from tests.support.client import WsClient
from tests.support.server import LiveServer


def _latest(visitor: Visitor) -> dict[str, Any] | None:
    events = [e for e in visitor.ws.of_type("queue.position") if e["contact_id"] == visitor.contact_id]
    return events[-1] if events else None


async def _settles_at(visitor: Visitor, position: int) -> dict[str, Any]:
    """Wait until the visitor's latest position is ``position`` with an estimate."""
    latest: dict[str, Any] = await until(
        lambda: (
            (latest := _latest(visitor)) is not None
            and latest["position"] == position
            and latest["eta_s"] is not None
            and latest
        ),
        what=f"{visitor.name} at position {position} with an ETA",
    )
    return latest


async def test_positions_and_estimates_follow_waiting_visitors_up_the_queue(server: LiveServer) -> None:
    desk = Desk(server)
    desk.queue("support")
    alice = await desk.agent("alice", capacity={"chat": 1})
    # One chat answered, so the queue has a pace to estimate from.
    busy = await desk.visitor("support", "V0")
    await alice.wait_offer(busy.contact_id)
    await alice.accept(busy.contact_id)

    line = [await desk.visitor("support", f"V{n}") for n in (1, 2, 3)]
    for place, visitor in enumerate(line, start=1):
        latest = await _settles_at(visitor, place)
        assert isinstance(latest["eta_s"], float) and latest["eta_s"] > 0
    # The estimate grows with the place in line.
    etas = [_latest(v)["eta_s"] for v in line]  # type: ignore[index]
    assert etas == sorted(etas)

    # Alice frees up and takes V1: V2 and V3 move up.
    await alice.end(busy.contact_id)
    await alice.wait_offer(line[0].contact_id)
    await alice.accept(line[0].contact_id)
    await _settles_at(line[1], 1)
    await _settles_at(line[2], 2)
    # V2 gives up: V3 is next.
    await line[1].ws.request({"type": "chat.end", "contact_id": line[1].contact_id})
    await _settles_at(line[2], 1)

    # Each visitor's positions only ever went down.
    for visitor in line:
        positions = visitor.positions()
        assert positions == sorted(positions, reverse=True), (visitor.name, positions)
    assert line[2].positions()[0] == 3 and line[2].positions()[-1] == 1
    assert {2, 1} <= set(line[2].positions())

    # A visitor who reconnects is told where it stands again at once.
    await line[2].ws.close()
    again = await WsClient.connect(server.ws_url + "/ws/visitor", line[2].token)
    desk.clients.append(again)
    welcome = await again.wait_type("welcome", 30)
    assert [c["id"] for c in welcome["contacts"]] == [line[2].contact_id]
    told = await again.wait_type("queue.position", 30, contact_id=line[2].contact_id)
    assert told["position"] == 1 and told["eta_s"] is not None
    await desk.close()
