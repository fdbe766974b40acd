"""Voice and video calls: the gateway's side of ``signalling``.

Three ways a call starts (``call.invite``):

- **from the widget, in a queue** (``queue``): a new contact with channel voice or
  video, routed like a chat (voice and video capacity 1, at most one call per agent).
  *The routing offer is the ringing*: every console of the agent the router picked
  rings (``call.invite``); ``call.accept`` is the agent's acceptance of the offer, and
  the call is answered when routing has assigned the contact (``contact.joined``), so
  acceptance stays atomic (one contact, one agent, never over capacity).  An offer that
  expires or is declined (``call.reject``) stops the ringing and the router offers the
  call to the next agent; the ring timeout ends it ``missed``.
- **a chat turned into a call** by the visitor (``contact_id``): it rings the agent
  already on the conversation, every console of that agent; no routing.
- **the agent calls the visitor** of a conversation it holds: every tab of the
  visitor rings.

Direct calls (the last two) end ``busy`` when the callee is already on a call and
``missed`` when nobody answers (or no device is there to ring); a routed call offered
to an agent who is on a call elsewhere is declined for routing ("busy") and moves on.

**Where a call's state lives.**  In the process where the call was placed (the
gateway that received ``call.invite``), which becomes its *owner*: one
:class:`~signalling.call.Call` state machine, its timer, its quality tracker, its
database row.  The caller is there already, so setting up costs no extra hop; no
central call service is needed (every gateway owns its share of the calls, so calls
scale out with gateways); and the router stays a router.  Devices on other gateways
reach the owner only through bus topics (:mod:`contact_center.calls.topics`): a frame
is validated where it arrives, then published to ``call:<call id>``; the owner's
answers go to ``call.party:<party id>``, which the device's socket follows wherever it
is.  A socket that drops and comes back on *another* gateway announces itself on
``call.presence:<party id>`` and the owner restores it.  The price: if the owning
process dies, its calls' signalling dies with it (the media, peer to peer, goes on
until the browsers notice), which is why the state is also written to the ``calls``
table as it changes.  And on Redis a subscription takes a moment: a console that rings
before the owner of a just-placed call listens for it is not heard, and rings again
when routing re-offers the call at the offer's expiry.

Persistence: every call is a row in ``calls`` and a journey touchpoint (see
:mod:`contact_center.calls.store`); a routed call's contact ends with the call.
"""

from contact_center.calls.manager import CallManager
from contact_center.calls.store import CallStore

__all__ = ["CallManager", "CallStore"]
