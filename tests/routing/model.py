"""A referee for routing runs: it follows the decisions an engine makes, keeps its own
book of offers and assignments, and fails loudly the moment a decision breaks a rule.

It knows only what the events and decisions say (agent profiles from AgentUpserted,
contacts from ContactArrived) plus the engine's public views, so it checks the engine
from the outside.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from routing.engine import RoutingEngine
from routing.events import (
    CHANNELS,
    AgentRemoved,
    AgentUpserted,
    Assigned,
    ContactArrived,
    ContactOverflowed,
    ContactReleased,
    Decision,
    EngineConfig,
    Event,
    OfferMade,
    OfferRevoked,
    QueueConfig,
    QueueUpserted,
)

CALLS = ("voice", "video")


@dataclass
class AgentBook:
    profile: AgentUpserted
    capacity: dict[str, int]
    active: dict[str, str] = field(default_factory=dict)
    offers: dict[str, str] = field(default_factory=dict)

    def used(self, channel: str) -> int:
        return sum(1 for ch in (*self.active.values(), *self.offers.values()) if ch == channel)


@dataclass
class Referee:
    engine: RoutingEngine
    config: EngineConfig = field(default_factory=EngineConfig)
    agents: dict[str, AgentBook] = field(default_factory=dict)
    queues: dict[str, QueueConfig] = field(default_factory=dict)
    contacts: dict[str, ContactArrived] = field(default_factory=dict)
    # contact -> agent holding its outstanding offer
    offers: dict[str, str] = field(default_factory=dict)
    # contact -> agent it is assigned to
    assigned: dict[str, str] = field(default_factory=dict)
    log: list[Event] = field(default_factory=list)
    decisions: list[Decision] = field(default_factory=list)
    # (contact, queue) of each first OfferMade, in order
    first_offers: list[tuple[str, str]] = field(default_factory=list)
    assignments: list[Assigned] = field(default_factory=list)
    # contact -> time of the event that led to its first offer
    first_offer_at: dict[str, float] = field(default_factory=dict)
    # contact -> index in the log of its arrival / of the event that first offered it
    arrival_step: dict[str, int] = field(default_factory=dict)
    first_offer_step: dict[str, int] = field(default_factory=dict)
    _at: float = 0.0

    def feed(self, event: Event) -> list[Decision]:
        self._learn(event)
        self.log.append(event)
        self._at = event.at
        out = self.engine.handle(event)
        self.decisions.extend(out)
        for decision in out:
            self._check(decision)
        if isinstance(event, AgentRemoved):
            book = self.agents.pop(event.agent_id, None)
            assert book is None or not (book.active or book.offers), book
        self.check_state()
        return out

    # ----------------------------------------------------------------- bookkeeping

    def _learn(self, event: Event) -> None:
        if isinstance(event, AgentUpserted):
            defaults = {"chat": self.config.default_chat_capacity, "voice": 1, "video": 1}
            capacity = {ch: event.capacity.get(ch, defaults[ch]) for ch in CHANNELS}
            book = self.agents.get(event.agent_id)
            if book is None:
                self.agents[event.agent_id] = AgentBook(event, capacity)
            else:
                book.profile, book.capacity = event, capacity
        elif isinstance(event, QueueUpserted):
            self.queues[event.queue.queue_id] = event.queue
        elif isinstance(event, ContactArrived) and self.engine.contact_view(event.contact_id) is None:
            self.contacts[event.contact_id] = event
            self.arrival_step[event.contact_id] = len(self.log)

    def _check(self, decision: Decision) -> None:
        if isinstance(decision, OfferMade):
            cid, aid = decision.contact_id, decision.agent_id
            assert cid not in self.offers, f"{cid} offered to {aid} while offered to {self.offers.get(cid)}"
            assert cid not in self.assigned, f"{cid} offered while assigned"
            book = self.agents[aid]
            if decision.channel == "chat" and not self.config.chat_while_on_call:
                on_call = any(ch in CALLS for ch in (*book.active.values(), *book.offers.values()))
                assert not on_call, f"chat {cid} offered to {aid} during a call"
            self.offers[cid] = aid
            book.offers[cid] = decision.channel
            if cid not in self.first_offer_at:
                self.first_offers.append((cid, decision.queue_id))
                self.first_offer_at[cid] = self._at
                self.first_offer_step[cid] = len(self.log) - 1
        elif isinstance(decision, OfferRevoked):
            cid, aid = decision.contact_id, decision.agent_id
            assert self.offers.get(cid) == aid, f"revoked an offer that was not out: {decision}"
            del self.offers[cid]
            del self.agents[aid].offers[cid]
        elif isinstance(decision, Assigned):
            cid, aid = decision.contact_id, decision.agent_id
            assert cid not in self.assigned, f"{cid} assigned twice"
            if decision.via == "offer":
                # Only a live offer can become an assignment (never an expired/rescinded one).
                assert self.offers.get(cid) == aid, f"assigned without a live offer: {decision}"
            if cid in self.offers:
                assert self.offers[cid] == aid
                del self.offers[cid]
                del self.agents[aid].offers[cid]
            self.assigned[cid] = aid
            self.agents[aid].active[cid] = decision.channel
            self.assignments.append(decision)
        elif isinstance(decision, ContactReleased):
            cid, aid = decision.contact_id, decision.agent_id
            assert self.assigned.get(cid) == aid, f"released {cid} from {aid} but not assigned"
            del self.assigned[cid]
            del self.agents[aid].active[cid]
        elif isinstance(decision, ContactOverflowed):
            assert decision.contact_id not in self.assigned
            assert decision.contact_id not in self.offers

    # ----------------------------------------------------------------- invariants

    def check_state(self) -> None:
        for aid, book in self.agents.items():
            view = self.engine.agent_view(aid)
            if view is None:
                continue
            # The engine's own view agrees with the decisions it published.
            assert set(view.offers) == set(book.offers), (aid, view.offers, book.offers)
            active = {cid for ids in view.active.values() for cid in ids}
            assert active == set(book.active), (aid, active, book.active)
            # Never over capacity on any channel, counting offers; one call at most.
            for ch in CHANNELS:
                assert book.used(ch) <= book.capacity[ch], (aid, ch, book)
            assert sum(book.used(ch) for ch in CALLS) <= 1, (aid, book)
        self.check_work_conserving()

    def _eligible_with_room(self, aid: str, contact: ContactArrived, queue_id: str) -> bool:
        book = self.agents[aid]
        view = self.engine.agent_view(aid)
        if view is None or view.presence != "available" or view.wrap_up_until is not None:
            return False
        profile = book.profile
        if profile.queues and queue_id not in profile.queues:
            return False
        if not all(profile.skills.get(s, 0) > 0 for s in contact.skills):
            return False
        if contact.language is not None and contact.language not in profile.languages:
            return False
        calls = sum(book.used(ch) for ch in CALLS)
        if contact.channel == "chat":
            if book.used("chat") >= book.capacity["chat"]:
                return False
            return self.config.chat_while_on_call or calls == 0
        return book.capacity[contact.channel] > 0 and calls == 0

    def check_work_conserving(self) -> None:
        """No contact waits without an offer while an eligible agent has room."""
        for cid, contact in self.contacts.items():
            view = self.engine.contact_view(cid)
            if view is None or view.state != "waiting":
                continue
            queue = self.queues.get(view.queue_id)
            if queue is None or queue.strategy == "manual":
                continue
            if not self.engine.is_open(view.queue_id, self.engine.now or 0.0):
                continue
            for aid in self.agents:
                assert not self._eligible_with_room(aid, contact, view.queue_id), (
                    f"{cid} waits in {view.queue_id} while {aid} could take it"
                )
