"""What the calls part needs of the sockets it serves.

The gateway owns sockets and sessions; the calls part must not import it (the gateway
hands call frames down to calls, never the other way).  So calls states here the little
it uses of a session, and any gateway session satisfies it structurally.
"""

from __future__ import annotations

from typing import Protocol

import msgspec

from contact_center.security import Identity


class Outbox(Protocol):
    """A socket's outbound side: frames to encode, or bytes encoded once for many."""

    def send(self, event: msgspec.Struct) -> None: ...

    def send_raw(self, payload: bytes) -> None: ...


class CallSession(Protocol):
    """One authenticated socket, as a party to calls."""

    @property
    def identity(self) -> Identity: ...

    @property
    def conn(self) -> Outbox: ...

    def ack(self, frame_id: str, **fields: object) -> None: ...

    def replay_ack(self, frame_id: str | None) -> bool:
        """True (and the ack sent again) when this frame id was applied already."""
        ...

    async def replay(self, contact_id: str, after_seq: int) -> int:
        """Follow a conversation from ``after_seq``; the last seq sent."""
        ...
