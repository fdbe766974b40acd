"""Validation of the call messages clients send.

The server relays SDP and ICE candidates between two browsers it does not trust, so
everything is checked *before* it is stored or forwarded: a bad frame gets an error
and goes no further.  Checks are syntactic and cheap (no SDP parser, no DNS), strict
where a browser would refuse the input anyway (``addIceCandidate`` and
``setRemoteDescription`` throw on the same things), and bounded in size.

Every failure raises :class:`~signalling.errors.SignallingError` with a stable code;
nothing else escapes, whatever the input (a hypothesis test holds us to that).

Shapes follow the W3C names: ``RTCSessionDescriptionInit`` is
``{"type": "offer" | "answer", "sdp": str}``, ``RTCIceCandidateInit`` is
``{"candidate": str, "sdpMid": str | None, "sdpMLineIndex": int | None,
"usernameFragment": str | None}``.  An empty ``candidate`` string means end of
candidates (for one m-section when sdpMid/sdpMLineIndex is given, else for all).
"""

from __future__ import annotations

import ipaddress
import math
import re
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import Any, Final, Literal, NotRequired, TypedDict

from signalling.errors import SignallingError
from signalling.quality import StatsSample

__all__ = [
    "CALL_MESSAGE_TYPES",
    "MEDIA_CONNECTION_STATES",
    "IceCandidate",
    "RTCIceCandidateInit",
    "RTCSessionDescriptionInit",
    "SignallingError",
    "ValidationLimits",
    "parse_candidate",
    "sdp_candidate_addresses",
    "strip_sdp_candidates",
    "validate_candidate",
    "validate_candidates",
    "validate_description",
    "validate_message",
    "validate_sdp",
    "validate_stats",
]

MAX_SDP_BYTES: Final = 64 * 1024
# What a client reports about its own RTCPeerConnection (``connectionState``).
MEDIA_CONNECTION_STATES: Final = ("connected", "disconnected", "failed")
MAX_CANDIDATES: Final = 32
MAX_CANDIDATE_CHARS: Final = 1024

SdpType = Literal["offer", "answer"]
Media = Literal["audio", "video"]

CALL_MESSAGE_TYPES: Final = frozenset(
    {
        "call.invite",
        "call.ringing",
        "call.accept",
        "call.offer",
        "call.answer",
        "call.candidates",
        "call.negotiate",
        "call.reject",
        "call.hangup",
        "call.media_state",
        "call.stats",
    }
)


@dataclass(frozen=True, slots=True)
class ValidationLimits:
    max_sdp_bytes: int = MAX_SDP_BYTES
    max_candidates: int = MAX_CANDIDATES


class RTCSessionDescriptionInit(TypedDict):
    type: SdpType
    sdp: str


class RTCIceCandidateInit(TypedDict):
    candidate: str
    sdpMid: str | None
    sdpMLineIndex: int | None
    usernameFragment: NotRequired[str]


# ------------------------------------------------------------------------------ SDP

# Any SDP line: one lower-case letter, "=", then no control characters but tab.
_SDP_LINE = re.compile(r"[a-z]=[^\x00-\x08\x0a-\x1f\x7f]*")
_ORIGIN = re.compile(r"o=\S+ \d+ \d+ IN IP[46] \S+")
_MEDIA = re.compile(r"m=[a-z]+ \d+(/\d+)? \S+( \S+)+")


def _fail(code: str, message: str) -> SignallingError:
    return SignallingError(code, message)


def _sdp_lines(sdp: str) -> list[str]:
    """Split on LF, accepting CRLF too; a CR anywhere else is an error."""
    lines = sdp.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    out = []
    for line in lines:
        if line.endswith("\r"):
            line = line[:-1]
        if "\r" in line:
            raise _fail("sdp_invalid", "a bare CR in SDP; lines end with CRLF or LF")
        out.append(line)
    return out


