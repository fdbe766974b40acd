"""The message bus: fan-out of events between gateway processes.

One interface, backends picked by URL scheme (as in ``broadcaster``): ``memory://`` for
the single-process default, ``redis://`` for several gateways.  Topics are strings
(``contact:<id>``, ``agent:<id>``, ``visitor:<id>``, ``domain``...); payloads are bytes
(already-encoded JSON), so a message is encoded once however many sockets receive it.
"""

from __future__ import annotations

from contact_center.bus.base import Bus, MessageHandler
from contact_center.bus.memory import MemoryBus


def create_bus(url: str) -> Bus:
    if url.startswith("memory://"):
        return MemoryBus()
    if url.startswith(("redis://", "rediss://", "unix://")):
        from contact_center.bus.redis import RedisBus

        return RedisBus(url)
    raise ValueError(f"unsupported bus URL {url!r}: use memory:// or redis://")


__all__ = ["Bus", "MemoryBus", "MessageHandler", "create_bus"]
