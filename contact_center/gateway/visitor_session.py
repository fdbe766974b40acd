"""The visitor's side of the protocol (the widget)."""

from __future__ import annotations

import msgspec

from contact_center import protocol as p
from contact_center.actions import Actor
from contact_center.conversations import contact_summary
from contact_center.directory import ContactRef
from contact_center.gateway.connection import Connection
from contact_center.gateway.parts import VisitorParts
from contact_center.gateway.session import Session
from contact_center.i18n import Text
from contact_center.protocol import FrameError
from contact_center.router_input import PositionRequested
from contact_center.security import Identity
from contact_center.store.models import Contact

# A just-ended conversation stays in the widget this long (for the rating prompt).
RECENTLY_CLOSED_S = 30 * 60


class VisitorSession(Session):
    allowed_frames = p.VISITOR_FRAMES

    def __init__(self, parts: VisitorParts, conn: Connection, identity: Identity) -> None:
        super().__init__(parts, conn, identity)
        self.parts = parts
        # Conversations this socket follows (for page-change notices).
        self.following: set[str] = set()

    @property
    def visitor_id(self) -> str:
        return self.identity.subject

    async def open(self, hello: p.Hello) -> None:
        parts = self.parts
        parts.presence.connected("visitor", self.visitor_id)
        party_id = parts.calls.attach(self, hello.device_id)
        now = self.now()
        await parts.visitors.seen(self.visitor_id, now)
        contacts = await parts.contacts.for_visitor(
            self.visitor_id, recent_closed_since=now - RECENTLY_CLOSED_S
        )
        summaries = [
            contact_summary(
                c,
                agent_name=await parts.agent_name(c.agent_id),
                last_seq=await parts.conversation_log.last_seq(c.id),
            )
            for c in contacts
        ]
        self.conn.send(
            p.Welcome(
                role="visitor",
                user_id=self.visitor_id,
                name=contacts[-1].name if contacts else "",
                server_time=now,
                contacts=summaries,
                party_id=party_id,
            )
        )
        resume = {point.contact_id: point.after_seq for point in hello.resume}
        for contact in contacts:
            self.following.add(contact.id)
            await self.replay(contact.id, resume.get(contact.id, 0))
            if contact.status == "queued":
                parts.router_input.submit(PositionRequested(at=now, contact_id=contact.id))

    async def close(self) -> None:
        await super().close()
        self.parts.calls.detach(self)
        self.parts.presence.disconnected("visitor", self.visitor_id)

    async def follow(self, contact: Contact) -> None:
        self.parts.directory.remember(contact)
        self.following.add(contact.id)
        await self.replay(contact.id, 0)

    async def _own(self, contact_id: str) -> Contact:
        """The contact, if it is this visitor's; "not found" otherwise, so a visitor
        cannot even learn whether another visitor's contact exists."""
        contact = await self.parts.contacts.get(contact_id)
        if contact is None or contact.visitor_id != self.visitor_id:
            raise FrameError("not_found", Text("error.no_such_conversation"))
        self.parts.directory.remember(contact)
        return contact

    async def _own_ref(self, contact_id: str) -> ContactRef:
        """Like :meth:`_own` for the hot path (messages, typing, receipts): from the
        directory, without reading the row."""
        ref = await self.parts.directory.get(contact_id)
        if ref is None or ref.visitor_id != self.visitor_id:
            raise FrameError("not_found", Text("error.no_such_conversation"))
        return ref

    async def _tell_agents_about_page(self, page: p.PageInfo) -> None:
        """An agent in conversation with this visitor sees where the visitor is now."""
        now = self.now()
        for contact_id in self.following:
            ref = await self.parts.directory.get(contact_id)
            if ref is None or not ref.is_open:
                continue
            await self.parts.contacts.set_data(
                contact_id, page={"url": page.url, "title": page.title, "stage": page.stage, "at": now}
            )
            self.parts.conversations.publish(
                contact_id,
                p.VisitorPageEvent(
                    contact_id=contact_id, url=page.url, title=page.title, stage=page.stage, at=now
                ),
            )

    def _actor(self, contact: Contact) -> Actor:
        return Actor("visitor", self.visitor_id, contact.name)

    async def handle(self, frame: msgspec.Struct) -> None:
        parts = self.parts
        actions = parts.actions
        if isinstance(frame, p.CALL_FRAME_TYPES):
            await parts.calls.handle(self, frame)
            return
        if isinstance(frame, p.ChatMessage):
            ref = await self._own_ref(frame.contact_id)
            if not ref.is_open:
                raise FrameError("closed", Text("error.conversation_ended"), frame.id)
            actor = Actor("visitor", self.visitor_id, ref.name)
            appended = await actions.post_message(ref.contact_id, actor, frame.body, frame.id, self.conn)
            self.conn.own_seq(ref.contact_id, appended.event.seq)
            self.ack(
                frame.id, seq=appended.event.seq, duplicate=appended.duplicate, at=appended.event.created_at
            )
        elif isinstance(frame, p.ChatTyping):
            ref = await self._own_ref(frame.contact_id)
            parts.conversations.publish(
                ref.contact_id,
                p.TypingEvent(contact_id=ref.contact_id, by="visitor", typing=frame.typing, name=ref.name),
            )
        elif isinstance(frame, p.ChatReceipt):
            ref = await self._own_ref(frame.contact_id)
            column = "visitor_read_seq" if frame.state == "read" else "visitor_delivered_seq"
            parts.receipts.record(ref.contact_id, column, frame.seq)
            parts.conversations.publish(
                ref.contact_id,
                p.ReceiptEvent(contact_id=ref.contact_id, by="visitor", seq=frame.seq, state=frame.state),
            )
        elif isinstance(frame, p.ChatStart):
            if self.replay_ack(frame.id):
                return
            existing = [
                c
                for c in await parts.contacts.for_visitor(self.visitor_id, recent_closed_since=self.now())
                if c.status in ("queued", "active")
                and c.queue_id == frame.queue
                and c.channel == frame.channel
            ]
            if existing:
                # One open conversation per queue and channel: a second tab or a
                # resent start joins the first one instead of queueing twice (a call
                # just hung up, its contact still ending, is not this chat).
                await self.replay(existing[0].id, 0)
                self.ack(frame.id, contact_id=existing[0].id, duplicate=True)
                return
            status = parts.queue_status(frame.queue)
            if status is not None and not status.open:
                raise FrameError("closed", Text("error.queue_closed"), frame.id)
            contact = await actions.start_chat(self.visitor_id, frame)
            parts.directory.remember(contact)
            self.following.add(contact.id)
            await self.replay(contact.id, 0)
            self.ack(frame.id, contact_id=contact.id)
        elif isinstance(frame, p.ChatEnd):
            contact = await self._own(frame.contact_id)
            await actions.end(contact, self._actor(contact))
            self.ack(frame.id, contact_id=contact.id)
        elif isinstance(frame, p.ChatRate):
            contact = await self._own(frame.contact_id)
            await actions.rate(contact, frame.rating, frame.comment)
            self.ack(frame.id, contact_id=contact.id)
        elif isinstance(frame, p.OfflineMessage):
            if self.replay_ack(frame.id):
                return
            contact = await actions.leave_offline_message(self.visitor_id, frame)
            self.ack(frame.id, contact_id=contact.id)
        elif isinstance(frame, p.PageView):
            await parts.journey.record_page_view(self.visitor_id, frame.page, self.now())
            await self._tell_agents_about_page(frame.page)
        elif isinstance(frame, p.Sync):
            contact = await self._own(frame.contact_id)
            last = await self.replay(contact.id, frame.after_seq, resend=True)
            if frame.id is not None:
                self.ack(frame.id, contact_id=contact.id, seq=last)
        elif isinstance(frame, p.Ping):
            self.conn.send(p.Pong(id=frame.id, server_time=self.now()))
        else:  # pragma: no cover - allowed_frames keeps others out
            raise FrameError("forbidden", Text("error.frame.not_visitor"))
