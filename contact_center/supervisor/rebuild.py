"""Today's figures from the database, so a restart at 10:00 does not zero the wall.

The live aggregator only ever learns from domain events, and a new process has heard
none.  At start-up we read what the database kept of today (contacts, the first
agent message and the rating of each, wrap-up ends, the agent state log) and turn it
back into the domain events that produced it, in time order, before any live event
is counted.

What the database keeps, and so what comes back:

* every contact enqueued, answered, ended, abandoned or overflowed today, and every
  contact still waiting or active (enqueued earlier: its wait keeps running);
* first responses (the first agent ``chat.message`` after the answer), ratings (with
  the time of the ``contact.rated`` event), wrap-up ends (``wrap_up_ended_at``);
* agent states from ``agent_state_log`` (the state each agent was in at midnight,
  then every change), and each agent's load, counted from its contacts' answer and
  end times (slots from its chat capacity);
* offers from the ``offers`` ledger: made, accepted, declined (with the reason),
  expired, acceptance time and so each agent's missed-offers streak.

What it does not keep: hold time and call-quality samples.  Those restart from zero
with the process; everything else is as it was.  A contact transferred during the day
comes back as one stay with its last agent.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import and_, func, or_, select
from sqlalchemy.ext.asyncio import AsyncEngine

from contact_center.store.models import AgentStateLog, Contact, ConversationEvent, OfferRecord, Queue, User
from dashboard import events as dev

# Ties at the same instant are replayed in lifecycle order.
_ORDER: dict[type, int] = {
    dev.AgentStateChanged: 0,
    dev.ContactQueued: 1,
    dev.OfferMade: 2,
    dev.OfferAnswered: 2,
    dev.ContactAnswered: 2,
    dev.AgentLoadChanged: 3,
    dev.MessageSent: 4,
    dev.ContactAbandoned: 5,
    dev.ContactOverflowed: 5,
    dev.ContactEnded: 5,
    dev.WrapUpEnded: 6,
    dev.CsatRated: 7,
}


@dataclass(frozen=True, slots=True)
class AgentInfo:
    queues: tuple[str, ...]
    slots: int


def _open_or_today(since: float) -> Any:
    """Contacts worth replaying: open ones, and those with a fact stamped today.
    Offline messages (never queued: ``status`` offline, ``ended_by`` empty) are not
    contacts of a queue."""
    return and_(
        or_(
            Contact.status.in_(("queued", "active")),
            Contact.enqueued_at >= since,
            Contact.answered_at >= since,
            Contact.ended_at >= since,
            Contact.wrap_up_ended_at >= since,
        ),
        or_(Contact.status != "offline", Contact.ended_by != ""),
    )


async def load_today(db: AsyncEngine, since: float, default_slots: int) -> list[dev.DomainEvent]:
    """Everything needed to rebuild the aggregator for the period from ``since``."""
    wanted = _open_or_today(since)
    async with db.connect() as conn:
        targets = {row.id: row.sl_target_s for row in await conn.execute(select(Queue.id, Queue.sl_target_s))}
        agents = {
            row.id: AgentInfo(tuple(row.queues or ()), int((row.capacity or {}).get("chat", default_slots)))
            for row in await conn.execute(select(User.id, User.queues, User.capacity))
        }
        contacts = [
            dict(row)
            for row in (
                await conn.execute(
                    select(
                        Contact.id,
                        Contact.queue_id,
                        Contact.channel,
                        Contact.stage,
                        Contact.status,
                        Contact.enqueued_at,
                        Contact.answered_at,
                        Contact.ended_at,
                        Contact.abandoned_at,
                        Contact.wrap_up_ended_at,
                        Contact.agent_id,
                        Contact.csat,
                        Contact.disposition,
                    ).where(wanted)
                )
            ).mappings()
        ]
        first_agent_message = await _first_event_at(
            conn,
            wanted,
            and_(
                ConversationEvent.kind == "chat.message",
                ConversationEvent.sender_kind == "agent",
                ConversationEvent.created_at >= Contact.answered_at,
            ),
        )
        rated = await _first_event_at(conn, wanted, ConversationEvent.kind == "contact.rated")
        states = await _agent_states(conn, since)
        offers = [
            dict(row)
            for row in (
                await conn.execute(
                    select(
                        OfferRecord.contact_id,
                        OfferRecord.agent_id,
                        OfferRecord.offered_at,
                        OfferRecord.answered_at,
                        OfferRecord.outcome,
                        OfferRecord.reason,
                    )
                    .where(OfferRecord.offered_at >= since)
                    .order_by(OfferRecord.offered_at, OfferRecord.id)
                )
            ).mappings()
        ]
    return replay_events(
        contacts,
        first_agent_message=first_agent_message,
        rated=rated,
        states=states,
        targets=targets,
        agents=agents,
        offers=offers,
    )


async def _first_event_at(conn: Any, wanted: Any, condition: Any) -> dict[str, float]:
    stmt = (
        select(ConversationEvent.contact_id, func.min(ConversationEvent.created_at))
        .join(Contact, Contact.id == ConversationEvent.contact_id)
        .where(wanted, condition)
        .group_by(ConversationEvent.contact_id)
    )
    return {contact_id: float(at) for contact_id, at in await conn.execute(stmt)}


async def _agent_states(conn: Any, since: float) -> list[tuple[float, str, str, str]]:
    """Each agent's last state before ``since``, then every change from ``since``."""
    before = (
        select(AgentStateLog.agent_id, func.max(AgentStateLog.at).label("at"))
        .where(AgentStateLog.at < since)
        .group_by(AgentStateLog.agent_id)
        .subquery()
    )
    at_midnight = select(
        AgentStateLog.at, AgentStateLog.agent_id, AgentStateLog.state, AgentStateLog.reason
    ).join(before, and_(AgentStateLog.agent_id == before.c.agent_id, AgentStateLog.at == before.c.at))
    today = select(AgentStateLog.at, AgentStateLog.agent_id, AgentStateLog.state, AgentStateLog.reason).where(
        AgentStateLog.at >= since
    )
    rows = [tuple(r) for r in await conn.execute(at_midnight)]
    rows += [tuple(r) for r in await conn.execute(today.order_by(AgentStateLog.at, AgentStateLog.id))]
    return [(float(at), str(agent), str(state), str(reason or "")) for at, agent, state, reason in rows]


