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
import subprocess
import sys
import tempfile
from typing import Any

import uvloop
import websockets

from bench.harness import (
    ADMIN_PASSWORD,
    CHATS_PER_AGENT,
    WARMUP_S,
    Deliveries,
    Result,
    admin_setup,
    closed_loop,
    free_port,
    healthy,
    pinned,
    populate,
    process,
    visitor_tokens,
)
from bench.report import machine_line, write_section

# --------------------------------------------------------------------------- raw


async def run_raw(pairs: int, seconds: float) -> Result:
    port = free_port()
    agents = max(1, pairs // CHATS_PER_AGENT)

    async def ready() -> bool:
        async with websockets.connect(f"ws://127.0.0.1:{port}/agent/probe"):
            return True

    cmd = pinned(0, [sys.executable, "-m", "bench.raw_relay", str(port)])
    async with process(cmd, dict(os.environ), ready):
        deliveries = Deliveries(pairs)
        agent_sockets = [
            await websockets.connect(f"ws://127.0.0.1:{port}/agent/a{a}", max_size=None, compression=None)
            for a in range(agents)
        ]

        async def read(ws: Any) -> None:
            with contextlib.suppress(websockets.ConnectionClosed):
                async for raw in ws:
                    deliveries.arrived(json.loads(raw)["body"])

        readers = [asyncio.create_task(read(ws)) for ws in agent_sockets]
        visitors = [
            await websockets.connect(f"ws://127.0.0.1:{port}/visitor", max_size=None, compression=None)
            for _ in range(pairs)
        ]

        async def send(i: int, body: str) -> None:
            await visitors[i].send(json.dumps({"to": f"a{i % agents}", "body": body}))

        delivered, latencies = await closed_loop(pairs, seconds, send, deliveries)
        for ws in visitors + agent_sockets:
            await ws.close()
        for task in readers:
            task.cancel()
    return Result("raw websockets relay", pairs, delivered, seconds, latencies)


# --------------------------------------------------------------------------- ours


def server_env(data_dir: str, port: int, **extra: str) -> dict[str, str]:
    """Our server for benchmarks: the anti-flood limits lifted (each bench socket
    sends far faster than a person types)."""
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
    env.update(extra)
    return env


async def run_ours(pairs: int, seconds: float) -> Result:
    port = free_port()
    agents = max(1, pairs // CHATS_PER_AGENT)
    base = f"http://127.0.0.1:{port}"
    ws_base = f"ws://127.0.0.1:{port}"
    with tempfile.TemporaryDirectory() as data_dir:
        cmd = pinned(0, [sys.executable, "-m", "contact_center.cli", "serve"])
        async with process(cmd, server_env(data_dir, port), healthy(base)) as server:
            tokens = await admin_setup(base, ["bench"], [(f"agent{a}", []) for a in range(agents)])
            population = await populate(
                [ws_base] * agents,
                tokens,
                [ws_base] * pairs,
                await visitor_tokens(base, pairs),
                ["bench"] * pairs,
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
            delivered, latencies = await closed_loop(pairs, seconds, population.send, population.deliveries)
            if profiler is not None:
                profiler.wait(30)
            await population.close()
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
        "within 2x of raw. **Not reached**: about a quarter of the raw relay's throughput, and the "
        "p99 grows with the queue of 1,000 closed loops on one core.",
        "",
        "Where the time goes (a py-spy profile of the server at 1,000 pairs, run with "
        "`BENCH_PROFILE=out.txt python -m bench.relay --pairs 1000 --no-write`; shares of the event "
        "loop's samples): receiving frames through uvicorn's sans-I/O protocol and Starlette's ASGI "
        "receive about 18 %; sending through Starlette and uvicorn about 19 %, for *two* frames per "
        "message (the ack to the sender and the event to the agent) where the raw relay sends one; "
        "validating, authorising and numbering the message and handing it to the group-commit writer "
        "about 25 %; the fan-out through the hub about 4 %; the writer task itself about 5 %; idle "
        "about 10 %. Measured before and fixed on the way: a database read per message for "
        "authorisation (now a contact directory fed by the conversation's own events), a receipt write "
        "per message (now coalesced once a second), the echo of each message back to its sender (the "
        "ack carries the seq), and three thread hops per SQLite commit (now one). Tried and dropped: "
        "committing on the event loop when the write lock is free, and writing a frame straight to "
        "the socket when its writer task is idle instead of waking the task (neither gained "
        "measurably). Per thread (from /proc during a 1,000-pair run): the event loop uses about 73 % "
        "of the server's core and the SQLite writer thread 26 %, most of it in COMMIT writing each "
        "batch's dirty pages of the two unique indexes to the WAL (about 15-25 µs of CPU per row "
        "measured on its own). The server is CPU-bound on its core at about 150 µs per message against the "
        "raw relay's 40 µs: reaching 0.70 of raw would mean about 57 µs for a message that is "
        "parsed, validated, authorised, stored with an fsync'd group commit and sent twice. What is "
        "left is the price of the ASGI stack and of a second frame per message; a larger step would need a "
        "WebSocket server that bypasses ASGI, which the project's stack rules out.",
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
