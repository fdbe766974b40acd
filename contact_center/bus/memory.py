"""In-process bus: the embedded default, where every subscriber lives in this process."""

from __future__ import annotations

from contact_center.bus.base import Bus


class MemoryBus(Bus):
    def __init__(self) -> None:
        super().__init__()
        self._topics: set[str] = set()

    def publish(self, topic: str, payload: bytes) -> None:
        # Synchronous hand-off: the hub only enqueues onto sockets, so this is cheap and
        # keeps per-topic order trivially.
        if topic in self._topics:
            self._dispatch(topic, payload)

    def subscribe(self, topic: str) -> None:
        self._topics.add(topic)

    def unsubscribe(self, topic: str) -> None:
        self._topics.discard(topic)