def validate_sdp(sdp: object, max_bytes: int = MAX_SDP_BYTES) -> str:
    """Return ``sdp`` unchanged if it looks like a session description.

    Checks: a ``str`` of at most ``max_bytes`` UTF-8 bytes, first line ``v=0``, lines
    of the form ``<letter>=<value>`` ended by CRLF or LF, one well-formed ``o=``
    line and at least one ``m=`` line.
    """
    if not isinstance(sdp, str):
        raise _fail("sdp_invalid", "sdp must be a string")
    if len(sdp) > max_bytes:
        raise _fail("sdp_too_large", f"sdp is over {max_bytes} bytes")
    try:
        size = len(sdp.encode("utf-8"))
    except UnicodeEncodeError:
        raise _fail("sdp_invalid", "sdp is not valid UTF-8 text") from None
    if size > max_bytes:
        raise _fail("sdp_too_large", f"sdp is over {max_bytes} bytes")
    lines = _sdp_lines(sdp)
    if not lines or lines[0] != "v=0":
        raise _fail("sdp_invalid", "sdp must start with v=0")
    origins = media = 0
    for number, line in enumerate(lines, 1):
        if not _SDP_LINE.fullmatch(line):
            raise _fail("sdp_invalid", f"line {number} is not <type>=<value>")
        if line.startswith("o="):
            if not _ORIGIN.fullmatch(line):
                raise _fail("sdp_invalid", f"line {number}: malformed o= line")
            origins += 1
        elif line.startswith("m="):
            if not _MEDIA.fullmatch(line):
                raise _fail("sdp_invalid", f"line {number}: malformed m= line")
            media += 1
    if origins != 1:
        raise _fail("sdp_invalid", "sdp needs exactly one o= line")
    if media == 0:
        raise _fail("sdp_invalid", "sdp has no m= line")
    return sdp


def validate_description(
    value: object,
    allowed: Collection[str] = ("offer", "answer"),
    max_sdp_bytes: int = MAX_SDP_BYTES,
) -> RTCSessionDescriptionInit:
    """An ``RTCSessionDescriptionInit`` whose ``type`` is one of ``allowed``.

    ``pranswer`` and ``rollback`` are never accepted: rollback is local to a peer and
    provisional answers are not part of our protocol.
    """
    if not isinstance(value, Mapping):
        raise _fail("description_invalid", "description must be an object {type, sdp}")
    kind = value.get("type")
    if kind not in ("offer", "answer") or kind not in allowed:
        wanted = " or ".join(sorted(allowed))
        raise _fail("description_invalid", f"description.type must be {wanted}")
    sdp = validate_sdp(value.get("sdp"), max_sdp_bytes)
    return {"type": kind, "sdp": sdp}


# ----------------------------------------------------------------------- candidates

_ICE_CHARS = re.compile(r"[A-Za-z0-9+/]+")
_TOKEN = re.compile(r"[!#$%&'*+\-.^_`{|}~A-Za-z0-9]+")
_HOSTNAME = re.compile(
    r"(?=.{1,253}$)[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
    r"(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*\.?"
)
_EXT_VALUE = re.compile(r"[\x21-\x7e]+")
_MID = re.compile(r"[!#$%&'*+\-.^_`{|}~A-Za-z0-9]{1,32}")


@dataclass(frozen=True, slots=True)
class IceCandidate:
    """A parsed ``candidate-attribute`` (RFC 8839 section 5.1)."""

    foundation: str
    component: int
    transport: str
    priority: int
    address: str
    port: int
    type: str
    related_address: str | None = None
    related_port: int | None = None
    extensions: tuple[tuple[str, str], ...] = ()

    @property
    def is_ip(self) -> bool:
        """False for mDNS (``<uuid>.local``) and other host names."""
        return _is_ip(self.address)


def _is_ip(address: str) -> bool:
    try:
        ipaddress.ip_address(address)
    except ValueError:
        return False
    return True


def _address(value: str) -> str:
    if _is_ip(value) or _HOSTNAME.fullmatch(value):
        return value
    raise _fail("candidate_invalid", f"{value[:64]!r} is not an address")


def _number(value: str, low: int, high: int, what: str) -> int:
    if not value.isascii() or not value.isdigit() or len(value) > 10:
        raise _fail("candidate_invalid", f"{what} must be a number")
    number = int(value)
    if not low <= number <= high:
        raise _fail("candidate_invalid", f"{what} must be in {low}..{high}")
    return number


