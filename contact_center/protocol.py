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

# --------------------------------------------------------------------------- shared types

FrameId = Annotated[
    str, Meta(min_length=1, max_length=64, description="Client-chosen id, echoed in the ack.")
]
ContactId = Annotated[str, Meta(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_-]+$")]
QueueId = Annotated[str, Meta(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.-]+$")]
Seq = Annotated[int, Meta(ge=0, description="Per-conversation sequence number.")]
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
    """Agent: ask to be available or away."""

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


class WrapUpEnd(_Client, tag="wrapup.end"):
    """Agent: finish after-contact work early."""

    id: FrameId


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
    | WrapUpEnd
)

CLIENT_FRAMES: tuple[type[_Client], ...] = ClientFrame.__args__  # type: ignore[attr-defined]

# Which frames each side may send (after hello).  Anything else is "forbidden".
VISITOR_FRAMES: frozenset[str] = frozenset(
    {
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
    it when the bus is in-process (with Redis it may; the client ignores a seq it has)."""

    id: str
    seq: int | None = None
    contact_id: str | None = None
    duplicate: bool = False
    at: float | None = None


class Error(_Server, tag="error"):
    """A frame was refused.  ``ref`` is its id when it had one.  Codes: invalid_json,
    invalid_frame, forbidden, not_found, conflict, closed, rate_limited, internal."""

    code: str
    message: str
    ref: str | None = None


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
    """Visitor: your place in the queue (1 is next) and the estimated wait in seconds."""

    contact_id: str
    position: int
    eta_s: float | None = None


class ContactOverflowedEvent(_Server, tag="contact.overflowed"):
    """Visitor: no agent can take this now (``to_queue`` null: leave a message instead).
    ``next_open`` is when the queue opens next, if it is closed."""

    contact_id: str
    reason: str
    to_queue: str | None = None
    next_open: float | None = None


class OfferEvent(_Server, tag="offer"):
    """Agent: a contact is offered to you until ``expires_at`` (server clock)."""

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
    """Agent: the conversation is yours; ``sync`` it for the history."""

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
)
SERVER_EVENTS: tuple[type[_Server], ...] = ServerEvent.__args__  # type: ignore[attr-defined]

# --------------------------------------------------------------------------- codec

_decoder = msgspec.json.Decoder(ClientFrame)
_encoder = msgspec.json.Encoder()


class FrameError(Exception):
    """A frame that cannot be applied; becomes an ``error`` event."""

    def __init__(self, code: str, message: str, ref: str | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.ref = ref


def decode_client_frame(raw: str | bytes) -> ClientFrame:
    """Validate one incoming frame, or raise FrameError carrying the frame's id when it
    can be recovered (so the client can match the error to what it sent)."""
    try:
        frame: ClientFrame = _decoder.decode(raw)
        return frame
    except msgspec.ValidationError as exc:
        ref = _recover_id(raw)
        message = str(exc)
        code = "unknown_type" if "Invalid value" in message and "`$.type`" in message else "invalid_frame"
        raise FrameError(code, message, ref) from None
    except msgspec.DecodeError as exc:
        raise FrameError("invalid_json", f"not a JSON object: {exc}") from None


def _recover_id(raw: str | bytes) -> str | None:
    try:
        loose = msgspec.json.decode(raw)
    except msgspec.DecodeError:
        return None
    if isinstance(loose, dict):
        value = loose.get("id")
        if isinstance(value, str) and len(value) <= 64:
            return value
    return None


def encode(event: Struct) -> bytes:
    return _encoder.encode(event)
