"""A queue's live state: its contacts in service order and its agents with room.

Service order is "priority, then age".  With priority ageing a contact's effective
priority is ``priority + waited / ageing_s``; comparing two contacts of one queue at any
instant ``t`` gives the same answer as comparing ``enqueued_at - priority * ageing_s``
(the ``t`` terms cancel), so the order is time-invariant and lives in a sorted
structure instead of being recomputed.  Without ageing the key is ``-priority`` then
``enqueued_at``.  Every key ends in the contact's arrival sequence number and id, so
keys are unique and ties break the same way on every replay.

Two views of the contacts:

* ``order``: every unassigned contact (waiting or being offered), for queue positions;
* ``ready``: contacts waiting *without* an offer, split by eligibility class
  (channel, required skills, language).  An agent looking for work checks each class
  once (can I serve this class?) and looks at its head only, so the cost of a decision
  depends on the number of classes, not on the number of contacts waiting.

``pools`` hold, per channel, the agents serving the queue who are present, not in
wrap-up and have room on that channel, ordered by the queue's strategy key, so that a
contact looking for an agent walks the best candidates first.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from routing.estimate import QueueWindow
from routing.events import CHANNELS, QueueConfig
from routing.records import AgentRecord, ContactRecord
from routing.sortedlist import Key, SortedList

ClassKey = tuple[str, tuple[str, ...], str | None]


def contact_key(config: QueueConfig, contact: ContactRecord) -> Key:
    if config.ageing_s:
        primary: float = contact.enqueued_at - contact.priority * config.ageing_s
    else:
        primary = -contact.priority
    return (primary, contact.enqueued_at, contact.seq, contact.contact_id)


def effective_priority(config: QueueConfig, contact: ContactRecord, now: float) -> float:
    if config.ageing_s:
        return contact.priority + (now - contact.enqueued_at) / config.ageing_s
    return float(contact.priority)


def pool_key(config: QueueConfig, agent: AgentRecord) -> Key:
    """Best candidate first, for the queue's strategy.

    longest_idle / best_skill: agents holding nothing come before agents holding
    something (so a burst of chats spreads over the team instead of filling the
    longest-idle agent's three slots first), then the longest idle, then the id.
    least_occupied: fewest contacts held (active + offered), then longest idle.
    round_robin: agent id, the fixed rotation order.
    """
    strategy = config.strategy
    if strategy == "round_robin":
        return (agent.agent_id,)
    if strategy == "least_occupied":
        return (agent.load(), agent.idle_since, agent.agent_id)
    return (1 if agent.load() else 0, agent.idle_since, agent.agent_id)


@dataclass(slots=True)
class QueueState:
    config: QueueConfig
    window: QueueWindow = field(default_factory=QueueWindow)
    order: SortedList = field(default_factory=SortedList)
    ready: dict[ClassKey, SortedList] = field(default_factory=dict)
    pools: dict[str, SortedList] = field(default_factory=lambda: {ch: SortedList() for ch in CHANNELS})
    # Agents serving the queue (explicit members and "every queue" agents).
    members: set[str] = field(default_factory=set)
    rr_last: str | None = None
    open: bool = True
    hours_token: int = 0
    # Staffed servers per channel (agents present and serving; chat counts slots).
    servers: dict[str, int] = field(default_factory=lambda: dict.fromkeys(CHANNELS, 0))
    staffed: int = 0

    @property
    def queue_id(self) -> str:
        return self.config.queue_id

    @property
    def routes(self) -> bool:
        """Does the engine make offers for this queue (everything but manual)?"""
        return self.config.strategy != "manual"

    def add_contact(self, contact: ContactRecord) -> int:
        """Put a contact in line; returns its 1-based position."""
        key = contact_key(self.config, contact)
        contact.key = key
        self.order.add(key)
        if contact.state == "waiting":
            self.add_ready(contact)
        return self.order.index(key) + 1

    def remove_contact(self, contact: ContactRecord) -> None:
        key = contact.key
        if key is None:
            return
        self.order.discard(key)
        self.remove_ready(contact)
        contact.key = None

    def add_ready(self, contact: ContactRecord) -> None:
        assert contact.key is not None
        cls = contact.class_key()
        bucket = self.ready.get(cls)
        if bucket is None:
            bucket = self.ready[cls] = SortedList()
        bucket.add(contact.key)

    def remove_ready(self, contact: ContactRecord) -> None:
        if contact.key is None:
            return
        cls = contact.class_key()
        bucket = self.ready.get(cls)
        if bucket is None:
            return
        bucket.discard(contact.key)
        if not bucket:
            del self.ready[cls]

    def position(self, contact: ContactRecord) -> int:
        assert contact.key is not None
        return self.order.index(contact.key) + 1
