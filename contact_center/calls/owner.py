"""The owner of one call: its :class:`signalling.call.Call`, timer, quality tracker and
record, in the process where the call was placed.

Every input (a device's frame, a device that rings or goes away, the clock, an event
on the call's conversation) goes through one queue and is applied in order by one
task: the state machine returns effects, messages for devices are published at once
(``call.party:<party>``), state changes are then written down (the ``calls`` row; at
the end the touchpoint and, for a call from a queue, the contact), and the one timer
is re-armed for :meth:`Call.next_deadline`.
"""

from __future__ import annotations

import asyncio
import logging
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from typing import Any, Literal, Protocol

import msgspec

from contact_center import protocol as p
from contact_center.actions import Actor, ContactActions
from contact_center.bus.hub import Hub
from contact_center.calls.store import CallStore
from contact_center.calls.topics import (
    Control,
    call_contact_topic,
    call_topic,
    decode_control,
    party_topic,
    presence_topic,
    subject_of,
)
from contact_center.conversations import CONTACT_TOPIC, contact_topic
from contact_center.router_input import RouterInput
from contact_center.settings import Settings
from contact_center.store.contacts import ContactStore
from contact_center.store.models import Contact
from dashboard import events as dev
from routing import events as rev
from signalling.call import Call, Effect, EndReason, SendTo, StateChanged
from signalling.errors import SignallingError
from signalling.quality import CallQualityTracker, StatsSample
from signalling.turn import ice_servers

log = logging.getLogger(__name__)

Origin = Literal["queue", "escalation", "agent"]
# After the end, the owner keeps answering late frames ("call_ended") this long.
LINGER_S = 30.0
# A direct call whose callee has no device to ring ends "missed" after this long.
NO_DEVICE_S = 5.0
_UNANSWERED = ("initiating", "ringing")
_ANSWERED = ("connecting", "active", "reconnecting")
_RECENT_FRAMES = 256

EVENT_TYPES: dict[str, type[msgspec.Struct]] = {
    p.frame_tag(cls): cls
    for cls in (
        p.CallInviteEvent,
        p.CallStateEvent,
        p.CallOfferEvent,
        p.CallAnswerEvent,
        p.CallCandidatesEvent,
        p.CallNegotiateEvent,
        p.CallMediaStateEvent,
        p.CallQualityEvent,
    )
}


class _ContactPeek(msgspec.Struct):
    type: str = ""
    agent_id: str | None = None
    to_queue: str | None = None


_contact_peek = msgspec.json.Decoder(_ContactPeek)


class Owner(Protocol):
    """What an owned call needs of the process's call manager (which holds every owned
    call, the devices and the batched writer)."""

    settings: Settings
    hub: Hub
    contacts: ContactStore
    actions: ContactActions
    router_input: RouterInput
    store: CallStore
    emit: Callable[[dev.DomainEvent], None]
    agent_name: Callable[[str], Awaitable[str]]
    clock: Callable[[], float]

    def ring_devices(self, subject: str, call_id: str, contact_id: str) -> None:
        """Ask every gateway to ring the devices of ``subject`` (a user or visitor)."""
        ...

    async def hold_call_capacity(self, agent_id: str, on_call: bool) -> None: ...

    def queue_update(self, call_id: str, values: dict[str, Any]) -> None:
        """Write these columns of the call's row with the next batch."""
        ...

    def discard_update(self, call_id: str) -> None: ...

    def probe(self, party_id: str) -> None:
        """Ask the gateways where this party's device is (it answers ``up``)."""
        ...

    def forget(self, owned: OwnedCall) -> None:
        """The call is over: the manager stops routing frames to it."""
        ...


