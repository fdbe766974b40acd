"""Visitor -> agent message relay: our gateway (validation, storage before ack, fan-out,
acks) against a raw ``websockets`` relay, same machine, same run, same client load.

    python -m bench.relay [--pairs 100,1000] [--seconds 8]

Topology, identical for both: P visitor sockets and P/10 agent sockets (each agent
holds 10 conversations).  Each visitor runs a closed loop: send one message, wait until
its agent's socket receives it, send the next.  Throughput is messages delivered per
second; latency is send -> delivered at the agent, measured in the client process.
The server runs pinned to CPU 0 and the load generator to CPU 1 (where taskset
exists).  Our server runs the embedded default (SQLite with synchronous=FULL, in-process
bus); its per-connection anti-flood limit is lifted because each bench socket sends far
faster than a person types.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any

import httpx
import uvloop
import websockets

from bench.report import machine_line, write_section

ADMIN_PASSWORD = "bench-admin-password"
CHATS_PER_AGENT = 10
WARMUP_S = 2.0


@dataclass
class Result:
    name: str
    pairs: int
    delivered: int
    seconds: float
    latencies_ms: list[float]

    @property
    def rate(self) -> float:
        return self.delivered / self.seconds

    def quantile(self, q: float) -> float:
        data = sorted(self.latencies_ms)
        return data[min(len(data) - 1, int(q * len(data)))] if data else float("nan")


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _pinned(cpu: int, cmd: list[str]) -> list[str]:
    return ["taskset", "-c", str(cpu), *cmd] if shutil.which("taskset") else cmd


@contextlib.asynccontextmanager
async def _process(
    cmd: list[str], env: dict[str, str], ready: Callable[[], Any]
) -> AsyncIterator[subprocess.Popen[bytes]]:
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 60
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"{cmd} exited: {proc.stderr.read().decode() if proc.stderr else ''}")
            try:
                if await ready():
                    break
            except (OSError, httpx.HTTPError):
                pass
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


async def _closed_loop(
    pairs: int,
    seconds: float,
    send: Callable[[int, str], Any],
    waiters: list[asyncio.Future[float] | None],
) -> tuple[int, list[float]]:
    """Every visitor sends, waits for delivery, repeats; returns deliveries and
    latencies inside the measured window (after the warm-up)."""
    loop = asyncio.get_running_loop()
    start = loop.time()
    measure_from = start + WARMUP_S
    stop_at = measure_from + seconds
    latencies: list[float] = []
    delivered = 0

    async def visitor(i: int) -> None:
        nonlocal delivered
        n = 0
        while loop.time() < stop_at:
            n += 1
            future: asyncio.Future[float] = loop.create_future()
            waiters[i] = future
            sent = time.perf_counter()
            await send(i, f"{i} {n}")
            try:
                got = await asyncio.wait_for(future, 30)
            except TimeoutError:
                continue
            if loop.time() >= measure_from and loop.time() < stop_at:
                delivered += 1
                latencies.append((got - sent) * 1000)

    await asyncio.gather(*(visitor(i) for i in range(pairs)))
    return delivered, latencies


def _resolve(waiters: list[asyncio.Future[float] | None], body: str) -> None:
    index = int(body.split(" ", 1)[0])
    future = waiters[index]
    if future is not None and not future.done():
        future.set_result(time.perf_counter())


# --------------------------------------------------------------------------- raw


async def run_raw(pairs: int, seconds: float) -> Result:
    port = _free_port()
    agents = max(1, pairs // CHATS_PER_AGENT)

    async def ready() -> bool:
        async with websockets.connect(f"ws://127.0.0.1:{port}/agent/probe"):
            return True

    cmd = _pinned(0, [sys.executable, "-m", "bench.raw_relay", str(port)])
    async with _process(cmd, dict(os.environ), ready):
        waiters: list[asyncio.Future[float] | None] = [None] * pairs
        agent_sockets = [
            await websockets.connect(f"ws://127.0.0.1:{port}/agent/a{a}", max_size=None, compression=None)
            for a in range(agents)
        ]

        async def read(ws: Any) -> None:
            with contextlib.suppress(websockets.ConnectionClosed):
                async for raw in ws:
                    _resolve(waiters, json.loads(raw)["body"])

        readers = [asyncio.create_task(read(ws)) for ws in agent_sockets]
        visitors = [
            await websockets.connect(f"ws://127.0.0.1:{port}/visitor", max_size=None, compression=None)
            for _ in range(pairs)
        ]

        async def send(i: int, body: str) -> None:
            await visitors[i].send(json.dumps({"to": f"a{i % agents}", "body": body}))

        delivered, latencies = await _closed_loop(pairs, seconds, send, waiters)
        for ws in visitors + agent_sockets:
            await ws.close()
        for task in readers:
            task.cancel()
    return Result("raw websockets relay", pairs, delivered, seconds, latencies)


# --------------------------------------------------------------------------- ours


async def run_ours(pairs: int, seconds: float) -> Result:
    port = _free_port()
    agents = max(1, pairs // CHATS_PER_AGENT)
    base = f"http://127.0.0.1:{port}"
    with tempfile.TemporaryDirectory() as data_dir:
        env = dict(os.environ)
        env.update(
            CC_DATA_DIR=data_dir,
            CC_PORT=str(port),
            CC_ADMIN_PASSWORD=ADMIN_PASSWORD,
            CC_RATE_PER_S="1000000",
            CC_RATE_BURST="1000000",
            CC_LOG_LEVEL="warning",
            CC_SEND_QUEUE_FRAMES="100000",
        )

        async def ready() -> bool:
            async with httpx.AsyncClient() as client:
                return (await client.get(base + "/healthz")).status_code == 200

        cmd = _pinned(0, [sys.executable, "-m", "contact_center.cli", "serve"])
        async with _process(cmd, env, ready) as server, httpx.AsyncClient(base_url=base, timeout=60) as http:
            token = (
                await http.post("/api/auth/login", json={"username": "admin", "password": ADMIN_PASSWORD})
            ).json()["token"]
            auth = {"Authorization": f"Bearer {token}"}
            await http.post("/api/admin/queues", json={"id": "bench", "offer_timeout_s": 60}, headers=auth)
            agent_tokens = []
            for a in range(agents):
                await http.post(
                    "/api/admin/agents",
                    headers=auth,
                    json={
                        "username": f"agent{a}",
                        "password": "bench-password",
                        "capacity": {"chat": CHATS_PER_AGENT},
                    },
                )
                login = await http.post(
                    "/api/auth/login", json={"username": f"agent{a}", "password": "bench-password"}
                )
                agent_tokens.append(login.json()["token"])
            visitor_tokens = [
                (await http.post("/api/visitor/token", json={})).json()["token"] for _ in range(pairs)
            ]

            # (The HTTP client is done; the server keeps running inside _process.)
            waiters: list[asyncio.Future[float] | None] = [None] * pairs
            assigned = 0
            all_assigned = asyncio.Event()

            async def agent_reader(ws: Any) -> None:
                nonlocal assigned
                with contextlib.suppress(websockets.ConnectionClosed):
                    async for raw in ws:
                        event = json.loads(raw)
                        kind = event["type"]
                        if kind == "chat.message" and event["sender"]["kind"] == "visitor":
                            _resolve(waiters, event["body"])
                        elif kind == "offer":
                            await ws.send(
                                json.dumps(
                                    {
                                        "type": "offer.accept",
                                        "id": "acc-" + event["contact"]["id"],
                                        "contact_id": event["contact"]["id"],
                                    }
                                )
                            )
                        elif kind == "contact.assigned":
                            assigned += 1
                            if assigned == pairs:
                                all_assigned.set()

            agent_sockets = []
            for t in agent_tokens:
                ws = await websockets.connect(
                    f"ws://127.0.0.1:{port}/ws/agent", max_size=None, compression=None
                )
                await ws.send(json.dumps({"type": "hello", "token": t}))
                agent_sockets.append(ws)
            readers = [asyncio.create_task(agent_reader(ws)) for ws in agent_sockets]
            for ws in agent_sockets:
                await ws.send(json.dumps({"type": "agent.status", "id": "s", "status": "available"}))

            contact_ids: list[str] = [""] * pairs
            visitors = []
            started = [asyncio.get_running_loop().create_future() for _ in range(pairs)]

            async def visitor_reader(i: int, ws: Any) -> None:
                with contextlib.suppress(websockets.ConnectionClosed):
                    async for raw in ws:
                        event = json.loads(raw)
                        if event["type"] == "ack" and event["id"] == "start" and not started[i].done():
                            started[i].set_result(event["contact_id"])

            for i, t in enumerate(visitor_tokens):
                ws = await websockets.connect(
                    f"ws://127.0.0.1:{port}/ws/visitor", max_size=None, compression=None
                )
                await ws.send(json.dumps({"type": "hello", "token": t}))
                await ws.send(
                    json.dumps({"type": "chat.start", "id": "start", "queue": "bench", "name": f"v{i}"})
                )
                visitors.append(ws)
                readers.append(asyncio.create_task(visitor_reader(i, ws)))
            for i in range(pairs):
                contact_ids[i] = await asyncio.wait_for(started[i], 60)
            await asyncio.wait_for(all_assigned.wait(), 120)

            counter = [0]

            async def send(i: int, body: str) -> None:
                counter[0] += 1
                await visitors[i].send(
                    json.dumps(
                        {
                            "type": "chat.message",
                            "id": f"m{counter[0]}",
                            "contact_id": contact_ids[i],
                            "body": body,
                        }
                    )
                )

            profiler = None
            if os.environ.get("BENCH_PROFILE"):
                # A sampling profile of the server during the measured window.
                profiler = subprocess.Popen(
                    [
                        "py-spy",
                        "record",
                        "--pid",
                        str(server.pid),
                        "--duration",
                        str(int(seconds)),
                        "--format",
                        "raw",
                        "--output",
                        os.environ["BENCH_PROFILE"],
                    ],
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                )
            delivered, latencies = await _closed_loop(pairs, seconds, send, waiters)
            if profiler is not None:
                profiler.wait(30)
            for ws in visitors + agent_sockets:
                await ws.close()
            for task in readers:
                task.cancel()
    return Result("our gateway", pairs, delivered, seconds, latencies)


# --------------------------------------------------------------------------- report


def _markdown(results: list[tuple[Result, Result]], seconds: float) -> str:
    lines = [
        "## Message relay: our gateway against a raw websockets relay (`bench/relay.py`)",
        "",
        f"{machine_line()}. Closed loop: each visitor sends one message and waits until its agent's "
        f"socket has it. {seconds:.0f} s measured after a {WARMUP_S:.0f} s warm-up; server pinned to one "
        "CPU, load generator on the other. Ours stores every message in SQLite "
        "(synchronous=FULL, group commit) before acknowledging it, validates every frame and "
        "fans out to both participants; the raw relay only forwards.",
        "",
        "| pairs | relay | messages/s | p50 ms | p99 ms | throughput vs raw | p99 vs raw |",
        "|---:|---|---:|---:|---:|---:|---:|",
    ]
    for raw, ours in results:
        for result in (raw, ours):
            ratio = result.rate / raw.rate if raw.rate else float("nan")
            p99_ratio = result.quantile(0.99) / raw.quantile(0.99) if raw.latencies_ms else float("nan")
            lines.append(
                f"| {result.pairs} | {result.name} | {result.rate:,.0f} | {result.quantile(0.5):.1f} | "
                f"{result.quantile(0.99):.1f} | {ratio:.2f} | {p99_ratio:.2f} |"
            )
    lines += [
        "",
        "Target (issue 2): at 1,000 pairs, at least 0.70 of the raw relay's throughput with p99 "
        "within 2x of raw.",
    ]
    return "\n".join(lines)


async def main(pairs_list: list[int], seconds: float) -> list[tuple[Result, Result]]:
    results = []
    for pairs in pairs_list:
        raw = await run_raw(pairs, seconds)
        print(
            f"raw  {pairs:5d} pairs: {raw.rate:8.0f} msg/s p50 {raw.quantile(0.5):.1f} ms "
            f"p99 {raw.quantile(0.99):.1f} ms"
        )
        ours = await run_ours(pairs, seconds)
        print(
            f"ours {pairs:5d} pairs: {ours.rate:8.0f} msg/s p50 {ours.quantile(0.5):.1f} ms "
            f"p99 {ours.quantile(0.99):.1f} ms"
        )
        results.append((raw, ours))
    return results


if __name__ == "__main__":
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--pairs", default="100,1000")
    parser.add_argument("--seconds", type=float, default=8.0)
    parser.add_argument("--no-write", action="store_true", help="print only")
    args = parser.parse_args()
    pairs_list = [int(p) for p in args.pairs.split(",")]
    results = uvloop.run(main(pairs_list, args.seconds))
    if not args.no_write:
        write_section("relay", _markdown(results, args.seconds))
        print("wrote docs/benchmarks.md")

