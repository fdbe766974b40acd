"""The call state machine: one :class:`Call` per voice or video call, sans-I/O.

The server owns each call's state; the media never touches it (DESIGN section 3a).
The gateway feeds a ``Call`` what happened (a client message, a socket that dropped,
the clock moving on) and carries out what it returns: a list of effects, each either
a :class:`SendTo` (deliver this message dict to that party) or a
:class:`StateChanged` (for the touchpoint, the dashboard, the logs).  Time is always
passed in (``at``, Unix seconds); nothing here reads a clock, so a call can be
replayed and tested to the millisecond.  After every input the gateway (re)arms one
timer for :meth:`Call.next_deadline` and calls :meth:`Call.tick` when it fires.

States::

    initiating -> ringing -> connecting -> active <-> reconnecting -> ended
         ^           |
         +-----------+   (the last rung device was withdrawn: back to the queue)

- *initiating*: the caller's invite is in; no callee device has acknowledged it yet
  (a visitor's call waits here while it is queued for an agent).  No timer of its own:
  queue waits belong to the routing engine (max wait, overflow, abandonment).
- *ringing*: at least one callee device said ``call.ringing``.
- *connecting*: a callee device accepted; offer/answer and candidates flow; ICE runs.
- *active*: both sides report ICE connected and both sockets are up.
- *reconnecting*: a socket dropped or ICE disconnected after the call was up.
- *ended*: with one :data:`EndReason`.

Timers (:class:`CallConfig`, defaults 45 s / 20 s / 15 s):

- ring timeout: from the moment the invite first reaches a callee device
  (:meth:`Call.ring`) to an answer; expiry ends the call ``missed``.  An invite's
  ``lifetime`` (Matrix VoIP) can shorten it, never lengthen it.
- connect timeout: from answer to media connected; expiry ends it ``failed``.  A
  socket that drops during connecting does not restart or pause it.
- reconnect grace: from leaving *active* to getting back; expiry ends it
  ``dropped``.  The same grace applies to a caller whose socket drops before the call
  is answered; if it does not come back the call ends ``canceled``.

Several devices of the callee may ring (Matrix: every device of the user).  The first
accept wins; every other device gets ``call.state ended answered_elsewhere``, and so
does a device whose accept loses the race.  The caller's offer (it carries the
visitor's IP addresses) and early candidates are held by the server and given only to
the device that won, never to every device that rang.

Glare (both sides invite each other at once): see :func:`glare_winner`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Final, Literal

from signalling.errors import SignallingError
from signalling.validation import RTCIceCandidateInit, RTCSessionDescriptionInit

__all__ = [
    "END_REASONS",
    "STATES",
    "Call",
    "CallConfig",
    "CallState",
    "CallTimings",
    "Effect",
    "EndReason",
    "PartyKind",
    "Role",
    "SendTo",
    "StateChanged",
    "glare_winner",
    "resolve_glare",
]

CallState = Literal["initiating", "ringing", "connecting", "active", "reconnecting", "ended"]
STATES: Final[tuple[CallState, ...]] = (
    "initiating",
    "ringing",
    "connecting",
    "active",
    "reconnecting",
    "ended",
)
EndReason = Literal[
    "completed",  # hung up after it was answered
    "canceled",  # the caller gave up (or went away) before an answer
    "rejected",  # the callee declined
    "missed",  # ring timeout
    "busy",  # the callee cannot take it now
    "failed",  # ICE/media failed or connect timeout, before media ever flowed
    "dropped",  # lost after it was up and not back within the grace
    "answered_elsewhere",  # only ever sent to a callee device that did not win
    "replaced",  # lost a glare to the other side's call
]
END_REASONS: Final[tuple[EndReason, ...]] = (
    "completed",
    "canceled",
    "rejected",
    "missed",
    "busy",
    "failed",
    "dropped",
    "answered_elsewhere",
    "replaced",
)
Role = Literal["caller", "callee"]
PartyKind = Literal["visitor", "agent"]
Media = Literal["audio", "video"]
_Timer = Literal["ring", "connect", "grace", "caller_grace"]

# Hangup reasons from a client that mean "it broke", not "I am done".
FAILURE_HANGUP_REASONS: Final = frozenset({"ice_failed", "media_failed", "user_media_failed"})

_TIMER_REASONS: Final[dict[_Timer, EndReason]] = {
    "ring": "missed",
    "connect": "failed",
    "grace": "dropped",
    "caller_grace": "canceled",
}

_UNANSWERED: Final = ("initiating", "ringing")
_ANSWERED: Final = ("connecting", "active", "reconnecting")


@dataclass(frozen=True, slots=True)
class CallConfig:
    ring_timeout_s: float = 45.0
    connect_timeout_s: float = 20.0
    reconnect_grace_s: float = 15.0
    # Candidates the caller may trickle before anyone answered (they wait for the
    # device that wins).  Browsers gather a handful; this only bounds abuse.
    max_buffered_candidates: int = 128


# ---------------------------------------------------------------------------- effects


@dataclass(frozen=True, slots=True)
class StateChanged:
    """The call moved to ``state``.  ``previous`` is None for the invite itself."""

    call_id: str
    state: CallState
    previous: CallState | None
    reason: EndReason | None
    at: float


@dataclass(frozen=True, slots=True)
class SendTo:
    """Deliver ``message`` (a JSON-ready dict) to the connection of ``party_id``."""

    party_id: str
    message: dict[str, Any]


Effect = StateChanged | SendTo


@dataclass(frozen=True, slots=True)
class CallTimings:
    """What the touchpoint records.  Times are Unix seconds; durations seconds.

    ``ring_s``: first ring to answer (or to the end, if never answered).
    ``talk_s``: media connected to end, minus time on hold; 0 if never connected.
    ``hold_s``: time during which at least one side held the call.
    """

    invited_at: float | None
    ringing_at: float | None
    answered_at: float | None
    connected_at: float | None
    ended_at: float | None
    end_reason: EndReason | None
    answered_by: str | None
    ring_s: float | None
    setup_s: float | None
    talk_s: float
    hold_s: float
    reconnects: int

    def as_dict(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in self.__dataclass_fields__}


# ----------------------------------------------------------------------------- parties


@dataclass(slots=True)
class _Party:
    party_id: str
    kind: PartyKind
    connected: bool = True  # signalling socket up
    media_up: bool = False  # its ICE connection reported connected
    on_hold: bool = False
    muted: bool = False
    camera_off: bool = False


def _party_data(party: _Party) -> dict[str, Any]:
    return {name: getattr(party, name) for name in _Party.__dataclass_fields__}


def _error(code: str, message: str) -> SignallingError:
    return SignallingError(code, message)


class Call:
    """One call.  Every input method returns the effects to carry out, in order.

    Client mistakes (wrong party, wrong state) raise
    :class:`~signalling.errors.SignallingError`; the call is unchanged when they do.
    """

    def __init__(
        self,
        call_id: str,
        caller_party_id: str,
        *,
        caller_kind: PartyKind = "visitor",
        callee_kind: PartyKind = "agent",
        media: Media = "audio",
        config: CallConfig | None = None,
    ) -> None:
        self.call_id = call_id
        self.media: Media = media
        self.config = config or CallConfig()
        self.state: CallState = "initiating"
        self.end_reason: EndReason | None = None
        self.caller = _Party(caller_party_id, caller_kind)
        self.callee: _Party | None = None
        self.callee_kind: PartyKind = callee_kind
        # Callee devices rung before the answer: party id -> still reachable.
        self._devices: dict[str, bool] = {}
        self._losers: set[str] = set()
        self._timers: dict[_Timer, float] = {}
        self._invited = False
        self._lifetime_s: float | None = None
        self._pending_offer: RTCSessionDescriptionInit | None = None
        self._pending_candidates: list[RTCIceCandidateInit] = []
        self._offer_relayed = False
        self._answer_relayed = False
        self._replaced_by: str | None = None
        # timings
        self.invited_at: float | None = None
        self.ringing_at: float | None = None
        self.answered_at: float | None = None
        self.connected_at: float | None = None
        self.ended_at: float | None = None
        self._hold_since: float | None = None
        self._hold_s = 0.0
        self._reconnects = 0

    # ------------------------------------------------------------------ queries

    def __repr__(self) -> str:
        reason = f" {self.end_reason}" if self.end_reason else ""
        return f"<Call {self.call_id} {self.state}{reason}>"

    @property
    def answered_by(self) -> str | None:
        return self.callee.party_id if self.callee else None

    @property
    def ringing_devices(self) -> frozenset[str]:
        """Callee devices the invite was delivered to and that are still reachable."""
        return frozenset(p for p, up in self._devices.items() if up)

    @property
    def devices(self) -> frozenset[str]:
        """Every callee device rung and not withdrawn, reachable or not (before an
        answer; after it, the device that won)."""
        return frozenset(self._devices)

    @property
    def on_hold(self) -> bool:
        """Whether either side holds the call now."""
        return self._hold_since is not None

    def role_of(self, party_id: str) -> Role | None:
        if party_id == self.caller.party_id:
            return "caller"
        if (self.callee and party_id == self.callee.party_id) or party_id in self._devices:
            return "callee"
        return None

    def polite(self, role: Role) -> bool:
        """Perfect negotiation roles: the visitor is impolite, the agent polite; when
        both are the same kind the caller is impolite.  An aiortc endpoint must be the
        impolite side (its rollback does nothing)."""
        caller, callee = self.caller.kind, self.callee_kind
        if caller != callee:
            kind = caller if role == "caller" else callee
            return kind == "agent"
        return role == "callee"

    def next_deadline(self) -> float | None:
        """When :meth:`tick` must next be called; None when no timer runs."""
        return min(self._timers.values()) if self._timers else None

    @property
    def timers(self) -> dict[str, float]:
        """Running timers by name (ring, connect, grace, caller_grace)."""
        return {name: deadline for name, deadline in self._timers.items()}

    def hold_s(self, now: float | None = None) -> float:
        held = self._hold_s
        if self._hold_since is not None:
            end = self.ended_at if self.ended_at is not None else now
            if end is not None:
                held += max(0.0, end - self._hold_since)
        return held

    def timings(self, now: float | None = None) -> CallTimings:
        """Final timings once ended; provisional ones (up to ``now``) before."""
        end = self.ended_at if self.ended_at is not None else now
        hold = self.hold_s(now)
        ring_s = None
        if self.ringing_at is not None:
            stop = self.answered_at if self.answered_at is not None else end
            if stop is not None:
                ring_s = max(0.0, stop - self.ringing_at)
        setup_s = None
        if self.answered_at is not None and self.connected_at is not None:
            setup_s = self.connected_at - self.answered_at
        talk_s = 0.0
        if self.connected_at is not None and end is not None:
            talk_s = max(0.0, end - self.connected_at - hold)
        return CallTimings(
            invited_at=self.invited_at,
            ringing_at=self.ringing_at,
            answered_at=self.answered_at,
            connected_at=self.connected_at,
            ended_at=self.ended_at,
            end_reason=self.end_reason,
            answered_by=self.answered_by,
            ring_s=ring_s,
            setup_s=setup_s,
            talk_s=talk_s,
            hold_s=hold,
            reconnects=self._reconnects,
        )

    # ------------------------------------------------------------------ helpers

    def _msg(self, kind: str, **fields: Any) -> dict[str, Any]:
        return {"type": kind, "call_id": self.call_id, **fields}

    def _state_message(self, recipient: Role, reason: EndReason | None = None) -> dict[str, Any]:
        message = self._msg("call.state", state=self.state, reason=reason, media=self.media)
        if self.state in _ANSWERED and self.callee is not None:
            peer = self.callee.party_id if recipient == "caller" else self.caller.party_id
            message["peer_party_id"] = peer
            message["polite"] = self.polite(recipient)
        if self._replaced_by is not None:
            message["replaced_by"] = self._replaced_by
        return message

    def _audience(self) -> list[tuple[str, Role]]:
        """Who hears about state changes: the caller and either the winning device or,
        before an answer, every device that rang."""
        parties: list[tuple[str, Role]] = [(self.caller.party_id, "caller")]
        if self.callee is not None:
            parties.append((self.callee.party_id, "callee"))
        else:
            parties.extend((device, "callee") for device in self._devices)
        return parties

    def _transition(
        self,
        state: CallState,
        at: float,
        reason: EndReason | None = None,
        to: tuple[Role, ...] = ("caller", "callee"),
    ) -> list[Effect]:
        previous = self.state
        self.state = state
        effects: list[Effect] = [StateChanged(self.call_id, state, previous, reason, at)]
        for party_id, role in self._audience():
            if role in to:
                effects.append(SendTo(party_id, self._state_message(role, reason)))
        return effects

    def _end(self, reason: EndReason, at: float) -> list[Effect]:
        self.end_reason = reason
        self.ended_at = at
        if self._hold_since is not None:
            self._hold_s += max(0.0, at - self._hold_since)
            self._hold_since = None
        self._timers.clear()
        self._pending_offer = None
        self._pending_candidates.clear()
        return self._transition("ended", at, reason)

    def _ring_timeout_s(self) -> float:
        if self._lifetime_s is None:
            return self.config.ring_timeout_s
        return min(self.config.ring_timeout_s, self._lifetime_s)

    def _require_invited(self) -> None:
        if not self._invited:
            raise _error("invalid_state", "the call has not been invited yet")
        if self.state == "ended":
            raise _error("call_ended", f"call {self.call_id} has ended")

    def _party(self, party_id: str) -> _Party:
        """The caller or the winning callee device."""
        if party_id == self.caller.party_id:
            return self.caller
        if self.callee is not None and party_id == self.callee.party_id:
            return self.callee
        if party_id in self._devices or party_id in self._losers:
            raise _error("invalid_state", "this device has not answered the call")
        raise _error("not_a_party", f"{party_id} is not a party to call {self.call_id}")

    def _other(self, party: _Party) -> _Party:
        if party is self.caller:
            assert self.callee is not None
            return self.callee
        return self.caller

    def _require_state(self, allowed: tuple[CallState, ...], what: str) -> None:
        if self.state not in allowed:
            raise _error("invalid_state", f"{what} is not allowed while {self.state}")

    def _elsewhere(self, device: str) -> SendTo:
        message = self._msg("call.state", state="ended", reason="answered_elsewhere", media=self.media)
        return SendTo(device, message)

    # ------------------------------------------------------------------ setup

    def invite(
        self,
        at: float,
        *,
        lifetime_s: float | None = None,
        offer: RTCSessionDescriptionInit | None = None,
    ) -> list[Effect]:
        """The caller's ``call.invite``.  ``lifetime_s`` (Matrix ``lifetime``) can
        shorten the ring timeout; an ``offer`` sent with the invite is held until a
        device answers."""
        if self._invited:
            raise _error("invalid_state", "the call was already invited")
        self._invited = True
        self.invited_at = at
        self._lifetime_s = lifetime_s
        self._pending_offer = offer
        return [
            StateChanged(self.call_id, "initiating", None, None, at),
            SendTo(self.caller.party_id, self._state_message("caller")),
        ]

    def ring(self, party_id: str, at: float) -> list[Effect]:
        """Deliver the invite to a callee device (the gateway decides which: the agent
        the router picked, every tab of the visitor...).  Starts the ring timer on the
        first device.  Ringing a device again re-sends the invite."""
        self._require_invited()
        if party_id == self.caller.party_id:
            raise _error("not_a_party", "the caller cannot ring itself")
        if self.state not in _UNANSWERED:
            return [self._elsewhere(party_id)] if party_id != self.answered_by else []
        self._devices[party_id] = True
        self._losers.discard(party_id)
        if "ring" not in self._timers:
            self._timers["ring"] = at + self._ring_timeout_s()
        if self.ringing_at is None:
            self.ringing_at = at
        remaining_ms = max(1, round((self._timers["ring"] - at) * 1000))
        invite = self._msg(
            "call.invite",
            party_id=self.caller.party_id,
            media=self.media,
            lifetime=remaining_ms,
            caller_kind=self.caller.kind,
        )
        return [SendTo(party_id, invite)]

    def withdraw(self, party_id: str, at: float) -> list[Effect]:
        """Stop ringing one device (the routing offer expired or moved on).  The device
        gets ``ended canceled``; when no device is left the call goes back to
        *initiating* and the ring timer stops, so the next agent gets a full ring."""
        self._require_invited()
        if self.state not in _UNANSWERED:
            return []
        if party_id not in self._devices:
            raise _error("not_a_party", f"{party_id} is not ringing")
        del self._devices[party_id]
        message = self._msg("call.state", state="ended", reason="canceled", media=self.media)
        effects: list[Effect] = [SendTo(party_id, message)]
        if not self._devices:
            self._timers.pop("ring", None)
            if self.state == "ringing":
                effects += self._transition("initiating", at, to=("caller",))
        return effects

    def ringing(self, party_id: str, at: float) -> list[Effect]:
        """A callee device says it is ringing."""
        self._require_invited()
        if self.state in _ANSWERED:
            return [] if party_id == self.answered_by else [self._elsewhere(party_id)]
        if party_id not in self._devices:
            raise _error("not_a_party", f"{party_id} was not rung")
        self._devices[party_id] = True
        if self.state == "initiating":
            return self._transition("ringing", at, to=("caller",))
        return []

    def accept(self, party_id: str, at: float) -> list[Effect]:
        """A callee device answers.  The first accept wins; a later one from another
        device is told ``answered_elsewhere``."""
        self._require_invited()
        if self.state in _ANSWERED:
            if party_id == self.answered_by:
                return []
            if party_id in self._losers or party_id in self._devices:
                return [self._elsewhere(party_id)]
            raise _error("not_a_party", f"{party_id} was not rung")
        if party_id not in self._devices:
            raise _error("not_a_party", f"{party_id} was not rung")
        self.callee = _Party(party_id, self.callee_kind)
        self.answered_at = at
        self._timers.pop("ring", None)
        self._timers.pop("caller_grace", None)
        self._timers["connect"] = at + self.config.connect_timeout_s
        effects: list[Effect] = []
        for device in self._devices:
            if device != party_id:
                self._losers.add(device)
                effects.append(self._elsewhere(device))
        self._devices = {party_id: True}
        effects += self._transition("connecting", at)
        if self._pending_offer is not None:
            effects += self._relay_offer(self._pending_offer)
        return effects

    def reject(
        self, party_id: str, at: float, reason: Literal["rejected", "busy"] = "rejected"
    ) -> list[Effect]:
        """A callee device declines (``busy`` when it cannot take calls now).  As in
        Matrix, one device's reject ends the call for all of them."""
        self._require_invited()
        if party_id == self.caller.party_id:
            raise _error("invalid_state", "the caller hangs up, it does not reject")
        if self.state in _ANSWERED:
            if party_id in self._losers:
                return []
            if party_id == self.answered_by:
                raise _error("invalid_state", "the call is answered; hang up instead")
            raise _error("not_a_party", f"{party_id} was not rung")
        if party_id not in self._devices:
            raise _error("not_a_party", f"{party_id} was not rung")
        return self._end(reason, at)

    def hangup(self, party_id: str, at: float, reason: str = "user_hangup") -> list[Effect]:
        """``call.hangup`` from either side.

        Before an answer: the caller's hangup is ``canceled``; a callee device's is a
        reject (``busy`` if it says so).  After: ``completed``, unless the reason says
        the media broke (ice_failed, media_failed): then ``failed`` if media never
        flowed, ``dropped`` if it had.  Hanging up an ended call does nothing.
        """
        if self.state == "ended":
            return []
        self._require_invited()
        if self.state in _UNANSWERED:
            if party_id == self.caller.party_id:
                return self._end("canceled", at)
            if party_id in self._devices:
                return self._end("busy" if reason == "busy" else "rejected", at)
            raise _error("not_a_party", f"{party_id} is not a party to this call")
        if party_id in self._losers:
            return []
        self._party(party_id)
        if reason in FAILURE_HANGUP_REASONS:
            return self._end("dropped" if self.connected_at is not None else "failed", at)
        return self._end("completed", at)

    def end(self, at: float, reason: EndReason) -> list[Effect]:
        """The server ends the call for a reason of its own: the callee turned out to
        be busy or unreachable (``busy``, ``missed``), the conversation the call
        belongs to ended (``completed``, or ``canceled`` before an answer)...  Any
        state but *ended*; ending an ended call does nothing."""
        if self.state == "ended":
            return []
        self._require_invited()
        if reason == "answered_elsewhere":
            raise _error("invalid_state", "answered_elsewhere is only ever sent to a device")
        return self._end(reason, at)

    def replace(self, at: float, by_call_id: str) -> list[Effect]:
        """End this unanswered call because it lost a glare to ``by_call_id``."""
        self._require_invited()
        self._require_state(_UNANSWERED, "replacing a call")
        self._replaced_by = by_call_id
        return self._end("replaced", at)

    # ------------------------------------------------------------- negotiation

    def _relay_offer(self, offer: RTCSessionDescriptionInit) -> list[Effect]:
        assert self.callee is not None
        self._pending_offer = None
        self._offer_relayed = True
        effects: list[Effect] = [
            SendTo(
                self.callee.party_id,
                self._msg("call.offer", party_id=self.caller.party_id, description=offer),
            )
        ]
        if self._pending_candidates:
            batch = list(self._pending_candidates)
            self._pending_candidates.clear()
            effects.append(
                SendTo(
                    self.callee.party_id,
                    self._msg("call.candidates", party_id=self.caller.party_id, candidates=batch),
                )
            )
        return effects

    def offer(self, party_id: str, description: RTCSessionDescriptionInit, at: float) -> list[Effect]:
        """The caller's initial offer.  Held until a device answers, then given to that
        device only.  Later offers go through :meth:`negotiate`."""
        self._require_invited()
        if party_id != self.caller.party_id:
            self._party(party_id)
            raise _error("invalid_state", "only the caller sends call.offer; use call.negotiate")
        if self.state in _UNANSWERED:
            self._pending_offer = description
            return []
        if self.state != "connecting" or self._offer_relayed:
            raise _error("invalid_state", "the offer was already sent; use call.negotiate")
        return self._relay_offer(description)

    def answer(self, party_id: str, description: RTCSessionDescriptionInit, at: float) -> list[Effect]:
        """The answering device's answer to the initial offer."""
        self._require_invited()
        party = self._party(party_id)
        if party is self.caller:
            raise _error("invalid_state", "only the callee sends call.answer")
        if self.state != "connecting" or not self._offer_relayed or self._answer_relayed:
            raise _error("invalid_state", "no offer is waiting for an answer")
        self._answer_relayed = True
        return [
            SendTo(
                self.caller.party_id,
                self._msg("call.answer", party_id=party_id, description=description),
            )
        ]

    def candidates(self, party_id: str, candidates: list[RTCIceCandidateInit], at: float) -> list[Effect]:
        """Trickled candidates (an empty ``candidate`` is end of candidates).  The
        caller's are held, like its offer, until the offer has gone to the device that
        answered."""
        self._require_invited()
        party = self._party(party_id)
        waiting = self.state in _UNANSWERED or (self.state == "connecting" and not self._offer_relayed)
        if waiting:
            if party is not self.caller:
                raise _error("invalid_state", "candidates before the offer")
            limit = self.config.max_buffered_candidates
            if len(self._pending_candidates) + len(candidates) > limit:
                raise _error("too_many_candidates", f"at most {limit} candidates before answer")
            self._pending_candidates.extend(candidates)
            return []
        other = self._other(party)
        message = self._msg("call.candidates", party_id=party_id, candidates=list(candidates))
        return [SendTo(other.party_id, message)]

    def negotiate(self, party_id: str, description: RTCSessionDescriptionInit, at: float) -> list[Effect]:
        """A re-offer or its answer (add video, hold, ICE restart), relayed to the other
        side.  Collisions are resolved by the peers (perfect negotiation: see
        :meth:`polite`); the server only relays."""
        self._require_invited()
        party = self._party(party_id)
        self._require_state(_ANSWERED, "call.negotiate")
        message = self._msg("call.negotiate", party_id=party_id, description=description)
        return [SendTo(self._other(party).party_id, message)]

    # ------------------------------------------------------------------ media

    def _evaluate(self, at: float) -> list[Effect]:
        """Move between connecting, active and reconnecting from what the parties
        report about their sockets and their ICE connections."""
        callee = self.callee
        assert callee is not None
        up = all(p.connected and p.media_up for p in (self.caller, callee))
        if up and self.state in ("connecting", "reconnecting"):
            if self.connected_at is None:
                self.connected_at = at
            self._timers.pop("connect", None)
            self._timers.pop("grace", None)
            return self._transition("active", at)
        if not up and self.state == "active":
            self._reconnects += 1
            self._timers["grace"] = at + self.config.reconnect_grace_s
            return self._transition("reconnecting", at)
        return []

    def media_connected(self, party_id: str, at: float) -> list[Effect]:
        """A side reports ICE connected.  Both must, for the call to be active."""
        self._require_invited()
        party = self._party(party_id)
        self._require_state(_ANSWERED, "call.media_state connected")
        party.media_up = True
        return self._evaluate(at)

    def media_disconnected(self, party_id: str, at: float) -> list[Effect]:
        """A side reports ICE disconnected (transient; it may come back by itself or
        after an ICE restart).  An active call starts its reconnect grace."""
        self._require_invited()
        party = self._party(party_id)
        self._require_state(_ANSWERED, "call.media_state disconnected")
        party.media_up = False
        return self._evaluate(at)

    def media_failed(self, party_id: str, at: float) -> list[Effect]:
        """A side reports ICE failed.  Before the media ever flowed this ends the call
        ``failed``; after, it is treated as a disconnect: an ICE restart may save it
        within the grace, or it ends ``dropped``."""
        self._require_invited()
        party = self._party(party_id)
        self._require_state(_ANSWERED, "call.media_state failed")
        if self.state == "connecting":
            return self._end("failed", at)
        party.media_up = False
        return self._evaluate(at)

    def hold(self, party_id: str, at: float) -> list[Effect]:
        """One side puts the call on hold (its client also re-offers with sendonly or
        inactive through :meth:`negotiate`).  Held time is counted while either side
        holds."""
        return self._set_hold(party_id, at, True)

    def resume(self, party_id: str, at: float) -> list[Effect]:
        return self._set_hold(party_id, at, False)

    def _set_hold(self, party_id: str, at: float, on: bool) -> list[Effect]:
        self._require_invited()
        party = self._party(party_id)
        self._require_state(("active", "reconnecting"), "hold and resume")
        if party.on_hold == on:
            return []
        party.on_hold = on
        assert self.callee is not None
        anyone = self.caller.on_hold or self.callee.on_hold
        if anyone and self._hold_since is None:
            self._hold_since = at
        elif not anyone and self._hold_since is not None:
            self._hold_s += max(0.0, at - self._hold_since)
            self._hold_since = None
        return [self._media_state_message(party)]

    def media_state(
        self,
        party_id: str,
        at: float,
        *,
        muted: bool | None = None,
        camera_off: bool | None = None,
    ) -> list[Effect]:
        """Mute or camera on/off, relayed to the other side as ``call.media_state``."""
        self._require_invited()
        party = self._party(party_id)
        self._require_state(_ANSWERED, "call.media_state")
        if muted is not None:
            party.muted = muted
        if camera_off is not None:
            party.camera_off = camera_off
        return [self._media_state_message(party)]

    def _media_state_message(self, party: _Party) -> SendTo:
        message = self._msg(
            "call.media_state",
            party_id=party.party_id,
            muted=party.muted,
            camera_off=party.camera_off,
            on_hold=party.on_hold,
        )
        return SendTo(self._other(party).party_id, message)

    # ------------------------------------------------------------ connections

    def connection_lost(self, party_id: str, at: float) -> list[Effect]:
        """A party's signalling socket dropped.

        Before an answer: a ringing device simply stops counting as reachable; the
        caller gets the reconnect grace, after which the call is ``canceled``.
        Connecting: the connect timer keeps running.  Active: reconnecting, with grace.
        """
        if self.state == "ended" or not self._invited:
            return []
        if self.state in _UNANSWERED:
            if party_id == self.caller.party_id:
                self.caller.connected = False
                self._timers["caller_grace"] = at + self.config.reconnect_grace_s
            elif party_id in self._devices:
                self._devices[party_id] = False
            else:
                raise _error("not_a_party", f"{party_id} is not a party to this call")
            return []
        if party_id in self._losers:
            return []
        party = self._party(party_id)
        party.connected = False
        return self._evaluate(at)

    def connection_restored(self, party_id: str, at: float) -> list[Effect]:
        """A party's socket is back (on any node).  It is sent the current state (and
        a ringing device the invite again) so the client can resynchronise."""
        if not self._invited:
            raise _error("invalid_state", "the call has not been invited yet")
        if party_id in self._losers:
            return [self._elsewhere(party_id)]
        if self.state == "ended":
            ended_role = self.role_of(party_id)
            if ended_role is None:
                raise _error("not_a_party", f"{party_id} is not a party to this call")
            return [SendTo(party_id, self._state_message(ended_role, self.end_reason))]
        if self.state in _UNANSWERED:
            if party_id == self.caller.party_id:
                self.caller.connected = True
                self._timers.pop("caller_grace", None)
                return [SendTo(party_id, self._state_message("caller"))]
            if party_id in self._devices:
                return self.ring(party_id, at)
            raise _error("not_a_party", f"{party_id} is not a party to this call")
        party = self._party(party_id)
        party.connected = True
        role: Role = "caller" if party is self.caller else "callee"
        effects = self._evaluate(at)
        if not any(isinstance(e, SendTo) and e.party_id == party_id for e in effects):
            effects.append(SendTo(party_id, self._state_message(role)))
        return effects

    # ------------------------------------------------------------ hand-over

    def snapshot(self) -> dict[str, Any]:
        """Everything this call is, as JSON-ready data, so that another process can
        take it over (:meth:`restore`) when the one that owns it dies: the media flows
        peer to peer and must not be cut off with the signalling."""
        return {
            "call_id": self.call_id,
            "media": self.media,
            "state": self.state,
            "end_reason": self.end_reason,
            "caller": _party_data(self.caller),
            "callee": _party_data(self.callee) if self.callee is not None else None,
            "callee_kind": self.callee_kind,
            "devices": dict(self._devices),
            "losers": sorted(self._losers),
            "timers": dict(self._timers),
            "invited": self._invited,
            "lifetime_s": self._lifetime_s,
            "pending_offer": self._pending_offer,
            "pending_candidates": list(self._pending_candidates),
            "offer_relayed": self._offer_relayed,
            "answer_relayed": self._answer_relayed,
            "replaced_by": self._replaced_by,
            "invited_at": self.invited_at,
            "ringing_at": self.ringing_at,
            "answered_at": self.answered_at,
            "connected_at": self.connected_at,
            "ended_at": self.ended_at,
            "hold_since": self._hold_since,
            "hold_s": self._hold_s,
            "reconnects": self._reconnects,
        }

    @classmethod
    def restore(cls, data: dict[str, Any], config: CallConfig | None = None) -> Call:
        """The call a :meth:`snapshot` describes."""
        caller = data["caller"]
        call = cls(
            data["call_id"],
            caller["party_id"],
            caller_kind=caller["kind"],
            callee_kind=data["callee_kind"],
            media=data["media"],
            config=config,
        )
        call.state = data["state"]
        call.end_reason = data["end_reason"]
        call.caller = _Party(**caller)
        call.callee = _Party(**data["callee"]) if data["callee"] is not None else None
        call._devices = dict(data["devices"])
        call._losers = set(data["losers"])
        call._timers = dict(data["timers"])
        call._invited = data["invited"]
        call._lifetime_s = data["lifetime_s"]
        call._pending_offer = data["pending_offer"]
        call._pending_candidates = list(data["pending_candidates"])
        call._offer_relayed = data["offer_relayed"]
        call._answer_relayed = data["answer_relayed"]
        call._replaced_by = data["replaced_by"]
        call.invited_at = data["invited_at"]
        call.ringing_at = data["ringing_at"]
        call.answered_at = data["answered_at"]
        call.connected_at = data["connected_at"]
        call.ended_at = data["ended_at"]
        call._hold_since = data["hold_since"]
        call._hold_s = data["hold_s"]
        call._reconnects = data["reconnects"]
        return call

    def adopt(self, at: float) -> list[Effect]:
        """A new owner took the call over from one that died.  The sockets of both
        sides were with the old owner's signalling, so neither counts as connected
        until it says so (:meth:`connection_restored`); an active call waits in
        reconnecting, with the grace, while its media goes on."""
        self._require_invited()
        self._require_state(_ANSWERED, "taking a call over")
        self.caller.connected = False
        if self.callee is not None:
            self.callee.connected = False
        if self.state == "reconnecting" and "grace" not in self._timers:
            self._timers["grace"] = at + self.config.reconnect_grace_s
        return self._evaluate(at)

    # ------------------------------------------------------------------ clock

    def tick(self, at: float) -> list[Effect]:
        """Fire the timers due at ``at``: ring -> missed, connect -> failed,
        grace -> dropped, caller's grace before answer -> canceled."""
        if self.state == "ended":
            return []
        due = sorted((deadline, name) for name, deadline in self._timers.items() if deadline <= at)
        if not due:
            return []
        _, name = due[0]
        return self._end(_TIMER_REASONS[name], at)