class OwnedCall:
    """One call, owned by this process."""

    def __init__(
        self,
        manager: Owner,
        call: Call,
        *,
        contact_id: str,
        visitor_id: str,
        agent_id: str | None,
        origin: Origin,
        callee_subject: str | None,
        caller_name: str,
        caller_conn: str,
    ) -> None:
        self.m = manager
        self.call = call
        self.call_id = call.call_id
        self.contact_id = contact_id
        self.visitor_id = visitor_id
        self.agent_id = agent_id
        self.origin: Origin = origin
        self.callee_subject = callee_subject
        self.caller_name = caller_name
        self.touchpoint_id: int | None = None
        self.tracker = CallQualityTracker()
        self._bitrates: list[float] = []
        # party -> the socket id of its latest "up": an older socket's "down" is stale.
        self._conns: dict[str, str] = {call.caller.party_id: caller_conn}
        # agent id -> its device that accepted, until routing assigns the contact.
        self._pending_accept: dict[str, str] = {}
        self._assigned_agent: str | None = None
        self._declined_busy: set[str] = set()
        self._applied: OrderedDict[tuple[str, str], None] = OrderedDict()
        self._ended_by: str | None = None
        self._no_device_deadline: float | None = None
        # The agent whose call capacity this direct call holds (see hold_call_capacity).
        self._holding: str | None = None
        self._inbox: asyncio.Queue[Callable[[], Awaitable[None]] | None] = asyncio.Queue()
        self._task: asyncio.Task[None] | None = None
        self._timer: asyncio.TimerHandle | None = None
        self._linger: asyncio.TimerHandle | None = None
        self._topics: set[str] = set()
        # The state machine as last queued for the row (see write_snapshot).
        self._written: dict[str, Any] | None = None
        self._reprobe: asyncio.TimerHandle | None = None
        self.closed = False
        self.done = asyncio.Event()

    # ------------------------------------------------------------------ plumbing

    def subscribe_inputs(self) -> None:
        self._subscribe(call_topic(self.call_id))
        self._subscribe(presence_topic(self.call.caller.party_id))
        if self.call.answered_by is not None:
            self._subscribe(presence_topic(self.call.answered_by))
        self._subscribe(contact_topic(self.contact_id))
        if self.origin == "queue":
            self._subscribe(call_contact_topic(self.contact_id))

    def _subscribe(self, topic: str) -> None:
        if topic not in self._topics:
            self._topics.add(topic)
            self.m.hub.subscribe(topic, self)

    def deliver(self, topic: str, payload: bytes) -> None:
        """Hub subscriber: queue the input for the call's task."""
        if self.closed:
            return
        if topic.startswith(CONTACT_TOPIC):
            try:
                event = _contact_peek.decode(payload)
            except msgspec.DecodeError:
                return
            if event.type in ("contact.joined", "contact.ended", "contact.transferred", "contact.overflowed"):
                self.post(lambda: self._contact_event(event))
            return
        control = decode_control(payload)
        if control is not None:
            self.on_control(control)

    def on_control(self, control: Control) -> None:
        self.post(lambda: self._control(control))

    def post(self, work: Callable[[], Awaitable[None]]) -> None:
        if not self.closed:
            self._inbox.put_nowait(work)

    def start(self, first: Callable[[], Awaitable[None]]) -> None:
        """Run the call's task; ``first`` (the invite) goes before anything queued."""
        waiting: list[Callable[[], Awaitable[None]] | None] = []
        while not self._inbox.empty():
            waiting.append(self._inbox.get_nowait())
        self._inbox.put_nowait(first)
        for item in waiting:
            self._inbox.put_nowait(item)
        self._task = asyncio.create_task(self._run(), name=f"call-{self.call_id}")

    async def _run(self) -> None:
        while True:
            work = await self._inbox.get()
            if work is None:
                break
            try:
                await work()
            except Exception:
                log.exception("call %s: input failed", self.call_id)
        self.done.set()

    def close(self) -> None:
        """Stop listening and let the task finish."""
        if self.closed:
            return
        self.closed = True
        for topic in self._topics:
            self.m.hub.unsubscribe(topic, self)
        self._topics.clear()
        for handle in (self._timer, self._linger, self._reprobe):
            if handle is not None:
                handle.cancel()
        self._inbox.put_nowait(None)
        if self._task is None:
            self.done.set()
        self.m.forget(self)

    # ------------------------------------------------------------------ output

    def send(self, party_id: str, event: msgspec.Struct) -> None:
        self.m.hub.publish(party_topic(party_id), p.encode(event))

    def _ice_servers(self, party_id: str, now: float) -> list[dict[str, Any]]:
        settings = self.m.settings
        servers = ice_servers(
            settings.stun_urls,
            settings.turn_urls,
            settings.turn_secret or None,
            f"{subject_of(party_id)}.{self.call_id}",
            now,
            settings.turn_ttl_s,
        )
        return [dict(server) for server in servers]

    def _outgoing(self, party_id: str, message: dict[str, Any]) -> msgspec.Struct:
        """A message from the state machine as the protocol's event: with the contact,
        and in ``call.state`` the recipient's role and its ICE servers."""
        message = {**message, "contact_id": self.contact_id}
        kind = message["type"]
        if kind == "call.state":
            role = self.call.role_of(party_id)
            if (
                role == "callee"
                and message["state"] == "ended"
                and message.get("reason") == "answered_elsewhere"
            ):
                role = None
            if role is not None:
                message["role"] = role
            if message["state"] != "ended":
                message["ice_servers"] = self._ice_servers(party_id, self.m.clock())
        elif kind == "call.invite":
            message["caller_name"] = self.caller_name
        return msgspec.convert(message, EVENT_TYPES[kind])

    async def apply(self, effects: list[Effect]) -> None:
        changes: list[StateChanged] = []
        for effect in effects:
            if isinstance(effect, SendTo):
                self.send(effect.party_id, self._outgoing(effect.party_id, effect.message))
            else:
                changes.append(effect)
        for change in changes:
            try:
                await self._record(change)
            except Exception:
                log.exception("call %s: recording %s failed", self.call_id, change.state)
        self.write_snapshot()
        self._arm()

    def write_snapshot(self) -> None:
        """Keep the row's copy of an answered call's state machine current (with the
        next batch), so that another gateway can take the call over."""
        if self.call.state not in _ANSWERED:
            return
        snapshot = self.call.snapshot()
        if snapshot != self._written:
            self._written = snapshot
            self.m.queue_update(self.call_id, {"signalling": snapshot})

    # ------------------------------------------------------------------ takeover

    async def adopted(self, local: list[tuple[str, str]]) -> None:
        """First input of a call taken over from a dead owner: restore what the row
        cannot hold, then find both sides.  ``local`` are this process's devices in
        the call (party id, socket id); the others are probed for wherever they are."""
        call = self.call
        now = self.m.clock()
        if self.origin == "queue":
            self._assigned_agent = self.agent_id
        elif self.agent_id is not None:
            # The dead owner held the agent's call capacity for this call.
            self._holding = self.agent_id
        effects = call.adopt(now)
        for party, conn in local:
            if call.role_of(party) is not None:
                self._conns[party] = conn
                effects += call.connection_restored(party, now)
        await self.apply(effects)
        self._probe_missing()

    def _probe_missing(self) -> None:
        """Ask again, once a second, for a side that is not back (a gateway's bus
        subscription may not have been ready the first time) until the call is whole
        or over; the reconnect grace bounds it."""
        self._reprobe = None
        call = self.call
        if self.closed or call.state != "reconnecting":
            return
        sides = [call.caller] + ([call.callee] if call.callee is not None else [])
        missing = [side.party_id for side in sides if not side.connected]
        for party in missing:
            self.m.probe(party)
        if missing:
            self._reprobe = asyncio.get_running_loop().call_later(1.0, self._probe_missing)

    # ------------------------------------------------------------------ timer

    def _arm(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if self.call.state == "ended":
            return
        deadlines = [d for d in (self.call.next_deadline(), self._no_device_deadline) if d is not None]
        if not deadlines:
            return
        delay = max(0.0, min(deadlines) - self.m.clock()) + 0.001
        loop = asyncio.get_running_loop()
        self._timer = loop.call_later(delay, lambda: self.post(self._tick))

    async def _tick(self) -> None:
        now = self.m.clock()
        effects = self.call.tick(now)
        deadline = self._no_device_deadline
        if deadline is not None and now >= deadline and self.call.state != "ended":
            self._no_device_deadline = None
            if self.call.state == "initiating" and not self.call.devices:
                effects += self.call.end(now, "missed")
        await self.apply(effects)

    # ------------------------------------------------------------------ inputs

    async def begin(self, lifetime_s: float | None, offer: Any) -> None:
        """The invite: first input of the call's task."""
        now = self.m.clock()
        effects = self.call.invite(now, lifetime_s=lifetime_s, offer=offer)
        if self.origin == "agent" and self.agent_id is not None:
            await self._hold_capacity(self.agent_id)
        if self.callee_subject is not None:
            # A direct call: ring every device of the callee, wherever it is connected.
            self._no_device_deadline = now + min(NO_DEVICE_S, self.call.config.ring_timeout_s)
            self.m.ring_devices(self.callee_subject, self.call_id, self.contact_id)
        await self.apply(effects)

    async def _control(self, control: Control) -> None:
        if control.op == "frame" and control.frame is not None:
            await self._frame(control.party, control.frame, control.frame_id)
            return
        now = self.m.clock()
        try:
            if control.op == "ring":
                effects = self._ring(control, now)
            elif control.op == "withdraw":
                effects = self._withdraw(control.party, now)
            elif control.op == "up":
                if self.call.role_of(control.party) is None:
                    return
                self._conns[control.party] = control.conn
                effects = self.call.connection_restored(control.party, now)
            elif control.op == "down":
                if self._conns.get(control.party, control.conn) != control.conn:
                    return  # an older socket of a device that is back already
                if (
                    self.origin == "queue"
                    and self.call.state in _UNANSWERED
                    and control.party in self.call.devices
                ):
                    # A console gone while it rang: stop ringing it (routing re-offers
                    # the call to it when it is back, or moves on when the offer ends).
                    effects = self._withdraw(control.party, now)
                else:
                    effects = self.call.connection_lost(control.party, now)
            elif control.op == "glare":
                effects = self._glare(control, now)
            else:
                return
        except SignallingError:
            return  # a late or stray notice about a device this call no longer has
        await self.apply(effects)

    def _ring(self, control: Control, now: float) -> list[Effect]:
        call = self.call
        party = control.party
        if call.state == "ended" or (self.origin == "queue" and control.contact_id != self.contact_id):
            return []
        agent = subject_of(party)
        if control.busy:
            if self.origin == "queue":
                if call.state in _UNANSWERED and agent not in self._declined_busy:
                    # Already on a call elsewhere: pass the offer on to someone free
                    # (once: routing may offer it back when nobody else can take it,
                    # and then the offer waits for its expiry).
                    self._declined_busy.add(agent)
                    self.m.router_input.submit(
                        rev.OfferDeclined(at=now, contact_id=self.contact_id, agent_id=agent, reason="busy")
                    )
                return []
            return call.end(now, "busy") if call.state in _UNANSWERED else []
        self._conns[party] = control.conn
        self._subscribe(presence_topic(party))
        return call.ring(party, now)

    def _withdraw(self, party: str, now: float) -> list[Effect]:
        agent = subject_of(party)
        if self._pending_accept.get(agent) == party:
            del self._pending_accept[agent]
        if party not in self.call.devices:
            return []
        return self.call.withdraw(party, now)

    def _glare(self, control: Control, now: float) -> list[Effect]:
        """The callee invited the caller on the same conversation at the same moment:
        both want to talk, so the callee's device answers this call at once."""
        call = self.call
        if call.state not in _UNANSWERED or subject_of(control.party) != self.callee_subject:
            return []
        self._conns[control.party] = control.conn
        self._subscribe(presence_topic(control.party))
        return call.ring(control.party, now) + call.accept(control.party, now)

    async def _frame(self, party: str, message: dict[str, Any], frame_id: str | None) -> None:
        if frame_id is not None:
            key = (party, frame_id)
            if key in self._applied:
                self.send(party, p.Ack(id=frame_id, contact_id=self.contact_id, duplicate=True))
                return
        now = self.m.clock()
        try:
            effects = self._apply_frame(party, message, now)
        except SignallingError as exc:
            self.send(party, p.Error(code=exc.code, message=exc.message, ref=frame_id))
            return
        if frame_id is not None:
            self._applied[(party, frame_id)] = None
            if len(self._applied) > _RECENT_FRAMES:
                self._applied.popitem(last=False)
            self.send(party, p.Ack(id=frame_id, contact_id=self.contact_id))
        await self.apply(effects)

    def _apply_frame(self, party: str, message: dict[str, Any], now: float) -> list[Effect]:
        call = self.call
        kind = message["type"]
        if kind == "call.ringing":
            return call.ringing(party, now)
        if kind == "call.accept":
            return self._accept(party, now)
        if kind == "call.reject":
            return self._reject(party, message.get("reason", "rejected"), now)
        if kind == "call.offer":
            return call.offer(party, message["description"], now)
        if kind == "call.answer":
            return call.answer(party, message["description"], now)
        if kind == "call.candidates":
            return call.candidates(party, message["candidates"], now)
        if kind == "call.negotiate":
            return call.negotiate(party, message["description"], now)
        if kind == "call.hangup":
            effects = call.hangup(party, now, message.get("reason", "user_hangup"))
            if effects:
                self._ended_by = party
            return effects
        if kind == "call.media_state":
            return self._media_state(party, message, now)
        if kind == "call.stats":
            self._stats(party, message, now)
            return []
        raise SignallingError("message_invalid", f"{kind} cannot be sent on a call")

    def _accept(self, party: str, now: float) -> list[Effect]:
        """Direct calls: the first device to accept wins.  Calls from a queue: the
        accept is also the agent's answer to the routing offer, and the call is
        answered once routing has assigned the contact (one contact, one agent, never
        over capacity), when ``contact.joined`` comes back."""
        call = self.call
        if self.origin != "queue" or call.state not in _UNANSWERED:
            return call.accept(party, now)
        if party not in call.ringing_devices:
            raise SignallingError("not_a_party", "this device is not ringing for this call")
        agent = subject_of(party)
        if self._assigned_agent == agent:
            return call.accept(party, now)
        if agent not in self._pending_accept:
            self.m.router_input.submit(rev.OfferAccepted(at=now, contact_id=self.contact_id, agent_id=agent))
        self._pending_accept[agent] = party
        return []

    def _reject(self, party: str, reason: str, now: float) -> list[Effect]:
        """Direct calls end ``rejected`` (or ``busy``).  A call from a queue is
        declined for routing: it stops ringing this agent and moves on."""
        call = self.call
        if self.origin != "queue" or call.state not in _UNANSWERED:
            return call.reject(party, now, "busy" if reason == "busy" else "rejected")
        if party not in call.devices:
            raise SignallingError("not_a_party", "this device is not ringing for this call")
        agent = subject_of(party)
        effects: list[Effect] = []
        for device in sorted(call.devices):
            if subject_of(device) == agent:
                effects += call.withdraw(device, now)
        self._pending_accept.pop(agent, None)
        self.m.router_input.submit(
            rev.OfferDeclined(at=now, contact_id=self.contact_id, agent_id=agent, reason=reason)
        )
        return effects

    def _media_state(self, party: str, message: dict[str, Any], now: float) -> list[Effect]:
        call = self.call
        effects: list[Effect] = []
        connection = message.get("connection")
        if connection == "connected":
            effects += call.media_connected(party, now)
        elif connection == "disconnected":
            effects += call.media_disconnected(party, now)
        elif connection == "failed":
            effects += call.media_failed(party, now)
        if "on_hold" in message:
            held = call.on_hold
            effects += call.hold(party, now) if message["on_hold"] else call.resume(party, now)
            if call.on_hold != held:
                self.m.emit(dev.HoldChanged(at=now, contact_id=self.contact_id, on_hold=call.on_hold))
        if "muted" in message or "camera_off" in message:
            effects += call.media_state(
                party, now, muted=message.get("muted"), camera_off=message.get("camera_off")
            )
        return effects

    def _stats(self, party: str, message: dict[str, Any], now: float) -> None:
        call = self.call
        if call.role_of(party) is None or (party != call.caller.party_id and party != call.answered_by):
            raise SignallingError("not_a_party", "only the two sides of an answered call send stats")
        if call.state not in _ANSWERED:
            raise SignallingError("invalid_state", f"stats are for a call that is up, not {call.state}")
        sample = StatsSample(**message["stats"])
        bitrate = message.get("bitrate_kbps")
        if isinstance(bitrate, int | float):
            self._bitrates.append(float(bitrate))
        alerts = self.tracker.ingest(sample, party)
        smoothed = self.tracker.smoothed_mos(party)
        mos = round(smoothed if smoothed is not None else sample.mos, 3)
        self.m.emit(
            dev.CallQualitySampled(
                at=now,
                call_id=self.call_id,
                contact_id=self.contact_id,
                mos=mos,
                warning=self.tracker.current_warning() or "",
            )
        )
        if alerts:
            event = p.CallQualityEvent(
                call_id=self.call_id,
                party_id=party,
                mos=mos,
                warning=self.tracker.current_warning(party) or "",
                contact_id=self.contact_id,
            )
            for recipient in (call.caller.party_id, call.answered_by):
                if recipient is not None:
                    self.send(recipient, event)

    async def _contact_event(self, event: _ContactPeek) -> None:
        """What happens to the conversation happens to its call."""
        call = self.call
        now = self.m.clock()
        effects: list[Effect] = []
        if event.type == "contact.joined" and self.origin == "queue" and event.agent_id:
            agent = event.agent_id
            self._assigned_agent = agent
            self.agent_id = agent
            if call.state in _UNANSWERED:
                party = self._pending_accept.pop(agent, None)
                if party is None or party not in call.devices:
                    party = next((d for d in sorted(call.ringing_devices) if subject_of(d) == agent), None)
                effects = call.accept(party, now) if party is not None else call.end(now, "missed")
        elif event.type in ("contact.ended", "contact.transferred"):
            if call.state != "ended":
                effects = call.end(now, "completed" if call.answered_at is not None else "canceled")
        elif event.type == "contact.overflowed" and event.to_queue is None and call.state in _UNANSWERED:
            effects = call.end(now, "missed")
        await self.apply(effects)

    # ------------------------------------------------------------------ record

    async def _record(self, change: StateChanged) -> None:
        """Write the state down: the end at once (with everything the touchpoint and
        the contact need), the steps before it through the manager's batched writer."""
        call = self.call
        if change.state == "ended":
            self.m.discard_update(self.call_id)
            await self._finish(change.at, change.reason or "completed")
            return
        values: dict[str, Any] = {"state": change.state}
        if change.state == "ringing":
            values["ringing_at"] = call.ringing_at
        elif change.state == "connecting":
            callee = call.answered_by
            values.update(answered_at=call.answered_at, ringing_at=call.ringing_at, callee_party=callee)
            if callee is not None and call.callee_kind == "agent":
                self.agent_id = subject_of(callee)
                values["agent_id"] = self.agent_id
                if self.origin == "escalation":
                    await self._hold_capacity(self.agent_id)
        elif change.state == "active":
            values["connected_at"] = call.connected_at
        elif change.previous is None:
            return  # the invite: the row was inserted with it
        self.m.queue_update(self.call_id, values)

    async def _hold_capacity(self, agent_id: str) -> None:
        self._holding = agent_id
        await self.m.hold_call_capacity(agent_id, True)

    def quality_summary(self) -> dict[str, Any]:
        summary = self.tracker.summary()
        rates = self._bitrates
        summary["bitrate_kbps_mean"] = round(sum(rates) / len(rates), 1) if rates else None
        return summary

    async def _finish(self, at: float, reason: str) -> None:
        call = self.call
        timings = call.timings()
        quality = self.quality_summary()
        answered = timings.answered_at is not None
        handle_s = timings.talk_s + timings.hold_s
        values: dict[str, Any] = {
            "end_reason": reason,
            "ended_at": at,
            "ringing_at": timings.ringing_at,
            "answered_at": timings.answered_at,
            "connected_at": timings.connected_at,
            "ring_s": timings.ring_s,
            "setup_s": timings.setup_s,
            "talk_s": timings.talk_s,
            "hold_s": timings.hold_s,
            "reconnects": timings.reconnects,
            "quality": quality,
            "callee_party": call.answered_by,
        }
        if self.agent_id is not None:
            values["agent_id"] = self.agent_id
        call_data = {
            "call_id": self.call_id,
            "origin": self.origin,
            "media": call.media,
            "end_reason": reason,
            "ring_s": timings.ring_s,
            "setup_s": timings.setup_s,
            "talk_s": timings.talk_s,
            "hold_s": timings.hold_s,
            "reconnects": timings.reconnects,
            "quality": quality,
        }
        touchpoint: dict[str, Any] = {"ended_at": at}
        if self.origin == "queue":
            # The call is the contact: it ends with the call (or, unanswered, the
            # visitor gave up waiting, as with a chat).
            await self._end_contact(at, answered)
            if answered:
                contact = await self.m.contacts.get(self.contact_id)
                if contact is None or not contact.disposition:
                    touchpoint["outcome"] = reason
                touchpoint["handle_s"] = handle_s
        else:
            touchpoint.update(outcome=reason, wait_s=timings.ring_s, handle_s=handle_s if answered else None)
        await self.m.store.finish(self.call_id, values, self.touchpoint_id, touchpoint, call_data)
        if self._holding is not None:
            await self.m.hold_call_capacity(self._holding, False)
            self._holding = None
        self._linger = asyncio.get_running_loop().call_later(LINGER_S, self.close)

    async def _end_contact(self, at: float, answered: bool) -> None:
        await end_call_contact(self.m.actions, self.m.contacts, self.contact_id, at, answered, self._actor)

    async def _actor(self, contact: Contact) -> Actor:
        """Who hung up, as the conversation log records the end."""
        party = self._ended_by
        if party is None:
            return SYSTEM
        if subject_of(party) == self.visitor_id:
            return Actor("visitor", self.visitor_id, contact.name)
        agent = subject_of(party)
        return Actor("agent", agent, await self.m.agent_name(agent))

    def end_now(self) -> None:
        """Shut-down: this process is going away and the call's signalling with it."""

        async def end() -> None:
            reason: EndReason = "dropped" if self.call.connected_at is not None else "failed"
            await self.apply(self.call.end(self.m.clock(), reason))

        self.post(end)


SYSTEM = Actor("system", "", "")


async def end_call_contact(
    actions: ContactActions,
    contacts: ContactStore,
    contact_id: str,
    at: float,
    answered: bool,
    actor: Callable[[Contact], Awaitable[Actor]],
) -> None:
    """A call from a queue is its contact: the contact ends with the call (or, never
    answered, the visitor gave up waiting, as with a chat)."""
    if not answered:
        await actions.abandon(contact_id, at=at)
        return
    contact = await contacts.get(contact_id)
    if contact is not None and contact.status == "queued":
        # Sent back to a queue (a transfer, or its agent vanished) while the call
        # was on: a call is not transferred, so the contact ends with it.
        await actions.abandon(contact_id, at=at)
        return
    if contact is None or contact.status != "active":
        return
    await actions.end(contact, await actor(contact))