def parse_candidate(candidate: str) -> IceCandidate | None:
    """Parse ``[a=]candidate:<foundation> <component> <transport> <priority> <address>
    <port> typ <type> [raddr <a>] [rport <p>] *(<ext-name> <ext-value>)``.

    Returns None for the empty string (end of candidates).
    """
    if candidate == "":
        return None
    if len(candidate) > MAX_CANDIDATE_CHARS:
        raise _fail("candidate_invalid", "candidate too long")
    text = candidate[2:] if candidate.startswith("a=") else candidate
    if not text.startswith("candidate:"):
        raise _fail("candidate_invalid", "candidate must start with 'candidate:'")
    parts = text[len("candidate:") :].split(" ")
    if len(parts) < 8 or parts[6] != "typ":
        raise _fail(
            "candidate_invalid",
            "expected '<foundation> <component> <transport> <priority> <address> <port> typ <type>'",
        )
    foundation, component, transport, priority, address, port, _, cand_type = parts[:8]
    if not _ICE_CHARS.fullmatch(foundation) or len(foundation) > 32:
        raise _fail("candidate_invalid", "foundation must be 1-32 ice-chars")
    if not _TOKEN.fullmatch(transport):
        raise _fail("candidate_invalid", "transport must be a token (UDP, TCP)")
    if not _TOKEN.fullmatch(cand_type):
        raise _fail("candidate_invalid", "candidate type must be a token")
    rest = parts[8:]
    if len(rest) % 2:
        raise _fail("candidate_invalid", "extension attributes come in name/value pairs")
    related_address = None
    related_port = None
    extensions = []
    for name, value in zip(rest[::2], rest[1::2], strict=True):
        if name == "raddr":
            related_address = _address(value)
        elif name == "rport":
            related_port = _number(value, 0, 65535, "rport")
        elif _EXT_VALUE.fullmatch(name) and _EXT_VALUE.fullmatch(value):
            extensions.append((name, value))
        else:
            raise _fail("candidate_invalid", "malformed extension attribute")
    return IceCandidate(
        foundation=foundation,
        component=_number(component, 1, 256, "component"),
        transport=transport,
        priority=_number(priority, 1, 2**31 - 1, "priority"),
        address=_address(address),
        port=_number(port, 0, 65535, "port"),
        type=cand_type,
        related_address=related_address,
        related_port=related_port,
        extensions=tuple(extensions),
    )


def validate_candidate(value: object) -> RTCIceCandidateInit:
    """One ``RTCIceCandidateInit``, normalised (a leading ``a=`` is dropped)."""
    if not isinstance(value, Mapping):
        raise _fail("candidate_invalid", "a candidate must be an object")
    candidate = value.get("candidate", "")
    if not isinstance(candidate, str):
        raise _fail("candidate_invalid", "candidate must be a string")
    parse_candidate(candidate)
    if candidate.startswith("a="):
        candidate = candidate[2:]
    mid = value.get("sdpMid")
    if mid is not None and (not isinstance(mid, str) or not _MID.fullmatch(mid)):
        raise _fail("candidate_invalid", "sdpMid must be a 1-32 character token or null")
    index = value.get("sdpMLineIndex")
    if index is not None and (
        not isinstance(index, int) or isinstance(index, bool) or not 0 <= index <= 65535
    ):
        raise _fail("candidate_invalid", "sdpMLineIndex must be an integer 0-65535 or null")
    if candidate and mid is None and index is None:
        raise _fail("candidate_invalid", "a candidate needs sdpMid or sdpMLineIndex")
    init: RTCIceCandidateInit = {"candidate": candidate, "sdpMid": mid, "sdpMLineIndex": index}
    ufrag = value.get("usernameFragment")
    if ufrag is not None:
        if not isinstance(ufrag, str) or len(ufrag) > 256 or not _ICE_CHARS.fullmatch(ufrag):
            raise _fail("candidate_invalid", "usernameFragment must be ice-chars")
        init["usernameFragment"] = ufrag
    return init


def validate_candidates(value: object, max_count: int = MAX_CANDIDATES) -> list[RTCIceCandidateInit]:
    """A non-empty list of at most ``max_count`` candidates."""
    if not isinstance(value, list):
        raise _fail("candidate_invalid", "candidates must be a list")
    if not value:
        raise _fail("candidate_invalid", "candidates must not be empty")
    if len(value) > max_count:
        raise _fail("too_many_candidates", f"at most {max_count} candidates per message")
    return [validate_candidate(item) for item in value]


_CONNECTION = re.compile(r"(c=IN IP[46] |a=rtcp:\d+ IN IP[46] )([^ /]+)(.*)")
_MEDIA_PORT = re.compile(r"(m=[a-z]+ )(\d+)(.*)")
_UNSPECIFIED: Final = frozenset({"0.0.0.0", "::"})


