"""Validation of client call messages: SDP, ICE candidates, stats, whole messages."""

from __future__ import annotations

import contextlib
import math
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from signalling.quality import StatsSample
from signalling.validation import (
    SignallingError,
    ValidationLimits,
    parse_candidate,
    sdp_candidate_addresses,
    strip_sdp_candidates,
    validate_candidate,
    validate_candidates,
    validate_description,
    validate_message,
    validate_sdp,
    validate_stats,
)

# A trimmed Chrome offer: session part, one audio section with candidates.
CHROME_SDP = "\r\n".join(
    [
        "v=0",
        "o=- 4611731400430051336 2 IN IP4 127.0.0.1",
        "s=-",
        "t=0 0",
        "a=group:BUNDLE 0",
        "a=msid-semantic: WMS",
        "m=audio 9 UDP/TLS/RTP/SAVPF 111 63 9 0 8 13 110 126",
        "c=IN IP4 0.0.0.0",
        "a=rtcp:9 IN IP4 0.0.0.0",
        "a=candidate:3098175849 1 udp 2122260223 192.0.2.10 50000 typ host generation 0",
        "a=candidate:842163049 1 udp 1686052607 203.0.113.7 61000 typ srflx "
        "raddr 192.0.2.10 rport 50000 generation 0 network-cost 999",
        "a=end-of-candidates",
        "a=ice-ufrag:Hk0a",
        "a=ice-pwd:Yx2sdfASDFzxcvzxcvqwerqw",
        "a=fingerprint:sha-256 AA:BB:CC",
        "a=setup:actpass",
        "a=mid:0",
        "a=sendrecv",
        "a=rtpmap:111 opus/48000/2",
        "",
    ]
)

GOOD_CANDIDATES = [
    "candidate:1 1 udp 2130706431 127.0.0.1 5000 typ host",
    "a=candidate:1 1 UDP 2130706431 127.0.0.1 5000 typ host",
    "candidate:842163049 1 udp 1677729535 203.0.113.7 56143 typ srflx raddr 0.0.0.0 rport 0 "
    "generation 0 ufrag sXHq network-cost 999",
    "candidate:4 1 tcp 1518280447 192.0.2.10 9 typ host tcptype active generation 0",
    "candidate:5 1 udp 2113937151 8f5a3b1e-54a2-4c77-b0b4-2a7ac0e0f00d.local 54400 typ host",
    "candidate:6 2 udp 2122262783 2001:db8::1 50001 typ host",
    "candidate:a+b/C 1 udp 41885439 198.51.100.1 3478 typ relay raddr 203.0.113.7 rport 61000",
]

BAD_CANDIDATES = [
    "1 1 udp 2130706431 127.0.0.1 5000 typ host",  # no candidate: prefix
    "candidate:1 1 udp 2130706431 127.0.0.1 5000 host",  # no typ
    "candidate:1 1 udp 2130706431 127.0.0.1 5000 type host",
    "candidate:1 0 udp 2130706431 127.0.0.1 5000 typ host",  # component 0
    "candidate:1 1 udp 0 127.0.0.1 5000 typ host",  # priority 0
    "candidate:1 1 udp 4294967295 127.0.0.1 5000 typ host",  # priority > 2^31-1
    "candidate:1 1 udp 2130706431 127.0.0.1 70000 typ host",  # port
    "candidate:1 1 udp 2130706431 127.0.0.1 -1 typ host",
    "candidate:1 1 udp 2130706431 not_an_address! 5000 typ host",
    "candidate:f*o 1 udp 2130706431 127.0.0.1 5000 typ host",  # foundation chars
    "candidate:" + "a" * 33 + " 1 udp 2130706431 127.0.0.1 5000 typ host",
    "candidate:1 1 udp 2130706431 127.0.0.1 5000 typ host generation",  # odd pair
    "candidate:1 1 udp 2130706431 127.0.0.1 5000 typ host raddr x_y rport 1",
    "candidate:1 1 udp 2130706431 127.0.0.1 5000 typ host rport 99999",
    "candidate:1  1 udp 2130706431 127.0.0.1 5000 typ host",  # double space
    "candidate:1 1 udp 2130706431 127.0.0.1 5000 typ host\r\n",
    "candidate:1 1 udp 2130706431 127.0.0.1 \uff15\uff10\uff10\uff10 typ host",  # fullwidth
    "candidate:1 1 udp 2130706431 127.0.0.1 5000 typ host " + "x y " * 300,  # too long
]


# ------------------------------------------------------------------ SDP


