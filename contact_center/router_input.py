"""How gateways talk to the router: an ordered log of routing events.

Gateways only ever *append* (``submit``); the one active router *reads* and applies in
order.  ``memory://`` keeps the log in an asyncio queue inside the process; the Redis
backend (``contact_center.scale``) keeps it in a Redis Stream so a standby router can
replay it.  Besides engine events the log carries a few driver commands (an agent's
sockets came or went) that need the router's state but change no routing rule.
"""

from __future__ import annotations

import abc
import asyncio
from dataclasses import dataclass
from typing import Any

from routing.events import Event, event_from_dict, event_to_dict


@dataclass(frozen=True, slots=True)
class AgentConnected:
    """An agent opened a console: re-send its state and offers; an offline agent
    becomes away (it chooses when to be available)."""

    at: float
    agent_id: str


@dataclass(frozen=True, slots=True)
class AgentDisconnected:
    """Every console of the agent has been gone for the grace period."""

    at: float
    agent_id: str


@dataclass(frozen=True, slots=True)
class PositionRequested:
    """A visitor (re)connected while waiting: re-send its queue position."""

    at: float
    contact_id: str


@dataclass(frozen=True, slots=True)
class ReloadConfig:
    """Queues or agents changed in the database: re-read them."""

    at: float
    what: str = "all"


Command = AgentConnected | AgentDisconnected | PositionRequested | ReloadConfig
RouterItem = Event | Command
_COMMANDS: dict[str, type[Any]] = {
    cls.__name__: cls for cls in (AgentConnected, AgentDisconnected, PositionRequested, ReloadConfig)
}


def item_to_dict(item: RouterItem) -> dict[str, Any]:
    if isinstance(item, AgentConnected | AgentDisconnected | PositionRequested | ReloadConfig):
        return {"type": type(item).__name__, **{k: getattr(item, k) for k in item.__slots__}}
    return event_to_dict(item)


def item_from_dict(data: dict[str, Any]) -> RouterItem:
    cls = _COMMANDS.get(data.get("type", ""))
    if cls is not None:
        fields = {k: v for k, v in data.items() if k != "type"}
        command: Command = cls(**fields)
        return command
    return event_from_dict(data)


class RouterInput(abc.ABC):
    @abc.abstractmethod
    def submit(self, item: RouterItem) -> None:
        """Append to the log (non-blocking)."""

    @abc.abstractmethod
    async def read(self) -> list[RouterItem]:
        """Router side: wait for and return the next items, in log order."""

    async def start(self) -> None:  # noqa: B027 - optional hook
        pass

    async def stop(self) -> None:  # noqa: B027 - optional hook
        pass


class MemoryRouterInput(RouterInput):
    def __init__(self) -> None:
        self._queue: asyncio.Queue[RouterItem] = asyncio.Queue()

    def submit(self, item: RouterItem) -> None:
        self._queue.put_nowait(item)

    async def read(self) -> list[RouterItem]:
        items = [await self._queue.get()]
        while not self._queue.empty():
            items.append(self._queue.get_nowait())
        return items
