"""Real calls through a real server: two aiortc devices (a visitor's widget and an
agent's console) place a call; ICE connects on loopback, audio and video frames
arrive at both ends, and the server records what happened."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.calls.support import (
    agent_device,
    close_all,
    desk,
    ended_row,
    media_flows,
    touchpoint,
    until,
    visitor_device,
)
from tests.support.server import live_server

pytestmark = pytest.mark.webrtc


async def test_video_call_from_the_widget_connects_and_is_recorded(tmp_path: Path) -> None:
    with live_server(tmp_path) as server:
        desk(server)
        agent = await agent_device(server)
        visitor = await visitor_device(server)
        try:
            side = await visitor.invite("video", queue="sales", name="Vera")
            call_id = side.call_id
            initiating = await visitor.wait_state(call_id, "initiating")
            assert initiating["role"] == "caller" and initiating["ice_servers"] == []
            invite = await agent.wait_invite()
            assert invite["call_id"] == call_id and invite["contact_id"] == side.contact_id
            assert invite["media"] == "video" and invite["caller_kind"] == "visitor"
            assert invite["caller_name"] == "Vera"
            # The invite carries nothing of the visitor's network: the offer comes
            # only to the device that answered.
            assert "description" not in invite
            await visitor.wait_state(call_id, "ringing")
            await agent.accept(call_id)

            for device, polite in ((visitor, False), (agent, True)):
                connecting = await device.wait_state(call_id, "connecting")
                assert connecting["polite"] is polite
                await device.wait_state(call_id, "active")
            await until(lambda: media_flows(visitor, agent, call_id=call_id), 60, "frames both ways")
            for device in (visitor, agent):
                peer = device.calls[call_id].peer
                assert peer is not None
                stats = await peer.get_stats()
                assert stats["transport"]["bytes_received"] > 0
                assert stats["audio"]["packets_received"] > 0 and stats["video"]["packets_received"] > 0
            # Quality samples reach the server and are scored.
            await until(lambda: len(agent.calls[call_id].samples) >= 2, 30, "stats samples")

            await visitor.hangup(call_id)
            ended = await agent.wait_state(call_id, "ended")
            assert ended["reason"] == "completed"
            assert (await visitor.wait_state(call_id, "ended"))["reason"] == "completed"
        finally:
            await close_all(visitor, agent)

        row = await ended_row(server, call_id)
        assert row.end_reason == "completed" and row.origin == "queue" and row.channel == "video"
        assert row.contact_id == side.contact_id and row.agent_id is not None
        assert row.talk_s > 0 and row.ring_s is not None and row.answered_at is not None
        assert row.quality["samples"] >= 1 and row.quality["mos_mean"] > 4.0
        point = touchpoint(server, row.touchpoint_id)
        assert point.channel == "video" and point.kind == "contact"
        assert point.outcome == "completed" and point.handle_s > 0 and point.wait_s is not None
        recorded = point.data["call"]
        assert recorded["end_reason"] == "completed" and recorded["talk_s"] > 0
        assert recorded["ring_s"] is not None and recorded["quality"]["samples"] >= 1
        admin = server.admin_token()
        contact = server.api("GET", f"/api/contacts/{side.contact_id}", admin).json()
        assert contact["contact"]["status"] == "ended" and contact["contact"]["channel"] == "video"
        # The console's history of the conversation, over REST.
        listed = server.api("GET", f"/api/calls?contact_id={side.contact_id}", admin).json()["calls"]
        assert [c["id"] for c in listed] == [call_id]
        one = server.api("GET", f"/api/calls/{call_id}", server.login("alice")).json()
        assert one["end_reason"] == "completed" and one["quality"]["mos_mean"] > 4.0
        assert server.api("GET", f"/api/calls/{call_id}", server.visitor_token()).status_code in (401, 403)
