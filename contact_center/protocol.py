"""The WebSocket protocol: every frame a client may send and every event the server
pushes, as msgspec structs.

These structs are the single source of truth: the gateway validates incoming frames
by decoding them into :data:`ClientFrame`, and ``docs/asyncapi.yaml`` is generated from
the same structs (``python -m contact_center.protocol_docs``), with a test that fails
when the committed document and the code drift apart.

Conventions (DESIGN.md section 4): JSON text frames tagged by ``type``; a client frame
that changes state carries a client-chosen ``id`` which the server acknowledges with
``ack`` (a repeated id is applied once); events on a conversation carry its ``seq``; a
bad frame is answered by ``error`` and the connection stays open.
"""

from __future__ import annotations

from typing import Annotated, Literal

import msgspec
from msgspec import Meta, Struct

from contact_center.i18n.text import Text, render
from dashboard.formulas import LegendEntry
from dashboard.snapshot import Snapshot

# --------------------------------------------------------------------------- shared types

FrameId = Annotated[
    str, Meta(min_length=1, max_length=64, description="Client-chosen id, echoed in the ack.")
]
ContactId = Annotated[str, Meta(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_-]+$")]
QueueId = Annotated[str, Meta(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.-]+$")]
# Bounded to what JavaScript numbers hold exactly (and what both databases store).
Seq = Annotated[int, Meta(ge=0, le=2**53 - 1, description="Per-conversation sequence number.")]
ShortText = Annotated[str, Meta(max_length=256)]
UrlText = Annotated[str, Meta(max_length=2048)]
Body = Annotated[str, Meta(min_length=1, max_length=4000)]
Channel = Literal["chat", "voice", "video"]
Stage = Literal["awareness", "consideration", "decision", "purchase", "retention", "unknown"]


class PageInfo(Struct, omit_defaults=True, forbid_unknown_fields=True):
    """Where the visitor is: sent with chat.start and page.view."""

    url: UrlText = ""
    title: ShortText = ""
    referrer: UrlText = ""
    # The stage the page declares with data-stage; empty means "let the server decide".
    stage: Literal["", "awareness", "consideration", "decision", "purchase", "retention"] = ""
    utm_source: ShortText = ""
    utm_medium: ShortText = ""
    utm_campaign: ShortText = ""
    utm_term: ShortText = ""
    utm_content: ShortText = ""


class ResumePoint(Struct, forbid_unknown_fields=True):
    """The last seq a client saw on one conversation; the server replays what follows."""

    contact_id: ContactId
    after_seq: Seq = 0


class Sender(Struct, omit_defaults=True):
    kind: Literal["visitor", "agent", "system"]
    id: str = ""
    name: str = ""


# --------------------------------------------------------------------------- client frames


class _Client(Struct, tag_field="type", forbid_unknown_fields=True, omit_defaults=True, kw_only=True):
    pass


class Hello(_Client, tag="hello"):
    """First frame on every socket: the signed token (agents from /api/auth/login,
    visitors from /api/visitor/token) and, after a reconnect, where to resume."""

    token: Annotated[str, Meta(min_length=1, max_length=4096)]
    resume: list[ResumePoint] = []
    # This device's id for calls (kept by the page, e.g. in sessionStorage): a socket
    # that comes back with the same id gets its calls back.  Absent: a fresh one.
    device_id: DeviceId | None = None
    # The language the page speaks (a locale code such as "fa"): the server writes the
    # ``message`` of error frames in it.  Absent or not shipped: English.
    locale: Annotated[str, Meta(max_length=16)] | None = None


class Ping(_Client, tag="ping"):
    """Keep-alive; answered with pong."""

    id: FrameId | None = None


class ChatStart(_Client, tag="chat.start"):
    """Visitor: open a conversation in a queue (the pre-chat form)."""

    id: FrameId
    queue: QueueId
    name: Annotated[str, Meta(min_length=1, max_length=128)]
    email: ShortText = ""
    message: Annotated[str, Meta(max_length=4000)] = ""
    page: PageInfo | None = None
    channel: Channel = "chat"


class ChatMessage(_Client, tag="chat.message"):
    """Visitor or agent: a message on a conversation.  Acked with its seq once stored."""

    id: FrameId
    contact_id: ContactId
    body: Body


class ChatTyping(_Client, tag="chat.typing"):
    """Typing indicator (not stored, not acked)."""

    contact_id: ContactId
    typing: bool = True


class ChatReceipt(_Client, tag="chat.receipt"):
    """Everything up to ``seq`` has reached (delivered) or been seen by (read) this side."""

    contact_id: ContactId
    seq: Seq
    state: Literal["delivered", "read"] = "read"


class ChatEnd(_Client, tag="chat.end"):
    """Visitor: leave the conversation (or the queue)."""

    id: FrameId
    contact_id: ContactId


class ChatRate(_Client, tag="chat.rate"):
    """Visitor: satisfaction after the end, 1 (bad) to 5 (good)."""

    id: FrameId
    contact_id: ContactId
    rating: Annotated[int, Meta(ge=1, le=5)]
    comment: Annotated[str, Meta(max_length=2000)] = ""


class OfflineMessage(_Client, tag="offline.message"):
    """Visitor: leave a message when no agent is available; stored as a contact to
    follow up."""

    id: FrameId
    queue: QueueId
    name: Annotated[str, Meta(min_length=1, max_length=128)]
    message: Body
    email: ShortText = ""
    page: PageInfo | None = None


class PageView(_Client, tag="page.view"):
    """Visitor: the page now shown (journey tracking)."""

    page: PageInfo


class Sync(_Client, tag="sync"):
    """Ask for every event on a conversation after ``after_seq`` (gap repair)."""

    contact_id: ContactId
    after_seq: Seq = 0
    id: FrameId | None = None


class AgentStatus(_Client, tag="agent.status"):
    """Agent: ask to be available or away.  A console starts ``away`` (reason
    ``signed_in``) and is offered nothing until it sends ``available``."""

    id: FrameId
    status: Literal["available", "away"]
    reason: ShortText = ""


class OfferAccept(_Client, tag="offer.accept"):
    """Agent: accept an offered contact."""

    id: FrameId
    contact_id: ContactId


class OfferDecline(_Client, tag="offer.decline"):
    """Agent: decline an offered contact; it moves to the next agent."""

    id: FrameId
    contact_id: ContactId
    reason: ShortText = ""


class ContactTake(_Client, tag="contact.take"):
    """Agent: take a waiting contact from a queue (manual queues).  Two agents taking
    the same contact: exactly one wins, the other receives ``refused``."""

    id: FrameId
    contact_id: ContactId


class ContactEndFrame(_Client, tag="contact.end"):
    """Agent: end a conversation with a disposition."""

    id: FrameId
    contact_id: ContactId
    disposition: ShortText = ""


class ContactTransfer(_Client, tag="contact.transfer"):
    """Agent: hand a conversation to a queue or an agent; the note goes with it."""

    id: FrameId
    contact_id: ContactId
    to_queue: QueueId | None = None
    to_agent: Annotated[str, Meta(max_length=64)] | None = None
    note: Annotated[str, Meta(max_length=2000)] = ""


class ContactWatch(_Client, tag="contact.watch"):
    """Supervisor: follow a live conversation read-only."""

    id: FrameId
    contact_id: ContactId


class ContactUnwatch(_Client, tag="contact.unwatch"):
    """Supervisor: stop following a conversation opened with contact.watch."""

    id: FrameId
    contact_id: ContactId


class WrapUpEnd(_Client, tag="wrapup.end"):
    """Agent: finish after-contact work early."""

    id: FrameId


# --------------------------------------------------------------------------- calls
# Voice and video calls (docs/protocol.md, "Calls").  Every call message names its
# call (``call_id``, chosen by the caller) and may name the sending device
# (``party_id``; the server fills in the socket's own).  SDP, candidates and stats
# are checked by ``signalling.validation`` before anything is stored or relayed; a
# refused one is answered with ``error`` carrying the validator's code and the call
# goes on unharmed.

CallId = Annotated[
    str,
    Meta(
        min_length=1,
        max_length=128,
        pattern=r"^[A-Za-z0-9._:@~+=-]+$",
        description="Chosen by the caller (e.g. a UUID); unique across the service.",
    ),
]
PartyId = Annotated[
    str,
    Meta(
        min_length=1,
        max_length=200,
        description="A device in a call: '<user or visitor id>.<device id>' (see welcome.party_id).",
    ),
]
DeviceId = Annotated[str, Meta(min_length=1, max_length=32, pattern=r"^[A-Za-z0-9_-]+$")]
CallMedia = Literal["audio", "video"]


class SessionDescription(Struct, forbid_unknown_fields=True):
    """W3C ``RTCSessionDescriptionInit``.  The server checks the SDP (at most 64 KiB,
    ``v=0``, one ``o=`` line, at least one ``m=`` line): error codes sdp_invalid,
    sdp_too_large, description_invalid."""

    type: Literal["offer", "answer"]
    sdp: str


class IceCandidate(Struct, forbid_unknown_fields=True):
    """W3C ``RTCIceCandidateInit`` (``candidate.toJSON()``).  An empty ``candidate`` is
    end of candidates.  Checked by the server: error code candidate_invalid."""

    candidate: str = ""
    sdpMid: str | None = None
    sdpMLineIndex: int | None = None
    usernameFragment: str | None = None


class CallInvite(_Client, tag="call.invite"):
    """Start a call.  Visitor: ``queue`` for a new call contact routed like a chat (the
    agent the router picks rings), or ``contact_id`` to turn an ongoing chat into a
    call with its agent.  Agent: ``contact_id`` of a conversation you hold, to call its
    visitor.  Acked with the contact id; then ``call.state`` (initiating, with
    ``ice_servers``).  ``description`` may carry the offer at once (else send
    call.offer); ``lifetime`` (ms) can shorten the ring."""

    id: FrameId
    call_id: CallId
    party_id: PartyId | None = None
    media: CallMedia = "audio"
    contact_id: ContactId | None = None
    queue: QueueId | None = None
    name: Annotated[str, Meta(max_length=128)] = ""
    email: ShortText = ""
    page: PageInfo | None = None
    lifetime: Annotated[int, Meta(ge=1, le=3_600_000)] | None = None
    description: SessionDescription | None = None


class CallRinging(_Client, tag="call.ringing"):
    """Callee device: the invite reached this device and it is ringing."""

    call_id: CallId
    party_id: PartyId | None = None
    id: FrameId | None = None


class CallAccept(_Client, tag="call.accept"):
    """Callee device: answer.  The first device to accept wins; the others get
    ``call.state ended answered_elsewhere``.  For a call from a queue this is also the
    agent's acceptance of the routing offer."""

    call_id: CallId
    party_id: PartyId | None = None
    id: FrameId | None = None


class CallReject(_Client, tag="call.reject"):
    """Callee device: decline.  A call from a queue moves on to the next agent; a
    direct call (escalated chat, agent calling a visitor) ends ``rejected`` or
    ``busy``."""

    call_id: CallId
    party_id: PartyId | None = None
    id: FrameId | None = None
    reason: Literal["rejected", "busy"] = "rejected"


class CallOffer(_Client, tag="call.offer"):
    """Caller: the initial SDP offer.  Held by the server until a device answers, then
    given to that device only."""

    call_id: CallId
    description: SessionDescription
    party_id: PartyId | None = None
    id: FrameId | None = None


class CallAnswer(_Client, tag="call.answer"):
    """The device that accepted: its SDP answer to the initial offer."""

    call_id: CallId
    description: SessionDescription
    party_id: PartyId | None = None
    id: FrameId | None = None


class CallCandidates(_Client, tag="call.candidates"):
    """Trickled ICE candidates, 1 to 32 per frame (too_many_candidates beyond); always
    send end of candidates (an empty ``candidate``)."""

    call_id: CallId
    candidates: list[IceCandidate]
    party_id: PartyId | None = None
    id: FrameId | None = None


class CallNegotiate(_Client, tag="call.negotiate"):
    """A re-offer or its answer once the call is answered (add video, hold, ICE
    restart), relayed to the other side.  Collisions follow W3C perfect negotiation:
    the visitor is impolite, the agent polite (``call.state.polite``)."""

    call_id: CallId
    description: SessionDescription
    party_id: PartyId | None = None
    id: FrameId | None = None


class CallHangup(_Client, tag="call.hangup"):
    """End the call.  ``reason``: user_hangup (default); ice_failed, media_failed or
    user_media_failed say the media broke (the call ends failed or dropped)."""

    call_id: CallId
    party_id: PartyId | None = None
    id: FrameId | None = None
    reason: Annotated[str, Meta(pattern=r"^[a-z_]{1,32}$")] = "user_hangup"


class CallMediaState(_Client, tag="call.media_state"):
    """This side's media: microphone muted, camera off, call on hold (relayed to the
    other side), and ``connection``, the state of its RTCPeerConnection: the call is
    active once both sides report connected; disconnected or failed after that starts
    the reconnect grace (restart ICE with call.negotiate)."""

    call_id: CallId
    party_id: PartyId | None = None
    id: FrameId | None = None
    muted: bool | None = None
    camera_off: bool | None = None
    on_hold: bool | None = None
    connection: Literal["connected", "disconnected", "failed"] | None = None


class CallStats(_Client, tag="call.stats"):
    """A quality sample from ``getStats()``, every few seconds while the call is up:
    round-trip time and jitter (ms), packet loss (%) over the interval, outgoing
    bitrate (kbit/s), the audio codec and whether the path goes through TURN.  The
    server scores it (MOS, DESIGN section 6).  Error code stats_invalid."""

    call_id: CallId
    rtt_ms: float
    jitter_ms: float
    loss_pct: float
    party_id: PartyId | None = None
    id: FrameId | None = None
    relayed: bool | None = None
    codec: Annotated[str, Meta(max_length=64)] | None = None
    bitrate_kbps: Annotated[float, Meta(ge=0)] | None = None


ClientFrame = (
    Hello
    | Ping
    | ChatStart
    | ChatMessage
    | ChatTyping
    | ChatReceipt
    | ChatEnd
    | ChatRate
    | OfflineMessage
    | PageView
    | Sync
    | AgentStatus
    | OfferAccept
    | OfferDecline
    | ContactTake
    | ContactEndFrame
    | ContactTransfer
    | ContactWatch
    | ContactUnwatch
    | WrapUpEnd
    | CallInvite
    | CallRinging
    | CallAccept
    | CallReject
    | CallOffer
    | CallAnswer
    | CallCandidates
    | CallNegotiate
    | CallHangup
    | CallMediaState
    | CallStats
)

CLIENT_FRAMES: tuple[type[_Client], ...] = ClientFrame.__args__  # type: ignore[attr-defined]

# Which frames each side may send (after hello).  Anything else is "forbidden".
VISITOR_FRAMES: frozenset[str] = frozenset(
    {
        "call.invite",
        "call.ringing",
        "call.accept",
        "call.reject",
        "call.offer",
        "call.answer",
        "call.candidates",
        "call.negotiate",
        "call.hangup",
        "call.media_state",
        "call.stats",
        "ping",
        "chat.start",
        "chat.message",
        "chat.typing",
        "chat.receipt",
        "chat.end",
        "chat.rate",
        "offline.message",
        "page.view",
        "sync",
    }
)
AGENT_FRAMES: frozenset[str] = frozenset(
    {
        "call.invite",
        "call.ringing",
        "call.accept",
        "call.reject",
        "call.offer",
        "call.answer",
        "call.candidates",
        "call.negotiate",
        "call.hangup",
        "call.media_state",
        "call.stats",
        "ping",
        "chat.message",
        "chat.typing",
        "chat.receipt",
        "sync",
        "agent.status",
        "offer.accept",
        "offer.decline",
        "contact.take",
        "contact.end",
        "contact.transfer",
        "contact.watch",
        "wrapup.end",
    }
)

# The supervisor page's socket (/ws/supervisor): dashboard pushes plus read-only
# following of live conversations.
SUPERVISOR_FRAMES: frozenset[str] = frozenset({"ping", "sync", "contact.watch", "contact.unwatch"})

# Frames a session hands to the calls part as they are.
CALL_FRAME_TYPES: tuple[type[_Client], ...] = (
    CallInvite,
    CallRinging,
    CallAccept,
    CallReject,
    CallOffer,
    CallAnswer,
    CallCandidates,
    CallNegotiate,
    CallHangup,
    CallMediaState,
    CallStats,
)
# Contact channels that are calls (one per agent at a time, ended with their call).
CALL_CHANNELS = ("voice", "video")


def frame_tag(cls: type[Struct]) -> str:
    tag = cls.__struct_config__.tag
    assert isinstance(tag, str)
    return tag


# --------------------------------------------------------------------------- server events


class _Server(Struct, tag_field="type", omit_defaults=True, kw_only=True):
    pass


class Ack(_Server, tag="ack"):
    """The frame with this id was applied (a repeat is acknowledged again, not
    re-applied: ``duplicate`` is then true).  For a chat message, ``seq`` and ``at`` are
    the stored event's: the server does not echo a message back to the socket that sent
    it when the bus is in-process (with Redis it may; the client ignores a seq it has).
    The seq in an ack counts as seen, for ``hello.resume`` and ``sync``.

    For ``chat.start``, ``contact_id`` is the new conversation; its history so far is
    replayed to the socket before the ack, so a first ``message`` comes back once as
    ``chat.message`` seq 1 (history, not an echo).  For ``offer.accept`` and
    ``contact.take`` the ack means the router has the request; its outcome follows as
    ``contact.assigned`` or ``refused`` (trust those)."""

    id: str
    seq: int | None = None
    contact_id: str | None = None
    duplicate: bool = False
    at: float | None = None


class Error(_Server, tag="error"):
    """A frame was refused.  ``ref`` is its id when it had one.  Codes: invalid_json,
    invalid_frame, forbidden, not_found, conflict, closed, rate_limited, internal."""

    code: str
    # For people, in the language the socket's hello asked for.
    message: str
    ref: str | None = None
    # The catalogue key of ``message`` (server.json), when it has one: a page can tell
    # messages of one code apart, or write its own text.
    message_key: str | None = None


class Pong(_Server, tag="pong"):
    id: str | None = None
    server_time: float = 0.0


class ContactSummary(Struct, omit_defaults=True):
    """What a participant needs to show a conversation."""

    id: str
    visitor_id: str
    queue_id: str
    channel: str
    status: str
    name: str = ""
    email: str = ""
    topic: str = ""
    stage: str = "unknown"
    page_url: str = ""
    page_title: str = ""
    referrer: str = ""
    utm_source: str = ""
    utm_medium: str = ""
    utm_campaign: str = ""
    enqueued_at: float = 0.0
    answered_at: float | None = None
    ended_at: float | None = None
    agent_id: str | None = None
    agent_name: str = ""
    last_seq: int = 0
    csat: int | None = None
    # The other side's receipts, so a reloaded page shows delivered / read ticks.
    visitor_read_seq: int = 0
    agent_read_seq: int = 0
    visitor_delivered_seq: int = 0
    agent_delivered_seq: int = 0
    transfer_note: str = ""
    disposition: str = ""
    # The page the visitor is on now (their latest page view), when known.
    current_page_url: str = ""
    current_page_title: str = ""


class Welcome(_Server, tag="welcome"):
    """Answer to hello: who you are and the conversations you are part of."""

    role: str
    user_id: str
    name: str
    server_time: float
    contacts: list[ContactSummary] = []
    # This socket's party id in calls ("<user id>.<device id>").
    party_id: str = ""


class ChatMessageEvent(_Server, tag="chat.message"):
    contact_id: str
    seq: int
    at: float
    sender: Sender
    body: str
    client_id: str | None = None


class ContactJoined(_Server, tag="contact.joined"):
    """An agent joined the conversation."""

    contact_id: str
    seq: int
    at: float
    agent_id: str
    agent_name: str


class ContactTransferred(_Server, tag="contact.transferred"):
    """The conversation moved to another queue or agent; the visitor waits again."""

    contact_id: str
    seq: int
    at: float
    to_queue: str | None = None
    to_agent: str | None = None


class ContactEnded(_Server, tag="contact.ended"):
    """The conversation is over; the visitor is asked for a rating."""

    contact_id: str
    seq: int
    at: float
    by: str


class ContactRated(_Server, tag="contact.rated"):
    contact_id: str
    seq: int
    at: float
    rating: int


class ConversationEventTypes:
    """The server events that carry a seq and are replayed on resume."""

    ALL: tuple[type[_Server], ...] = (
        ChatMessageEvent,
        ContactJoined,
        ContactTransferred,
        ContactEnded,
        ContactRated,
    )


class TypingEvent(_Server, tag="chat.typing"):
    contact_id: str
    by: Literal["visitor", "agent"]
    typing: bool
    name: str = ""


class ReceiptEvent(_Server, tag="chat.receipt"):
    contact_id: str
    by: Literal["visitor", "agent"]
    seq: int
    state: Literal["delivered", "read"]


class VisitorPageEvent(_Server, tag="visitor.page"):
    """Agent: the visitor moved to another page while the conversation is open."""

    contact_id: str
    url: str
    title: str = ""
    stage: str = ""
    at: float = 0.0


class QueuePositionEvent(_Server, tag="queue.position"):
    """Visitor: your place in the queue (1 is next) and the estimated wait in seconds
    (``eta_s`` is always sent; null until the queue has enough history to estimate)."""

    contact_id: str
    position: int
    eta_s: float | None


class ContactOverflowedEvent(_Server, tag="contact.overflowed"):
    """Visitor: no agent can take this now (``to_queue`` null: leave a message instead).
    ``next_open`` is when the queue opens next, if it is closed."""

    contact_id: str
    reason: str
    # Always sent: null means the offline form.
    to_queue: str | None
    next_open: float | None = None


class OfferEvent(_Server, tag="offer"):
    """Agent: a contact (``contact``, the conversation's summary) is offered to you
    until ``expires_at`` (server clock)."""

    contact: ContactSummary
    expires_at: float
    server_time: float


class OfferRevokedEvent(_Server, tag="offer.revoked"):
    contact_id: str
    reason: str


class Refused(_Server, tag="refused"):
    """Agent: an accept, decline or take could not be applied."""

    contact_id: str
    action: str
    reason: str


class ContactAssigned(_Server, tag="contact.assigned"):
    """Agent: the conversation is yours.  Its history follows at once (in seq order),
    then its live events; no ``sync`` is needed."""

    contact: ContactSummary


class ContactReleasedEvent(_Server, tag="contact.released"):
    """Agent: the conversation left you (ended, transferred or re-queued)."""

    contact_id: str
    reason: str


class AgentStateEvent(_Server, tag="agent.state"):
    """Agent: your state as routing sees it (available, busy, wrap_up, away, offline)."""

    state: str
    reason: str = ""
    until: float | None = None


class QueueStatus(Struct, omit_defaults=True):
    queue_id: str
    name: str
    open: bool
    agents_available: int
    waiting: int
    # Agents signed in as available for the queue, whether free or busy.
    agents_online: int = 0
    next_open: float | None = None


class QueueWaiting(Struct, omit_defaults=True):
    contact_id: str
    queue_id: str
    channel: str
    name: str
    stage: str
    enqueued_at: float
    position: int


class QueueViewEvent(_Server, tag="queue.view"):
    """Agent: waiting contacts in the queues you serve (pushed when they change)."""

    queues: list[QueueStatus]
    waiting: list[QueueWaiting]
    server_time: float


class DashboardLegendEvent(_Server, tag="dashboard.legend"):
    """Supervisor: sent once after welcome.  Every KPI's formula and unit (the live
    snapshots leave ``formula`` empty to stay small; show these on hover), the
    staffing formula, the alert thresholds, how often snapshots come (``push_s``) and
    every how many pushes the per-agent KPI table is refreshed (``agent_table_every``;
    1 means every push)."""

    legend: dict[str, LegendEntry]
    staffing_formula: str
    alert_rules: dict[str, float]
    push_s: float
    agent_table_every: int = 1


class DashboardSnapshotEvent(_Server, tag="dashboard.snapshot"):
    """Supervisor: the live KPIs, pushed at least every ``push_s`` and sooner (at most
    twice per period) after something changed.  Every figure counts since
    ``snapshot.since`` (midnight UTC).  ``push`` numbers the pushes of this server
    process.  ``agent_table`` false means ``snapshot.by_agent`` was left empty this
    time (large floors): keep the previous table; ``snapshot.agents`` (state, time in
    state, load) is always complete.  The shape is documented in dashboard/snapshot.py
    and docs/protocol.md."""

    push: int
    agent_table: bool
    snapshot: Snapshot


# --------------------------------------------------------------------------- call events


class IceServer(Struct, omit_defaults=True):
    """W3C ``RTCIceServer``.  TURN entries carry credentials minted for you and this
    call (coturn ``use-auth-secret``: username ``<expiry>:<id>``), valid for the
    deployment's ``turn_ttl_s``."""

    urls: list[str]
    username: str | None = None
    credential: str | None = None


class CallInviteEvent(_Server, tag="call.invite"):
    """Callee device: a call is ringing here for ``lifetime`` ms.  Answer with
    call.ringing, then call.accept or call.reject."""

    call_id: str
    party_id: str
    media: CallMedia
    lifetime: int
    caller_kind: Literal["visitor", "agent"]
    contact_id: str = ""
    caller_name: str = ""


class CallStateEvent(_Server, tag="call.state"):
    """The call's state, as the server owns it: initiating, ringing, connecting,
    active, reconnecting, ended (with ``reason``: completed, canceled, rejected,
    missed, busy, failed, dropped, answered_elsewhere, replaced).  Once answered it
    names the other device (``peer_party_id``) and whether you are the ``polite`` side
    of perfect negotiation.  ``ice_servers`` is the list to give RTCPeerConnection."""

    call_id: str
    state: Literal["initiating", "ringing", "connecting", "active", "reconnecting", "ended"]
    media: CallMedia
    reason: str | None = None
    role: Literal["caller", "callee"] | None = None
    contact_id: str = ""
    peer_party_id: str | None = None
    polite: bool | None = None
    replaced_by: str | None = None
    # Absent once the call has ended.
    ice_servers: list[IceServer] | None = None


class CallOfferEvent(_Server, tag="call.offer"):
    """Callee device that answered: the caller's offer."""

    call_id: str
    party_id: str
    description: SessionDescription
    contact_id: str = ""


class CallAnswerEvent(_Server, tag="call.answer"):
    """Caller: the answer of the device that accepted."""

    call_id: str
    party_id: str
    description: SessionDescription
    contact_id: str = ""


class CallCandidatesEvent(_Server, tag="call.candidates"):
    """The other side's trickled candidates (an empty one: end of candidates)."""

    call_id: str
    party_id: str
    candidates: list[IceCandidate]
    contact_id: str = ""


class CallNegotiateEvent(_Server, tag="call.negotiate"):
    """The other side's re-offer or its answer."""

    call_id: str
    party_id: str
    description: SessionDescription
    contact_id: str = ""


class CallMediaStateEvent(_Server, tag="call.media_state"):
    """The other side muted, turned its camera off or put the call on hold."""

    call_id: str
    party_id: str
    muted: bool = False
    camera_off: bool = False
    on_hold: bool = False
    contact_id: str = ""


class CallQualityEvent(_Server, tag="call.quality"):
    """Both sides: a quality warning about ``party_id``'s samples started or cleared
    (high_rtt, high_jitter, high_loss, low_mos; empty when all is well).  ``mos`` is
    that side's smoothed MOS (1 to 4.4)."""

    call_id: str
    party_id: str
    mos: float
    warning: str
    contact_id: str = ""


ServerEvent = (
    Ack
    | Error
    | Pong
    | Welcome
    | ChatMessageEvent
    | ContactJoined
    | ContactTransferred
    | ContactEnded
    | ContactRated
    | TypingEvent
    | ReceiptEvent
    | QueuePositionEvent
    | VisitorPageEvent
    | ContactOverflowedEvent
    | OfferEvent
    | OfferRevokedEvent
    | Refused
    | ContactAssigned
    | ContactReleasedEvent
    | AgentStateEvent
    | QueueViewEvent
    | DashboardLegendEvent
    | DashboardSnapshotEvent
    | CallInviteEvent
    | CallStateEvent
    | CallOfferEvent
    | CallAnswerEvent
    | CallCandidatesEvent
    | CallNegotiateEvent
    | CallMediaStateEvent
    | CallQualityEvent
)
SERVER_EVENTS: tuple[type[_Server], ...] = ServerEvent.__args__  # type: ignore[attr-defined]

# --------------------------------------------------------------------------- codec

_decoder = msgspec.json.Decoder(ClientFrame)
_encoder = msgspec.json.Encoder()


class FrameError(Exception):
    """A frame that cannot be applied; becomes an ``error`` event.  ``message`` is a
    :class:`~contact_center.i18n.Text`, rendered in the socket's locale when sent."""

    def __init__(self, code: str, message: str | Text, ref: str | None = None) -> None:
        super().__init__(str(message))
        self.code = code
        self.message = message
        self.ref = ref

    def frame(self, locale: str, ref: str | None = None) -> Error:
        """The ``error`` event for a reader in ``locale``."""
        key = self.message.key if isinstance(self.message, Text) else None
        return Error(
            code=self.code, message=render(self.message, locale), ref=self.ref or ref, message_key=key
        )


def decode_client_frame(raw: str | bytes) -> ClientFrame:
    """Validate one incoming frame, or raise FrameError carrying the frame's id when it
    can be recovered (so the client can match the error to what it sent)."""
    try:
        frame: ClientFrame = _decoder.decode(raw)
        return frame
    except msgspec.ValidationError as exc:
        message = str(exc)
        if message.startswith("Expected `object`, got"):
            # Valid JSON, but an array, a string, a number or null: not a frame at all.
            raise FrameError("invalid_json", Text("error.frame.not_json", detail=message)) from None
        ref = _recover_id(raw)
        code = "unknown_type" if "Invalid value" in message and "`$.type`" in message else "invalid_frame"
        raise FrameError(code, Text("error.frame.invalid", detail=message), ref) from None
    except msgspec.DecodeError as exc:
        raise FrameError("invalid_json", Text("error.frame.not_json", detail=str(exc))) from None


def _recover_id(raw: str | bytes) -> str | None:
    try:
        loose = msgspec.json.decode(raw, type=_IdOnly)
    except (msgspec.DecodeError, RecursionError):  # not an object, or nested past all reason
        return None
    return loose.id if isinstance(loose.id, str) and len(loose.id) <= 64 else None


class _IdOnly(Struct):
    """Just a frame's id, whatever else it holds."""

    id: object = None


def encode(event: Struct) -> bytes:
    return _encoder.encode(event)
