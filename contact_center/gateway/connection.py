"""One WebSocket, as the gateway sees it: an outbound queue drained by its own task,
topic subscriptions through the hub, and the resume buffer that keeps replayed history
and live events in seq order.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import deque
from collections.abc import Callable

import msgspec
from starlette.websockets import WebSocket, WebSocketState

from contact_center.bus.hub import Hub
from contact_center.conversations import CONTACT_TOPIC
from contact_center.protocol import encode

log = logging.getLogger(__name__)


class _SeqOnly(msgspec.Struct):
    seq: int | None = None


_seq_decoder = msgspec.json.Decoder(_SeqOnly)


def payload_seq(payload: bytes) -> int | None:
    """The seq of an encoded server event, if it has one (cheap partial decode)."""
    try:
        return _seq_decoder.decode(payload).seq
    except msgspec.DecodeError:
        return None


class SlowConsumer(Exception):
    pass


class Connection:
    """Delivers frames to one socket without ever blocking the sender: a client that
    lets ``max_queued`` frames pile up is disconnected (it resumes by seq later)."""

    def __init__(
        self, websocket: WebSocket, hub: Hub, max_queued: int, sent: Callable[[], None] | None = None
    ) -> None:
        self.websocket = websocket
        # Counts each frame written (the gateway's frames-out metric).
        self._sent = sent or (lambda: None)
        self._hub = hub
        self._max_queued = max_queued
        self._outbox: deque[bytes] = deque()
        self._wakeup = asyncio.Event()
        self._closed = False
        self._topics: set[str] = set()
        # contact id -> live events held back while that conversation's history is
        # being replayed to this socket.
        self._syncing: dict[str, list[bytes]] = {}
        self._writer: asyncio.Task[None] | None = None
        self.close_code: int | None = None
        # Sees messages on ``observed_prefix`` topics before they are sent on (the agent
        # session learns of assignments this way).
        self.observer: Callable[[str, bytes], None] | None = None
        self.observed_prefix = "agent:"

    # ------------------------------------------------------------------ outbound

    def start(self) -> None:
        self._writer = asyncio.create_task(self._write_loop())

    def send(self, event: msgspec.Struct) -> None:
        self.send_raw(encode(event))

    def send_raw(self, payload: bytes) -> None:
        if self._closed:
            return
        if len(self._outbox) >= self._max_queued:
            log.warning("closing a slow consumer with %d frames queued", len(self._outbox))
            self.close(1013)
            return
        self._outbox.append(payload)
        self._wakeup.set()

    async def _write_loop(self) -> None:
        websocket = self.websocket
        try:
            while True:
                if not self._outbox:
                    if self._closed:
                        break
                    self._wakeup.clear()
                    await self._wakeup.wait()
                    continue
                payload = self._outbox.popleft()
                await websocket.send_text(payload.decode())
                self._sent()
        except Exception:  # the peer went away mid-send; the reader will notice
            self._closed = True
        if self.close_code is not None and websocket.application_state != WebSocketState.DISCONNECTED:
            with contextlib.suppress(Exception):
                await websocket.close(self.close_code)

    def close(self, code: int = 1000) -> None:
        """Stop after the frames already queued are sent, then close with ``code``."""
        if self.close_code is None:
            self.close_code = code
        self._closed = True
        self._wakeup.set()

    async def drain(self) -> None:
        """Wait until the writer has stopped (after :meth:`close`)."""
        if self._writer is not None:
            with contextlib.suppress(asyncio.CancelledError):
                await self._writer

    @property
    def closed(self) -> bool:
        return self._closed

    # ------------------------------------------------------------------ topics

    def subscribe(self, topic: str) -> None:
        if topic not in self._topics:
            self._topics.add(topic)
            self._hub.subscribe(topic, self)

    def unsubscribe(self, topic: str) -> None:
        if topic in self._topics:
            self._topics.discard(topic)
            self._hub.unsubscribe(topic, self)

    def unsubscribe_all(self) -> None:
        for topic in tuple(self._topics):
            self.unsubscribe(topic)

    def is_subscribed(self, topic: str) -> bool:
        return topic in self._topics

    def deliver(self, topic: str, payload: bytes) -> None:
        """Called by the hub for every message on a subscribed topic."""
        if self.observer is not None and topic.startswith(self.observed_prefix):
            self.observer(topic, payload)
        if self._syncing and topic.startswith(CONTACT_TOPIC):
            held = self._syncing.get(topic[len(CONTACT_TOPIC) :])
            if held is not None:
                held.append(payload)
                return
        self.send_raw(payload)

    # ------------------------------------------------------------------ resume

    def begin_sync(self, contact_id: str) -> None:
        """Hold live events for ``contact_id`` until :meth:`end_sync`."""
        self._syncing.setdefault(contact_id, [])

    def end_sync(self, contact_id: str, replayed_up_to: int) -> None:
        """Release held live events, dropping those the replay already carried."""
        held = self._syncing.pop(contact_id, [])
        for payload in held:
            seq = payload_seq(payload)
            if seq is None or seq > replayed_up_to:
                self.send_raw(payload)
