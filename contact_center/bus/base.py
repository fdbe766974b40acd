"""The bus interface shared by every backend."""

from __future__ import annotations

import abc
from collections.abc import Callable

MessageHandler = Callable[[str, bytes], None]


class Bus(abc.ABC):
    """Publish/subscribe between processes.

    ``publish`` never waits for subscribers: delivery is at-most-once and ordered per
    topic and publisher.  Nothing that must survive a crash travels only on the bus:
    conversation events are stored first and replayed from the database on resume.
    """

    def __init__(self) -> None:
        self._handler: MessageHandler | None = None

    def set_handler(self, handler: MessageHandler) -> None:
        """The one callback every message for a subscribed topic goes to."""
        self._handler = handler

    def _dispatch(self, topic: str, payload: bytes) -> None:
        if self._handler is not None:
            self._handler(topic, payload)

    async def start(self) -> None:  # noqa: B027 - optional hook
        """Connect (no-op for in-process backends)."""

    async def stop(self) -> None:  # noqa: B027 - optional hook
        """Disconnect."""

    async def subscribed(self, topic: str) -> None:  # noqa: B027 - in-process buses subscribe at once
        """Return once messages published on ``topic`` from now on reach this
        process (after :meth:`subscribe`)."""

    @abc.abstractmethod
    def publish(self, topic: str, payload: bytes) -> None:
        """Queue one message for every subscriber of ``topic`` on every process.
        Non-blocking: backends batch the actual I/O."""

    async def flush(self) -> None:  # noqa: B027 - optional hook
        """Wait until what was published so far has left this process."""

    @abc.abstractmethod
    def subscribe(self, topic: str) -> None:
        """Receive ``topic``'s messages in this process (idempotent)."""

    @abc.abstractmethod
    def unsubscribe(self, topic: str) -> None:
        """Stop receiving ``topic`` (idempotent)."""
