"""Local fan-out: which sockets in this process listen to which bus topic.

The bus delivers each message once per process; the hub hands it to every local
connection subscribed to the topic.  The first local subscriber subscribes the process
to the topic on the bus; the last one leaving unsubscribes it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

from contact_center.bus import Bus


class Subscriber(Protocol):
    def deliver(self, topic: str, payload: bytes) -> None: ...


TopicObserver = Callable[[str, bytes], None]


class Hub:
    def __init__(self, bus: Bus) -> None:
        self._bus = bus
        self._topics: dict[str, set[Subscriber]] = {}
        # Process-level listeners by topic prefix (e.g. "contact:" to track seqs,
        # "domain" for the dashboard), called once per message before the sockets.
        self._observers: list[tuple[str, TopicObserver]] = []
        self._pinned: set[str] = set()
        self._origin: Subscriber | None = None
        bus.set_handler(self._on_message)

    def publish(self, topic: str, payload: bytes, origin: Subscriber | None = None) -> None:
        """Publish on the bus.  ``origin``, the socket whose frame caused this event,
        is skipped when the bus delivers in-process (it already has the ack, which
        carries the seq); other buses deliver it an echo that it ignores by seq."""
        self._origin = origin
        try:
            self._bus.publish(topic, payload)
        finally:
            self._origin = None

    def observe(self, prefix: str, observer: TopicObserver, *, subscribe: str | None = None) -> None:
        self._observers.append((prefix, observer))
        if subscribe is not None:
            self._pinned.add(subscribe)
            self._bus.subscribe(subscribe)

    def subscribe(self, topic: str, subscriber: Subscriber) -> None:
        members = self._topics.get(topic)
        if members is None:
            members = self._topics[topic] = set()
            self._bus.subscribe(topic)
        members.add(subscriber)

    async def subscribed(self, topic: str) -> None:
        """Once this returns, messages published on ``topic`` reach this process."""
        await self._bus.subscribed(topic)

    def unsubscribe(self, topic: str, subscriber: Subscriber) -> None:
        members = self._topics.get(topic)
        if members is None:
            return
        members.discard(subscriber)
        if not members:
            del self._topics[topic]
            if topic not in self._pinned:
                self._bus.unsubscribe(topic)

    def topics(self, prefix: str) -> list[str]:
        return [topic for topic in self._topics if topic.startswith(prefix)]

    def deliver_local(self, topic: str, payload: bytes) -> None:
        """Hand a message to this process as if the bus had delivered it."""
        self._on_message(topic, payload)

    def subscribers(self, topic: str) -> int:
        return len(self._topics.get(topic, ()))

    def _on_message(self, topic: str, payload: bytes) -> None:
        for prefix, observer in self._observers:
            if topic.startswith(prefix):
                observer(topic, payload)
        members = self._topics.get(topic)
        if members:
            origin = self._origin
            for subscriber in tuple(members):
                if subscriber is not origin:
                    subscriber.deliver(topic, payload)