# ------------------------------------------------------------------------------ glare


def glare_winner(a: Call, b: Call) -> Call:
    """Which of two crossing invites survives.

    Rule: the visitor's invite wins (it is the customer's intent, and the visitor is
    the impolite side of perfect negotiation anyway); between two invites from the same
    kind of party, the lexicographically lower ``call_id`` wins (Matrix VoIP's rule).
    Both ends can compute it from the two invites alone, so they always agree.
    """
    if a.caller.kind != b.caller.kind:
        return a if a.caller.kind == "visitor" else b
    return a if a.call_id < b.call_id else b


def resolve_glare(a: Call, b: Call, at: float, *, auto_accept: bool = True) -> tuple[Call, list[Effect]]:
    """End the losing call ``replaced`` and, with ``auto_accept``, let the loser's
    caller answer the winning call at once (both sides asked to talk, so nobody needs
    to click again), as Matrix clients do.  Returns the winner and the effects."""
    for call in (a, b):
        if call.state not in _UNANSWERED:
            raise _error("invalid_state", f"{call.call_id} is not an unanswered call")
    winner = glare_winner(a, b)
    loser = b if winner is a else a
    effects = loser.replace(at, winner.call_id)
    if auto_accept:
        device = loser.caller.party_id
        effects += winner.ring(device, at)
        effects += winner.accept(device, at)
    return winner, effects
