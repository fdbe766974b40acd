"""Real WebRTC between two headless aiortc peers in this process, over loopback.

The signalling goes through our own validators and call state machine (no server, no
sockets): the SDP carries no candidates, they are trickled as ``call.candidates``
including end-of-candidates, exactly as the gateway will relay them.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Sequence
from typing import Any

import pytest

from signalling.call import Call, Effect, SendTo
from signalling.peer import HeadlessPeer, parse_sdp_candidates
from signalling.quality import CallQualityTracker
from signalling.validation import (
    parse_candidate,
    sdp_candidate_addresses,
    validate_candidates,
    validate_description,
    validate_stats,
)

FRAMES = 10  # per kind, per side: enough to prove media flows both ways


async def until(predicate: Callable[[], bool], limit_s: float) -> None:
    """Poll for a condition; a generous limit, never a timing assertion."""
    deadline = time.monotonic() + limit_s
    while not predicate():
        if time.monotonic() > deadline:
            raise TimeoutError("condition not met")
        await asyncio.sleep(0.05)


@pytest.mark.webrtc
async def test_two_peers_call_each_other_over_loopback() -> None:
    visitor = HeadlessPeer([], loopback=True)
    agent = HeadlessPeer([], loopback=True)
    call = Call("call-1", "visitor-tab")
    now = 0.0

    def relay(effects: Sequence[Effect], to: str, kind: str) -> list[dict[str, Any]]:
        return [
            e.message
            for e in effects
            if isinstance(e, SendTo) and e.party_id == to and e.message["type"] == kind
        ]

    try:
        call.invite(now)
        call.ring("agent-desk", now)
        call.ringing("agent-desk", now)

        offer = validate_description(await visitor.create_offer(), ("offer",))
        assert sdp_candidate_addresses(offer["sdp"]) == []  # trickled, not in the SDP
        visitor_candidates = validate_candidates(visitor.local_candidates(), 32)
        assert visitor_candidates[-1]["candidate"] == ""  # end of candidates
        for init in visitor_candidates:
            if not init["candidate"]:
                continue
            parsed = parse_candidate(init["candidate"])
            assert parsed is not None
            assert (parsed.type, parsed.address) == ("host", "127.0.0.1")

        # The visitor offers before anyone answered: the server holds it.
        assert call.offer("visitor-tab", offer, now) == []
        assert call.candidates("visitor-tab", visitor_candidates, now) == []
        effects = call.accept("agent-desk", now)
        [relayed_offer] = relay(effects, "agent-desk", "call.offer")
        [relayed_candidates] = relay(effects, "agent-desk", "call.candidates")

        answer_init = await agent.create_answer(relayed_offer["description"]["sdp"])
        answer = validate_description(answer_init, ("answer",))
        [relayed_answer] = relay(call.answer("agent-desk", answer, now), "visitor-tab", "call.answer")
        await visitor.set_remote_answer(relayed_answer["description"]["sdp"])

        for candidate in relayed_candidates["candidates"]:
            await agent.add_remote_candidate(candidate)
        agent_candidates = validate_candidates(agent.local_candidates(), 32)
        [back] = relay(call.candidates("agent-desk", agent_candidates, now), "visitor-tab", "call.candidates")
        for candidate in back["candidates"]:
            await visitor.add_remote_candidate(candidate)

        await asyncio.gather(visitor.wait_connected(20), agent.wait_connected(20))
        call.media_connected("visitor-tab", now)
        call.media_connected("agent-desk", now)
        assert call.state == "active"

        await until(
            lambda: all(
                peer.frames_received[kind] >= FRAMES
                for peer in (visitor, agent)
                for kind in ("audio", "video")
            ),
            limit_s=30,
        )
        for peer in (visitor, agent):
            stats = await peer.get_stats()
            assert stats["transport"]["bytes_received"] > 0
            for kind in ("audio", "video"):
                assert stats[kind]["packets_received"] > 0
                assert stats[kind]["frames_received"] >= FRAMES

        # A stats sample as a client would send it, scored like the server will.
        tracker = CallQualityTracker()
        tracker.ingest(validate_stats(await agent.stats_sample(), at=1.0), "agent-desk")
        score = tracker.smoothed_mos()
        assert score is not None and score > 4.0  # loopback: no loss, ~no delay

        visitor.set_audio_muted(True)
        call.hangup("visitor-tab", 1.0)
        assert call.end_reason == "completed"
    finally:
        await visitor.close()
        await agent.close()
    assert visitor.connection_state == "closed"


@pytest.mark.webrtc
async def test_aiortc_is_the_impolite_peer() -> None:
    """On an offer collision aiortc keeps its own offer and ignores the other one."""
    a = HeadlessPeer([], loopback=True, video=False)
    b = HeadlessPeer([], loopback=True, video=False)
    try:
        await a.create_offer()
        colliding = await b.create_offer()
        assert await a.handle_remote_description(colliding) is None
        assert a.pc.signalingState == "have-local-offer"
        # Without a collision an offer is answered.
        c = HeadlessPeer([], loopback=True, video=False)
        try:
            answer = await c.handle_remote_description(colliding)
            assert answer is not None and answer["type"] == "answer"
        finally:
            await c.close()
    finally:
        await a.close()
        await b.close()


def test_parse_sdp_candidates_keeps_mid_and_index() -> None:
    sdp = (
        "v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\n"
        "m=audio 9 UDP/TLS/RTP/SAVPF 111\r\na=mid:a0\r\n"
        "a=candidate:1 1 udp 2130706431 127.0.0.1 5000 typ host\r\n"
        "m=video 9 UDP/TLS/RTP/SAVPF 96\r\na=mid:v1\r\n"
        "a=candidate:2 1 udp 2130706431 127.0.0.1 5002 typ host\r\n"
    )
    assert parse_sdp_candidates(sdp) == [
        {
            "candidate": "candidate:1 1 udp 2130706431 127.0.0.1 5000 typ host",
            "sdpMid": "a0",
            "sdpMLineIndex": 0,
        },
        {
            "candidate": "candidate:2 1 udp 2130706431 127.0.0.1 5002 typ host",
            "sdpMid": "v1",
            "sdpMLineIndex": 1,
        },
    ]
