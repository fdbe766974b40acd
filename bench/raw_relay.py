"""The baseline for bench/relay.py: the least a WebSocket relay can do.

Raw ``websockets`` (no framework, no JSON validation, no storage, no acks): visitor
sockets send ``{"to": "<agent>", ...}`` and the frame is forwarded unchanged to that
agent's socket.  Run as ``python -m bench.raw_relay PORT``.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import sys

import uvloop
import websockets
from websockets.asyncio.server import ServerConnection, serve

agents: dict[str, ServerConnection] = {}


async def handler(ws: ServerConnection) -> None:
    path = ws.request.path if ws.request else "/"
    if path.startswith("/agent/"):
        agent_id = path.rsplit("/", 1)[1]
        agents[agent_id] = ws
        try:
            await ws.wait_closed()
        finally:
            agents.pop(agent_id, None)
        return
    async for raw in ws:
        target = agents.get(json.loads(raw)["to"])
        if target is not None:
            with contextlib.suppress(websockets.ConnectionClosed):
                await target.send(raw)


async def main(port: int) -> None:
    async with serve(handler, "127.0.0.1", port, max_size=2**20, compression=None):
        print("ready", flush=True)
        await asyncio.Future()


if __name__ == "__main__":
    uvloop.run(main(int(sys.argv[1])))
