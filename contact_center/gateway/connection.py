"""One WebSocket, as the gateway sees it: an outbound queue drained by its own task,
topic subscriptions through the hub, and the resume buffer that keeps replayed history
and live events in seq order.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import deque
from collections.abc import Awaitable, Callable

import msgspec
from starlette.websockets import WebSocket, WebSocketState

from contact_center.bus.hub import Hub
from contact_center.conversations import CONTACT_TOPIC
from contact_center.gateway.ordering import SeqGate
from contact_center.protocol import encode

log = logging.getLogger(__name__)


class _SeqOnly(msgspec.Struct):
    type: str = ""
    seq: int | None = None


_seq_decoder = msgspec.json.Decoder(_SeqOnly)

# Events that carry a seq without being the conversation's numbered event: a receipt's
# seq names the message read, so it must not pass the gate as if it were that message.
_NOT_NUMBERED = frozenset({"chat.receipt"})


def payload_seq(payload: bytes) -> int | None:
    """The seq of an encoded conversation event, if it is numbered (cheap partial decode)."""
    try:
        peek = _seq_decoder.decode(payload)
    except msgspec.DecodeError:
        return None
    return None if peek.type in _NOT_NUMBERED else peek.seq


class SlowConsumer(Exception):
    pass


# Waits before reading a missing event from the database (it may still be on its way
# on the bus), then before giving up on it (it was never stored).
_REPAIR_DELAYS_S = (0.25, 0.5, 1.0, 2.0, 2.0, 4.0, 8.0)

# (contact id, after seq) -> the stored events after it, encoded, with their seqs.
Repair = Callable[[str, int], Awaitable[list[tuple[int, bytes]]]]


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
        # Live conversation events in seq order, once each (gateway.ordering); the
        # session supplies ``repair`` to read a missing event from the database.
        self.gate = SeqGate()
        self.repair: Repair | None = None
        self._repairs: dict[str, asyncio.Task[None]] = {}

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
        for task in self._repairs.values():
            task.cancel()

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
            if topic.startswith(CONTACT_TOPIC):
                self.gate.stop(topic[len(CONTACT_TOPIC) :])

    def unsubscribe_all(self) -> None:
        for topic in tuple(self._topics):
            self.unsubscribe(topic)

    def is_subscribed(self, topic: str) -> bool:
        return topic in self._topics

    def deliver(self, topic: str, payload: bytes) -> None:
        """Called by the hub for every message on a subscribed topic."""
        if self.observer is not None and topic.startswith(self.observed_prefix):
            self.observer(topic, payload)
        if topic.startswith(CONTACT_TOPIC):
            contact_id = topic[len(CONTACT_TOPIC) :]
            held = self._syncing.get(contact_id) if self._syncing else None
            if held is not None:
                held.append(payload)
                return
            if self.gate.tracks(contact_id):
                self._through_gate(contact_id, payload)
                return
        self.send_raw(payload)

    def _through_gate(self, contact_id: str, payload: bytes) -> None:
        seq = payload_seq(payload)
        if seq is None:  # typing, receipts, positions: not numbered
            self.send_raw(payload)
            return
        for ready in self.gate.offer(contact_id, seq, payload):
            self.send_raw(ready)
        if self.gate.gap(contact_id) is not None and contact_id not in self._repairs and not self._closed:
            self._repairs[contact_id] = asyncio.create_task(self._repair(contact_id))

    def follows(self, contact_id: str) -> bool:
        """A replay of this conversation to this socket has started (or is done)."""
        return self.gate.tracks(contact_id) or contact_id in self._syncing

    def own_seq(self, contact_id: str, seq: int) -> None:
        """This socket's own message got ``seq`` (in its ack): not to be sent back."""
        for ready in self.gate.own(contact_id, seq):
            self.send_raw(ready)

    async def _repair(self, contact_id: str) -> None:
        """Events wait behind a missing one: read it from the database, where it is
        before anyone publishes it; give up (and send what waits) if it never comes."""
        try:
            for delay in _REPAIR_DELAYS_S:
                await asyncio.sleep(delay)
                after = self.gate.gap(contact_id)
                if after is None:
                    return
                if self.repair is None:
                    continue
                try:
                    fetched = await self.repair(contact_id, after)
                except Exception:  # the database is restarting: try again after the next wait
                    log.warning("conversation %s: could not read the gap yet", contact_id)
                    continue
                for seq, payload in fetched:
                    for ready in self.gate.offer(contact_id, seq, payload):
                        self.send_raw(ready)
            if self.gate.gap(contact_id) is not None:
                # Never stored, or unreadable all this time: what waits goes out (held
                # events must not wait for ever; the client can still sync the gap).
                log.warning(
                    "conversation %s: seq %s never came; going on", contact_id, self.gate.gap(contact_id)
                )
                for ready in self.gate.skip_gap(contact_id):
                    self.send_raw(ready)
        finally:
            self._repairs.pop(contact_id, None)

    # ------------------------------------------------------------------ resume

    def begin_sync(self, contact_id: str) -> None:
        """Hold live events for ``contact_id`` until :meth:`end_sync`."""
        self._syncing.setdefault(contact_id, [])

    def sent_up_to(self, contact_id: str) -> int:
        return self.gate.sent_up_to(contact_id)

    def end_sync(self, contact_id: str, replayed_up_to: int, gate_from: int | None = None) -> None:
        """Release held live events, dropping those the replay already carried; from
        now on this conversation's live events pass the gate, from ``gate_from`` on."""
        held = self._syncing.pop(contact_id, [])
        self.gate.start(contact_id, replayed_up_to if gate_from is None else gate_from)
        for payload in held:
            self._through_gate(contact_id, payload)
