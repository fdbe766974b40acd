"""What the message benchmarks share: starting server processes, a closed-loop load
generator, and a population of visitors and agents speaking our protocol.

A "pair" is one visitor conversation with an agent.  Each visitor runs a closed loop:
send a message, wait until the agent's socket has it, send the next (optionally
paced).  Latency is send -> delivered, measured in the load generator's process.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import shutil
import socket
import subprocess
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
import websockets

ADMIN_PASSWORD = "bench-admin-password"
AGENT_PASSWORD = "bench-password"
CHATS_PER_AGENT = 10
WARMUP_S = 2.0


@dataclass
class Result:
    name: str
    pairs: int
    delivered: int
    seconds: float
    latencies_ms: list[float] = field(repr=False)

    @property
    def rate(self) -> float:
        return self.delivered / self.seconds

    def quantile(self, q: float) -> float:
        data = sorted(self.latencies_ms)
        return data[min(len(data) - 1, int(q * len(data)))] if data else float("nan")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def pinned(cpu: int | None, cmd: list[str]) -> list[str]:
    if cpu is None or not shutil.which("taskset"):
        return cmd
    return ["taskset", "-c", str(cpu), *cmd]


@contextlib.asynccontextmanager
async def process(
    cmd: list[str], env: dict[str, str], ready: Callable[[], Any], timeout_s: float = 60
) -> AsyncIterator[subprocess.Popen[bytes]]:
    """Run ``cmd`` until the block ends; wait until ``ready()`` says it serves."""
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + timeout_s
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"{cmd} exited: {proc.stderr.read().decode() if proc.stderr else ''}")
            with contextlib.suppress(OSError, httpx.HTTPError, websockets.WebSocketException):
                if await ready():
                    break
            if time.monotonic() > deadline:
                raise RuntimeError(f"{cmd} did not become ready")
            await asyncio.sleep(0.1)
        yield proc
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()


def healthy(base_url: str) -> Callable[[], Any]:
    async def ready() -> bool:
        async with httpx.AsyncClient() as client:
            return (await client.get(base_url + "/healthz")).status_code == 200

    return ready


class Deliveries:
    """Futures the agents' readers resolve when a visitor's message arrives."""

    def __init__(self, pairs: int) -> None:
        self.waiters: list[asyncio.Future[float] | None] = [None] * pairs

    def arrived(self, body: str) -> None:
        index = int(body.split(" ", 1)[0])
        future = self.waiters[index]
        if future is not None and not future.done():
            future.set_result(time.perf_counter())


async def closed_loop(
    pairs: int,
    seconds: float,
    send: Callable[[int, str], Any],
    deliveries: Deliveries,
    pace_s: float = 0.0,
) -> tuple[int, list[float]]:
    """Every visitor sends, waits for delivery, (sleeps ``pace_s``,) repeats.  Returns
    the deliveries and latencies inside the measured window, after the warm-up."""
    loop = asyncio.get_running_loop()
    measure_from = loop.time() + WARMUP_S
    stop_at = measure_from + seconds
    latencies: list[float] = []
    delivered = 0

    async def visitor(i: int) -> None:
        nonlocal delivered
        n = 0
        if pace_s:
            await asyncio.sleep(pace_s * i / pairs)  # spread the starts
        while loop.time() < stop_at:
            n += 1
            future: asyncio.Future[float] = loop.create_future()
            deliveries.waiters[i] = future
            sent = time.perf_counter()
            await send(i, f"{i} {n}")
            try:
                got = await asyncio.wait_for(future, 30)
            except TimeoutError:
                continue
            if measure_from <= loop.time() < stop_at:
                delivered += 1
                latencies.append((got - sent) * 1000)
            if pace_s:
                await asyncio.sleep(pace_s)

    await asyncio.gather(*(visitor(i) for i in range(pairs)))
    return delivered, latencies


async def admin_setup(base_url: str, queues: list[str], agents: list[tuple[str, list[str]]]) -> list[str]:
    """Create queues and agents (name, queues served); return the agents' tokens."""
    async with httpx.AsyncClient(base_url=base_url, timeout=60) as http:
        login = await http.post("/api/auth/login", json={"username": "admin", "password": ADMIN_PASSWORD})
        auth = {"Authorization": f"Bearer {login.json()['token']}"}
        for queue in queues:
            await http.post("/api/admin/queues", json={"id": queue, "offer_timeout_s": 60}, headers=auth)
        tokens = []
        for name, served in agents:
            await http.post(
                "/api/admin/agents",
                headers=auth,
                json={
                    "username": name,
                    "password": AGENT_PASSWORD,
                    "capacity": {"chat": CHATS_PER_AGENT},
                    "queues": served,
                },
            )
            response = await http.post("/api/auth/login", json={"username": name, "password": AGENT_PASSWORD})
            tokens.append(response.json()["token"])
        return tokens


