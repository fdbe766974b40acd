"""Conversations: append an event (stored first, then fanned out), replay history to
a socket, and describe a contact to its participants."""

from __future__ import annotations

import asyncio
from typing import Any, Protocol

import msgspec

from contact_center import protocol as p
from contact_center.bus.hub import Hub, Subscriber
from contact_center.store.conversation_log import Appended, ConversationLog, StoredEvent
from contact_center.store.models import Contact

# Every event of a conversation goes to the bus topic ``contact:<id>``.
CONTACT_TOPIC = "contact:"


def contact_topic(contact_id: str) -> str:
    return CONTACT_TOPIC + contact_id


class Follower(Protocol):
    """What :meth:`Conversations.replay` needs of a socket (a gateway connection)."""

    def begin_sync(self, contact_id: str) -> None: ...

    def end_sync(self, contact_id: str, replayed_up_to: int, gate_from: int | None = None) -> None: ...

    def sent_up_to(self, contact_id: str) -> int:
        """The highest seq of this conversation already sent to the socket."""
        ...

    def subscribe(self, topic: str) -> None: ...

    def send(self, event: msgspec.Struct) -> None: ...


def server_event(stored: StoredEvent) -> msgspec.Struct:
    """The wire form of a stored conversation event."""
    data = stored.data or {}
    common: dict[str, Any] = {"contact_id": stored.contact_id, "seq": stored.seq, "at": stored.created_at}
    if stored.kind == "chat.message":
        return p.ChatMessageEvent(
            **common,
            sender=p.Sender(kind=stored.sender_kind, id=stored.sender_id, name=stored.sender_name),  # type: ignore[arg-type]
            body=stored.body,
            client_id=stored.client_id,
        )
    if stored.kind == "contact.joined":
        return p.ContactJoined(**common, agent_id=stored.sender_id, agent_name=stored.sender_name)
    if stored.kind == "contact.transferred":
        return p.ContactTransferred(**common, to_queue=data.get("to_queue"), to_agent=data.get("to_agent"))
    if stored.kind == "contact.ended":
        return p.ContactEnded(**common, by=data.get("by", ""))
    if stored.kind == "contact.rated":
        return p.ContactRated(**common, rating=int(data.get("rating", 0)))
    raise ValueError(f"unknown conversation event kind {stored.kind!r}")


class Conversations:
    def __init__(self, log: ConversationLog, hub: Hub) -> None:
        self.log = log
        self._hub = hub

    async def append(
        self,
        contact_id: str,
        kind: str,
        sender_kind: str,
        *,
        sender_id: str = "",
        sender_name: str = "",
        body: str = "",
        data: dict[str, Any] | None = None,
        client_id: str | None = None,
        at: float | None = None,
        origin: Subscriber | None = None,
    ) -> Appended:
        """Store, then publish to everyone on the conversation (but ``origin``, see
        :meth:`Hub.publish`).  A duplicate (same sender and client id) is not published
        again."""
        appended = await self.log.append(
            contact_id,
            kind,
            sender_kind,
            sender_id=sender_id,
            sender_name=sender_name,
            body=body,
            data=data,
            client_id=client_id,
            at=at,
        )
        if not appended.duplicate:
            self._hub.publish(contact_topic(contact_id), p.encode(server_event(appended.event)), origin)
        return appended

    def publish(self, contact_id: str, event: msgspec.Struct) -> None:
        """An ephemeral event (typing, receipts, queue position): not stored."""
        self._hub.publish(contact_topic(contact_id), p.encode(event))

    async def stored_after(self, contact_id: str, after_seq: int) -> list[tuple[int, bytes]]:
        """Stored events after ``after_seq``, encoded as sent (to repair a gap)."""
        return [
            (e.seq, p.encode(server_event(e))) for e in await self.log.history(contact_id, after_seq, 500)
        ]

    async def replay(
        self, conn: Follower, contact_id: str, after_seq: int, lock: asyncio.Lock, resend: bool = False
    ) -> int:
        """Subscribe ``conn`` to the conversation and send it every event after
        ``after_seq``, then the live events that arrived meanwhile, in seq order and
        without duplicates.  Returns the last seq sent.  A socket that follows the
        conversation already gets only what it has not had, unless ``resend`` (an
        explicit ``sync``)."""
        async with lock:
            if not resend:
                after_seq = max(after_seq, conn.sent_up_to(contact_id))
            conn.begin_sync(contact_id)
            conn.subscribe(contact_topic(contact_id))
            last = after_seq
            # Where live events pick up: after what was sent, or after what is stored
            # if the client claims more than there is (a wrong resume or sync seq must
            # not silence the conversation).
            gate_from = after_seq
            try:
                # Listening before reading: an event stored after the read below is
                # published after this, so it reaches the socket (held, then sent).
                await self._hub.subscribed(contact_topic(contact_id))
                sent = False
                while True:
                    batch = await self.log.history(contact_id, last, limit=500)
                    for stored in batch:
                        conn.send(server_event(stored))
                        last = stored.seq
                        sent = True
                    if len(batch) < 500:
                        break
                gate_from = (
                    last if sent or after_seq == 0 else min(after_seq, await self.log.last_seq(contact_id))
                )
            finally:
                conn.end_sync(contact_id, last, gate_from)
            return last


def contact_summary(
    contact: Contact, *, agent_name: str = "", last_seq: int = 0, transfer_note: str = ""
) -> p.ContactSummary:
    data = contact.data or {}
    return p.ContactSummary(
        id=contact.id,
        visitor_id=contact.visitor_id,
        queue_id=contact.queue_id,
        channel=contact.channel,
        status=contact.status,
        name=contact.name,
        email=contact.email,
        topic=contact.topic,
        stage=contact.stage,
        page_url=contact.page_url,
        page_title=contact.page_title,
        referrer=contact.referrer,
        utm_source=contact.utm_source,
        utm_medium=contact.utm_medium,
        utm_campaign=contact.utm_campaign,
        enqueued_at=contact.enqueued_at,
        answered_at=contact.answered_at,
        ended_at=contact.ended_at,
        agent_id=contact.agent_id,
        agent_name=agent_name,
        last_seq=last_seq,
        csat=contact.csat,
        visitor_read_seq=contact.visitor_read_seq,
        agent_read_seq=contact.agent_read_seq,
        visitor_delivered_seq=contact.visitor_delivered_seq,
        agent_delivered_seq=contact.agent_delivered_seq,
        transfer_note=transfer_note or data.get("transfer_note", ""),
        disposition=contact.disposition,
        current_page_url=str(data.get("page", {}).get("url", "")),
        current_page_title=str(data.get("page", {}).get("title", "")),
    )
