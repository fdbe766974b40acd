"""The calls of one process: its devices (sockets) and the calls it owns.

Sessions hand every ``call.*`` frame to :meth:`CallManager.handle`, and tell it when
their socket opens (:meth:`attach`) and closes (:meth:`detach`); agent sessions also
report the routing offers of call contacts they see (:meth:`offer_seen`,
:meth:`offer_gone`).  See :mod:`contact_center.calls` for the whole picture.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import secrets
import time
from collections.abc import Awaitable, Callable
from typing import Any

import msgspec

from contact_center import protocol as p
from contact_center.actions import ContactActions
from contact_center.bus.hub import Hub
from contact_center.calls.devices import Device, DeviceKind
from contact_center.calls.owner import Origin, OwnedCall
from contact_center.calls.party import CallSession
from contact_center.calls.store import CallConflict, CallStore, NewCall
from contact_center.calls.topics import (
    Control,
    call_contact_topic,
    call_topic,
    decode_control,
    devices_topic,
    encode_control,
    party_topic,
    presence_topic,
    subject_of,
)
from contact_center.i18n import Text
from contact_center.protocol import FrameError
from contact_center.router_input import RouterInput
from contact_center.routing_config import agent_upserted
from contact_center.settings import Settings
from contact_center.store.contacts import ContactStore
from contact_center.store.models import CallRecord, Contact
from contact_center.store.users import UserStore
from dashboard import events as dev
from signalling.call import Call, CallConfig
from signalling.errors import SignallingError
from signalling.validation import ValidationLimits, validate_message

log = logging.getLogger(__name__)

# How long state changes gather before one transaction writes them.
WRITE_BATCH_S = 0.05
# How often a gateway checks whether the owner of a call one of its devices is in is
# still alive (clustered only).
ADOPT_POLL_S = 1.0


class _DeviceRequests:
    """Hub subscriber for ``call.devices:<subject>``: ring this process's devices."""

    def __init__(self, manager: CallManager) -> None:
        self._manager = manager

    def deliver(self, topic: str, payload: bytes) -> None:
        control = decode_control(payload)
        if control is None:
            return
        if control.op == "ring_request":
            self._manager.answer_ring_request(topic.split(":", 1)[1], control)
        elif control.op == "probe":
            self._manager.answer_probe(control.party)


