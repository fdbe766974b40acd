"""Roll call: a router that had to rebuild its state from the database asks every
gateway which agents are connected there, and what each last chose.

The routing log and its snapshot live in Redis.  When Redis comes back empty (no
persistence, or a new instance), the router that takes the lease starts from the
database: it knows the queues, the waiting contacts and who holds what, but not who is
signed in or available: that only ever travelled in the log.  Without a roll call,
agents whose consoles stayed connected through the outage would look offline and get
nothing until they reconnected.  Found by the chaos soak (bench/soak.py).

The router publishes on :data:`ROLL_CALL_TOPIC` after it has noted where the log
ends, so every answer is logged after that point and is applied.  The call travels on
pub/sub, which keeps nothing: a gateway whose subscription comes back only after the
call was published would never hear it (CI caught this on a loaded machine).  So a
gateway also answers, unasked, whenever its bus connection comes back: either it was
subscribed when the call went out and answers that, or it came back later and its own
answer is logged after the point the router replays from.  Answers are idempotent.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable

from contact_center import protocol as p
from contact_center.bus.hub import Hub
from contact_center.conversations import contact_summary
from contact_center.protocol import encode
from contact_center.router_driver import agent_topic
from contact_center.router_input import AgentConnected, RouterInput
from contact_center.store.contacts import ContactStore
from routing import events as rev

ROLL_CALL_TOPIC = "router:roll-call"


class RollCall:
    """The gateway's side: remembers each local agent's last status choice and answers
    the router's call with them."""

    def __init__(
        self,
        router_input: RouterInput,
        local_agents: Callable[[], list[str]],
        reannounce: Callable[[], None] = lambda: None,
    ) -> None:
        self._input = router_input
        self._local_agents = local_agents
        self._reannounce = reannounce
        self._choices: dict[str, tuple[str, str]] = {}

    def chose(self, agent_id: str, status: str, reason: str) -> None:
        self._choices[agent_id] = (status, reason)

    def answer(self, _topic: str, _payload: bytes) -> None:
        """The router's call, heard on the bus."""
        self._reannounce()
        self.announce()

    def announce(self) -> None:
        """Tell the router who is connected here and what each last chose."""
        now = time.time()
        for agent_id in self._local_agents():
            self._input.submit(AgentConnected(at=now, agent_id=agent_id))
            status, reason = self._choices.get(agent_id, ("", ""))
            if status in ("available", "away"):
                self._input.submit(
                    rev.AgentPresenceChanged(at=now, agent_id=agent_id, presence=status, reason=reason)  # type: ignore[arg-type]
                )


async def reannounce_assignments(
    contacts: ContactStore, hub: Hub, local_agents: list[str], agent_name: Callable[[str], Awaitable[str]]
) -> int:
    """Tell this process's agent sockets again about every conversation they hold.

    ``contact.assigned`` travels on the bus only: one published while this process was
    not subscribed (Redis restarting) never reaches the console, which then never
    follows the conversation and the visitor talks to nobody (found by the chaos
    soak).  Delivered locally, as the bus would have; a socket that follows the
    conversation already ignores it (no second replay)."""
    told = 0
    for agent_id in local_agents:
        name = await agent_name(agent_id)
        for contact in await contacts.active_for_agent(agent_id):
            hub.deliver_local(
                agent_topic(agent_id),
                encode(p.ContactAssigned(contact=contact_summary(contact, agent_name=name))),
            )
            told += 1
    return told