def test_sdp_accepts_crlf_and_lf() -> None:
    assert validate_sdp(CHROME_SDP) == CHROME_SDP
    lf = CHROME_SDP.replace("\r\n", "\n")
    assert validate_sdp(lf) == lf
    assert validate_sdp(CHROME_SDP.rstrip("\r\n")) == CHROME_SDP.rstrip("\r\n")


@pytest.mark.parametrize(
    ("sdp", "code"),
    [
        (None, "sdp_invalid"),
        (b"v=0\r\n", "sdp_invalid"),
        ("", "sdp_invalid"),
        ("v=1\r\n" + CHROME_SDP[5:], "sdp_invalid"),
        (" v=0\r\n" + CHROME_SDP[5:], "sdp_invalid"),
        (CHROME_SDP.replace("o=- 4611731400430051336 2 IN IP4 127.0.0.1\r\n", ""), "sdp_invalid"),
        (CHROME_SDP.replace("o=- 4611731400430051336", "o=- x"), "sdp_invalid"),
        (CHROME_SDP.split("m=audio")[0], "sdp_invalid"),  # no m= line
        (CHROME_SDP.replace("m=audio 9", "m=audio nine"), "sdp_invalid"),
        (CHROME_SDP.replace("\r\ns=-", "\rs=-"), "sdp_invalid"),  # bare CR
        (CHROME_SDP.replace("s=-", "s=\x00"), "sdp_invalid"),
        (CHROME_SDP.replace("s=-", "S=-"), "sdp_invalid"),
        (CHROME_SDP.replace("s=-\r\n", "s=-\r\n\r\n"), "sdp_invalid"),  # blank line
        (CHROME_SDP.replace("s=-", "s=\ud800"), "sdp_invalid"),  # lone surrogate
        (CHROME_SDP + "a=x:" + "y" * 70_000 + "\r\n", "sdp_too_large"),
    ],
)
def test_sdp_rejects(sdp: object, code: str) -> None:
    with pytest.raises(SignallingError) as err:
        validate_sdp(sdp)
    assert err.value.code == code


def test_sdp_size_limit_counts_utf8_bytes() -> None:
    sdp = CHROME_SDP.replace("s=-", "s=" + "é" * 100)
    limit = len(sdp) + 50  # fits in characters, not in bytes
    with pytest.raises(SignallingError) as err:
        validate_sdp(sdp, max_bytes=limit)
    assert err.value.code == "sdp_too_large"
    assert validate_sdp(sdp, max_bytes=len(sdp.encode()))


def test_description_type_must_match() -> None:
    offer = {"type": "offer", "sdp": CHROME_SDP}
    assert validate_description(offer, ("offer",)) == offer
    for bad in (
        {"type": "answer", "sdp": CHROME_SDP},
        {"type": "rollback", "sdp": CHROME_SDP},
        {"type": "pranswer", "sdp": CHROME_SDP},
        {"type": ["offer"], "sdp": CHROME_SDP},
        {"sdp": CHROME_SDP},
        "offer",
    ):
        with pytest.raises(SignallingError) as err:
            validate_description(bad, ("offer",))
        assert err.value.code == "description_invalid"


def test_candidate_addresses_and_strip() -> None:
    assert sdp_candidate_addresses(CHROME_SDP) == ["192.0.2.10", "203.0.113.7"]
    stripped = strip_sdp_candidates(CHROME_SDP)
    assert "a=candidate" not in stripped
    assert "a=end-of-candidates" not in stripped
    assert sdp_candidate_addresses(stripped) == []
    assert validate_sdp(stripped) == stripped
    assert stripped.count("\r\n") == CHROME_SDP.count("\r\n") - 3


def test_connection_lines_reveal_addresses_too() -> None:
    gathered = (
        CHROME_SDP.replace("m=audio 9 ", "m=audio 61000 ")
        .replace("c=IN IP4 0.0.0.0", "c=IN IP4 203.0.113.7")
        .replace("a=rtcp:9 IN IP4 0.0.0.0", "a=rtcp:61001 IN IP4 203.0.113.8")
        + "m=video 0 UDP/TLS/RTP/SAVPF 96\r\nc=IN IP6 2001:db8::7\r\n"
    )
    assert sdp_candidate_addresses(gathered) == [
        "203.0.113.7",
        "203.0.113.8",
        "192.0.2.10",
        "2001:db8::7",
    ]
    stripped = strip_sdp_candidates(gathered)
    assert sdp_candidate_addresses(stripped) == []
    assert "m=audio 9 " in stripped
    assert "a=rtcp:9 IN IP4 0.0.0.0\r\n" in stripped
    assert "m=video 0 " in stripped  # a rejected section stays rejected
    assert "c=IN IP6 ::\r\n" in stripped


