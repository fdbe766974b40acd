"""Bus topics and the control messages that carry calls between processes.

A call's state machine lives in one process, its *owner* (see
:mod:`contact_center.calls`); the devices taking part may be connected to any
gateway.  Everything between them travels on the bus, never through a socket
reference, so the same code runs in one process (``memory://``) and across several
gateways (``redis://``):

==========================  ======================================================
``call:<call id>``          to the owner: a device's validated frame, a device that
                            rings, a withdrawn ring
``call.contact:<contact>``  to the owner of a call from a queue: an agent device saw
                            the routing offer (ring me) or its withdrawal
``call.presence:<party>``   to owners: a device's socket came back or went away
``call.devices:<subject>``  to every gateway: "ring each device of this agent or
                            visitor" (each answers on ``call:<id>``)
``call.party:<party>``      to one device: protocol events (``call.*``, ``ack``,
                            ``error``), already encoded for its socket
==========================  ======================================================
"""

from __future__ import annotations

from typing import Any

import msgspec

CALL_TOPIC = "call:"
CALL_CONTACT_TOPIC = "call.contact:"
PRESENCE_TOPIC = "call.presence:"
DEVICES_TOPIC = "call.devices:"
PARTY_TOPIC = "call.party:"


def call_topic(call_id: str) -> str:
    return CALL_TOPIC + call_id


def call_contact_topic(contact_id: str) -> str:
    return CALL_CONTACT_TOPIC + contact_id


def presence_topic(party_id: str) -> str:
    return PRESENCE_TOPIC + party_id


def devices_topic(subject: str) -> str:
    return DEVICES_TOPIC + subject


def party_topic(party_id: str) -> str:
    return PARTY_TOPIC + party_id


def subject_of(party_id: str) -> str:
    """The user or visitor id a party id belongs to (``"<subject>.<device>"``)."""
    return party_id.split(".", 1)[0]


class Control(msgspec.Struct, omit_defaults=True):
    """One message to a call's owner (or, for ``ring_request``, to the gateways).

    ops: ``frame`` (a device's validated call message, in ``frame``), ``ring`` (this
    device can ring; ``busy`` when its user is already on a call), ``withdraw`` (the
    routing offer that rang this device is gone), ``up`` / ``down`` (the device's
    socket ``conn`` opened or closed), ``ring_request`` and ``probe`` (to
    ``call.devices:``: ring this user's devices; a new owner asks where a party's
    device is, and the gateway that has it answers ``up``).
    """

    op: str
    call_id: str = ""
    party: str = ""
    conn: str = ""
    contact_id: str = ""
    busy: bool = False
    frame: dict[str, Any] | None = None
    frame_id: str | None = None
    at: float = 0.0


_control_encoder = msgspec.json.Encoder()
_control_decoder = msgspec.json.Decoder(Control)


def encode_control(control: Control) -> bytes:
    return _control_encoder.encode(control)


def decode_control(payload: bytes) -> Control | None:
    try:
        return _control_decoder.decode(payload)
    except (msgspec.DecodeError, msgspec.ValidationError):
        return None