def sdp_candidate_addresses(sdp: str) -> list[str]:
    """Every address an SDP reveals, in order, without duplicates: those of its
    ``a=candidate`` lines (and their related addresses) and of its ``c=`` and
    ``a=rtcp`` lines (unless unspecified, 0.0.0.0 or ::).  A visitor's offer lists
    their private and public IP addresses: this is how the server can tell."""
    found: list[str] = []

    def add(address: str | None) -> None:
        if address is not None and address not in _UNSPECIFIED and address not in found:
            found.append(address)

    for line in _sdp_lines(sdp):
        if line.startswith("a=candidate:"):
            try:
                parsed = parse_candidate(line)
            except SignallingError:
                continue
            if parsed is not None:
                add(parsed.address)
                add(parsed.related_address)
        elif match := _CONNECTION.fullmatch(line):
            add(match.group(2))
    return found


def strip_sdp_candidates(sdp: str) -> str:
    """The SDP without its addresses, as JSEP writes an offer made before gathering:
    no ``a=candidate`` or ``a=end-of-candidates`` lines, ``c=`` and ``a=rtcp`` at
    0.0.0.0 (or ::), and every m= port that is not 0 (a rejected section) set to 9.
    For peers that must trickle their candidates separately.  Line endings are kept.
    """
    kept = []
    for line in sdp.splitlines(keepends=True):
        body = line.rstrip("\r\n")
        ending = line[len(body) :]
        if body.startswith(("a=candidate:", "a=end-of-candidates")):
            continue
        if match := _CONNECTION.fullmatch(body):
            blank = "::" if "IP6" in match.group(1) else "0.0.0.0"
            prefix = match.group(1)
            if prefix.startswith("a=rtcp:"):
                prefix = re.sub(r"a=rtcp:\d+", "a=rtcp:9", prefix)
            body = f"{prefix}{blank}{match.group(3)}"
        elif (match := _MEDIA_PORT.fullmatch(body)) and match.group(2) != "0":
            body = f"{match.group(1)}9{match.group(3)}"
        kept.append(body + ending)
    return "".join(kept)


# ---------------------------------------------------------------------------- stats

_STATS_RANGES: Final = {
    "rtt_ms": (0.0, 60_000.0),
    "jitter_ms": (0.0, 60_000.0),
    "loss_pct": (0.0, 100.0),
}


def _finite(value: object, name: str, low: float, high: float) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise _fail("stats_invalid", f"{name} must be a number")
    number = float(value)
    if not math.isfinite(number) or not low <= number <= high:
        raise _fail("stats_invalid", f"{name} must be within {low:g}..{high:g}")
    return number


def validate_stats(value: object, at: float) -> StatsSample:
    """A ``call.stats`` sample: ``rtt_ms``, ``jitter_ms``, ``loss_pct`` (required,
    within sane ranges), ``relayed`` (bool) and ``codec`` (str) optional.  ``at`` is
    the server's receipt time: client clocks are not trusted."""
    if not isinstance(value, Mapping):
        raise _fail("stats_invalid", "stats must be an object")
    numbers = {name: _finite(value.get(name), name, low, high) for name, (low, high) in _STATS_RANGES.items()}
    relayed = value.get("relayed")
    if relayed is not None and not isinstance(relayed, bool):
        raise _fail("stats_invalid", "relayed must be a boolean")
    codec = value.get("codec")
    if codec is not None and (
        not isinstance(codec, str) or not 0 < len(codec) <= 64 or not codec.isprintable()
    ):
        raise _fail("stats_invalid", "codec must be a short string")
    return StatsSample(
        at=at,
        rtt_ms=numbers["rtt_ms"],
        jitter_ms=numbers["jitter_ms"],
        loss_pct=numbers["loss_pct"],
        relayed=relayed,
        codec=codec,
    )


# ------------------------------------------------------------------------- messages

_ID = re.compile(r"[A-Za-z0-9._:@~+=-]{1,128}")
_REASON = re.compile(r"[a-z_]{1,32}")
_STATS_KEYS: Final = ("rtt_ms", "jitter_ms", "loss_pct", "relayed", "codec")
_DESCRIPTION_TYPES: Final[dict[str, tuple[SdpType, ...]]] = {
    "call.offer": ("offer",),
    "call.answer": ("answer",),
    "call.negotiate": ("offer", "answer"),
}