# ------------------------------------------------------------------ candidates


@pytest.mark.parametrize("text", GOOD_CANDIDATES)
def test_good_candidates(text: str) -> None:
    init = validate_candidate({"candidate": text, "sdpMid": "0", "sdpMLineIndex": 0})
    assert init["candidate"] == text.removeprefix("a=")
    parsed = parse_candidate(text)
    assert parsed is not None and parsed.port >= 0


def test_parsed_candidate_fields() -> None:
    parsed = parse_candidate(GOOD_CANDIDATES[2])
    assert parsed is not None
    assert (parsed.foundation, parsed.component, parsed.transport) == ("842163049", 1, "udp")
    assert (parsed.priority, parsed.address, parsed.port) == (1677729535, "203.0.113.7", 56143)
    assert (parsed.type, parsed.related_address, parsed.related_port) == ("srflx", "0.0.0.0", 0)
    assert parsed.extensions == (("generation", "0"), ("ufrag", "sXHq"), ("network-cost", "999"))
    assert parsed.is_ip
    mdns = parse_candidate(GOOD_CANDIDATES[4])
    assert mdns is not None and not mdns.is_ip


@pytest.mark.parametrize("text", BAD_CANDIDATES)
def test_bad_candidates(text: str) -> None:
    with pytest.raises(SignallingError) as err:
        validate_candidate({"candidate": text, "sdpMid": "0"})
    assert err.value.code == "candidate_invalid"


def test_end_of_candidates() -> None:
    assert parse_candidate("") is None
    assert validate_candidate({"candidate": ""}) == {
        "candidate": "",
        "sdpMid": None,
        "sdpMLineIndex": None,
    }
    assert validate_candidate({"candidate": "", "sdpMid": "0", "sdpMLineIndex": 0})["sdpMid"] == "0"


@pytest.mark.parametrize(
    "init",
    [
        {"candidate": GOOD_CANDIDATES[0]},  # neither sdpMid nor sdpMLineIndex
        {"candidate": GOOD_CANDIDATES[0], "sdpMid": 0},
        {"candidate": GOOD_CANDIDATES[0], "sdpMid": ""},
        {"candidate": GOOD_CANDIDATES[0], "sdpMid": "x" * 33},
        {"candidate": GOOD_CANDIDATES[0], "sdpMLineIndex": True},
        {"candidate": GOOD_CANDIDATES[0], "sdpMLineIndex": -1},
        {"candidate": GOOD_CANDIDATES[0], "sdpMLineIndex": "0"},
        {"candidate": GOOD_CANDIDATES[0], "sdpMid": "0", "usernameFragment": "a b"},
        {"candidate": 5, "sdpMid": "0"},
        ["candidate"],
    ],
)
def test_candidate_init_shape(init: Any) -> None:
    with pytest.raises(SignallingError) as err:
        validate_candidate(init)
    assert err.value.code == "candidate_invalid"


def test_candidate_list_limits() -> None:
    one = {"candidate": GOOD_CANDIDATES[0], "sdpMLineIndex": 0}
    assert len(validate_candidates([one] * 32)) == 32
    with pytest.raises(SignallingError) as err:
        validate_candidates([one] * 33)
    assert err.value.code == "too_many_candidates"
    bad: object
    for bad in ([], one, None):
        with pytest.raises(SignallingError) as err:
            validate_candidates(bad)
        assert err.value.code == "candidate_invalid"
    with_ufrag = validate_candidate({**one, "usernameFragment": "sXHq"})
    assert with_ufrag.get("usernameFragment") == "sXHq"


# ------------------------------------------------------------------ stats


def test_stats_sample() -> None:
    sample = validate_stats(
        {"rtt_ms": 120, "jitter_ms": 4.5, "loss_pct": 0.2, "relayed": True, "codec": "audio/opus"},
        at=10.0,
    )
    assert sample == StatsSample(10.0, 120.0, 4.5, 0.2, True, "audio/opus")
    assert validate_stats({"rtt_ms": 0, "jitter_ms": 0, "loss_pct": 0}, 1).relayed is None


