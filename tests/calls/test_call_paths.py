"""A chat turned into a call, an agent calling a visitor, the console's offer.accept
on a ringing call, both sides calling at once; and frames the server refuses
without harming the call."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Mapping
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
    touchpoint,
    until,
    visitor_device,
)
from tests.support.server import live_server

pytestmark = pytest.mark.webrtc


async def test_a_chat_turned_into_a_video_call(tmp_path: Path) -> None:
    async with agent_and_visitor(tmp_path) as (server, agent, visitor):
        contact_id = await chat_with(visitor, agent)
        side = await visitor.invite("video", contact_id=contact_id)
        await agent.wait_invite()
        await agent.accept(side.call_id)
        await visitor.wait_state(side.call_id, "active")
        await until(lambda: media_flows(visitor, agent, call_id=side.call_id), 60, "frames both ways")
        await agent.hangup(side.call_id)
        assert (await visitor.wait_state(side.call_id, "ended"))["reason"] == "completed"
        # The conversation outlives its call.
        ack = await visitor.request({"type": "chat.message", "contact_id": contact_id, "body": "thanks"})
        assert ack["seq"] > 0
        row = await ended_row(server, side.call_id)
        assert (row.origin, row.channel, row.end_reason) == ("escalation", "video", "completed")
        assert row.agent_id == agent.welcome["user_id"] and row.talk_s > 0
        point = touchpoint(server, row.touchpoint_id)
        assert (point.kind, point.channel, point.outcome) == ("call", "video", "completed")
        assert point.handle_s > 0 and point.wait_s is not None and point.stage != ""
        detail = server.api("GET", f"/api/contacts/{contact_id}", server.admin_token()).json()
        assert detail["contact"]["status"] == "active" and detail["contact"]["channel"] == "chat"


async def test_the_agent_calls_the_visitor_of_a_chat(tmp_path: Path) -> None:
    with live_server(tmp_path) as server:
        desk(server)
        agent = await agent_device(server)
        visitor = await visitor_device(server)
        other_tab = await visitor_device(server, visitor.token)
        try:
            contact_id = await chat_with(visitor, agent)
            side = await agent.invite("audio", contact_id=contact_id)
            # Every tab of the visitor rings; the first to answer takes it.
            invite = await visitor.wait_invite()
            await other_tab.wait_invite()
            assert invite["caller_kind"] == "agent" and invite["caller_name"] == "Alice"
            await visitor.accept(side.call_id)
            assert (await other_tab.wait_state(side.call_id, "ended"))["reason"] == "answered_elsewhere"
            connecting = await agent.wait_state(side.call_id, "connecting")
            assert connecting["polite"] is True and connecting["role"] == "caller"
            assert (await visitor.wait_state(side.call_id, "connecting"))["polite"] is False
            await agent.wait_state(side.call_id, "active")
            await until(lambda: media_flows(visitor, agent, call_id=side.call_id, kinds=("audio",)), 60)
            await visitor.hangup(side.call_id)
            assert (await agent.wait_state(side.call_id, "ended"))["reason"] == "completed"
        finally:
            await close_all(visitor, other_tab, agent)
        row = await ended_row(server, side.call_id)
        assert row.origin == "agent" and row.caller_party == agent.party_id
        assert row.callee_party == visitor.party_id


async def test_offer_accept_on_a_ringing_call_answers_it(tmp_path: Path) -> None:
    """A console that answers the routing offer answers the call."""
    async with agent_and_visitor(tmp_path) as (_server, agent, visitor):
        side = await visitor.invite("audio", queue="sales")
        await agent.wait_invite()
        await agent.request({"type": "offer.accept", "contact_id": side.contact_id})
        await agent.wait_state(side.call_id, "active")
        await agent.wait_for(lambda e: e.get("type") == "contact.assigned")
        await visitor.hangup(side.call_id)
        await agent.wait_state(side.call_id, "ended")
        await agent.wait_for(lambda e: e.get("type") == "contact.released")


async def test_both_sides_calling_at_once_end_up_in_one_call(tmp_path: Path) -> None:
    async with agent_and_visitor(tmp_path) as (_server, agent, visitor):
        contact_id = await chat_with(visitor, agent)
        first = await agent.invite("audio", contact_id=contact_id)
        await visitor.wait_invite()
        # The visitor had pressed "call" too: its own invite is replaced and it
        # answers the agent's call.
        second = await visitor.invite("audio", contact_id=contact_id)
        replaced = await visitor.wait_state(second.call_id, "ended")
        assert replaced["reason"] == "replaced" and replaced["replaced_by"] == first.call_id
        await agent.wait_state(first.call_id, "active")
        await visitor.wait_state(first.call_id, "active")
        await agent.hangup(first.call_id)


async def test_refused_frames_get_errors_and_the_call_goes_on(tmp_path: Path) -> None:
    async with agent_and_visitor(tmp_path) as (_server, agent, visitor):
        side = await visitor.invite("audio", queue="sales")
        call_id = side.call_id
        await agent.wait_invite()
        await agent.accept(call_id)
        await visitor.wait_state(call_id, "active")

        async def refused(device: CallDevice, frame: Mapping[str, object]) -> str:
            try:
                await device.request(frame)
            except Exception as exc:
                return str(getattr(exc, "code", exc))
            raise AssertionError(f"accepted: {json.dumps(frame)[:200]}")

        bad_sdp = {"type": "offer", "sdp": "hello"}
        assert await refused(
            visitor, {"type": "call.negotiate", "call_id": call_id, "description": bad_sdp}
        ) == ("sdp_invalid")
        huge = {"type": "offer", "sdp": "v=0\r\n" + "a=x\r\n" * 14_000}
        assert await refused(
            visitor, {"type": "call.negotiate", "call_id": call_id, "description": huge}
        ) == ("sdp_too_large")
        bad_candidate = [{"candidate": "candidate:x", "sdpMid": "0", "sdpMLineIndex": 0}]
        assert await refused(
            agent, {"type": "call.candidates", "call_id": call_id, "candidates": bad_candidate}
        ) == ("candidate_invalid")
        many = [{"candidate": "", "sdpMid": "0", "sdpMLineIndex": 0}] * 33
        assert await refused(agent, {"type": "call.candidates", "call_id": call_id, "candidates": many}) == (
            "too_many_candidates"
        )
        stats = {"type": "call.stats", "call_id": call_id, "rtt_ms": -1, "jitter_ms": 0, "loss_pct": 0}
        assert await refused(visitor, stats) == "stats_invalid"
        assert await refused(visitor, {"type": "call.accept", "call_id": call_id}) == "not_a_party"
        assert await refused(visitor, {"type": "call.hangup", "call_id": "no-such-call"}) == "not_found"
        other = {"type": "call.hangup", "call_id": call_id, "party_id": agent.party_id}
        assert await refused(visitor, other) == "forbidden"
        # The same id again is applied once.
        frame = {"type": "call.media_state", "call_id": call_id, "id": "m-1", "muted": True}
        await visitor.send(frame)
        await visitor.send(frame)
        await visitor.wait_for(lambda e: e.get("type") == "ack" and e.get("duplicate") is True)
        assert len(of_type(agent, "call.media_state")) == 1

        # None of it harmed the call: still active, media still flowing.
        assert visitor.calls[call_id].state == "active" and agent.calls[call_id].state == "active"
        await until(lambda: media_flows(visitor, agent, call_id=call_id, kinds=("audio",)), 60)
        await visitor.hangup(call_id)
        assert (await agent.wait_state(call_id, "ended"))["reason"] == "completed"


async def test_quality_samples_are_scored_and_warnings_reach_both_sides(tmp_path: Path) -> None:
    async with agent_and_visitor(tmp_path, stats_every_s=60) as (server, agent, visitor):
        side = await visitor.invite("audio", queue="sales")
        await agent.wait_invite()
        await agent.accept(side.call_id)
        await visitor.wait_state(side.call_id, "active")
        bad = {
            "type": "call.stats",
            "call_id": side.call_id,
            "rtt_ms": 80,
            "jitter_ms": 5,
            "loss_pct": 15,
        }
        for _ in range(3):
            await visitor.request({**bad, "relayed": False, "codec": "audio/opus", "bitrate_kbps": 32})
        warned = await agent.wait_for(lambda e: e.get("type") == "call.quality")
        assert warned["party_id"] == visitor.party_id and warned["warning"] in ("low_mos", "high_loss")
        await visitor.wait_for(lambda e: e.get("type") == "call.quality")
        good = {**bad, "loss_pct": 0}
        for _ in range(5):
            await visitor.request(good)
        await agent.wait_for(lambda e: e.get("type") == "call.quality" and e.get("warning") == "")
        await visitor.hangup(side.call_id)
        row = await ended_row(server, side.call_id)
        quality = row.quality
        assert quality["samples"] == 8 and quality["relayed"] is False
        assert (
            set(quality["warnings_seen"]) == {"high_loss", "low_mos"} and quality["bitrate_kbps_mean"] == 32.0
        )
        assert quality["mos_min"] < 3.5 < quality["mos_mean"] < 4.5


async def test_hold_is_relayed_and_counted_apart_from_talk(tmp_path: Path) -> None:
    async with agent_and_visitor(tmp_path, stats_every_s=60) as (server, agent, visitor):
        side = await visitor.invite("audio", queue="sales")
        await agent.wait_invite()
        await agent.accept(side.call_id)
        await visitor.wait_state(side.call_id, "active")
        await agent.request({"type": "call.media_state", "call_id": side.call_id, "on_hold": True})
        held = await visitor.wait_for(lambda e: e.get("type") == "call.media_state" and e.get("on_hold"))
        assert held["party_id"] == agent.party_id
        await asyncio.sleep(1.0)
        await agent.request({"type": "call.media_state", "call_id": side.call_id, "on_hold": False})
        await until(lambda: len(of_type(visitor, "call.media_state")) == 2, 20, "resumed")
        assert not of_type(visitor, "call.media_state")[-1].get("on_hold")
        await agent.hangup(side.call_id)
        await visitor.wait_state(side.call_id, "ended")
        row = await ended_row(server, side.call_id)
        assert row.hold_s >= 0.9 and row.talk_s > 0
        assert touchpoint(server, row.touchpoint_id).data["call"]["hold_s"] == row.hold_s
