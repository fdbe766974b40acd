"""The agent's (and supervisor's) side of the protocol (the console)."""

from __future__ import annotations

import msgspec

from contact_center import protocol as p
from contact_center.actions import Actor
from contact_center.audit import Actor as AuditActor
from contact_center.audit import peer_address
from contact_center.conversations import contact_summary, contact_topic
from contact_center.directory import ContactRef
from contact_center.gateway.connection import Connection
from contact_center.gateway.parts import AgentParts
from contact_center.gateway.session import Session
from contact_center.i18n import Text
from contact_center.protocol import FrameError
from contact_center.router_driver import QUEUES_TOPIC, agent_topic
from contact_center.router_input import AgentConnected
from contact_center.security import Identity
from contact_center.store.models import Contact
from dashboard import events as dev
from routing import events as rev


class _AgentTopicPeek(msgspec.Struct):
    """Just enough of an agent-topic event to keep the session's bookkeeping."""

    type: str
    contact_id: str | None = None
    contact: _ContactId | None = None


class _ContactId(msgspec.Struct):
    id: str
    channel: str = "chat"


_peek = msgspec.json.Decoder(_AgentTopicPeek)


class AgentSession(Session):
    allowed_frames = p.AGENT_FRAMES

    def __init__(self, parts: AgentParts, conn: Connection, identity: Identity) -> None:
        super().__init__(parts, conn, identity)
        self.parts = parts
        # Conversations this agent holds now (kept current from its bus topic).
        self.assigned: set[str] = set()
        self.watching: set[str] = set()
        # What the client said it holds (hello.resume): every replay of a conversation
        # on this socket starts there, also one an assignment seen mid-open starts.
        self.resumed: dict[str, int] = {}

    @property
    def agent_id(self) -> str:
        return self.identity.subject

    async def open(self, hello: p.Hello) -> None:
        parts = self.parts
        self.resumed = {point.contact_id: point.after_seq for point in hello.resume}
        parts.presence.connected("agent", self.agent_id)
        party_id = parts.calls.attach(self, hello.device_id)
        self.conn.observer = self._observe
        self.conn.subscribe(agent_topic(self.agent_id))
        self.conn.subscribe(QUEUES_TOPIC)
        now = self.now()
        contacts = await parts.contacts.active_for_agent(self.agent_id)
        self.assigned = {c.id for c in contacts}
        summaries = [
            contact_summary(
                c,
                agent_name=self.identity.name,
                last_seq=await parts.conversation_log.last_seq(c.id),
            )
            for c in contacts
        ]
        self.conn.send(
            p.Welcome(
                role=self.identity.role,
                user_id=self.agent_id,
                name=self.identity.name,
                server_time=now,
                contacts=summaries,
                party_id=party_id,
            )
        )
        for contact in contacts:
            await self.replay(contact.id, self.resumed.get(contact.id, 0))
        # The router answers with this agent's state and outstanding offers.
        parts.router_input.submit(AgentConnected(at=now, agent_id=self.agent_id))

    async def close(self) -> None:
        await super().close()
        self.parts.calls.detach(self)
        self.parts.presence.disconnected("agent", self.agent_id)

    def _observe(self, topic: str, payload: bytes) -> None:
        """Assignments arrive on the agent's topic, possibly from a router in another
        process: start following the conversation at once (and replay its history)."""
        try:
            peek = _peek.decode(payload)
        except msgspec.DecodeError:
            return
        if peek.type == "contact.assigned" and peek.contact is not None:
            contact_id = peek.contact.id
            self.assigned.add(contact_id)
            if not self.conn.follows(contact_id):  # (a repeated assignment: followed already)
                self.conn.begin_sync(contact_id)  # hold its live events until the replay
                self.spawn(self.replay(contact_id, self.resumed.get(contact_id, 0)))
        elif peek.type == "contact.released" and peek.contact_id is not None:
            self.assigned.discard(peek.contact_id)
            if peek.contact_id not in self.watching:
                self.conn.unsubscribe(contact_topic(peek.contact_id))
        elif peek.type == "offer" and peek.contact is not None and peek.contact.channel in p.CALL_CHANNELS:
            # The routing offer of a call is its ringing on this console.
            self.parts.calls.offer_seen(self, peek.contact.id)
        elif peek.type == "offer.revoked" and peek.contact_id is not None:
            self.parts.calls.offer_gone(self, peek.contact_id)

    async def _held(self, contact_id: str) -> Contact:
        """A conversation this agent holds (the bus may not have told us yet, so the
        database has the last word)."""
        contact = await self.parts.contacts.get(contact_id)
        if contact is None or contact.agent_id != self.agent_id:
            raise FrameError("forbidden", Text("error.not_assigned_to_you"))
        self.parts.directory.remember(contact)
        if contact.status != "active":
            raise FrameError("closed", Text("error.conversation_ended"))
        self.assigned.add(contact_id)
        return contact

    async def _check_held(self, contact_id: str) -> ContactRef:
        """The hot-path form of :meth:`_held`: the directory answers without a read
        while the conversation is open and this agent's."""
        ref = await self.parts.directory.get(contact_id)
        if ref is None or ref.agent_id != self.agent_id or ref.status != "active":
            return self.parts.directory.remember(await self._held(contact_id))
        return ref

    def _actor(self) -> Actor:
        return Actor("agent", self.agent_id, self.identity.name)

    async def handle(self, frame: msgspec.Struct) -> None:
        parts = self.parts
        submit = parts.router_input.submit
        now = self.now()
        if isinstance(frame, p.CALL_FRAME_TYPES):
            await parts.calls.handle(self, frame)
            return
        if isinstance(frame, p.OfferAccept | p.OfferDecline) and parts.calls.answer_offer(
            self, frame.contact_id, accept=isinstance(frame, p.OfferAccept)
        ):
            # A call ringing here: answering the offer answers (or rejects) the call.
            self.ack(frame.id, contact_id=frame.contact_id)
            return
        if isinstance(frame, p.ChatMessage):
            ref = await self._check_held(frame.contact_id)
            appended = await parts.actions.post_message(
                frame.contact_id, self._actor(), frame.body, frame.id, self.conn
            )
            if not ref.agent_spoke and not appended.duplicate:
                ref.agent_spoke = True
                parts.domain.emit(
                    dev.MessageSent(
                        at=appended.event.created_at,
                        contact_id=ref.contact_id,
                        sender="agent",
                        agent_id=self.agent_id,
                    )
                )
            self.conn.own_seq(frame.contact_id, appended.event.seq)
            self.ack(
                frame.id, seq=appended.event.seq, duplicate=appended.duplicate, at=appended.event.created_at
            )
        elif isinstance(frame, p.ChatTyping):
            await self._check_held(frame.contact_id)
            parts.conversations.publish(
                frame.contact_id,
                p.TypingEvent(
                    contact_id=frame.contact_id, by="agent", typing=frame.typing, name=self.identity.name
                ),
            )
        elif isinstance(frame, p.ChatReceipt):
            await self._check_held(frame.contact_id)
            column = "agent_read_seq" if frame.state == "read" else "agent_delivered_seq"
            parts.receipts.record(frame.contact_id, column, frame.seq)
            parts.conversations.publish(
                frame.contact_id,
                p.ReceiptEvent(contact_id=frame.contact_id, by="agent", seq=frame.seq, state=frame.state),
            )
        elif isinstance(frame, p.AgentStatus):
            self.parts.roll_call.chose(self.agent_id, frame.status, frame.reason or "requested")
            submit(
                rev.AgentPresenceChanged(
                    at=now, agent_id=self.agent_id, presence=frame.status, reason=frame.reason or "requested"
                )
            )
            self.ack(frame.id)
        elif isinstance(frame, p.OfferAccept):
            submit(rev.OfferAccepted(at=now, contact_id=frame.contact_id, agent_id=self.agent_id))
            self.ack(frame.id, contact_id=frame.contact_id)
        elif isinstance(frame, p.OfferDecline):
            submit(
                rev.OfferDeclined(
                    at=now, contact_id=frame.contact_id, agent_id=self.agent_id, reason=frame.reason
                )
            )
            self.ack(frame.id, contact_id=frame.contact_id)
        elif isinstance(frame, p.ContactTake):
            submit(rev.ContactTaken(at=now, contact_id=frame.contact_id, agent_id=self.agent_id))
            self.ack(frame.id, contact_id=frame.contact_id)
        elif isinstance(frame, p.ContactEndFrame):
            existing = await parts.contacts.get(frame.contact_id)
            if existing is not None and existing.status == "ended" and existing.agent_id == self.agent_id:
                # Ended already (the visitor left first): the agent still files the
                # disposition.
                if frame.disposition and not existing.disposition:
                    await parts.contacts.set_disposition(existing.id, frame.disposition)
                self.ack(frame.id, contact_id=existing.id, duplicate=True)
                return
            contact = await self._held(frame.contact_id)
            await parts.actions.end(contact, self._actor(), frame.disposition)
            self.ack(frame.id, contact_id=contact.id)
        elif isinstance(frame, p.ContactTransfer):
            if self.replay_ack(frame.id):
                return
            contact = await self._held(frame.contact_id)
            if contact.channel in p.CALL_CHANNELS:
                raise FrameError("conflict", Text("error.call.not_transferable"), frame.id)
            if frame.to_agent is not None:
                # A named colleague: one who exists and may sign in, and not oneself
                # (the engine would offer it straight back).
                if frame.to_agent == self.agent_id:
                    raise FrameError("conflict", Text("error.transfer.already_yours"))
                colleague = await parts.users.get(frame.to_agent)
                if colleague is None or colleague.disabled:
                    raise FrameError("not_found", Text("error.no_agent", agent=frame.to_agent))
            await parts.actions.transfer(contact, self._actor(), frame.to_queue, frame.to_agent, frame.note)
            self.ack(frame.id, contact_id=contact.id)
        elif isinstance(frame, p.ContactWatch):
            if not self.identity.at_least("supervisor"):
                raise FrameError("forbidden", Text("error.watch.supervisors_only"), frame.id)
            watched = await parts.contacts.get(frame.contact_id)
            if watched is None:
                raise FrameError("not_found", Text("error.no_such_conversation"), frame.id)
            if watched.id not in self.watching:
                await self.parts.audit.record(
                    AuditActor.of(self.identity),
                    "supervisor.watch",
                    target_kind="contact",
                    target_id=watched.id,
                    address=peer_address(self.conn.websocket),
                )
            self.watching.add(watched.id)
            last = await self.replay(watched.id, 0)
            self.ack(frame.id, contact_id=watched.id, seq=last)
        elif isinstance(frame, p.WrapUpEnd):
            submit(rev.WrapUpEnded(at=now, agent_id=self.agent_id))
            self.ack(frame.id)
        elif isinstance(frame, p.Sync):
            if frame.contact_id not in self.assigned and frame.contact_id not in self.watching:
                handled = await parts.contacts.get(frame.contact_id)
                # Agents may re-read conversations they handled (the transcript).
                if handled is None or (
                    handled.agent_id != self.agent_id and not self.identity.at_least("supervisor")
                ):
                    raise FrameError("forbidden", Text("error.not_your_conversation"), frame.id)
            last = await self.replay(frame.contact_id, frame.after_seq, resend=True)
            if frame.id is not None:
                self.ack(frame.id, contact_id=frame.contact_id, seq=last)
        elif isinstance(frame, p.Ping):
            self.conn.send(p.Pong(id=frame.id, server_time=now))
        else:  # pragma: no cover - allowed_frames keeps others out
            raise FrameError("forbidden", Text("error.frame.not_agent"))
