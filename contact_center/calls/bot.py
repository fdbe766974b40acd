"""A device that speaks our protocol with real media: a WebSocket client driving a
:class:`signalling.peer.HeadlessPeer` (aiortc) per call.

It does what the widget and the console do, so tests, the benchmark and the
``contact-center call-bot`` command place and answer real calls through a real
server: ``call.invite`` / ``call.accept``, the offer and answer, trickled candidates
(always with end of candidates), ``call.media_state`` when its RTCPeerConnection
connects or drops, a ``call.stats`` sample every few seconds.  aiortc is always the
*impolite* side of perfect negotiation (its rollback does nothing): on a colliding
re-offer it keeps its own and waits.

``relay_only`` is ``iceTransportPolicy: "relay"``: only TURN relay candidates are
gathered, and only relay candidates are sent or accepted, so the call provably goes
through TURN (two relay-only devices talk relay to relay).
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import logging
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import websockets

from signalling.peer import HeadlessPeer
from signalling.quality import mos as score_mos

log = logging.getLogger(__name__)

MAX_CANDIDATES_PER_FRAME = 32
_ids = itertools.count(1)


class CallRefused(Exception):
    """The server answered a frame with ``error``."""

    def __init__(self, error: Mapping[str, Any]) -> None:
        super().__init__(f"{error.get('code')}: {error.get('message')}")
        self.code = str(error.get("code", ""))
        self.error = dict(error)


@dataclass
class CallSide:
    """This device's view of one call."""

    call_id: str
    role: str  # caller | callee
    media: str
    contact_id: str = ""
    state: str = ""
    reason: str | None = None
    states: list[str] = field(default_factory=list)
    ice_servers: list[dict[str, Any]] = field(default_factory=list)
    polite: bool | None = None
    peer: HeadlessPeer | None = None
    samples: list[dict[str, Any]] = field(default_factory=list)
    ended: asyncio.Event = field(default_factory=asyncio.Event)
    _stats_task: asyncio.Task[None] | None = None


