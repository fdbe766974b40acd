"""TURN: credentials minted per user per call in coturn's use-auth-secret scheme,
handed out with the call's state; and a call forced through a real coturn."""

from __future__ import annotations

import asyncio
import re
import time
from pathlib import Path

import aioice.turn
import pytest

from signalling.turn import turn_credentials, verify_turn_credentials
from tests.calls.support import (
    agent_device,
    close_all,
    desk,
    ended_row,
    media_flows,
    until,
    visitor_device,
)
from tests.calls.turn import turn_server
from tests.support.client import WsClient
from tests.support.server import live_server

SECRET = "turn-shared-secret-for-tests"
DEPLOYED_CONFIG = Path(__file__).resolve().parents[2] / "deploy" / "coturn" / "turnserver.conf"


async def test_call_state_hands_out_ice_servers_with_fresh_turn_credentials(tmp_path: Path) -> None:
    with live_server(
        tmp_path,
        stun_urls=("stun:stun.example.test:3478",),
        turn_urls=("turn:turn.example.test:3478?transport=udp", "turns:turn.example.test:5349"),
        turn_secret=SECRET,
        turn_ttl_s=600,
    ) as server:
        desk(server)
        visitor = await WsClient.connect(server.ws_url + "/ws/visitor", server.visitor_token())
        try:
            welcome = await visitor.wait_type("welcome", timeout=30)
            visitor_id = welcome["user_id"]
            assert welcome["party_id"].startswith(visitor_id + ".")
            await visitor.request({"type": "call.invite", "call_id": "turn-check-1", "queue": "sales"}, 30)
            state = await visitor.wait_type("call.state", timeout=30, state="initiating")
            before = time.time()
        finally:
            await visitor.close()
        stun, turn = state["ice_servers"]
        assert stun == {"urls": ["stun:stun.example.test:3478"]}
        assert turn["urls"] == ["turn:turn.example.test:3478?transport=udp", "turns:turn.example.test:5349"]
        username, password = turn["username"], turn["credential"]
        expiry, _, user = username.partition(":")
        # "<expiry>:<who>": minted for this visitor and this call, valid for turn_ttl_s.
        assert user == f"{visitor_id}.turn-check-1"
        assert before - 5 <= int(expiry) - 600 <= before + 1
        assert verify_turn_credentials(username, password, SECRET, now=before)
        assert not verify_turn_credentials(username, password, "another-secret", now=before)
        assert not verify_turn_credentials(username, password, SECRET, now=int(expiry) + 1)
        assert SECRET not in str(state)


async def _allocate(port: int, username: str, password: str) -> tuple[str, int]:
    """Ask coturn for a relay allocation, as a browser's ICE agent would."""
    transport, _protocol = await asyncio.wait_for(
        aioice.turn.create_turn_endpoint(
            asyncio.DatagramProtocol, ("127.0.0.1", port), username, password, lifetime=60
        ),
        20,
    )
    try:
        relayed: tuple[str, int] = transport.get_extra_info("sockname")
        return relayed
    finally:
        transport.close()


@pytest.mark.services
async def test_coturn_accepts_minted_credentials_until_they_expire(tmp_path: Path) -> None:
    with turn_server(tmp_path / "turn", secret=SECRET) as turn:
        now = time.time()
        username, password = turn_credentials(SECRET, "visitor-1.call-1", now, ttl_s=600)
        host, port = await _allocate(turn.port, username, password)
        assert host == "127.0.0.1" and port > 0
        # Minted an hour ago with a ten-minute lifetime: coturn refuses it.
        expired = turn_credentials(SECRET, "visitor-1.call-1", now - 3600, ttl_s=600)
        with pytest.raises(Exception, match="401"):
            await _allocate(turn.port, *expired)
        # So it does a credential signed with another secret.
        forged = turn_credentials("not-the-secret", "visitor-1.call-1", now, ttl_s=600)
        with pytest.raises(Exception, match="401"):
            await _allocate(turn.port, *forged)


@pytest.mark.services
async def test_the_deployed_coturn_configuration_takes_our_credentials(tmp_path: Path) -> None:
    """deploy/coturn/turnserver.conf (what docker-compose.yml runs) with our secret."""
    with turn_server(tmp_path / "turn", secret=SECRET, config=DEPLOYED_CONFIG) as turn:
        username, password = turn_credentials(SECRET, "agent-7.call-9", time.time(), ttl_s=600)
        host, port = await _allocate(turn.port, username, password)
        assert host == "127.0.0.1" and port > 0
        with pytest.raises(Exception, match="401"):
            await _allocate(turn.port, *turn_credentials("wrong", "agent-7.call-9", time.time(), 600))


@pytest.mark.webrtc
@pytest.mark.services
async def test_a_relay_only_call_through_coturn(tmp_path: Path) -> None:
    with (
        turn_server(tmp_path / "turn", secret=SECRET) as turn,
        live_server(tmp_path / "server", turn_urls=(turn.url,), turn_secret=SECRET, turn_ttl_s=600) as server,
    ):
        desk(server)
        agent = await agent_device(server, relay_only=True)
        visitor = await visitor_device(server, relay_only=True)
        try:
            side = await visitor.invite("video", queue="sales")
            await agent.wait_invite()
            await agent.accept(side.call_id)
            await visitor.wait_state(side.call_id, "active", 60)
            await agent.wait_state(side.call_id, "active", 60)
            await until(lambda: media_flows(visitor, agent, call_id=side.call_id), 60, "frames through TURN")
            for device in (visitor, agent):
                peer = device.calls[side.call_id].peer
                assert peer is not None
                # Both ends of the selected pair are relay candidates: every packet
                # went through coturn.
                assert peer.selected_candidate_types() and all(
                    pair == ("relay", "relay") for pair in peer.selected_candidate_types()
                )
                candidates = peer.local_candidates(include_end=False)
                assert candidates and all(" typ relay " in c["candidate"] for c in candidates)
            await until(lambda: len(visitor.calls[side.call_id].samples) >= 1, 30, "a stats sample")
            await visitor.hangup(side.call_id)
            await agent.wait_state(side.call_id, "ended")
        finally:
            await close_all(visitor, agent)
        row = await ended_row(server, side.call_id)
        assert row.end_reason == "completed" and row.quality["relayed"] is True
    # coturn accepted credentials minted for each side of this call ("<expiry>:<who>").
    log = turn.log.read_text()
    for device in (visitor, agent):
        who = device.calls[side.call_id].ice_servers[0]["username"].split(":", 1)[1]
        assert who == f"{device.welcome['user_id']}.{side.call_id}"
        assert re.search(rf"user <\d+:{re.escape(who)}>: incoming packet ALLOCATE processed, success", log)
