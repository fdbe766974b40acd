"""Who a conversation belongs to and whether it is open, without a database read per
message.

Every chat message must be checked (is this visitor the contact's visitor? is the
conversation still open?).  Reading the contact row for each one made the database
pool the bottleneck of the message path, so each process keeps a bounded map of the
conversations its sockets take part in.  The owning visitor never changes; the status
and agent change only through conversation events (``contact.joined``,
``contact.transferred``, ``contact.ended``), which every process with a participant
receives on the conversation's bus topic and applies here.  An entry for a
conversation no local socket follows may be stale, so it is re-read instead.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

import msgspec

from contact_center.store.contacts import ContactStore
from contact_center.store.models import Contact

OPEN = ("queued", "active")


@dataclass(slots=True)
class ContactRef:
    contact_id: str
    visitor_id: str
    agent_id: str | None
    status: str
    name: str
    # The current agent has written since joining (first response is measured once
    # per answer, so a transfer starts the clock again).
    agent_spoke: bool = False

    @property
    def is_open(self) -> bool:
        return self.status in OPEN


class _Peek(msgspec.Struct):
    type: str = ""
    seq: int | None = None
    agent_id: str | None = None
    by: str | None = None


_peek = msgspec.json.Decoder(_Peek)


def peek(payload: bytes) -> _Peek:
    """The few fields of a conversation event that bookkeeping needs (cheap decode)."""
    try:
        return _peek.decode(payload)
    except msgspec.DecodeError:
        return _Peek()


class ContactDirectory:
    def __init__(
        self, contacts: ContactStore, is_followed: Callable[[str], bool], capacity: int = 100_000
    ) -> None:
        self._contacts = contacts
        self._is_followed = is_followed
        self._entries: OrderedDict[str, ContactRef] = OrderedDict()
        self._capacity = capacity

    async def get(self, contact_id: str) -> ContactRef | None:
        ref = self._entries.get(contact_id)
        if ref is not None and self._is_followed(contact_id):
            self._entries.move_to_end(contact_id)
            return ref
        contact = await self._contacts.get(contact_id)
        return self.remember(contact) if contact is not None else None

    def remember(self, contact: Contact) -> ContactRef:
        ref = ContactRef(contact.id, contact.visitor_id, contact.agent_id, contact.status, contact.name)
        self._entries[contact.id] = ref
        self._entries.move_to_end(contact.id)
        while len(self._entries) > self._capacity:
            self._entries.popitem(last=False)
        return ref

    def apply(self, contact_id: str, event: _Peek) -> None:
        """A conversation event seen on the bus."""
        ref = self._entries.get(contact_id)
        if ref is None:
            return
        if event.type == "contact.joined":
            ref.status = "active"
            ref.agent_id = event.agent_id
            ref.agent_spoke = False
        elif event.type == "contact.transferred":
            ref.status = "queued"
            ref.agent_id = None
        elif event.type == "contact.ended":
            ref.status = "ended"
        elif event.type == "contact.overflowed":
            # Either another queue (still waiting) or the offline form (closed): re-read.
            self._entries.pop(contact_id, None)

    def forget(self, contact_id: str) -> None:
        self._entries.pop(contact_id, None)