def replay_events(
    contacts: Iterable[Mapping[str, Any]],
    *,
    first_agent_message: Mapping[str, float],
    rated: Mapping[str, float],
    states: Sequence[tuple[float, str, str, str]],
    targets: Mapping[str, float],
    agents: Mapping[str, AgentInfo],
    offers: Iterable[Mapping[str, Any]] = (),
) -> list[dev.DomainEvent]:
    """The domain events that account for these rows, sorted by time.  Pure."""
    out: list[dev.DomainEvent] = list(_offer_events(offers))
    for at, agent_id, state, reason in states:
        info = agents.get(agent_id)
        out.append(
            dev.AgentStateChanged(
                at=at, agent_id=agent_id, state=state, reason=reason, queues=info.queues if info else ()
            )
        )
    for c in contacts:
        out += _contact_events(c, first_agent_message, rated, targets)
    out.sort(key=lambda e: (e.at, _ORDER.get(type(e), 9)))
    return _with_loads(out, agents)


def _contact_events(
    c: Mapping[str, Any],
    first_agent_message: Mapping[str, float],
    rated: Mapping[str, float],
    targets: Mapping[str, float],
) -> list[dev.DomainEvent]:
    cid = str(c["id"])
    status = c["status"]
    enqueued = float(c["enqueued_at"])
    agent = c["agent_id"]
    events: list[dev.DomainEvent] = [
        dev.ContactQueued(
            at=enqueued,
            contact_id=cid,
            queue_id=c["queue_id"],
            channel=c["channel"],
            stage=c["stage"],
            enqueued_at=enqueued,
            sl_target_s=float(targets.get(c["queue_id"], 20.0)),
        )
    ]
    answered = c["answered_at"]
    if status in ("active", "ended") and answered is not None and agent:
        events.append(dev.ContactAnswered(at=float(answered), contact_id=cid, agent_id=agent))
        first = first_agent_message.get(cid)
        if first is not None:
            events.append(dev.MessageSent(at=first, contact_id=cid, sender="agent", agent_id=agent))
    ended = c["ended_at"]
    if status == "ended" and ended is not None:
        events.append(
            dev.ContactEnded(
                at=float(ended), contact_id=cid, agent_id=agent, disposition=c["disposition"] or ""
            )
        )
        wrap = c["wrap_up_ended_at"]
        if wrap is not None and agent:
            events.append(dev.WrapUpEnded(at=float(wrap), agent_id=agent, contact_id=cid))
    elif status == "abandoned":
        at = c["abandoned_at"] if c["abandoned_at"] is not None else ended
        events.append(dev.ContactAbandoned(at=float(at if at is not None else enqueued), contact_id=cid))
    elif status == "offline":
        at = float(ended if ended is not None else enqueued)
        events.append(
            dev.ContactOverflowed(at=at, contact_id=cid, to_queue=None, reason=c["disposition"] or "")
        )
    if c["csat"] is not None and status in ("ended", "abandoned"):
        at = rated.get(cid, float(ended if ended is not None else enqueued))
        events.append(dev.CsatRated(at=at, contact_id=cid, rating=int(c["csat"])))
    return events


def _offer_events(offers: Iterable[Mapping[str, Any]]) -> Iterable[dev.DomainEvent]:
    """Each offer and, when the agent answered it or let it lapse, the answer.  Other
    endings (the visitor left, a restart) are not an agent's answer and count nowhere."""
    for o in offers:
        offered = float(o["offered_at"])
        yield dev.OfferMade(at=offered, contact_id=o["contact_id"], agent_id=o["agent_id"])
        if o["outcome"] in ("accepted", "declined", "expired") and o["answered_at"] is not None:
            yield dev.OfferAnswered(
                at=float(o["answered_at"]),
                contact_id=o["contact_id"],
                agent_id=o["agent_id"],
                outcome=o["outcome"],
                offered_at=offered,
                reason=o["reason"] or "",
            )


def _with_loads(events: list[dev.DomainEvent], agents: Mapping[str, AgentInfo]) -> list[dev.DomainEvent]:
    """Insert each agent's load after every answer and end (for slot occupancy and the
    'on contacts while available' rule of occupancy)."""
    active: dict[str, int] = {}
    holder: dict[str, str] = {}
    out: list[dev.DomainEvent] = []
    for event in events:
        out.append(event)
        agent: str | None = None
        if isinstance(event, dev.ContactAnswered):
            agent = event.agent_id
            holder[event.contact_id] = agent
            active[agent] = active.get(agent, 0) + 1
        elif isinstance(event, dev.ContactEnded):
            agent = holder.pop(event.contact_id, None)
            if agent is not None:
                active[agent] = max(0, active.get(agent, 0) - 1)
        if agent is not None:
            info = agents.get(agent)
            slots = info.slots if info else 0
            out.append(dev.AgentLoadChanged(at=event.at, agent_id=agent, active=active[agent], slots=slots))
    return out
