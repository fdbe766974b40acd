"""What can happen to a contact, in one place.

The socket handlers, the REST API, the presence timers and the router driver all change
contacts through these methods, so a contact always moves the same way whoever moves
it: the database row and touchpoint first, then the conversation event (stored, then
fanned out), then the routing event and the domain event.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from contact_center import protocol as p
from contact_center.bus.hub import Subscriber
from contact_center.conversations import Conversations
from contact_center.i18n import Text
from contact_center.journey.stages import StageRule, resolve_stage
from contact_center.protocol import FrameError
from contact_center.router_input import RouterInput
from contact_center.store.contacts import ContactStore, NewContact
from contact_center.store.conversation_log import Appended
from contact_center.store.models import Contact, Queue
from contact_center.store.queues import QueueStore
from contact_center.store.visitors import VisitorStore
from dashboard import events as dev
from routing import events as rev

Clock = Callable[[], float]


@dataclass(slots=True)
class Actor:
    kind: str  # visitor | agent | system
    id: str
    name: str


class ContactActions:
    def __init__(
        self,
        *,
        contacts: ContactStore,
        visitors: VisitorStore,
        queues: QueueStore,
        conversations: Conversations,
        router: RouterInput,
        emit: Callable[[dev.DomainEvent], None],
        stage_rules: list[StageRule],
        clock: Clock = time.time,
    ) -> None:
        self.contacts = contacts
        self.visitors = visitors
        self.queues = queues
        self.conversations = conversations
        self.router = router
        self.emit = emit
        self.stage_rules = stage_rules
        self.clock = clock
        # Messages by sender, counted in this process (Prometheus sums the processes).
        self.count_message: Callable[[str], None] = lambda _sender: None
        # The stage of the visitor's latest page view ("" if none), for a contact whose
        # page declares no stage and matches no rule (set to the journey recorder's).
        self.infer_stage: Callable[[str], Awaitable[str]] = _no_inference

    # ------------------------------------------------------------------ visitors

    async def _queue(self, queue_id: str) -> Queue:
        queue = await self.queues.get(queue_id)
        if queue is None:
            raise FrameError("not_found", Text("error.no_queue", queue=queue_id))
        return queue

    def _new_contact(
        self,
        visitor_id: str,
        queue: Queue,
        name: str,
        email: str,
        topic: str,
        page: p.PageInfo | None,
        channel: str,
        status: str,
        inferred: str = "",
    ) -> NewContact:
        page = page or p.PageInfo()
        stage, stage_source = resolve_stage(page.stage, page.url, self.stage_rules, inferred)
        return NewContact(
            visitor_id=visitor_id,
            queue_id=queue.id,
            channel=channel,
            name=name,
            email=email,
            topic=topic or queue.name,
            status=status,
            priority=queue.priority,
            stage=stage,
            stage_source=stage_source,
            page_url=page.url,
            page_title=page.title,
            referrer=page.referrer,
            utm_source=page.utm_source,
            utm_medium=page.utm_medium,
            utm_campaign=page.utm_campaign,
        )

    async def start_chat(
        self,
        visitor_id: str,
        frame: p.ChatStart,
        before_routing: Callable[[Contact], None] | None = None,
    ) -> Contact:
        """Create the contact and its touchpoint and put it in the queue.
        ``before_routing`` sees the new contact before the router does (a call gets
        ready to ring the agent the router will pick)."""
        queue = await self._queue(frame.queue)
        now = self.clock()
        page = frame.page or p.PageInfo()
        await self.visitors.touch(visitor_id, now, _page_dict(page))
        await self.visitors.set_contact_details(visitor_id, frame.name, frame.email)
        new = self._new_contact(
            visitor_id,
            queue,
            frame.name,
            frame.email,
            "",
            frame.page,
            frame.channel,
            "queued",
            await self.infer_stage(visitor_id),
        )
        contact = await self.contacts.create(new, now)
        self.emit(
            dev.ContactQueued(
                at=now,
                contact_id=contact.id,
                queue_id=queue.id,
                channel=contact.channel,
                stage=contact.stage,
                enqueued_at=now,
                sl_target_s=queue.sl_target_s,
            )
        )
        if frame.message:
            await self.post_message(contact.id, Actor("visitor", visitor_id, frame.name), frame.message, None)
        if before_routing is not None:
            before_routing(contact)
        self.router.submit(
            rev.ContactArrived(
                at=now,
                contact_id=contact.id,
                queue_id=queue.id,
                channel=contact.channel,  # type: ignore[arg-type]
                priority=queue.priority,
                skills=tuple(queue.skills or ()),
            )
        )
        return contact

    async def leave_offline_message(self, visitor_id: str, frame: p.OfflineMessage) -> Contact:
        """No agent is available: store the message as a contact to follow up."""
        queue = await self._queue(frame.queue)
        now = self.clock()
        await self.visitors.touch(visitor_id, now, _page_dict(frame.page or p.PageInfo()))
        await self.visitors.set_contact_details(visitor_id, frame.name, frame.email)
        new = self._new_contact(
            visitor_id,
            queue,
            frame.name,
            frame.email,
            "",
            frame.page,
            "chat",
            "offline",
            await self.infer_stage(visitor_id),
        )
        contact = await self.contacts.create(new, now)
        await self.post_message(contact.id, Actor("visitor", visitor_id, frame.name), frame.message, frame.id)
        return contact

    # ------------------------------------------------------------------ both sides

    async def post_message(
        self,
        contact_id: str,
        actor: Actor,
        body: str,
        client_id: str | None,
        origin: Subscriber | None = None,
    ) -> Appended:
        appended = await self.conversations.append(
            contact_id,
            "chat.message",
            actor.kind,
            sender_id=actor.id,
            sender_name=actor.name,
            body=body,
            client_id=client_id,
            origin=origin,
        )
        if not appended.duplicate:
            self.count_message(actor.kind)
        return appended

    async def end(self, contact: Contact, actor: Actor, disposition: str = "") -> bool:
        """Visitor or agent ends the conversation.  A contact still waiting is
        abandoned (it leaves the queue); an active one ends and its agent's slot frees
        (after wrap-up)."""
        now = self.clock()
        if contact.status == "queued":
            return await self.abandon(contact.id, at=now)
        if contact.status != "active":
            return False
        if not await self.contacts.mark_ended(contact.id, now, actor.kind, disposition):
            return False
        await self.conversations.append(
            contact.id, "contact.ended", "system", data={"by": actor.kind}, at=now
        )
        self.router.submit(rev.ContactEnded(at=now, contact_id=contact.id))
        self.emit(
            dev.ContactEnded(
                at=now, contact_id=contact.id, agent_id=contact.agent_id, disposition=disposition
            )
        )
        return True

    async def abandon(self, contact_id: str, at: float | None = None) -> bool:
        now = at if at is not None else self.clock()
        if not await self.contacts.mark_abandoned(contact_id, now):
            return False
        await self.conversations.append(contact_id, "contact.ended", "system", data={"by": "visitor"}, at=now)
        self.router.submit(rev.ContactAbandoned(at=now, contact_id=contact_id))
        self.emit(dev.ContactAbandoned(at=now, contact_id=contact_id))
        return True

    async def rate(self, contact: Contact, rating: int, comment: str) -> bool:
        if contact.status not in ("ended", "abandoned"):
            raise FrameError("conflict", Text("error.rate.not_ended"))
        first = contact.csat is None
        if not await self.contacts.set_csat(contact.id, rating, comment):
            return False
        now = self.clock()
        await self.conversations.append(
            contact.id, "contact.rated", "visitor", data={"rating": rating}, at=now
        )
        if first:
            self.emit(dev.CsatRated(at=now, contact_id=contact.id, rating=rating))
        return True

    async def transfer(
        self,
        contact: Contact,
        actor: Actor,
        to_queue: str | None,
        to_agent: str | None,
        note: str,
    ) -> None:
        if contact.status != "active":
            raise FrameError("conflict", Text("error.transfer.not_active"))
        if to_queue is None and to_agent is None:
            raise FrameError("invalid_frame", Text("error.transfer.target_needed"))
        # A transfer to a queue takes that queue's required skills.
        skills: tuple[str, ...] | None = None
        if to_queue is not None:
            skills = tuple((await self._queue(to_queue)).skills or ())
        now = self.clock()
        await self.contacts.set_data(contact.id, transfer_note=note, transferred_by=actor.id)
        await self.contacts.requeue(contact.id, to_queue)
        await self.conversations.append(
            contact.id,
            "contact.transferred",
            "system",
            # The note stays among staff: the visitor's wire event carries only where
            # the conversation went (conversations.server_event).
            data={"to_queue": to_queue, "to_agent": to_agent, "from_agent": actor.id, "note": note},
            at=now,
        )
        self.router.submit(
            rev.ContactTransferred(
                at=now, contact_id=contact.id, to_queue=to_queue, to_agent=to_agent, note=note, skills=skills
            )
        )
        self.emit(
            dev.ContactTransferred(
                at=now,
                contact_id=contact.id,
                from_agent=contact.agent_id,
                to_queue=to_queue,
                to_agent=to_agent,
            )
        )


async def _no_inference(_visitor_id: str) -> str:
    return ""


def _page_dict(page: p.PageInfo) -> dict[str, str]:
    return {
        "url": page.url,
        "referrer": page.referrer,
        "utm_source": page.utm_source,
        "utm_medium": page.utm_medium,
        "utm_campaign": page.utm_campaign,
        "utm_term": page.utm_term,
        "utm_content": page.utm_content,
    }
