"""The gateway side of calls: each socket is a *device* (a party to calls).

A device's party id is ``"<user or visitor id>.<device id>"``: the device id comes
from ``hello.device_id`` (the page keeps it, so a reconnecting tab is the same party
and gets its calls back) or is minted for the socket.  Because the owner of a party
id can be read off the id itself, any process can check that a socket speaks only
for its own party without asking anyone.

A device listens on its ``call.party:<party>`` topic and forwards what arrives to its
socket, peeking at call events on the way to know which calls it is in: that is how
a gateway answers "is this agent already on a call?" (busy) and refuses a frame for a
call the device has no part in, without a round trip to the call's owner.
"""

from __future__ import annotations

from collections import OrderedDict
from typing import Literal

import msgspec

from contact_center.calls.party import Outbox

DeviceKind = Literal["visitor", "agent"]
# What a device is to one call: it placed it, it rings, it answered, or it is over.
Status = Literal["caller", "rung", "answered", "ended"]
_ANSWERED = ("connecting", "active", "reconnecting")
_KEEP_ENDED = 32


class _EventPeek(msgspec.Struct):
    type: str = ""
    call_id: str = ""
    state: str = ""
    role: str | None = None
    contact_id: str = ""


_peek = msgspec.json.Decoder(_EventPeek)


class Device:
    """One socket taking part in calls."""

    __slots__ = ("calls", "conn", "conn_id", "kind", "offers", "party_id", "ringing", "subject")

    def __init__(self, party_id: str, subject: str, kind: DeviceKind, conn: Outbox, conn_id: str) -> None:
        self.party_id = party_id
        self.subject = subject
        self.kind: DeviceKind = kind
        self.conn = conn
        # Tells this socket's "up" from an older socket's "down" at the call owner.
        self.conn_id = conn_id
        self.calls: OrderedDict[str, Status] = OrderedDict()
        # contact id -> call id, for calls ringing here (offer.accept on a ringing call)
        self.ringing: dict[str, str] = {}
        # contact ids of routing offers for calls that rang this device
        self.offers: set[str] = set()

    @property
    def busy(self) -> bool:
        """On a call: placing one, or answered one that is not over."""
        return any(status in ("caller", "answered") for status in self.calls.values())

    def note(self, call_id: str, status: Status) -> None:
        self.calls[call_id] = status
        self.calls.move_to_end(call_id)
        if status == "ended":
            for contact_id, ringing in list(self.ringing.items()):
                if ringing == call_id:
                    del self.ringing[contact_id]
            ended = [cid for cid, st in self.calls.items() if st == "ended"]
            for old in ended[:-_KEEP_ENDED]:
                del self.calls[old]

    def deliver(self, topic: str, payload: bytes) -> None:
        """Hub subscriber for ``call.party:<party>``: keep track, then forward."""
        try:
            event = _peek.decode(payload)
        except msgspec.DecodeError:
            event = _EventPeek()
        if event.call_id:
            if event.type == "call.invite":
                self.note(event.call_id, "rung")
                if event.contact_id:
                    self.ringing[event.contact_id] = event.call_id
            elif event.type == "call.state":
                if event.state == "ended":
                    self.note(event.call_id, "ended")
                elif event.role == "caller":
                    self.note(event.call_id, "caller")
                elif event.state in _ANSWERED:
                    self.note(event.call_id, "answered")
                    self.ringing = {c: k for c, k in self.ringing.items() if k != event.call_id}
                elif event.call_id not in self.calls:
                    self.note(event.call_id, "rung")
        self.conn.send_raw(payload)