async def visitor_tokens(base_url: str, count: int) -> list[str]:
    async with httpx.AsyncClient(base_url=base_url, timeout=60) as http:
        return [(await http.post("/api/visitor/token", json={})).json()["token"] for _ in range(count)]


@dataclass
class Population:
    """Connected agents and visitors, every visitor's conversation assigned."""

    visitors: list[Any]
    agents: list[Any]
    contact_ids: list[str]
    deliveries: Deliveries
    readers: list[asyncio.Task[None]]
    counter: list[int] = field(default_factory=lambda: [0])

    async def send(self, i: int, body: str) -> None:
        self.counter[0] += 1
        frame = {
            "type": "chat.message",
            "id": f"m{self.counter[0]}",
            "contact_id": self.contact_ids[i],
            "body": body,
        }
        await self.visitors[i].send(json.dumps(frame))

    async def close(self) -> None:
        for ws in self.visitors + self.agents:
            with contextlib.suppress(Exception):
                await ws.close()
        for task in self.readers:
            task.cancel()


async def populate(
    agent_urls: list[str],
    agent_tokens: list[str],
    visitor_urls: list[str],
    visitor_tokens_: list[str],
    visitor_queues: list[str],
) -> Population:
    """Connect agents (each to its ws base URL), make them available, then connect
    visitors and start a chat each in its queue; return once all are assigned."""
    pairs = len(visitor_tokens_)
    deliveries = Deliveries(pairs)
    assigned = 0
    all_assigned = asyncio.Event()

    async def agent_reader(ws: Any) -> None:
        nonlocal assigned
        with contextlib.suppress(websockets.ConnectionClosed):
            async for raw in ws:
                event = json.loads(raw)
                kind = event["type"]
                if kind == "chat.message" and event["sender"]["kind"] == "visitor":
                    deliveries.arrived(event["body"])
                elif kind == "offer":
                    contact_id = event["contact"]["id"]
                    await ws.send(
                        json.dumps(
                            {"type": "offer.accept", "id": "a-" + contact_id, "contact_id": contact_id}
                        )
                    )
                elif kind == "contact.assigned":
                    assigned += 1
                    if assigned == pairs:
                        all_assigned.set()

    agents = []
    for url, token in zip(agent_urls, agent_tokens, strict=True):
        ws = await websockets.connect(url + "/ws/agent", max_size=None, compression=None)
        await ws.send(json.dumps({"type": "hello", "token": token}))
        agents.append(ws)
    readers = [asyncio.create_task(agent_reader(ws)) for ws in agents]
    for ws in agents:
        await ws.send(json.dumps({"type": "agent.status", "id": "s", "status": "available"}))
    await asyncio.sleep(0.5)

    started = [asyncio.get_running_loop().create_future() for _ in range(pairs)]

    async def visitor_reader(i: int, ws: Any) -> None:
        with contextlib.suppress(websockets.ConnectionClosed):
            async for raw in ws:
                event = json.loads(raw)
                if event["type"] == "ack" and event["id"] == "start" and not started[i].done():
                    started[i].set_result(event["contact_id"])

    visitors = []
    for i, (url, token, queue) in enumerate(zip(visitor_urls, visitor_tokens_, visitor_queues, strict=True)):
        ws = await websockets.connect(url + "/ws/visitor", max_size=None, compression=None)
        await ws.send(json.dumps({"type": "hello", "token": token}))
        await ws.send(json.dumps({"type": "chat.start", "id": "start", "queue": queue, "name": f"v{i}"}))
        visitors.append(ws)
        readers.append(asyncio.create_task(visitor_reader(i, ws)))
    contact_ids = [await asyncio.wait_for(future, 60) for future in started]
    await asyncio.wait_for(all_assigned.wait(), 180)
    return Population(visitors, agents, contact_ids, deliveries, readers)