class CallDevice:
    """One socket (a console or a widget tab) with media for its calls."""

    def __init__(
        self,
        ws_url: str,
        token: str,
        *,
        device_id: str | None = None,
        loopback: bool = False,
        relay_only: bool = False,
        audio: bool = True,
        video: bool = True,
        auto_answer: bool = False,
        stats_every_s: float = 2.0,
        on_event: Callable[[dict[str, Any]], None] | None = None,
    ) -> None:
        self.ws_url = ws_url
        self.token = token
        self.device_id = device_id or uuid.uuid4().hex[:12]
        self.loopback = loopback
        self.relay_only = relay_only
        self.audio = audio
        self.video = video
        self.auto_answer = auto_answer
        self.stats_every_s = stats_every_s
        self.on_event = on_event
        self.party_id = ""
        self.welcome: dict[str, Any] = {}
        self.events: list[dict[str, Any]] = []
        self.calls: dict[str, CallSide] = {}
        self.errors: list[dict[str, Any]] = []
        self._ws: Any = None
        self._new = asyncio.Event()
        self._inbox: asyncio.Queue[dict[str, Any] | None] = asyncio.Queue()
        self._tasks: list[asyncio.Task[None]] = []
        self._closed = False

    # ------------------------------------------------------------------ socket

    async def connect(self, timeout: float = 20.0) -> dict[str, Any]:
        start = len(self.events)
        self._ws = await websockets.connect(self.ws_url, max_size=None, open_timeout=timeout)
        await self.send({"type": "hello", "token": self.token, "device_id": self.device_id})
        self._tasks = [
            asyncio.create_task(self._read(), name="call-device-reader"),
            asyncio.create_task(self._dispatch(), name="call-device-dispatch"),
        ]
        self.welcome = await self.wait_for(lambda e: e.get("type") == "welcome", timeout, since=start)
        self.party_id = str(self.welcome.get("party_id", ""))
        return self.welcome

    async def reconnect(self, ws_url: str | None = None, timeout: float = 20.0) -> dict[str, Any]:
        """The socket again, to any gateway (``ws_url``), as the same device: its calls
        and their media go on, and the server gives it each call's state back."""
        if self._ws is not None:
            with contextlib.suppress(Exception):
                await self._ws.close()
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        if ws_url is not None:
            self.ws_url = ws_url
        self._closed = False
        self._inbox = asyncio.Queue()
        return await self.connect(timeout)

    async def _read(self) -> None:
        try:
            async for raw in self._ws:
                event = json.loads(raw)
                self.events.append(event)
                self._new.set()
                self._inbox.put_nowait(event)
                if self.on_event is not None:
                    self.on_event(event)
        except websockets.ConnectionClosed:
            pass
        finally:
            self._closed = True
            self._new.set()
            self._inbox.put_nowait(None)

    async def send(self, frame: Mapping[str, Any]) -> None:
        if self._ws is not None and not self._closed:
            with contextlib.suppress(websockets.ConnectionClosed):
                await self._ws.send(json.dumps(frame))

    async def wait_for(
        self, predicate: Callable[[dict[str, Any]], bool], timeout: float = 20.0, since: int = 0
    ) -> dict[str, Any]:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        index = since
        while True:
            while index < len(self.events):
                event = self.events[index]
                index += 1
                if predicate(event):
                    return event
            if self._closed:
                raise ConnectionError(f"socket closed while waiting; last events: {self.events[-5:]}")
            remaining = deadline - loop.time()
            if remaining <= 0:
                raise TimeoutError(f"timed out; last events: {self.events[-5:]}")
            self._new.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._new.wait(), remaining)

    async def request(self, frame: Mapping[str, Any], timeout: float = 20.0) -> dict[str, Any]:
        """Send with a fresh id; return the ack or raise :class:`CallRefused`."""
        frame_id = f"d{next(_ids)}"
        start = len(self.events)
        await self.send({"id": frame_id, **frame})
        reply = await self.wait_for(
            lambda e: e.get("type") in ("ack", "error") and frame_id in (e.get("id"), e.get("ref")),
            timeout,
            since=start,
        )
        if reply["type"] == "error":
            raise CallRefused(reply)
        return reply

    async def close(self) -> None:
        for side in self.calls.values():
            await self._drop_peer(side)
        if self._ws is not None:
            with contextlib.suppress(Exception):
                await self._ws.close()
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    async def drop(self) -> None:
        """Close the socket but keep the media running (a network blip)."""
        if self._ws is not None:
            with contextlib.suppress(Exception):
                await self._ws.close()

    # ------------------------------------------------------------------ calls

    async def invite(
        self,
        media: str = "video",
        *,
        queue: str | None = None,
        contact_id: str | None = None,
        name: str = "",
        call_id: str | None = None,
        extra: Mapping[str, Any] | None = None,
    ) -> CallSide:
        """Place a call (a queue call from the widget, or on a conversation)."""
        call_id = call_id or uuid.uuid4().hex
        side = CallSide(call_id=call_id, role="caller", media=media)
        self.calls[call_id] = side
        frame: dict[str, Any] = {"type": "call.invite", "call_id": call_id, "media": media}
        if queue is not None:
            frame["queue"] = queue
        if contact_id is not None:
            frame["contact_id"] = contact_id
        if name:
            frame["name"] = name
        frame.update(extra or {})
        ack = await self.request(frame)
        side.contact_id = str(ack.get("contact_id", ""))
        return side

    async def accept(self, call_id: str) -> dict[str, Any]:
        return await self.request({"type": "call.accept", "call_id": call_id})

    async def reject(self, call_id: str, reason: str = "rejected") -> dict[str, Any]:
        return await self.request({"type": "call.reject", "call_id": call_id, "reason": reason})

    async def hangup(self, call_id: str, reason: str = "user_hangup") -> dict[str, Any]:
        return await self.request({"type": "call.hangup", "call_id": call_id, "reason": reason})

    async def set_muted(self, call_id: str, muted: bool) -> None:
        side = self.calls[call_id]
        if side.peer is not None:
            side.peer.set_audio_muted(muted)
        await self.request({"type": "call.media_state", "call_id": call_id, "muted": muted})

    async def wait_state(self, call_id: str, state: str, timeout: float = 30.0) -> dict[str, Any]:
        def match(e: dict[str, Any]) -> bool:
            return e.get("type") == "call.state" and e.get("call_id") == call_id and e.get("state") == state

        return await self.wait_for(match, timeout)

    async def wait_invite(self, timeout: float = 30.0, since: int = 0) -> dict[str, Any]:
        return await self.wait_for(lambda e: e.get("type") == "call.invite", timeout, since)

    # ------------------------------------------------------------------ events

    async def _dispatch(self) -> None:
        while True:
            event = await self._inbox.get()
            if event is None:
                return
            try:
                await self._handle(event)
            except Exception:
                log.exception("call device: handling %s failed", event.get("type"))

    async def _handle(self, event: dict[str, Any]) -> None:
        kind = event.get("type", "")
        if kind == "_send":  # queued by a callback, sent in order with the rest
            await self.send(event["frame"])
            return
        if kind == "error":
            self.errors.append(event)
            return
        if not kind.startswith("call."):
            return
        call_id = str(event.get("call_id", ""))
        side = self.calls.get(call_id)
        if kind == "call.invite":
            if side is None:
                side = self.calls[call_id] = CallSide(
                    call_id=call_id, role="callee", media=str(event.get("media", "audio"))
                )
            side.contact_id = str(event.get("contact_id", ""))
            await self.send({"type": "call.ringing", "call_id": call_id})
            if self.auto_answer:
                await self.send({"type": "call.accept", "call_id": call_id})
            return
        if side is None:
            return
        if kind == "call.state":
            await self._on_state(side, event)
        elif kind == "call.offer" and side.peer is not None:
            answer = await side.peer.create_answer(event["description"]["sdp"])
            await self.send({"type": "call.answer", "call_id": call_id, "description": answer})
            await self._send_candidates(side)
        elif kind == "call.answer" and side.peer is not None:
            await side.peer.set_remote_answer(event["description"]["sdp"])
        elif kind == "call.candidates" and side.peer is not None:
            for candidate in event.get("candidates", []):
                if self.relay_only and not _is_relay(candidate):
                    continue
                await side.peer.add_remote_candidate(candidate)
        elif kind == "call.negotiate" and side.peer is not None:
            reply = await side.peer.handle_remote_description(event["description"])
            if reply is not None:
                await self.send({"type": "call.negotiate", "call_id": call_id, "description": reply})

    async def _on_state(self, side: CallSide, event: dict[str, Any]) -> None:
        state = str(event.get("state", ""))
        side.state = state
        side.states.append(state)
        side.reason = event.get("reason")
        if event.get("role"):
            side.role = str(event["role"])
        if event.get("ice_servers") is not None:
            side.ice_servers = list(event["ice_servers"])
        if event.get("polite") is not None:
            side.polite = bool(event["polite"])
        if event.get("contact_id"):
            side.contact_id = str(event["contact_id"])
        if state == "ended":
            await self._drop_peer(side)
            side.ended.set()
            return
        ready = "initiating" if side.role == "caller" else "connecting"
        if side.peer is None and state == ready:
            side.peer = self._new_peer(side)
            if side.role == "caller":
                offer = await side.peer.create_offer()
                await self.send({"type": "call.offer", "call_id": side.call_id, "description": offer})
                await self._send_candidates(side)
        if side.peer is not None and side._stats_task is None and state in ("connecting", "active"):
            side._stats_task = asyncio.create_task(self._stats_loop(side))

    def _new_peer(self, side: CallSide) -> HeadlessPeer:
        call_id = side.call_id

        def on_state(connection: str) -> None:
            if connection in ("connected", "disconnected", "failed"):
                frame = {"type": "call.media_state", "call_id": call_id, "connection": connection}
                self._inbox.put_nowait({"type": "_send", "frame": frame})

        return HeadlessPeer(
            side.ice_servers,
            audio=self.audio,
            video=self.video and side.media == "video",
            loopback=self.loopback,
            relay_only=self.relay_only,
            on_connection_state=on_state,
        )

    async def _send_candidates(self, side: CallSide) -> None:
        assert side.peer is not None
        candidates = side.peer.local_candidates()
        if self.relay_only:
            candidates = [c for c in candidates if _is_relay(c)]
        for start in range(0, len(candidates), MAX_CANDIDATES_PER_FRAME):
            batch = candidates[start : start + MAX_CANDIDATES_PER_FRAME]
            await self.send({"type": "call.candidates", "call_id": side.call_id, "candidates": batch})

    async def _stats_loop(self, side: CallSide) -> None:
        with contextlib.suppress(asyncio.CancelledError):
            while side.state != "ended" and side.peer is not None:
                await asyncio.sleep(self.stats_every_s)
                peer = side.peer
                if peer is None or side.state not in ("active", "reconnecting"):
                    continue
                sample = await peer.stats_sample()
                side.samples.append(sample)
                await self.send({"type": "call.stats", "call_id": side.call_id, **sample})

    async def _drop_peer(self, side: CallSide) -> None:
        task, side._stats_task = side._stats_task, None
        if task is not None:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
        peer, side.peer = side.peer, None
        if peer is not None:
            await peer.close()


def _is_relay(candidate: Mapping[str, Any]) -> bool:
    """A TURN relay candidate, or end of candidates (always forwarded)."""
    text = str(candidate.get("candidate") or "")
    return not text or " typ relay" in text


def sample_mos(sample: Mapping[str, Any]) -> float:
    return score_mos(float(sample["rtt_ms"]), float(sample["jitter_ms"]), float(sample["loss_pct"]))