class CallManager:
    def __init__(
        self,
        *,
        settings: Settings,
        hub: Hub,
        contacts: ContactStore,
        users: UserStore,
        actions: ContactActions,
        router_input: RouterInput,
        emit: Callable[[dev.DomainEvent], None],
        store: CallStore,
        node_id: str,
        agent_name: Callable[[str], Awaitable[str]],
        queue_status: Callable[[str], p.QueueStatus | None],
        node_alive: Callable[[str], Awaitable[bool]] | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        """``node_alive`` tells whether another gateway process still beats (its
        heartbeat in Redis); given in a cluster, where a call whose owner died is taken
        over by a gateway one of its sides reconnects to."""
        self.settings = settings
        self.hub = hub
        self.contacts = contacts
        self.users = users
        self.actions = actions
        self.router_input = router_input
        self.emit = emit
        self.store = store
        self.node_id = node_id
        self.agent_name = agent_name
        self.queue_status = queue_status
        self.node_alive = node_alive
        self.clock = clock
        self.config = CallConfig(
            ring_timeout_s=settings.ring_timeout_s,
            connect_timeout_s=settings.connect_timeout_s,
            reconnect_grace_s=settings.reconnect_grace_s,
        )
        self.limits = ValidationLimits()
        self._devices: dict[int, Device] = {}
        self._subjects: dict[str, set[Device]] = {}
        self._parties: dict[str, list[Device]] = {}
        self._owned: dict[str, OwnedCall] = {}
        self._requests = _DeviceRequests(self)
        # Calls' state changes waiting for the batched writer (call id -> columns).
        self._updates: dict[str, dict[str, Any]] = {}
        self._writer: asyncio.Task[None] | None = None
        # Calls owned elsewhere that a device here is in: call id -> the owner's node
        # id, None once the call is known to be over (watched by _watch_owners).
        self._owner_of: dict[str, str | None] = {}
        self._background: set[asyncio.Task[None]] = set()
        self._adopter: asyncio.Task[None] | None = None

    # ------------------------------------------------------------------ queries

    @property
    def owned(self) -> dict[str, OwnedCall]:
        """Calls whose state machine runs in this process, by call id."""
        return self._owned

    def device(self, session: CallSession) -> Device:
        found = self._devices.get(id(session))
        if found is None:
            raise FrameError("invalid_frame", Text("error.call.socket_not_ready"))
        return found

    def busy(self, subject: str) -> bool:
        """Whether this agent (or visitor) is on a call, as far as this process knows:
        one of its devices here placed a call or answered one that is not over."""
        return any(device.busy for device in self._subjects.get(subject, ()))

    # ------------------------------------------------------------------ devices

    def attach(self, session: CallSession, device_id: str | None) -> str:
        """A socket opened: it becomes a device.  Returns its party id."""
        identity = session.identity
        subject = identity.subject
        party_id = f"{subject}.{device_id or secrets.token_hex(6)}"
        kind: DeviceKind = "visitor" if identity.role == "visitor" else "agent"
        device = Device(party_id, subject, kind, session.conn, secrets.token_hex(8))
        self._devices[id(session)] = device
        self.hub.subscribe(party_topic(party_id), device)
        devices = self._subjects.setdefault(subject, set())
        if not devices:
            self.hub.subscribe(devices_topic(subject), self._requests)
        devices.add(device)
        self._parties.setdefault(party_id, []).append(device)
        # An owner whose call this party is part of restores it (sends the state).
        self._publish(presence_topic(party_id), Control(op="up", party=party_id, conn=device.conn_id))
        if self.node_alive is not None:
            self._spawn(self._find_calls_elsewhere(device))
        return party_id

    def detach(self, session: CallSession) -> None:
        """The socket closed.  A call it was in gets the reconnect grace."""
        device = self._devices.pop(id(session), None)
        if device is None:
            return
        party_id = device.party_id
        self.hub.unsubscribe(party_topic(party_id), device)
        devices = self._subjects.get(device.subject)
        if devices is not None:
            devices.discard(device)
            if not devices:
                del self._subjects[device.subject]
                self.hub.unsubscribe(devices_topic(device.subject), self._requests)
        same = self._parties.get(party_id, [])
        if device in same:
            same.remove(device)
        if same:
            # Another socket of the same device is still here: it is the live one.
            self._publish(presence_topic(party_id), Control(op="up", party=party_id, conn=same[-1].conn_id))
        else:
            self._parties.pop(party_id, None)
            self._publish(presence_topic(party_id), Control(op="down", party=party_id, conn=device.conn_id))

    def answer_ring_request(self, subject: str, request: Control) -> None:
        """Another process (or this one) rings ``subject``: each of its devices here
        tells the call's owner it can ring (or that its user is busy)."""
        busy = self.busy(subject)
        for device in list(self._subjects.get(subject, ())):
            self.to_owner(
                request.call_id,
                Control(
                    op="ring",
                    call_id=request.call_id,
                    party=device.party_id,
                    conn=device.conn_id,
                    contact_id=request.contact_id,
                    busy=busy,
                ),
            )

    def answer_probe(self, party_id: str) -> None:
        """A call's new owner asks where this party's device is: here, if it is."""
        same = self._parties.get(party_id)
        if same:
            self._publish(presence_topic(party_id), Control(op="up", party=party_id, conn=same[-1].conn_id))

    def probe(self, party_id: str) -> None:
        self._publish(devices_topic(subject_of(party_id)), Control(op="probe", party=party_id))

    def ring_devices(self, subject: str, call_id: str, contact_id: str) -> None:
        self._publish(
            devices_topic(subject), Control(op="ring_request", call_id=call_id, contact_id=contact_id)
        )

    # ------------------------------------------------------------------ routing offers

    def offer_seen(self, session: CallSession, contact_id: str) -> None:
        """An agent socket received the routing offer of a call contact: the call
        rings on this device (the offer *is* the ringing)."""
        device = self._devices.get(id(session))
        if device is None:
            return
        device.offers.add(contact_id)
        self._publish(
            call_contact_topic(contact_id),
            Control(
                op="ring",
                party=device.party_id,
                conn=device.conn_id,
                contact_id=contact_id,
                busy=self.busy(device.subject),
            ),
        )

    def offer_gone(self, session: CallSession, contact_id: str) -> None:
        """The routing offer was revoked (expired, declined, the visitor left)."""
        device = self._devices.get(id(session))
        if device is None or contact_id not in device.offers:
            return
        device.offers.discard(contact_id)
        self._publish(
            call_contact_topic(contact_id),
            Control(op="withdraw", party=device.party_id, contact_id=contact_id),
        )

    def answer_offer(self, session: CallSession, contact_id: str, accept: bool) -> bool:
        """``offer.accept`` / ``offer.decline`` on a call ringing on this device mean
        ``call.accept`` / ``call.reject``.  False when no call rings here for it."""
        device = self._devices.get(id(session))
        call_id = device.ringing.get(contact_id) if device is not None else None
        if device is None or call_id is None:
            return False
        kind = "call.accept" if accept else "call.reject"
        message = {"type": kind, "call_id": call_id, "party_id": device.party_id}
        self.to_owner(call_id, Control(op="frame", call_id=call_id, party=device.party_id, frame=message))
        return True

    # ------------------------------------------------------------------ frames

    async def handle(self, session: CallSession, frame: msgspec.Struct) -> None:
        """A ``call.*`` frame from a socket: validate, then apply (an invite here, in
        the process that becomes the call's owner) or send to the call's owner."""
        device = self.device(session)
        frame_id: str | None = getattr(frame, "id", None)
        claimed = getattr(frame, "party_id", None)
        if claimed is not None and claimed != device.party_id:
            raise FrameError("forbidden", Text("error.call.party_id"), frame_id)
        raw = msgspec.to_builtins(frame)
        raw["party_id"] = device.party_id
        now = self.clock()
        try:
            message = validate_message(raw, self.limits, at=now)
        except SignallingError as exc:
            raise FrameError(exc.code, exc.message, frame_id) from None
        if isinstance(frame, p.CallInvite):
            await self._invite(session, device, frame, message, now)
            return
        call_id: str = message["call_id"]
        status = device.calls.get(call_id)
        if status is None and call_id not in self._owned:
            raise FrameError("not_found", Text("error.call.not_on_device"), frame_id)
        if status == "ended":
            raise FrameError("call_ended", Text("error.call.ended"), frame_id)
        if "stats" in message:
            sample = message["stats"]
            message["stats"] = {
                "at": sample.at,
                "rtt_ms": sample.rtt_ms,
                "jitter_ms": sample.jitter_ms,
                "loss_pct": sample.loss_pct,
                "relayed": sample.relayed,
                "codec": sample.codec,
            }
            bitrate = getattr(frame, "bitrate_kbps", None)
            if bitrate is not None:
                message["bitrate_kbps"] = bitrate
        self.to_owner(
            call_id,
            Control(op="frame", call_id=call_id, party=device.party_id, frame=message, frame_id=frame_id),
        )

    def to_owner(self, call_id: str, control: Control) -> None:
        owned = self._owned.get(call_id)
        if owned is not None:
            owned.on_control(control)
        else:
            self._publish(call_topic(call_id), control)

    def _publish(self, topic: str, control: Control) -> None:
        if not control.at:
            control.at = self.clock()
        self.hub.publish(topic, encode_control(control))

    # ------------------------------------------------------------------ invite

    async def _invite(
        self, session: CallSession, device: Device, frame: p.CallInvite, message: dict[str, Any], now: float
    ) -> None:
        if session.replay_ack(frame.id):
            return
        call_id: str = message["call_id"]
        if call_id in self._owned or await self.store.exists(call_id):
            contact_id = await self._own_invite_again(call_id, device)
            if contact_id is None:
                raise FrameError("conflict", Text("error.call.id_taken"), frame.id)
            # The caller re-sent its invite after a reconnect (the ack was lost): the
            # same call, acknowledged again (its state comes back with the device).
            session.ack(frame.id, contact_id=contact_id, duplicate=True)
            return
        media = message["media"]
        channel = "voice" if media == "audio" else "video"
        lifetime_ms = message.get("lifetime")
        lifetime_s = lifetime_ms / 1000.0 if lifetime_ms is not None else None
        offer = message.get("description")
        if device.kind == "visitor" and frame.contact_id is None:
            await self._invite_queue(session, device, frame, call_id, channel, media, lifetime_s, offer, now)
            return
        if frame.contact_id is None:
            raise FrameError("invalid_frame", Text("error.call.agent_needs_contact"))
        contact = await self.contacts.get(frame.contact_id)
        if device.kind == "visitor":
            if contact is None or contact.visitor_id != device.subject:
                raise FrameError("not_found", Text("error.no_such_conversation"), frame.id)
            if contact.status != "active" or not contact.agent_id:
                raise FrameError("conflict", Text("error.call.no_agent_yet"), frame.id)
            origin: Origin = "escalation"
            callee = contact.agent_id
            caller_name = contact.name
        else:
            if contact is None or contact.agent_id != device.subject:
                raise FrameError("forbidden", Text("error.not_assigned_to_you"), frame.id)
            if contact.status != "active":
                raise FrameError("closed", Text("error.conversation_ended"), frame.id)
            origin = "agent"
            callee = contact.visitor_id
            caller_name = session.identity.name or await self.agent_name(device.subject)
        call = Call(
            call_id,
            device.party_id,
            caller_kind=device.kind,
            callee_kind="agent" if device.kind == "visitor" else "visitor",
            media=media,
            config=self.config,
        )
        owned = self._own(call, contact, origin, callee, caller_name, device)
        try:
            owned.touchpoint_id = await self.store.create(
                self._new_call(call_id, contact, channel, origin, device)
            )
        except CallConflict as conflict:
            owned.close()
            if conflict.reason == "call_in_progress" and await self._glare(session, device, frame, contact):
                return
            raise FrameError("conflict", Text("error.call.already"), frame.id) from None
        except BaseException:
            owned.close()
            raise
        session.ack(frame.id, contact_id=contact.id)
        owned.start(lambda: owned.begin(lifetime_s, offer))

    async def _own_invite_again(self, call_id: str, device: Device) -> str | None:
        """The contact of ``call_id`` if ``device`` placed it, else None."""
        owned = self._owned.get(call_id)
        if owned is not None:
            return owned.contact_id if owned.call.caller.party_id == device.party_id else None
        row = await self.store.get(call_id)
        if row is not None and row.caller_party == device.party_id:
            return row.contact_id
        return None

    async def _invite_queue(
        self,
        session: CallSession,
        device: Device,
        frame: p.CallInvite,
        call_id: str,
        channel: str,
        media: Any,
        lifetime_s: float | None,
        offer: Any,
        now: float,
    ) -> None:
        """A visitor's call from the widget: a new contact, routed like a chat."""
        if frame.queue is None:
            raise FrameError("invalid_frame", Text("error.call.queue_or_contact"), frame.id)
        status = self.queue_status(frame.queue)
        if status is not None and not status.open:
            raise FrameError("closed", Text("error.queue_closed"), frame.id)
        call = Call(
            call_id,
            device.party_id,
            caller_kind="visitor",
            callee_kind="agent",
            media=media,
            config=self.config,
        )
        name = frame.name or "Visitor"
        holder: list[OwnedCall] = []

        def before_routing(contact: Contact) -> None:
            # Listen for the agents it will ring before the router can offer it.
            holder.append(self._own(call, contact, "queue", None, name, device))

        start = p.ChatStart(
            id=frame.id,
            queue=frame.queue,
            name=name,
            email=frame.email,
            page=frame.page,
            channel="voice" if channel == "voice" else "video",
        )
        contact = await self.actions.start_chat(device.subject, start, before_routing)
        owned = holder[0]
        try:
            owned.touchpoint_id = await self.store.create(
                self._new_call(call_id, contact, channel, "queue", device)
            )
        except BaseException:
            owned.close()
            await self.actions.abandon(contact.id)
            raise
        await session.replay(contact.id, 0)
        session.ack(frame.id, contact_id=contact.id)
        owned.start(lambda: owned.begin(lifetime_s, offer))

    def _own(
        self,
        call: Call,
        contact: Contact,
        origin: Origin,
        callee: str | None,
        caller_name: str,
        device: Device,
    ) -> OwnedCall:
        owned = OwnedCall(
            self,
            call,
            contact_id=contact.id,
            visitor_id=contact.visitor_id,
            agent_id=contact.agent_id if origin != "queue" else None,
            origin=origin,
            callee_subject=callee,
            caller_name=caller_name,
            caller_conn=device.conn_id,
        )
        self._owned[call.call_id] = owned
        device.note(call.call_id, "caller")
        owned.subscribe_inputs()
        return owned

    def _new_call(self, call_id: str, contact: Contact, channel: str, origin: str, device: Device) -> NewCall:
        return NewCall(
            call_id=call_id,
            contact=contact,
            agent_id=contact.agent_id if origin != "queue" else None,
            channel=channel,
            origin=origin,
            caller_party=device.party_id,
            node=self.node_id,
            invited_at=self.clock(),
        )

    async def _glare(
        self, session: CallSession, device: Device, frame: p.CallInvite, contact: Contact
    ) -> bool:
        """Both sides of a conversation called each other at once.  The first invite
        stored wins; this device answers it instead of placing its own call (as
        Matrix clients do), and is told its own call was ``replaced``."""
        existing = await self.store.live_for_contact(contact.id)
        if existing is None or existing.state not in ("initiating", "ringing"):
            return False
        if subject_of(existing.caller_party) == device.subject:
            return False
        device.note(frame.call_id, "ended")
        session.ack(frame.id, contact_id=contact.id)
        replaced = p.CallStateEvent(
            call_id=frame.call_id,
            state="ended",
            media=frame.media,
            reason="replaced",
            role="caller",
            contact_id=contact.id,
            replaced_by=existing.id,
        )
        session.conn.send(replaced)
        device.note(existing.id, "rung")
        self.to_owner(
            existing.id,
            Control(op="glare", call_id=existing.id, party=device.party_id, conn=device.conn_id),
        )
        return True

    async def hold_call_capacity(self, agent_id: str, on_call: bool) -> None:
        """An agent talks on a call routing did not give it (a chat turned into a
        call, or a call it placed): routing must not offer it another call meanwhile,
        so its voice and video capacity is 0 until the call ends (then its profile as
        the database has it)."""
        user = await self.users.get(agent_id)
        if user is None:
            return
        event = agent_upserted(user, self.clock())
        if on_call:
            event = dataclasses.replace(event, capacity={**event.capacity, "voice": 0, "video": 0})
        self.router_input.submit(event)

    # ------------------------------------------------------------------ batched writes

    def queue_update(self, call_id: str, values: dict[str, Any]) -> None:
        """A call's state changed: write it with the next batch (group commit, as the
        conversation log does), so a busy gateway does one transaction for many calls
        and no call waits for the disk between two messages."""
        self._updates.setdefault(call_id, {}).update(values)
        if self._writer is None or self._writer.done():
            self._writer = asyncio.create_task(self._write_updates(), name="calls-writer")

    def discard_update(self, call_id: str) -> None:
        """The call ended: its final write carries everything."""
        self._updates.pop(call_id, None)

    async def _write_updates(self) -> None:
        await asyncio.sleep(WRITE_BATCH_S)
        while self._updates:
            batch, self._updates = self._updates, {}
            try:
                await self.store.update_many(batch)
            except Exception:
                log.exception("calls: writing %d state changes failed", len(batch))

    # ------------------------------------------------------------------ takeover

    def _spawn(self, coro: Any) -> None:
        task = asyncio.create_task(coro)
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    async def _find_calls_elsewhere(self, device: Device) -> None:
        """A device connected here: the live calls it is a side of that another
        process owns (it may have come here because that process died)."""
        try:
            rows = await self.store.live_for_party(device.party_id)
        except Exception:
            log.exception("calls: looking up the calls of %s failed", device.party_id)
            return
        for row in rows:
            if row.node == self.node_id or row.id in self._owned:
                continue
            if row.id not in device.calls:
                # Frames for the call go on to its owner before any event says so.
                device.note(row.id, "caller" if row.caller_party == device.party_id else "answered")
            self._owner_of[row.id] = row.node
        self._watch()

    def _watch(self) -> None:
        if self._adopter is None or self._adopter.done():
            self._adopter = asyncio.create_task(self._watch_owners(), name="calls-adopter")

    async def _watch_owners(self) -> None:
        """While devices here are in calls: take over each call whose owner (another
        process) stopped beating.  Exactly one gateway wins a call
        (:meth:`CallStore.claim`); the others follow the row to its new owner."""
        while self._devices:
            await asyncio.sleep(ADOPT_POLL_S)
            try:
                await self._adopt_orphans()
            except Exception:
                log.exception("calls: the takeover check failed")

    async def _adopt_orphans(self) -> None:
        assert self.node_alive is not None
        in_calls: dict[str, list[Device]] = {}
        for device in self._devices.values():
            for call_id, status in device.calls.items():
                if status in ("caller", "answered") and call_id not in self._owned:
                    in_calls.setdefault(call_id, []).append(device)
        for gone in self._owner_of.keys() - in_calls.keys():
            del self._owner_of[gone]
        alive: dict[str, bool] = {}
        for call_id, devices in in_calls.items():
            if call_id not in self._owner_of:
                row = await self.store.get(call_id)
                live = row is not None and row.live_contact_id is not None
                self._owner_of[call_id] = row.node if row is not None and live else None
            node = self._owner_of[call_id]
            if node is None or node == self.node_id:
                continue  # over (or ours): nothing to watch
            if node not in alive:
                alive[node] = await self.node_alive(node)
            if alive[node]:
                continue
            row = await self.store.claim(call_id, node, self.node_id)
            self._owner_of.pop(call_id, None)
            if row is None:
                # Ended, taken over by another gateway first (follow the row next
                # time), or never answered (nothing to keep: the sweeper ends it).
                continue
            self._adopt(row, [(d.party_id, d.conn_id) for d in devices])

    def _adopt(self, row: CallRecord, local: list[tuple[str, str]]) -> None:
        assert row.signalling is not None
        call = Call.restore(row.signalling, self.config)
        log.info(
            "call %s: its owner %s is gone; taken over by %s", row.id, row.node or "(released)", self.node_id
        )
        owned = OwnedCall(
            self,
            call,
            contact_id=row.contact_id,
            visitor_id=row.visitor_id,
            agent_id=row.agent_id,
            origin=row.origin,  # type: ignore[arg-type]
            callee_subject=None,
            caller_name="",
            caller_conn="",
        )
        owned.touchpoint_id = row.touchpoint_id
        self._owned[row.id] = owned
        owned.subscribe_inputs()
        owned.start(lambda: owned.adopted(local))

    async def release(self) -> None:
        """Shut-down in a cluster: leave the answered calls this process owns to the
        gateways their sides reconnect to, instead of ending them.  Their rows keep
        the state machine; ``node`` cleared says nobody owns them now."""
        answered = [
            c for c in self._owned.values() if c.call.state in ("connecting", "active", "reconnecting")
        ]
        for owned in answered:
            owned.write_snapshot()
            owned.close()
        await self._flush()
        for owned in answered:
            await self.store.claim(owned.call_id, self.node_id, "")

    # ------------------------------------------------------------------ lifecycle

    def forget(self, owned: OwnedCall) -> None:
        if self._owned.get(owned.call_id) is owned:
            del self._owned[owned.call_id]

    async def stop(self) -> None:
        """Shut-down: the calls this process owns end (their record is written), or,
        in a cluster, answered ones are left for another gateway to take over."""
        for task in (self._adopter, *self._background):
            if task is not None:
                task.cancel()
        if self.node_alive is not None:
            await self.release()
        owned = list(self._owned.values())
        for call in owned:
            call.end_now()
        for call in owned:
            call.post(_closer(call))
        if owned:
            await asyncio.wait([asyncio.ensure_future(call.done.wait()) for call in owned], timeout=5)
        await self._flush()

    async def _flush(self) -> None:
        if self._writer is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._writer, 5)


def _closer(call: OwnedCall) -> Callable[[], Awaitable[None]]:
    async def close() -> None:
        call.close()

    return close