@pytest.mark.parametrize(
    "stats",
    [
        {"rtt_ms": -1, "jitter_ms": 0, "loss_pct": 0},
        {"rtt_ms": 1e9, "jitter_ms": 0, "loss_pct": 0},
        {"rtt_ms": math.nan, "jitter_ms": 0, "loss_pct": 0},
        {"rtt_ms": math.inf, "jitter_ms": 0, "loss_pct": 0},
        {"rtt_ms": True, "jitter_ms": 0, "loss_pct": 0},
        {"rtt_ms": "10", "jitter_ms": 0, "loss_pct": 0},
        {"rtt_ms": 10, "jitter_ms": 0, "loss_pct": 101},
        {"rtt_ms": 10, "jitter_ms": 0},
        {"rtt_ms": 10, "jitter_ms": 0, "loss_pct": 0, "relayed": "yes"},
        {"rtt_ms": 10, "jitter_ms": 0, "loss_pct": 0, "codec": ""},
        {"rtt_ms": 10, "jitter_ms": 0, "loss_pct": 0, "codec": "x" * 65},
        [1, 2, 3],
    ],
)
def test_stats_rejects(stats: Any) -> None:
    with pytest.raises(SignallingError) as err:
        validate_stats(stats, 0)
    assert err.value.code == "stats_invalid"


# ------------------------------------------------------------------ messages


def msg(kind: str, **fields: Any) -> dict[str, Any]:
    return {"type": kind, "call_id": "c1", "party_id": "p1", **fields}


def test_messages_are_normalised() -> None:
    offer = {"type": "offer", "sdp": CHROME_SDP}
    answer = {"type": "answer", "sdp": CHROME_SDP}
    assert validate_message(msg("call.invite", id="m1", extra=1)) == {
        **msg("call.invite"),
        "id": "m1",
        "media": "audio",
    }
    invite = validate_message(msg("call.invite", media="video", lifetime=30000, description=offer))
    assert (invite["media"], invite["lifetime"], invite["description"]) == ("video", 30000, offer)
    assert validate_message(msg("call.offer", description=offer))["description"] == offer
    assert validate_message(msg("call.answer", description=answer))["description"] == answer
    assert validate_message(msg("call.negotiate", description=answer))["description"] == answer
    cands = [{"candidate": GOOD_CANDIDATES[1], "sdpMid": "0"}]
    assert validate_message(msg("call.candidates", candidates=cands))["candidates"][0][
        "candidate"
    ] == GOOD_CANDIDATES[1].removeprefix("a=")
    assert validate_message(msg("call.reject"))["reason"] == "rejected"
    assert validate_message(msg("call.reject", reason="busy"))["reason"] == "busy"
    assert validate_message(msg("call.hangup"))["reason"] == "user_hangup"
    assert validate_message(msg("call.hangup", reason="ice_failed"))["reason"] == "ice_failed"
    assert validate_message(msg("call.media_state", muted=True)) == {
        **msg("call.media_state"),
        "muted": True,
    }
    stats = validate_message(msg("call.stats", rtt_ms=50, jitter_ms=3, loss_pct=0), at=7.0)
    assert stats["stats"] == StatsSample(7.0, 50.0, 3.0, 0.0)
    assert validate_message(msg("call.ringing")) == msg("call.ringing")
    assert validate_message(msg("call.accept")) == msg("call.accept")


@pytest.mark.parametrize(
    ("message", "code"),
    [
        ("call.invite", "message_invalid"),
        ({"type": "chat.message"}, "message_invalid"),
        ({"type": ["call.invite"]}, "message_invalid"),
        ({"type": "call.invite", "call_id": "c1"}, "message_invalid"),
        (msg("call.invite", call_id=""), "message_invalid"),
        (msg("call.invite", call_id="x" * 129), "message_invalid"),
        (msg("call.invite", party_id="a b"), "message_invalid"),
        (msg("call.invite", media="hologram"), "message_invalid"),
        (msg("call.invite", lifetime=0), "message_invalid"),
        (msg("call.invite", lifetime=True), "message_invalid"),
        (
            msg("call.invite", description={"type": "answer", "sdp": CHROME_SDP}),
            "description_invalid",
        ),
        (
            msg("call.offer", description={"type": "answer", "sdp": CHROME_SDP}),
            "description_invalid",
        ),
        (
            msg("call.answer", description={"type": "offer", "sdp": CHROME_SDP}),
            "description_invalid",
        ),
        (msg("call.offer"), "description_invalid"),
        (msg("call.offer", description={"type": "offer", "sdp": "hello"}), "sdp_invalid"),
        (
            msg("call.candidates", candidates=[{"candidate": "x", "sdpMid": "0"}]),
            "candidate_invalid",
        ),
        (msg("call.reject", reason="tired"), "message_invalid"),
        (msg("call.hangup", reason="Bye Now"), "message_invalid"),
        (msg("call.media_state", muted="yes"), "message_invalid"),
        (msg("call.stats", rtt_ms=10), "stats_invalid"),
    ],
)
def test_bad_messages(message: Any, code: str) -> None:
    with pytest.raises(SignallingError) as err:
        validate_message(message)
    assert err.value.code == code


