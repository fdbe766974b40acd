"""Per socket and conversation: live events in seq order, each once.

The bus delivers in order per publisher, not across publishers: when a visitor on one
gateway and its agent on another write at the same moment, a third socket can hear seq
8 before seq 7.  It can also hear an event twice (the resync after a Redis outage
hands a socket what a replay already sent it), or not at all (published while this
process's subscription was down).  ``SeqGate`` sits between the hub and one socket:

- an event at the expected seq goes out at once, and so do the held ones it unblocks;
- one below it (already sent, or this socket's own message, whose seq came in its
  ack) is dropped;
- one above it is held, and the caller is told to repair the gap: after a short wait
  it reads the missing events from the database (where every event is before it is
  published) and offers them here like live ones.

So a client sees each conversation in seq order, with nothing twice and nothing
missing, across gateways, Redis restarts and subscriptions still being set up (the
promise docs/protocol.md makes for resume, kept for live events too).  Pure: no I/O,
no clock; :class:`~contact_center.gateway.connection.Connection` drives it.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(slots=True)
class _Stream:
    # The next seq this socket should get.
    next: int
    # Events that came early, by seq.
    held: dict[int, bytes] = field(default_factory=dict)
    # Seqs of this socket's own messages at or above ``next`` (they are not sent back).
    own: set[int] = field(default_factory=set)


class SeqGate:
    def __init__(self) -> None:
        self._streams: dict[str, _Stream] = {}
        # How far a conversation had been sent when the socket stopped following it
        # (an agent's chat released, then given back): a later replay starts there.
        self._stopped_at: dict[str, int] = {}

    def tracks(self, contact_id: str) -> bool:
        return contact_id in self._streams

    def start(self, contact_id: str, sent_up_to: int) -> None:
        """Everything up to ``sent_up_to`` has been sent (a replay just did)."""
        stream = self._streams.get(contact_id)
        if stream is None:
            sent_up_to = max(sent_up_to, self._stopped_at.pop(contact_id, 0))
            self._streams[contact_id] = _Stream(sent_up_to + 1)
        elif sent_up_to + 1 > stream.next:
            stream.next = sent_up_to + 1
            stream.held = {s: p for s, p in stream.held.items() if s > sent_up_to}
            stream.own = {s for s in stream.own if s > sent_up_to}

    def sent_up_to(self, contact_id: str) -> int:
        """Every event up to this seq has gone to the socket (0: not followed)."""
        stream = self._streams.get(contact_id)
        return stream.next - 1 if stream is not None else self._stopped_at.get(contact_id, 0)

    def stop(self, contact_id: str) -> None:
        stream = self._streams.pop(contact_id, None)
        if stream is not None:
            self._stopped_at[contact_id] = stream.next - 1

    def own(self, contact_id: str, seq: int) -> list[bytes]:
        """This socket sent the event at ``seq`` (acknowledged, not echoed); returns
        held events that may go now."""
        stream = self._streams.get(contact_id)
        if stream is None or seq < stream.next:
            return []
        stream.own.add(seq)
        return self._release(stream)

    def offer(self, contact_id: str, seq: int, payload: bytes) -> list[bytes]:
        """A live (or repaired) event; returns what to send now, in order."""
        stream = self._streams.get(contact_id)
        if stream is None:
            return [payload]
        if seq < stream.next or seq in stream.own:
            return []
        stream.held.setdefault(seq, payload)
        return self._release(stream)

    def gap(self, contact_id: str) -> int | None:
        """The last seq sent if events wait behind a missing one, else None."""
        stream = self._streams.get(contact_id)
        if stream is None or not stream.held:
            return None
        return stream.next - 1

    def skip_gap(self, contact_id: str) -> list[bytes]:
        """Give up on a seq that never came (it was never stored): send what waits."""
        stream = self._streams.get(contact_id)
        if stream is None or not stream.held:
            return []
        stream.next = min(stream.held)
        return self._release(stream)

    @staticmethod
    def _release(stream: _Stream) -> list[bytes]:
        out: list[bytes] = []
        while True:
            if stream.next in stream.own:
                stream.own.discard(stream.next)
            elif stream.next in stream.held:
                out.append(stream.held.pop(stream.next))
            else:
                return out
            stream.next += 1
