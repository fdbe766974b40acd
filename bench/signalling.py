"""Call signalling through the gateway: set-ups per second, and how long a real call
takes to connect.

    python -m bench.signalling [--pairs 20] [--seconds 10] [--calls 10]

1. **Set-ups per second, synthetic SDP.**  P visitors and P agents (one console each,
   voice capacity 1) on our server (embedded default: SQLite, in-process bus; pinned
   to CPU 0, the load generator on CPU 1).  Each visitor runs a closed loop of whole
   calls from the widget's queue: ``call.invite`` -> routed offer -> the agent's
   console rings, says ``call.ringing`` and ``call.accept`` -> ``call.offer`` (a 2 KB
   SDP) and trickled candidates -> ``call.answer`` and candidates -> both report
   ``connected`` -> ``active`` -> ``call.hangup`` -> ``ended`` at both ends.  No media.
   Baseline in the same run, same sockets: the same loop for *chats* (``chat.start`` ->
   offer -> ``offer.accept`` -> ``contact.assigned`` -> ``contact.end``), i.e. a
   routed contact without the call signalling; the ratio is what calls cost on top.
2. **Invite to connected, real media.**  An aiortc visitor calls an aiortc agent
   through the same server, one call at a time (loopback host candidates, trickled,
   ICE, DTLS): time from sending ``call.invite`` to both RTCPeerConnections
   "connected".  Baseline: the same two peers connected directly in one process, no
   server (``signalling.peer.connect_pair``).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import json
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
import websockets

from bench.harness import ADMIN_PASSWORD, AGENT_PASSWORD, WARMUP_S, free_port, healthy, pinned, process
from bench.relay import server_env
from bench.report import machine_line, write_section

QUEUE = "bench"
ROUNDS = 4
_ids = itertools.count(1)


def synthetic_sdp(kind: str) -> str:
    """A plausible 2 KB audio+video session description (validates like a browser's)."""
    session = uuid.uuid4().int % 10**18
    lines = ["v=0", f"o=- {session} 2 IN IP4 127.0.0.1", "s=-", "t=0 0", "a=group:BUNDLE 0 1"]
    for mid, (media, payloads) in enumerate((("audio", "111 63 9 0 8 13 110 126"), ("video", "96 97 98 99"))):
        lines += [
            f"m={media} 9 UDP/TLS/RTP/SAVPF {payloads}",
            "c=IN IP4 0.0.0.0",
            "a=rtcp:9 IN IP4 0.0.0.0",
            "a=ice-ufrag:EsAw",
            "a=ice-pwd:P2uYro0UCOQ4zxjKXaWCBui1",
            "a=ice-options:trickle",
            "a=fingerprint:sha-256 " + ":".join(["AB"] * 32),
            f"a=setup:{'actpass' if kind == 'offer' else 'active'}",
            f"a=mid:{mid}",
            "a=sendrecv",
            "a=rtcp-mux",
        ]
        for payload in payloads.split():
            lines.append(f"a=rtpmap:{payload} {'opus/48000/2' if media == 'audio' else 'VP8/90000'}")
    return "\r\n".join(lines) + "\r\n"


CANDIDATES = [
    {
        "candidate": f"candidate:{n} 1 udp {2122260223 - n} 127.0.0.1 {50000 + n} typ host",
        "sdpMid": "0",
        "sdpMLineIndex": 0,
    }
    for n in range(3)
] + [{"candidate": "", "sdpMid": "0", "sdpMLineIndex": 0}]


# --------------------------------------------------------------------------- sockets


class Socket:
    """A protocol client: a reader that hands every event to ``on_event`` and resolves
    what :meth:`expect` waits for (an event that came first is kept for its waiter)."""

    def __init__(self, ws: Any, on_event: Callable[[Socket, dict[str, Any]], Awaitable[None]]) -> None:
        self.ws = ws
        self.on_event = on_event
        self.user_id = ""
        self.waiters: dict[str, asyncio.Future[dict[str, Any]]] = {}
        self.seen: dict[str, dict[str, Any]] = {}
        self.reader = asyncio.create_task(self._read())

    @classmethod
    async def open(
        cls, url: str, token: str, on_event: Callable[[Socket, dict[str, Any]], Awaitable[None]]
    ) -> Socket:
        ws = await websockets.connect(url, max_size=None)
        sock = cls(ws, on_event)
        welcome = sock.expect("welcome")
        await sock.send({"type": "hello", "token": token})
        sock.user_id = (await welcome)["user_id"]
        return sock

    def expect(self, key: str) -> asyncio.Future[dict[str, Any]]:
        future: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        if key in self.seen:
            future.set_result(self.seen.pop(key))
        else:
            self.waiters[key] = future
        return future

    @staticmethod
    def key(event: dict[str, Any]) -> str | None:
        kind = event.get("type")
        if kind == "ack":
            return f"ack:{event['id']}"
        if kind == "call.state":
            return f"call.state:{event['call_id']}:{event['state']}"
        if kind in ("contact.joined", "contact.ended"):
            return f"{kind}:{event['contact_id']}"
        if kind == "welcome":
            return "welcome"
        return None

    async def _read(self) -> None:
        with contextlib.suppress(websockets.ConnectionClosed):
            async for raw in self.ws:
                event = json.loads(raw)
                key = self.key(event)
                if key is not None:
                    future = self.waiters.pop(key, None)
                    if future is not None and not future.done():
                        future.set_result(event)
                    elif key.startswith(("call.state", "contact.")):
                        self.seen[key] = event
                        if len(self.seen) > 1000:
                            self.seen.pop(next(iter(self.seen)))
                await self.on_event(self, event)

    async def send(self, frame: dict[str, Any]) -> None:
        await self.ws.send(json.dumps(frame))

    async def close(self) -> None:
        with contextlib.suppress(Exception):
            await self.ws.close()
        self.reader.cancel()


async def agent_handler(sock: Socket, event: dict[str, Any]) -> None:
    """A console that answers every call and every chat at once."""
    kind = event.get("type")
    if kind == "call.invite":
        await sock.send({"type": "call.ringing", "call_id": event["call_id"]})
        await sock.send({"type": "call.accept", "call_id": event["call_id"]})
    elif kind == "call.offer":
        call_id = event["call_id"]
        answer = {"type": "answer", "sdp": synthetic_sdp("answer")}
        await sock.send({"type": "call.answer", "call_id": call_id, "description": answer})
        await sock.send({"type": "call.candidates", "call_id": call_id, "candidates": CANDIDATES})
        await sock.send({"type": "call.media_state", "call_id": call_id, "connection": "connected"})
    elif kind == "offer" and event["contact"]["channel"] == "chat":
        await sock.send(
            {"type": "offer.accept", "id": f"a{next(_ids)}", "contact_id": event["contact"]["id"]}
        )
    elif kind == "contact.assigned" and event["contact"]["channel"] == "chat":
        contact_id = event["contact"]["id"]
        await sock.send({"type": "contact.end", "id": f"e{next(_ids)}", "contact_id": contact_id})


async def visitor_handler(sock: Socket, event: dict[str, Any]) -> None:
    if event.get("type") == "call.answer":
        await sock.send({"type": "call.media_state", "call_id": event["call_id"], "connection": "connected"})


async def one_call(sock: Socket) -> float:
    """A whole call from the visitor's side; returns invite -> active (s)."""
    call_id = uuid.uuid4().hex
    frame_id = f"i{next(_ids)}"
    ack = sock.expect(f"ack:{frame_id}")
    initiating = sock.expect(f"call.state:{call_id}:initiating")
    active = sock.expect(f"call.state:{call_id}:active")
    ended = sock.expect(f"call.state:{call_id}:ended")
    start = time.perf_counter()
    await sock.send(
        {"type": "call.invite", "id": frame_id, "call_id": call_id, "media": "video", "queue": QUEUE}
    )
    await asyncio.wait_for(ack, 30)
    await asyncio.wait_for(initiating, 30)
    offer = {"type": "offer", "sdp": synthetic_sdp("offer")}
    await sock.send({"type": "call.offer", "call_id": call_id, "description": offer})
    await sock.send({"type": "call.candidates", "call_id": call_id, "candidates": CANDIDATES})
    await asyncio.wait_for(active, 30)
    setup = time.perf_counter() - start
    await sock.send({"type": "call.hangup", "call_id": call_id})
    await asyncio.wait_for(ended, 30)
    return setup


async def one_chat(sock: Socket) -> float:
    """A routed chat from start to its end; returns start -> assigned (s)."""
    frame_id = f"s{next(_ids)}"
    ack = sock.expect(f"ack:{frame_id}")
    start = time.perf_counter()
    await sock.send({"type": "chat.start", "id": frame_id, "queue": QUEUE, "name": "Bench"})
    contact_id = (await asyncio.wait_for(ack, 30))["contact_id"]
    joined = sock.expect(f"contact.joined:{contact_id}")
    ended = sock.expect(f"contact.ended:{contact_id}")
    await asyncio.wait_for(joined, 30)
    answered = time.perf_counter() - start
    await asyncio.wait_for(ended, 30)
    return answered


@dataclass
class LoopResult:
    name: str
    completed: int
    seconds: float
    latencies_s: list[float] = field(repr=False)

    @property
    def rate(self) -> float:
        return self.completed / self.seconds

    @property
    def median_ms(self) -> float:
        return statistics.median(self.latencies_s) * 1000 if self.latencies_s else float("nan")


async def closed_loop(
    name: str,
    visitors: list[Socket],
    seconds: float,
    once: Callable[[Socket], Awaitable[float]],
    warmup_s: float = WARMUP_S,
) -> LoopResult:
    loop = asyncio.get_running_loop()
    measure_from = loop.time() + warmup_s
    stop_at = measure_from + seconds
    latencies: list[float] = []
    completed = 0

    async def run(sock: Socket) -> None:
        nonlocal completed
        while loop.time() < stop_at:
            latency = await once(sock)
            if measure_from <= loop.time() < stop_at:
                completed += 1
                latencies.append(latency)

    await asyncio.gather(*(run(sock) for sock in visitors))
    return LoopResult(name, completed, seconds, latencies)


async def setup_desk(base: str, agents: int) -> list[str]:
    async with httpx.AsyncClient(base_url=base, timeout=60) as http:
        login = await http.post("/api/auth/login", json={"username": "admin", "password": ADMIN_PASSWORD})
        auth = {"Authorization": f"Bearer {login.json()['token']}"}
        await http.post("/api/admin/queues", json={"id": QUEUE, "offer_timeout_s": 60}, headers=auth)
        tokens = []
        for n in range(agents):
            await http.post(
                "/api/admin/agents",
                headers=auth,
                json={
                    "username": f"agent{n}",
                    "password": AGENT_PASSWORD,
                    "capacity": {"chat": 1, "voice": 1},
                    "queues": [QUEUE],
                },
            )
            response = await http.post(
                "/api/auth/login", json={"username": f"agent{n}", "password": AGENT_PASSWORD}
            )
            tokens.append(response.json()["token"])
        return tokens


async def visitor_tokens(base: str, count: int) -> list[str]:
    async with httpx.AsyncClient(base_url=base, timeout=60) as http:
        return [(await http.post("/api/visitor/token", json={})).json()["token"] for _ in range(count)]


# --------------------------------------------------------------------------- aiortc


async def real_calls(base: str, ws_base: str, calls: int) -> list[float]:
    """invite -> both peers connected, one real call at a time."""
    from contact_center.calls.bot import CallDevice

    async with httpx.AsyncClient(base_url=base, timeout=60) as http:
        login = await http.post("/api/auth/login", json={"username": "admin", "password": ADMIN_PASSWORD})
        auth = {"Authorization": f"Bearer {login.json()['token']}"}
        await http.post("/api/admin/queues", json={"id": "real", "offer_timeout_s": 60}, headers=auth)
        await http.post(
            "/api/admin/agents",
            headers=auth,
            json={"username": "real-agent", "password": AGENT_PASSWORD, "queues": ["real"]},
        )
        token = (
            await http.post("/api/auth/login", json={"username": "real-agent", "password": AGENT_PASSWORD})
        ).json()["token"]
        visitor_token = (await http.post("/api/visitor/token", json={})).json()["token"]
    agent = CallDevice(ws_base + "/ws/agent", token, loopback=True, auto_answer=True, stats_every_s=60)
    visitor = CallDevice(ws_base + "/ws/visitor", visitor_token, loopback=True, stats_every_s=60)
    await agent.connect()
    await visitor.connect()
    await agent.request({"type": "agent.status", "status": "available"})
    times: list[float] = []
    try:
        for _ in range(calls):
            start = time.monotonic()
            side = await visitor.invite("video", queue="real")
            await visitor.wait_state(side.call_id, "active")
            peers = [device.calls[side.call_id].peer for device in (visitor, agent)]
            connected = [peer.connected_at for peer in peers if peer is not None]
            assert len(connected) == 2 and None not in connected
            times.append(max(t for t in connected if t is not None) - start)
            await visitor.hangup(side.call_id)
            await agent.wait_state(side.call_id, "ended")
            await asyncio.sleep(0.2)
    finally:
        await visitor.close()
        await agent.close()
    return times


async def direct_pairs(calls: int) -> list[float]:
    from signalling.peer import HeadlessPeer, connect_pair

    times = []
    for _ in range(calls):
        caller = HeadlessPeer([], loopback=True)
        callee = HeadlessPeer([], loopback=True)
        try:
            start = time.monotonic()
            await connect_pair(caller, callee, timeout=30)
            times.append(time.monotonic() - start)
        finally:
            await caller.close()
            await callee.close()
    return times


# --------------------------------------------------------------------------- run


@dataclass
class Run:
    pairs: int
    seconds: float
    chats: LoopResult
    calls: LoopResult
    real_ms: list[float]
    direct_ms: list[float]


async def main(pairs: int, seconds: float, calls: int) -> Run:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    ws_base = f"ws://127.0.0.1:{port}"
    with tempfile.TemporaryDirectory() as data_dir:
        cmd = pinned(0, [sys.executable, "-m", "contact_center.cli", "serve"])
        async with process(cmd, server_env(data_dir, port, CC_ROUTER_TICK_S="0.1"), healthy(base)):
            tokens = await setup_desk(base, pairs)
            agents = [await Socket.open(ws_base + "/ws/agent", token, agent_handler) for token in tokens]
            for sock in agents:
                await sock.send({"type": "agent.status", "id": f"st{next(_ids)}", "status": "available"})
            visitors = [
                await Socket.open(ws_base + "/ws/visitor", token, visitor_handler)
                for token in await visitor_tokens(base, pairs)
            ]
            await asyncio.sleep(1.0)
            # Alternate short rounds of each, so a noisy neighbour weighs on both alike.
            chats = LoopResult("chat: start -> assigned -> end", 0, 0.0, [])
            calls_result = LoopResult("call: invite -> active -> ended", 0, 0.0, [])
            for _ in range(ROUNDS):
                for total, once in ((chats, one_chat), (calls_result, one_call)):
                    part = await closed_loop(total.name, visitors, seconds / ROUNDS, once, warmup_s=1.0)
                    total.completed += part.completed
                    total.seconds += part.seconds
                    total.latencies_s += part.latencies_s
            print(f"chats: {chats.rate:.1f}/s, median start->assigned {chats.median_ms:.1f} ms")
            print(f"calls: {calls_result.rate:.1f}/s, median invite->active {calls_result.median_ms:.1f} ms")
            for sock in agents + visitors:
                await sock.close()
            real = await real_calls(base, ws_base, calls)
            print(f"real calls: median invite->connected {statistics.median(real) * 1000:.0f} ms")
    direct = await direct_pairs(calls)
    print(f"direct pairs: median {statistics.median(direct) * 1000:.0f} ms")
    return Run(pairs, seconds, chats, calls_result, [t * 1000 for t in real], [t * 1000 for t in direct])


def markdown(run: Run) -> str:
    ratio = run.calls.rate / run.chats.rate if run.chats.rate else float("nan")
    real, direct = statistics.median(run.real_ms), statistics.median(run.direct_ms)
    return "\n".join(
        [
            "## Call signalling (`python -m bench.signalling`)",
            "",
            f"{machine_line()}. Server: the embedded default (SQLite, in-process bus) pinned to one CPU, "
            "the load generator on the other.",
            "",
            f"**Set-ups through the gateway, synthetic SDP.** {run.pairs} visitors and {run.pairs} "
            f"agents, each visitor in a closed loop, {run.seconds:.0f} s of each loop measured in "
            f"{ROUNDS} alternating rounds (1 s warm-up each). A call is the whole life of a call from "
            "the widget's queue: invite, routed offer, ringing, accept, a 2 KB offer and answer, trickled "
            "candidates both ways, both sides connected, active, hang-up, ended at both ends (the calls "
            "row written as it goes, the contact and its touchpoint at the end). Baseline, same run and "
            "sockets: a routed chat's whole life (start, offer, accept, assigned, end).",
            "",
            "| loop | completed/s | median to answered ms | rate vs chat |",
            "|---|---:|---:|---:|",
            f"| {run.chats.name} | {run.chats.rate:.1f} | {run.chats.median_ms:.1f} | 1.00 |",
            f"| {run.calls.name} | {run.calls.rate:.1f} | {run.calls.median_ms:.1f} | {ratio:.2f} |",
            "",
            f"**Invite to connected, real media.** {len(run.real_ms)} video calls one after the other "
            "between two aiortc peers through the server (loopback host candidates trickled through it, "
            "ICE, DTLS): from sending call.invite to both RTCPeerConnections connected; baseline: the same "
            "peers connected directly in one process.",
            "",
            "| path | median ms | min ms | max ms | vs direct |",
            "|---|---:|---:|---:|---:|",
            f"| direct, no server | {direct:.0f} | {min(run.direct_ms):.0f} | "
            f"{max(run.direct_ms):.0f} | 1.00 |",
            f"| invite -> both connected, through the server | {real:.0f} | {min(run.real_ms):.0f} | "
            f"{max(run.real_ms):.0f} | {real / direct:.2f} |",
            "",
            f"Reading: a call's whole life costs the gateway about {1 / ratio:.1f}x a routed chat's "
            "(a dozen more frames, each validated and relayed, and the calls row; its intermediate "
            "states are group-committed), and a call through the server connects "
            f"{real - direct:.0f} ms after the same peers would on their own: the invite, routing, "
            "ringing and accept round trips before the offer can reach the callee.",
        ]
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--pairs", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--calls", type=int, default=10)
    parser.add_argument("--no-write", action="store_true", help="print only")
    args = parser.parse_args()
    result = asyncio.run(main(args.pairs, args.seconds, args.calls))
    if not args.no_write:
        write_section("signalling", markdown(result))
        print("wrote docs/benchmarks.md")
