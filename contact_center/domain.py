"""Publishing domain events (``dashboard.events``) to every process.

Events travel on the bus topic ``domain`` so that each gateway's dashboard aggregator
sees the events of the whole cluster, whichever process produced them.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

import msgspec

from contact_center.bus import Bus
from dashboard import events as ev

DOMAIN_TOPIC = "domain"

_TYPES: dict[str, type[Any]] = {
    cls.__name__: cls
    for cls in vars(ev).values()
    if isinstance(cls, type) and dataclasses.is_dataclass(cls) and cls.__module__ == ev.__name__
}
_encoder = msgspec.json.Encoder()


def encode_domain_event(event: ev.DomainEvent) -> bytes:
    fields = {f.name: getattr(event, f.name) for f in dataclasses.fields(event)}
    return _encoder.encode({"t": type(event).__name__, "e": fields})


def decode_domain_event(payload: bytes) -> ev.DomainEvent | None:
    raw = msgspec.json.decode(payload)
    cls = _TYPES.get(raw.get("t", ""))
    if cls is None:  # an event type this (older) process does not know: skip it
        return None
    event: ev.DomainEvent = cls(**raw["e"])
    return event


class DomainEvents:
    def __init__(self, bus: Bus) -> None:
        self._bus = bus
        self._listeners: list[Callable[[ev.DomainEvent], None]] = []

    def emit(self, event: ev.DomainEvent) -> None:
        self._bus.publish(DOMAIN_TOPIC, encode_domain_event(event))

    def listen(self, listener: Callable[[ev.DomainEvent], None]) -> None:
        self._listeners.append(listener)

    def on_bus_message(self, _topic: str, payload: bytes) -> None:
        event = decode_domain_event(payload)
        if event is None:
            return
        for listener in self._listeners:
            listener(event)
