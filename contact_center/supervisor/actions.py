"""What a supervisor can do from the dashboard: set an agent's status and move a
waiting contact to another queue or agent.  (Watching a live chat is a socket
frame, ``contact.watch`` on ``/ws/supervisor``.)

Both go through the routing log like everything else that changes routing, so the
one active router applies them in order with the agents' own frames.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Literal

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncEngine

from contact_center.conversations import Conversations
from contact_center.i18n import Text
from contact_center.router_input import AgentDisconnected, RouterInput
from contact_center.security import Identity
from contact_center.store.contacts import ContactStore
from contact_center.store.models import Contact
from contact_center.store.queues import QueueStore
from contact_center.store.users import UserStore
from routing import events as rev

StatusChoice = Literal["available", "away", "offline"]


class SupervisorActionError(Exception):
    def __init__(self, status: int, code: str, message: str | Text) -> None:
        super().__init__(str(message))
        self.status = status
        self.code = code
        self.message = message


class SupervisorActions:
    def __init__(
        self,
        *,
        users: UserStore,
        queues: QueueStore,
        contacts: ContactStore,
        conversations: Conversations,
        router_input: RouterInput,
        db: AsyncEngine,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.users = users
        self.queues = queues
        self.contacts = contacts
        self.conversations = conversations
        self.router_input = router_input
        self.db = db
        self.clock = clock

    async def set_agent_status(
        self, supervisor: Identity, agent_id: str, status: StatusChoice, reason: str = ""
    ) -> None:
        """Available or away, as if the agent had chosen it; offline signs the agent
        out of routing (its conversations go back to their queues, keeping their
        enqueue time) until it chooses a status again from its console."""
        user = await self.users.get(agent_id)
        if user is None or user.disabled:
            raise SupervisorActionError(404, "not_found", Text("error.no_such_agent"))
        now = self.clock()
        why = reason or f"set by {supervisor.name or supervisor.subject}"
        if status == "offline":
            self.router_input.submit(AgentDisconnected(at=now, agent_id=agent_id))
        else:
            self.router_input.submit(
                rev.AgentPresenceChanged(at=now, agent_id=agent_id, presence=status, reason=why[:64])
            )

    async def reassign(
        self,
        supervisor: Identity,
        contact_id: str,
        to_queue: str | None,
        to_agent: str | None,
        note: str = "",
    ) -> None:
        """Move a contact that is still waiting: to another queue (it keeps its place
        in time: the wait runs from its first enqueue), and/or to one agent (offered
        to that agent only; if they decline or let the offer expire it waits in the
        queue again)."""
        if to_queue is None and to_agent is None:
            raise SupervisorActionError(422, "invalid", Text("error.transfer.target_needed"))
        contact = await self.contacts.get(contact_id)
        if contact is None:
            raise SupervisorActionError(404, "not_found", Text("error.no_such_contact"))
        if contact.status != "queued":
            raise SupervisorActionError(409, "conflict", Text("error.reassign.only_waiting"))
        if to_queue is not None and to_queue != contact.queue_id and await self.queues.get(to_queue) is None:
            raise SupervisorActionError(404, "not_found", Text("error.no_queue", queue=to_queue))
        if to_agent is not None:
            agent = await self.users.get(to_agent)
            if agent is None or agent.disabled:
                raise SupervisorActionError(404, "not_found", Text("error.no_agent", agent=to_agent))
        now = self.clock()
        if not await self._still_waiting(contact_id, to_queue):
            raise SupervisorActionError(409, "conflict", Text("error.reassign.not_waiting"))
        await self.contacts.set_data(contact_id, transfer_note=note, transferred_by=supervisor.subject)
        await self.conversations.append(
            contact_id,
            "contact.transferred",
            "system",
            data={
                "to_queue": to_queue,
                "to_agent": to_agent,
                "by": "supervisor",
                "supervisor": supervisor.subject,
            },
            at=now,
        )
        self.router_input.submit(
            rev.ContactTransferred(
                at=now, contact_id=contact_id, to_queue=to_queue, to_agent=to_agent, note=note
            )
        )

    async def _still_waiting(self, contact_id: str, to_queue: str | None) -> bool:
        """Move the row to ``to_queue`` if it is still waiting (an agent may have
        answered it meanwhile: then nothing changes)."""
        values = {"queue_id": to_queue} if to_queue is not None else {"status": "queued"}
        async with self.db.begin() as conn:
            result = await conn.execute(
                update(Contact).where(Contact.id == contact_id, Contact.status == "queued").values(**values)
            )
        return bool(result.rowcount)