def test_limits_are_configurable() -> None:
    limits = ValidationLimits(max_sdp_bytes=100, max_candidates=1)
    with pytest.raises(SignallingError) as err:
        validate_message(msg("call.offer", description={"type": "offer", "sdp": CHROME_SDP}), limits)
    assert err.value.code == "sdp_too_large"
    one = {"candidate": "", "sdpMid": "0"}
    with pytest.raises(SignallingError) as err:
        validate_message(msg("call.candidates", candidates=[one, one]), limits)
    assert err.value.code == "too_many_candidates"


# ------------------------------------------------------------------ properties

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=50),
    lambda children: (
        st.lists(children, max_size=5) | st.dictionaries(st.text(max_size=10), children, max_size=5)
    ),
    max_leaves=20,
)

message_like = st.fixed_dictionaries(
    {
        "type": st.sampled_from(
            [
                "call.invite",
                "call.offer",
                "call.answer",
                "call.negotiate",
                "call.candidates",
                "call.reject",
                "call.hangup",
                "call.media_state",
                "call.stats",
                "call.ringing",
                "bogus",
            ]
        )
        | json_values,
        "call_id": st.text(max_size=5) | json_values,
        "party_id": st.sampled_from(["p1"]) | json_values,
    },
    optional={
        "description": st.fixed_dictionaries(
            {"type": st.sampled_from(["offer", "answer"]) | json_values, "sdp": st.text()}
        )
        | json_values,
        "candidates": st.lists(
            st.fixed_dictionaries(
                {"candidate": st.text(max_size=80) | json_values},
                optional={"sdpMid": json_values, "sdpMLineIndex": json_values},
            )
            | json_values,
            max_size=4,
        )
        | json_values,
        "media": json_values,
        "lifetime": json_values,
        "reason": json_values,
        "muted": json_values,
        "rtt_ms": json_values,
        "jitter_ms": json_values,
        "loss_pct": json_values,
        "codec": json_values,
        "relayed": json_values,
    },
)


@settings(max_examples=500, deadline=None)
@given(st.one_of(message_like, json_values))
def test_validate_message_raises_only_signalling_errors(message: Any) -> None:
    try:
        out = validate_message(message)
    except SignallingError as err:
        assert err.code
        return
    assert out["type"].startswith("call.")


@settings(max_examples=500, deadline=None)
@given(st.text(max_size=300) | st.from_regex(r"v=0\r?\n[a-z]=.{0,30}\r?\n", fullmatch=True))
def test_validate_sdp_raises_only_signalling_errors(text: str) -> None:
    with contextlib.suppress(SignallingError):
        validate_sdp(text)


@settings(max_examples=500, deadline=None)
@given(
    st.text(max_size=120)
    | st.builds(
        lambda parts: "candidate:" + " ".join(parts),
        st.lists(st.text(min_size=0, max_size=12), min_size=6, max_size=14),
    )
)
def test_candidate_parser_raises_only_signalling_errors(text: str) -> None:
    with contextlib.suppress(SignallingError):
        parse_candidate(text)


@settings(max_examples=300, deadline=None)
@given(
    foundation=st.from_regex(r"[A-Za-z0-9+/]{1,32}", fullmatch=True),
    component=st.integers(1, 256),
    transport=st.sampled_from(["udp", "UDP", "tcp"]),
    priority=st.integers(1, 2**31 - 1),
    address=st.ip_addresses().map(str),
    port=st.integers(0, 65535),
    kind=st.sampled_from(["host", "srflx", "prflx", "relay"]),
)
def test_well_formed_candidates_are_always_accepted(
    foundation: str,
    component: int,
    transport: str,
    priority: int,
    address: str,
    port: int,
    kind: str,
) -> None:
    text = f"candidate:{foundation} {component} {transport} {priority} {address} {port} typ {kind}"
    parsed = parse_candidate(text)
    assert parsed is not None
    assert (parsed.address, parsed.port, parsed.priority) == (address, port, priority)
