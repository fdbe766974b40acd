"""Calls whose owner died: ending what a ``kill -9``'d gateway cannot end itself.

A call's state machine lives in the gateway process that took the invite
(:mod:`contact_center.calls`).  If that process dies the media may go on peer to
peer, but nobody can hang the call up, its row stays live (so the conversation can
never place another call), a call from a queue keeps its agent's voice or video slot,
and the touchpoint never gets its outcome.  The active router's presence sweeper
therefore looks for live calls whose owner has stopped its heartbeat
(:meth:`ClusterPresence.node_alive`) and, after a grace period, ends them here as the
owner would have: ``dropped`` if they had been answered, ``failed`` if not.

An answered call is ended here only if neither side came back within the grace: a
side that reconnects to any gateway makes that gateway take the call over
(:meth:`CallManager._watch_owners`), and the end below is conditional on the owner
being unchanged.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from contact_center import protocol as p
from contact_center.actions import Actor
from contact_center.calls.owner import SYSTEM, end_call_contact
from contact_center.calls.topics import party_topic
from contact_center.store.models import Contact

if TYPE_CHECKING:
    from contact_center.calls.manager import CallManager
    from contact_center.store.models import CallRecord

log = logging.getLogger(__name__)


async def end_orphaned_call(manager: CallManager, call: CallRecord, now: float) -> None:
    answered = call.answered_at is not None
    reason = "dropped" if answered else "failed"
    ended = await manager.store.finish(
        call.id,
        {"end_reason": reason, "ended_at": now},
        call.touchpoint_id,
        {"ended_at": now, "outcome": reason},
        {"call_id": call.id, "origin": call.origin, "end_reason": reason, "owner_lost": True},
        owner=call.node,
    )
    if not ended:
        return  # a gateway one of its sides reconnected to took it over meanwhile
    log.info("call %s: its gateway %s is gone; ended as %s", call.id, call.node or "(released)", reason)
    if call.origin == "queue":

        async def system(_contact: Contact) -> Actor:
            return SYSTEM

        await end_call_contact(manager.actions, manager.contacts, call.contact_id, now, answered, system)
    elif call.agent_id is not None:
        # A chat turned call or an agent's call held the agent's call capacity.
        await manager.hold_call_capacity(call.agent_id, False)
    # Both sides' widgets and consoles stop the call (their media may still flow).
    media: p.CallMedia = "video" if call.channel == "video" else "audio"
    event = p.encode(
        p.CallStateEvent(
            call_id=call.id, state="ended", media=media, reason=reason, contact_id=call.contact_id
        )
    )
    for party in (call.caller_party, call.callee_party):
        if party:
            manager.hub.publish(party_topic(party), event)
