"""A protocol client for tests: a real WebSocket with helpers to send frames, wait for
acks and collect events."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
from typing import Any

import websockets

_ids = itertools.count(1)


def next_id(prefix: str = "f") -> str:
    return f"{prefix}{next(_ids)}"


class ProtocolError(AssertionError):
    pass


class WsClient:
    def __init__(self, ws: Any) -> None:
        self.ws = ws
        self.events: list[dict[str, Any]] = []
        self._cursor = 0
        self._new = asyncio.Event()
        self._reader = asyncio.create_task(self._read())
        self.closed: asyncio.Future[tuple[int | None, str]] = asyncio.get_running_loop().create_future()

    @classmethod
    async def connect(
        cls, url: str, token: str | None, resume: list[dict[str, Any]] | None = None, **kwargs: Any
    ) -> WsClient:
        ws = await websockets.connect(url, max_size=None, **kwargs)
        client = cls(ws)
        if token is not None:
            await client.send({"type": "hello", "token": token, "resume": resume or []})
        return client

    async def _read(self) -> None:
        try:
            async for raw in self.ws:
                self.events.append(json.loads(raw))
                self._new.set()
        except websockets.ConnectionClosed:
            pass
        finally:
            if not self.closed.done():
                self.closed.set_result((self.ws.close_code, self.ws.close_reason or ""))
            self._new.set()

    async def send(self, frame: dict[str, Any]) -> None:
        await self.ws.send(json.dumps(frame))

    async def send_raw(self, raw: str | bytes) -> None:
        await self.ws.send(raw)

    async def wait_for(self, predicate: Any, timeout: float = 10.0, since: int = 0) -> dict[str, Any]:
        """The first event (from index ``since``) matching ``predicate``."""
        deadline = asyncio.get_running_loop().time() + timeout
        index = since
        while True:
            while index < len(self.events):
                event = self.events[index]
                index += 1
                if predicate(event):
                    return event
            if self.closed.done():
                raise ProtocolError(f"socket closed {self.closed.result()} while waiting")
            remaining = deadline - asyncio.get_running_loop().time()
            if remaining <= 0:
                raise ProtocolError(f"timed out; last events: {self.events[-5:]}")
            self._new.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._new.wait(), remaining)

    async def wait_type(self, kind: str, timeout: float = 10.0, **match: Any) -> dict[str, Any]:
        return await self.wait_for(
            lambda e: e.get("type") == kind and all(e.get(k) == v for k, v in match.items()), timeout
        )

    async def request(self, frame: dict[str, Any], timeout: float = 10.0) -> dict[str, Any]:
        """Send a frame with a fresh id and return its ack (or raise on its error)."""
        frame = {"id": next_id(), **frame}
        start = len(self.events)
        await self.send(frame)
        reply = await self.wait_for(
            lambda e: (
                e.get("type") in ("ack", "error")
                and (e.get("id") == frame["id"] or e.get("ref") == frame["id"])
            ),
            timeout,
            since=start,
        )
        if reply["type"] == "error":
            raise ProtocolError(f"{frame['type']} refused: {reply}")
        return reply

    def of_type(self, kind: str) -> list[dict[str, Any]]:
        return [e for e in self.events if e.get("type") == kind]

    async def close(self) -> None:
        await self.ws.close()
        self._reader.cancel()