def _identifier(message: Mapping[str, Any], key: str) -> str:
    value = message.get(key)
    if not isinstance(value, str) or not _ID.fullmatch(value):
        raise _fail("message_invalid", f"{key} must be a 1-128 character id")
    return value


def _optional_bool(message: Mapping[str, Any], key: str) -> bool | None:
    value = message.get(key)
    if value is not None and not isinstance(value, bool):
        raise _fail("message_invalid", f"{key} must be a boolean")
    return value


def validate_message(
    message: object, limits: ValidationLimits | None = None, at: float = 0.0
) -> dict[str, Any]:
    """Check one client call message and return it normalised: known keys only.

    Common keys: ``type``, ``call_id``, ``party_id`` (and ``id``, the client's message
    id, passed through when it is a string).  Per type:

    - ``call.invite``: ``media`` "audio" | "video" (default audio), ``lifetime``
      (ms, optional), ``description`` (optional offer, Matrix style)
    - ``call.offer``: ``description`` of type offer; ``call.answer``: type answer;
      ``call.negotiate``: offer or answer
    - ``call.candidates``: ``candidates``, 1..max RTCIceCandidateInit
    - ``call.reject``: ``reason`` "rejected" (default) | "busy"
    - ``call.hangup``: ``reason`` (optional, lower_snake_case, default user_hangup)
    - ``call.media_state``: ``muted``, ``camera_off``, ``on_hold`` (optional
      booleans) and ``connection`` (optional: the sender's ICE connection is
      "connected", "disconnected" or "failed")
    - ``call.stats``: the sample keys; ``stats`` in the result is a StatsSample
      stamped ``at`` (receipt time)
    - ``call.ringing``, ``call.accept``: nothing more
    """
    limits = limits or ValidationLimits()
    if not isinstance(message, Mapping):
        raise _fail("message_invalid", "a message must be a JSON object")
    kind = message.get("type")
    if not isinstance(kind, str) or kind not in CALL_MESSAGE_TYPES:
        raise _fail("message_invalid", "unknown call message type")
    out: dict[str, Any] = {
        "type": kind,
        "call_id": _identifier(message, "call_id"),
        "party_id": _identifier(message, "party_id"),
    }
    if isinstance(message.get("id"), str):
        out["id"] = message["id"]

    if kind == "call.invite":
        media = message.get("media", "audio")
        if media not in ("audio", "video"):
            raise _fail("message_invalid", "media must be audio or video")
        out["media"] = media
        lifetime = message.get("lifetime")
        if lifetime is not None:
            if (
                isinstance(lifetime, bool)
                or not isinstance(lifetime, int)
                or not (1 <= lifetime <= 3_600_000)
            ):
                raise _fail("message_invalid", "lifetime must be 1..3600000 ms")
            out["lifetime"] = lifetime
        if message.get("description") is not None:
            out["description"] = validate_description(
                message["description"], _DESCRIPTION_TYPES["call.offer"], limits.max_sdp_bytes
            )
    elif kind in ("call.offer", "call.answer", "call.negotiate"):
        allowed = _DESCRIPTION_TYPES[kind]
        out["description"] = validate_description(message.get("description"), allowed, limits.max_sdp_bytes)
    elif kind == "call.candidates":
        out["candidates"] = validate_candidates(message.get("candidates"), limits.max_candidates)
    elif kind == "call.reject":
        reason = message.get("reason", "rejected")
        if reason not in ("rejected", "busy"):
            raise _fail("message_invalid", "reason must be rejected or busy")
        out["reason"] = reason
    elif kind == "call.hangup":
        reason = message.get("reason", "user_hangup")
        if not isinstance(reason, str) or not _REASON.fullmatch(reason):
            raise _fail("message_invalid", "reason must be a lower_snake_case word")
        out["reason"] = reason
    elif kind == "call.media_state":
        for key in ("muted", "camera_off", "on_hold"):
            flag = _optional_bool(message, key)
            if flag is not None:
                out[key] = flag
        connection = message.get("connection")
        if connection is not None:
            if connection not in MEDIA_CONNECTION_STATES:
                raise _fail("message_invalid", "connection must be connected, disconnected or failed")
            out["connection"] = connection
    elif kind == "call.stats":
        out["stats"] = validate_stats({k: message.get(k) for k in _STATS_KEYS}, at)
    return out
