"""The call state machine: every transition, end reason and timer, glare, devices."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from signalling.call import (
    END_REASONS,
    STATES,
    Call,
    CallConfig,
    Effect,
    SendTo,
    StateChanged,
    glare_winner,
    resolve_glare,
)
from signalling.errors import SignallingError
from signalling.validation import RTCIceCandidateInit, RTCSessionDescriptionInit

OFFER: RTCSessionDescriptionInit = {"type": "offer", "sdp": "v=0\r\n(offer)\r\n"}
ANSWER: RTCSessionDescriptionInit = {"type": "answer", "sdp": "v=0\r\n(answer)\r\n"}
CAND: RTCIceCandidateInit = {
    "candidate": "candidate:1 1 udp 2130706431 127.0.0.1 5000 typ host",
    "sdpMid": "0",
    "sdpMLineIndex": 0,
}
END: RTCIceCandidateInit = {"candidate": "", "sdpMid": "0", "sdpMLineIndex": 0}

VISITOR = "visitor-tab"
AGENT = "agent-desk"
AGENT2 = "agent-phone"


def sent(effects: list[Effect], party_id: str | None = None) -> list[dict[str, Any]]:
    return [
        e.message for e in effects if isinstance(e, SendTo) and (party_id is None or e.party_id == party_id)
    ]


def changes(effects: list[Effect]) -> list[tuple[str, str | None]]:
    return [(e.state, e.reason) for e in effects if isinstance(e, StateChanged)]


def states_to(effects: list[Effect], party_id: str) -> list[tuple[str, Any]]:
    return [(m["state"], m["reason"]) for m in sent(effects, party_id) if m["type"] == "call.state"]


def new_call(**kwargs: Any) -> Call:
    return Call("call-1", VISITOR, **kwargs)


def answered(at: float = 0.0) -> Call:
    """A call invited at ``at``, rung at +1, ringing at +1, answered at +3."""
    call = new_call()
    call.invite(at)
    call.ring(AGENT, at + 1)
    call.ringing(AGENT, at + 1)
    call.accept(AGENT, at + 3)
    return call


def active(at: float = 0.0) -> Call:
    """Answered as above; offer/answer at +3; media connected on both sides at +4."""
    call = answered(at)
    call.offer(VISITOR, OFFER, at + 3)
    call.answer(AGENT, ANSWER, at + 3)
    call.media_connected(VISITOR, at + 4)
    call.media_connected(AGENT, at + 4)
    assert call.state == "active"
    return call


# ------------------------------------------------------------------ happy path


def test_full_call_transitions_messages_and_timings() -> None:
    call = new_call(media="video")
    effects = call.invite(100.0)
    assert changes(effects) == [("initiating", None)]
    assert states_to(effects, VISITOR) == [("initiating", None)]

    effects = call.ring(AGENT, 101.0)
    [invite] = sent(effects, AGENT)
    assert invite == {
        "type": "call.invite",
        "call_id": "call-1",
        "party_id": VISITOR,
        "media": "video",
        "lifetime": 45_000,
        "caller_kind": "visitor",
    }
    assert call.state == "initiating"

    effects = call.ringing(AGENT, 101.5)
    assert changes(effects) == [("ringing", None)]
    assert states_to(effects, VISITOR) == [("ringing", None)]
    assert sent(effects, AGENT) == []

    effects = call.accept(AGENT, 110.0)
    assert changes(effects) == [("connecting", None)]
    to_visitor = sent(effects, VISITOR)
    assert to_visitor[0]["state"] == "connecting"
    assert to_visitor[0]["peer_party_id"] == AGENT
    assert to_visitor[0]["polite"] is False  # the visitor is impolite
    assert sent(effects, AGENT)[0]["polite"] is True

    effects = call.offer(VISITOR, OFFER, 110.1)
    assert sent(effects, AGENT) == [
        {"type": "call.offer", "call_id": "call-1", "party_id": VISITOR, "description": OFFER}
    ]
    effects = call.answer(AGENT, ANSWER, 110.2)
    assert sent(effects, VISITOR)[0]["description"] == ANSWER

    effects = call.candidates(VISITOR, [CAND, END], 110.3)
    assert sent(effects, AGENT)[0]["candidates"] == [CAND, END]
    effects = call.candidates(AGENT, [CAND], 110.3)
    assert sent(effects, VISITOR)[0]["type"] == "call.candidates"

    assert call.media_connected(VISITOR, 111.0) == []
    effects = call.media_connected(AGENT, 111.5)
    assert changes(effects) == [("active", None)]
    assert {e.party_id for e in effects if isinstance(e, SendTo)} == {VISITOR, AGENT}

    effects = call.hangup(VISITOR, 171.5)
    assert changes(effects) == [("ended", "completed")]
    assert states_to(effects, AGENT) == [("ended", "completed")]
    assert call.next_deadline() is None

    t = call.timings()
    assert (t.invited_at, t.ringing_at, t.answered_at, t.connected_at, t.ended_at) == (
        100.0,
        101.0,
        110.0,
        111.5,
        171.5,
    )
    assert t.ring_s == pytest.approx(9.0)
    assert t.setup_s == pytest.approx(1.5)
    assert t.talk_s == pytest.approx(60.0)
    assert t.hold_s == 0.0
    assert t.end_reason == "completed"
    assert t.answered_by == AGENT
    assert t.as_dict()["talk_s"] == pytest.approx(60.0)


def test_callee_hangup_after_active_is_completed() -> None:
    call = active()
    assert changes(call.hangup(AGENT, 20.0)) == [("ended", "completed")]


def test_hangup_while_connecting_is_completed() -> None:
    call = answered()
    assert changes(call.hangup(VISITOR, 5.0)) == [("ended", "completed")]
    assert call.timings().talk_s == 0.0


# ------------------------------------------------------------------ end reasons


def test_caller_hangs_up_before_answer_is_canceled_and_devices_are_told() -> None:
    call = new_call()
    call.invite(0)
    call.ring(AGENT, 1)
    call.ring(AGENT2, 1)
    call.ringing(AGENT, 2)
    effects = call.hangup(VISITOR, 5)
    assert changes(effects) == [("ended", "canceled")]
    assert states_to(effects, AGENT) == [("ended", "canceled")]
    assert states_to(effects, AGENT2) == [("ended", "canceled")]
    assert call.timings().ring_s == pytest.approx(4.0)
    assert call.timings().talk_s == 0.0


def test_cancel_while_initiating() -> None:
    call = new_call()
    call.invite(0)
    assert changes(call.hangup(VISITOR, 30)) == [("ended", "canceled")]
    assert call.timings().ring_s is None


@pytest.mark.parametrize("reason", ["rejected", "busy"])
def test_reject_ends_the_call_for_every_device(reason: str) -> None:
    call = new_call()
    call.invite(0)
    call.ring(AGENT, 1)
    call.ring(AGENT2, 1)
    effects = call.reject(AGENT2, 2, reason)  # type: ignore[arg-type]
    assert changes(effects) == [("ended", reason)]
    assert states_to(effects, AGENT) == [("ended", reason)]
    assert states_to(effects, VISITOR) == [("ended", reason)]


def test_callee_hangup_before_answer_is_a_reject_or_busy() -> None:
    call = new_call()
    call.invite(0)
    call.ring(AGENT, 1)
    assert changes(call.hangup(AGENT, 2)) == [("ended", "rejected")]
    call = new_call()
    call.invite(0)
    call.ring(AGENT, 1)
    assert changes(call.hangup(AGENT, 2, "busy")) == [("ended", "busy")]


def test_failure_hangups() -> None:
    call = answered()
    assert changes(call.hangup(AGENT, 6, "ice_failed")) == [("ended", "failed")]
    call = active()
    assert changes(call.hangup(VISITOR, 9, "media_failed")) == [("ended", "dropped")]


def test_media_failed_while_connecting_is_failed() -> None:
    call = answered()
    assert changes(call.media_failed(VISITOR, 6)) == [("ended", "failed")]


def test_every_end_reason_is_reachable() -> None:
    reached = set()
    for scenario in _END_SCENARIOS:
        call = scenario()
        assert call.state == "ended"
        reached.add(call.end_reason)
    # answered_elsewhere is per device, not a call outcome
    assert reached == set(END_REASONS) - {"answered_elsewhere"}


def _completed() -> Call:
    call = active()
    call.hangup(VISITOR, 10)
    return call


def _canceled() -> Call:
    call = new_call()
    call.invite(0)
    call.hangup(VISITOR, 1)
    return call


def _rejected() -> Call:
    call = new_call()
    call.invite(0)
    call.ring(AGENT, 0)
    call.reject(AGENT, 1)
    return call


def _missed() -> Call:
    call = new_call()
    call.invite(0)
    call.ring(AGENT, 0)
    call.tick(45)
    return call


def _busy() -> Call:
    call = new_call()
    call.invite(0)
    call.ring(AGENT, 0)
    call.reject(AGENT, 1, "busy")
    return call


def _failed() -> Call:
    call = answered()
    call.tick(3 + 20)
    return call


def _dropped() -> Call:
    call = active()
    call.connection_lost(AGENT, 10)
    call.tick(25)
    return call


def _replaced() -> Call:
    a = Call("a", "agent-x", caller_kind="agent", callee_kind="visitor")
    b = Call("b", VISITOR)
    a.invite(0)
    b.invite(0)
    resolve_glare(a, b, 1)
    return a


_END_SCENARIOS = [_completed, _canceled, _rejected, _missed, _busy, _failed, _dropped, _replaced]


# ------------------------------------------------------------------ timers


def test_ring_timeout_is_missed_and_counts_from_first_ring() -> None:
    call = new_call()
    call.invite(0)
    assert call.next_deadline() is None  # queued: routing owns the wait
    call.ring(AGENT, 10)
    call.ringing(AGENT, 10.5)
    assert call.next_deadline() == 55
    call.ring(AGENT2, 20)  # a second device does not restart the timer
    assert call.next_deadline() == 55
    assert call.tick(54.999) == []
    effects = call.tick(55)
    assert changes(effects) == [("ended", "missed")]
    assert states_to(effects, AGENT2) == [("ended", "missed")]
    assert call.timings().ring_s == pytest.approx(45.0)


def test_invite_lifetime_can_only_shorten_the_ring() -> None:
    call = new_call()
    call.invite(0, lifetime_s=10)
    [invite] = sent(call.ring(AGENT, 2))
    assert invite["lifetime"] == 10_000
    assert call.next_deadline() == 12
    call = new_call()
    call.invite(0, lifetime_s=600)
    call.ring(AGENT, 0)
    assert call.next_deadline() == 45


def test_connect_timeout_is_failed() -> None:
    call = answered()  # accepted at 3
    assert call.next_deadline() == 23
    call.media_connected(VISITOR, 5)
    assert call.tick(22.9) == []
    assert changes(call.tick(23)) == [("ended", "failed")]
    assert call.timings().connected_at is None


def test_custom_timers() -> None:
    config = CallConfig(ring_timeout_s=5, connect_timeout_s=2, reconnect_grace_s=1)
    call = Call("c", VISITOR, config=config)
    call.invite(0)
    call.ring(AGENT, 0)
    assert call.next_deadline() == 5
    call.accept(AGENT, 1)
    assert call.next_deadline() == 3


def test_reconnect_grace_then_dropped() -> None:
    call = active()  # connected at 4
    effects = call.connection_lost(AGENT, 30)
    assert changes(effects) == [("reconnecting", None)]
    assert call.next_deadline() == 45
    assert call.tick(44) == []
    effects = call.tick(45)
    assert changes(effects) == [("ended", "dropped")]
    assert call.timings().talk_s == pytest.approx(41.0)
    assert call.timings().reconnects == 1


def test_reconnect_within_grace_returns_to_active() -> None:
    call = active()
    call.connection_lost(VISITOR, 30)
    call.connection_lost(AGENT, 31)  # both gone; grace still counts from the first
    assert call.next_deadline() == 45
    effects = call.connection_restored(VISITOR, 35)
    assert changes(effects) == []
    assert states_to(effects, VISITOR) == [("reconnecting", None)]
    effects = call.connection_restored(AGENT, 36)
    assert changes(effects) == [("active", None)]
    assert call.next_deadline() is None
    assert call.timings().connected_at == 4  # the first connection counts


def test_ice_disconnect_and_restart() -> None:
    call = active()
    assert changes(call.media_disconnected(AGENT, 10)) == [("reconnecting", None)]
    # an ICE restart is a re-offer, allowed while reconnecting
    assert sent(call.negotiate(VISITOR, OFFER, 11), AGENT)[0]["type"] == "call.negotiate"
    assert sent(call.negotiate(AGENT, ANSWER, 11), VISITOR)[0]["description"] == ANSWER
    assert changes(call.media_connected(AGENT, 12)) == [("active", None)]


def test_media_failed_after_active_gets_the_grace() -> None:
    call = active()
    assert changes(call.media_failed(VISITOR, 10)) == [("reconnecting", None)]
    assert changes(call.tick(25)) == [("ended", "dropped")]


def test_socket_loss_while_connecting_keeps_the_connect_timer() -> None:
    call = answered()  # connect deadline 23
    assert call.connection_lost(VISITOR, 5) == []
    assert call.state == "connecting"
    assert call.next_deadline() == 23
    call.media_connected(VISITOR, 6)
    call.media_connected(AGENT, 6)
    assert call.state == "connecting"  # the visitor's socket is still down
    effects = call.connection_restored(VISITOR, 8)
    assert changes(effects) == [("active", None)]
    assert call.next_deadline() is None


def test_caller_socket_loss_before_answer() -> None:
    call = new_call()
    call.invite(0)
    call.ring(AGENT, 1)  # ring deadline 46
    call.connection_lost(VISITOR, 10)
    assert call.next_deadline() == 25
    call.connection_restored(VISITOR, 20)
    assert call.next_deadline() == 46
    call.connection_lost(VISITOR, 30)
    assert changes(call.tick(45)) == [("ended", "canceled")]


def test_lost_and_restored_device_gets_the_invite_again() -> None:
    call = new_call()
    call.invite(0)
    call.ring(AGENT, 1)
    call.connection_lost(AGENT, 2)
    assert call.ringing_devices == frozenset()
    [invite] = sent(call.connection_restored(AGENT, 3), AGENT)
    assert invite["type"] == "call.invite"
    assert invite["lifetime"] == 43_000
    assert call.ringing_devices == {AGENT}


# ------------------------------------------------------------ devices & offer


def test_first_accept_wins_and_others_are_answered_elsewhere() -> None:
    call = new_call()
    call.invite(0, offer=OFFER)
    call.candidates(VISITOR, [CAND], 0.1)
    call.candidates(VISITOR, [END], 0.2)
    invites = sent(call.ring(AGENT, 1)) + sent(call.ring(AGENT2, 1))
    assert all("description" not in m for m in invites)  # no offer, no IPs, to everyone
    call.ringing(AGENT, 1)
    call.ringing(AGENT2, 1)

    effects = call.accept(AGENT2, 4)
    assert states_to(effects, AGENT) == [("ended", "answered_elsewhere")]
    assert sent(effects, AGENT) == [m for m in sent(effects, AGENT) if m["type"] == "call.state"]
    to_winner = sent(effects, AGENT2)
    assert [m["type"] for m in to_winner] == ["call.state", "call.offer", "call.candidates"]
    assert to_winner[1]["description"] == OFFER
    assert to_winner[2]["candidates"] == [CAND, END]
    assert call.answered_by == AGENT2

    late = call.accept(AGENT, 4.1)
    assert changes(late) == []
    assert states_to(late, AGENT) == [("ended", "answered_elsewhere")]
    assert call.accept(AGENT2, 4.2) == []  # a repeated accept is harmless
    assert states_to(call.ringing(AGENT, 4.3), AGENT) == [("ended", "answered_elsewhere")]
    assert states_to(call.connection_restored(AGENT, 5), AGENT) == [("ended", "answered_elsewhere")]
    assert call.hangup(AGENT, 5) == []  # the loser's hangup changes nothing
    assert call.state == "connecting"
    with pytest.raises(SignallingError) as err:
        call.candidates(AGENT, [CAND], 5)
    assert err.value.code == "invalid_state"


def test_offer_before_answer_is_held_and_can_be_replaced() -> None:
    call = new_call()
    call.invite(0)
    call.ring(AGENT, 1)
    assert call.offer(VISITOR, OFFER, 1) == []
    newer: RTCSessionDescriptionInit = {"type": "offer", "sdp": "v=0\r\n(newer)\r\n"}
    call.offer(VISITOR, newer, 2)
    effects = call.accept(AGENT, 3)
    [offer] = [m for m in sent(effects, AGENT) if m["type"] == "call.offer"]
    assert offer["description"] == newer
    with pytest.raises(SignallingError, match="negotiate"):
        call.offer(VISITOR, OFFER, 4)


def test_caller_candidates_wait_for_the_offer_after_answer() -> None:
    call = answered()
    assert call.candidates(VISITOR, [CAND], 3.5) == []
    effects = call.offer(VISITOR, OFFER, 3.6)
    assert [m["type"] for m in sent(effects, AGENT)] == ["call.offer", "call.candidates"]


def test_buffered_candidates_are_bounded() -> None:
    call = Call("c", VISITOR, config=CallConfig(max_buffered_candidates=3))
    call.invite(0)
    call.candidates(VISITOR, [CAND, CAND], 0)
    with pytest.raises(SignallingError) as err:
        call.candidates(VISITOR, [CAND, CAND], 0)
    assert err.value.code == "too_many_candidates"


def test_withdraw_returns_the_call_to_the_queue() -> None:
    call = new_call()
    call.invite(0)
    call.ring(AGENT, 10)
    call.ringing(AGENT, 10)
    effects = call.withdraw(AGENT, 30)  # the router's offer expired
    assert states_to(effects, AGENT) == [("ended", "canceled")]
    assert changes(effects) == [("initiating", None)]
    assert call.next_deadline() is None
    call.ring(AGENT2, 40)
    assert call.next_deadline() == 85  # a full ring for the next agent
    with pytest.raises(SignallingError) as err:
        call.accept(AGENT, 41)
    assert err.value.code == "not_a_party"
    call.accept(AGENT2, 42)
    assert call.state == "connecting"


# ------------------------------------------------------------------ hold


def test_hold_time_is_accounted_and_excluded_from_talk() -> None:
    call = active()  # connected at 4
    effects = call.hold(AGENT, 10)
    [notice] = sent(effects, VISITOR)
    assert notice == {
        "type": "call.media_state",
        "call_id": "call-1",
        "party_id": AGENT,
        "muted": False,
        "camera_off": False,
        "on_hold": True,
    }
    assert call.hold(AGENT, 11) == []  # already held
    call.hold(VISITOR, 15)  # both hold: still one interval
    call.resume(AGENT, 18)
    assert call.hold_s(now=19) == pytest.approx(9.0)
    call.resume(VISITOR, 20)
    call.hold(AGENT, 30)
    call.hangup(VISITOR, 34)  # ends while on hold
    t = call.timings()
    assert t.hold_s == pytest.approx(10 + 4)
    assert t.talk_s == pytest.approx(34 - 4 - 14)


def test_media_state_is_relayed() -> None:
    call = active()
    [msg] = sent(call.media_state(VISITOR, 5, muted=True, camera_off=True), AGENT)
    assert (msg["muted"], msg["camera_off"], msg["on_hold"]) == (True, True, False)


# ------------------------------------------------------------------ rules


@pytest.mark.parametrize(
    ("setup", "action"),
    [
        ("ringing", lambda c: c.negotiate(VISITOR, OFFER, 5)),
        ("ringing", lambda c: c.hold(VISITOR, 5)),
        ("connecting", lambda c: c.hold(AGENT, 5)),
        ("ringing", lambda c: c.media_connected(VISITOR, 5)),
        ("ringing", lambda c: c.answer(AGENT, ANSWER, 5)),
        ("connecting", lambda c: c.answer(AGENT, ANSWER, 5)),  # no offer yet
        ("active", lambda c: c.offer(VISITOR, OFFER, 5)),
        ("active", lambda c: c.answer(VISITOR, ANSWER, 5)),
        ("active", lambda c: c.reject(AGENT, 5)),
        ("active", lambda c: c.reject(VISITOR, 5)),
        ("active", lambda c: c.replace(5, "other")),
        ("ringing", lambda c: c.candidates(AGENT, [CAND], 5)),
    ],
)
def test_inputs_outside_their_states_are_refused(setup: str, action: Any) -> None:
    call = new_call()
    if setup == "ringing":
        call.invite(0)
        call.ring(AGENT, 0)
        call.ringing(AGENT, 0)
    elif setup == "connecting":
        call = answered()
    else:
        call = active()
    before = (call.state, call.next_deadline())
    with pytest.raises(SignallingError) as err:
        action(call)
    assert err.value.code == "invalid_state"
    assert (call.state, call.next_deadline()) == before


def test_strangers_and_ended_calls() -> None:
    call = new_call()
    with pytest.raises(SignallingError) as err:
        call.ring(AGENT, 0)
    assert err.value.code == "invalid_state"  # not invited yet
    call.invite(0)
    with pytest.raises(SignallingError):
        call.invite(1)
    actions: list[Callable[[], list[Effect]]] = [
        lambda: call.accept("stranger", 1),
        lambda: call.ringing("stranger", 1),
        lambda: call.hangup("stranger", 1),
        lambda: call.ring(VISITOR, 1),
    ]
    for action in actions:
        with pytest.raises(SignallingError) as err:
            action()
        assert err.value.code == "not_a_party"
    call.hangup(VISITOR, 2)
    assert call.hangup(VISITOR, 3) == []  # idempotent
    assert call.tick(1000) == []
    assert call.connection_lost(VISITOR, 4) == []
    assert states_to(call.connection_restored(VISITOR, 5), VISITOR) == [("ended", "canceled")]
    with pytest.raises(SignallingError) as err:
        call.offer(VISITOR, OFFER, 4)
    assert err.value.code == "call_ended"
    assert err.value.to_message("m1") == {
        "type": "error",
        "code": "call_ended",
        "message": "call call-1 has ended",
        "ref": "m1",
    }


def test_politeness() -> None:
    call = Call("c", "agent-x", caller_kind="agent", callee_kind="visitor")
    assert call.polite("caller") is True
    assert call.polite("callee") is False
    internal = Call("c", "agent-x", caller_kind="agent", callee_kind="agent")
    assert internal.polite("caller") is False
    assert internal.polite("callee") is True


# ------------------------------------------------------------------ glare


def test_glare_visitor_invite_wins() -> None:
    agent_call = Call("aaa", "agent-x", caller_kind="agent", callee_kind="visitor")
    visitor_call = Call("zzz", VISITOR)
    assert glare_winner(agent_call, visitor_call) is visitor_call
    assert glare_winner(visitor_call, agent_call) is visitor_call


def test_glare_same_kind_lower_call_id_wins() -> None:
    a = Call("call-b", "x", caller_kind="agent", callee_kind="agent")
    b = Call("call-a", "y", caller_kind="agent", callee_kind="agent")
    assert glare_winner(a, b) is b
    assert glare_winner(b, a) is b


def test_resolve_glare_replaces_the_loser_and_connects_the_winner() -> None:
    agent_call = Call("aaa", "agent-x", caller_kind="agent", callee_kind="visitor")
    visitor_call = Call("zzz", VISITOR)
    agent_call.invite(0)
    agent_call.ring(VISITOR, 0)
    visitor_call.invite(0.1)
    winner, effects = resolve_glare(agent_call, visitor_call, 0.2)
    assert winner is visitor_call
    assert agent_call.state == "ended"
    assert agent_call.end_reason == "replaced"
    replaced = [m for m in sent(effects, VISITOR) if m["call_id"] == "aaa"]
    assert replaced[0]["replaced_by"] == "zzz"
    assert visitor_call.state == "connecting"
    assert visitor_call.answered_by == "agent-x"
    with pytest.raises(SignallingError):
        resolve_glare(agent_call, visitor_call, 1)


def test_resolve_glare_without_auto_accept_leaves_the_winner_ringing() -> None:
    a = Call("a", VISITOR)
    b = Call("b", "agent-x", caller_kind="agent", callee_kind="visitor")
    a.invite(0)
    b.invite(0)
    winner, _ = resolve_glare(a, b, 1, auto_accept=False)
    assert winner is a
    assert a.state == "initiating"
    assert b.end_reason == "replaced"


# ------------------------------------------------------------------ invariants


def test_random_input_sequences_keep_the_invariants() -> None:
    from hypothesis import given, settings
    from hypothesis import strategies as st

    parties = st.sampled_from([VISITOR, AGENT, AGENT2, "stranger"])
    step = st.tuples(
        st.sampled_from(
            [
                "ring",
                "ringing",
                "accept",
                "reject",
                "hangup",
                "offer",
                "answer",
                "candidates",
                "negotiate",
                "media_connected",
                "media_disconnected",
                "media_failed",
                "connection_lost",
                "connection_restored",
                "hold",
                "resume",
                "withdraw",
                "tick",
            ]
        ),
        parties,
        st.floats(min_value=0, max_value=30),
    )

    @settings(max_examples=300, deadline=None)
    @given(st.lists(step, max_size=40))
    def run(steps: list[tuple[str, str, float]]) -> None:
        call = new_call()
        call.invite(0)
        now = 0.0
        ended_seen = False
        rung: set[str] = set()
        for name, party, delay in steps:
            now += delay
            args: tuple[Any, ...] = (party, now)
            if name in ("offer", "negotiate"):
                args = (party, OFFER, now)
            elif name == "answer":
                args = (party, ANSWER, now)
            elif name == "candidates":
                args = (party, [CAND], now)
            elif name == "tick":
                args = (now,)
            try:
                effects = getattr(call, name)(*args)
            except SignallingError:
                continue
            if name == "ring":
                rung.add(party)
            assert call.state in STATES
            if ended_seen:
                assert not changes(effects)  # ended is terminal
            if call.state == "ended":
                ended_seen = True
                assert call.next_deadline() is None
                assert call.end_reason in END_REASONS
            deadline = call.next_deadline()
            if name == "tick":  # nothing overdue survives a tick
                assert deadline is None or deadline > now
            t = call.timings(now)
            assert t.talk_s >= 0 and t.hold_s >= 0
            assert t.hold_s <= (now - (t.connected_at or now)) + 1e-9
            if call.state in ("connecting", "active", "reconnecting"):
                assert call.answered_by in rung
                assert call.answered_by != VISITOR

    run()


# ------------------------------------------------------------ server-side end


def test_server_end_before_and_after_answer() -> None:
    """The server ends calls for reasons of its own (callee busy, conversation over)."""
    call = new_call()
    call.invite(0.0)
    call.ring(AGENT, 1.0)
    effects = call.end(2.0, "busy")
    assert changes(effects) == [("ended", "busy")]
    assert states_to(effects, VISITOR) == [("ended", "busy")]
    assert states_to(effects, AGENT) == [("ended", "busy")]
    assert call.end(3.0, "completed") == []  # already over

    call = active()
    effects = call.end(10.0, "completed")
    assert call.end_reason == "completed" and call.timings().talk_s == 6.0
    assert {m["state"] for m in sent(effects)} == {"ended"}


def test_server_end_never_claims_answered_elsewhere() -> None:
    call = new_call()
    call.invite(0.0)
    with pytest.raises(SignallingError):
        call.end(1.0, "answered_elsewhere")
    assert call.state == "initiating"


# ------------------------------------------------------------------ hand-over


def _through_json(call: Call) -> Call:
    import json

    return Call.restore(json.loads(json.dumps(call.snapshot())), call.config)


@pytest.mark.parametrize("make", [new_call, answered, active])
def test_a_snapshot_restores_the_same_call(make: Callable[..., Call]) -> None:
    call = make()
    if call.state == "initiating":
        call.invite(0.0, offer=OFFER)
        call.candidates(VISITOR, [CAND], 0.5)
        call.ring(AGENT, 1.0)
    restored = _through_json(call)
    assert restored.snapshot() == call.snapshot()
    assert restored.next_deadline() == call.next_deadline()
    assert restored.timings(50.0) == call.timings(50.0)


def test_an_adopted_active_call_reconnects_then_goes_on_as_before() -> None:
    original = active()
    original.hold(AGENT, 10.0)
    original.resume(AGENT, 12.0)
    call = _through_json(original)
    effects = call.adopt(20.0)
    assert changes(effects) == [("reconnecting", None)]
    assert call.next_deadline() == 20.0 + call.config.reconnect_grace_s
    # Each side's socket comes back (on any gateway): active again, media never stopped.
    assert states_to(call.connection_restored(VISITOR, 21.0), VISITOR) == [("reconnecting", None)]
    effects = call.connection_restored(AGENT, 22.0)
    assert changes(effects) == [("active", None)]
    assert states_to(effects, VISITOR) == [("active", None)] == states_to(effects, AGENT)
    effects = call.hangup(VISITOR, 30.0)
    assert changes(effects) == [("ended", "completed")]
    timings = call.timings()
    assert (timings.talk_s, timings.hold_s, timings.reconnects) == (30.0 - 4 - 2, 2.0, 1)


def test_an_adopted_call_nobody_comes_back_to_ends_dropped_after_the_grace() -> None:
    call = _through_json(active())
    call.adopt(20.0)
    call.connection_restored(VISITOR, 21.0)
    assert call.tick(20.0 + call.config.reconnect_grace_s - 0.1) == []
    effects = call.tick(20.0 + call.config.reconnect_grace_s)
    assert changes(effects) == [("ended", "dropped")]


def test_an_unanswered_call_is_not_adopted() -> None:
    call = new_call()
    call.invite(0.0)
    with pytest.raises(SignallingError):
        _through_json(call).adopt(1.0)
