"""The WebSocket endpoints: ``/ws/visitor`` (widget), ``/ws/agent`` (console) and
``/ws/supervisor`` (the live dashboard).

Every socket goes through the same steps: origin check, ``hello`` with a signed token
within the time limit (else close 4401), the role check for this endpoint (else 4403),
then a loop that rate-limits, validates and applies frames one at a time, in order.  A
bad frame is answered with an ``error`` frame and the socket stays open; a flood is
closed with 4429; an over-size frame is refused by the server with 1009.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

from starlette.websockets import WebSocket, WebSocketDisconnect

from contact_center import protocol as p
from contact_center.gateway.agent_session import AgentSession
from contact_center.gateway.connection import Connection
from contact_center.gateway.parts import AgentParts, SocketParts, SupervisorParts, VisitorParts
from contact_center.gateway.ratelimit import TokenBucket
from contact_center.gateway.session import Session
from contact_center.gateway.supervisor_session import SupervisorConnection, SupervisorSession
from contact_center.gateway.visitor_session import VisitorSession
from contact_center.i18n import Text, negotiate
from contact_center.security import Identity, TokenError

log = logging.getLogger(__name__)

CLOSE_UNAUTHENTICATED = 4401
CLOSE_FORBIDDEN = 4403
CLOSE_RATE_LIMITED = 4429


def origin_allowed(websocket: WebSocket, allowed: tuple[str, ...]) -> bool:
    """Browsers always send Origin; a page on another site may not open our sockets
    unless listed.  Clients without Origin (bots, tests) authenticate by token alone."""
    origin = websocket.headers.get("origin")
    if origin is None:
        return True
    host = websocket.headers.get("host", "")
    own = {f"http://{host}", f"https://{host}"}
    return origin in own or origin in allowed


async def _hello(websocket: WebSocket, timeout_s: float) -> p.Hello | None:
    try:
        message = await asyncio.wait_for(websocket.receive(), timeout_s)
    except TimeoutError:
        return None
    if message["type"] != "websocket.receive":
        return None
    # Only a text frame can be a hello: the protocol is JSON text, never binary.
    raw = message.get("text")
    if raw is None:
        return None
    try:
        frame = p.decode_client_frame(raw)
    except p.FrameError:
        return None
    return frame if isinstance(frame, p.Hello) else None


@dataclass(frozen=True)
class SocketKind:
    """What differs between the sockets; everything else in :func:`serve` is shared."""

    name: str
    # Which identities may open it (others are closed with 4403).
    admits: Callable[[Identity], bool]
    # The session of an authenticated socket (bound to its parts by the wiring).
    session: Callable[[Connection, Identity], Session]
    connection: type[Connection] = Connection
    # The label for the connection and frame metrics.
    metric_role: Callable[[Identity], str] = lambda identity: identity.role


def visitor_socket(parts: VisitorParts) -> SocketKind:
    return SocketKind(
        "visitor",
        lambda identity: identity.role == "visitor",
        lambda conn, identity: VisitorSession(parts, conn, identity),
    )


def agent_socket(parts: AgentParts) -> SocketKind:
    return SocketKind(
        "agent",
        lambda identity: identity.is_staff,
        lambda conn, identity: AgentSession(parts, conn, identity),
    )


def supervisor_socket(parts: SupervisorParts) -> SocketKind:
    return SocketKind(
        "supervisor",
        lambda identity: identity.is_staff and identity.at_least("supervisor"),
        lambda conn, identity: SupervisorSession(parts, conn, identity),
        SupervisorConnection,
        # Counted apart from the supervisor's agent console, if it has one open.
        metric_role=lambda _identity: "supervisor_page",
    )


async def serve(websocket: WebSocket, parts: SocketParts, kind: SocketKind) -> None:
    settings = parts.settings
    metrics = parts.metrics
    if not origin_allowed(websocket, settings.allowed_origins):
        await websocket.close(CLOSE_FORBIDDEN)
        return
    await websocket.accept()
    hello = await _hello(websocket, settings.hello_timeout_s)
    if hello is None:
        await websocket.close(CLOSE_UNAUTHENTICATED, "send hello with a valid token first")
        return
    try:
        identity = parts.signer.verify(hello.token)
    except TokenError as exc:
        await websocket.close(CLOSE_UNAUTHENTICATED, str(exc))
        return
    if not kind.admits(identity):
        await websocket.close(CLOSE_FORBIDDEN, f"this token cannot open the {kind.name} socket")
        return
    if identity.is_staff and not await parts.staff_allowed(identity):
        await websocket.close(CLOSE_FORBIDDEN, "account disabled")
        return

    role = kind.metric_role(identity)
    conn = kind.connection(
        websocket,
        parts.hub,
        settings.send_queue_frames,
        metrics.gateway_frames_out.labels(role=role).inc,
    )
    conn.start()
    session = kind.session(conn, identity)
    connections = metrics.gateway_connections.labels(role=role)
    connections.inc()
    try:
        await session.open(hello)
        # Error frames' messages are written in the language the page asked for.
        await _frames(websocket, conn, session, identity, parts, negotiate([hello.locale]))
    except WebSocketDisconnect:
        pass
    except Exception:
        log.exception("socket handler failed")
        conn.close(1011)
    finally:
        connections.dec()
        conn.close(conn.close_code or 1000)
        conn.unsubscribe_all()
        await session.close()
        await conn.drain()


async def _frames(
    websocket: WebSocket,
    conn: Connection,
    session: Session,
    identity: Identity,
    parts: SocketParts,
    locale: str,
) -> None:
    settings = parts.settings
    metrics = parts.metrics
    bucket = TokenBucket(settings.rate_per_s, settings.rate_burst, time.monotonic())
    frames_in = metrics.gateway_frames_in.labels(role=identity.role)
    while not conn.closed:
        message = await websocket.receive()
        if message["type"] == "websocket.disconnect":
            return
        raw = message.get("text")
        frames_in.inc()
        if not bucket.take(time.monotonic()):
            metrics.gateway_frames_rejected.labels(reason="rate_limited").inc()
            if bucket.strikes >= settings.rate_strikes_before_close:
                conn.close(CLOSE_RATE_LIMITED)
                return
            conn.send(p.FrameError("rate_limited", Text("error.frame.rate_limited")).frame(locale))
            continue
        frame_id: str | None = None
        try:
            if raw is None:
                # A binary frame, even one holding JSON: the protocol is text only, so a
                # client that sends bytes learns it at once instead of by accident later.
                raise p.FrameError("invalid_json", Text("error.frame.binary"))
            frame = p.decode_client_frame(raw)
            frame_id = getattr(frame, "id", None)
            tag = p.frame_tag(type(frame))
            if tag == "hello":
                raise p.FrameError("invalid_frame", Text("error.frame.already_authenticated"), frame_id)
            if tag not in session.allowed_frames:
                raise p.FrameError(
                    "forbidden", Text("error.frame.not_allowed", role=identity.role, frame=tag), frame_id
                )
            await session.handle(frame)
        except p.FrameError as exc:
            metrics.gateway_frames_rejected.labels(reason=exc.code).inc()
            conn.send(exc.frame(locale, frame_id))
        except Exception:
            log.exception("frame failed")
            metrics.gateway_frames_rejected.labels(reason="internal").inc()
            conn.send(p.FrameError("internal", Text("error.frame.internal"), frame_id).frame(locale))
