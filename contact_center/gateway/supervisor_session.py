"""``/ws/supervisor``: the supervisor page's socket.

Like the other sockets (origin check, ``hello`` with a token within the time limit or
close 4401), but only for supervisors and admins (others: close 4403), and with no
effect on routing: opening the dashboard does not sign anyone in as an agent.

After ``welcome`` the server sends ``dashboard.legend`` once, then a complete
``dashboard.snapshot`` at once and the live pushes after it (see
:mod:`contact_center.supervisor.push`).  ``contact.watch`` follows a conversation
read-only (history, then live events); ``contact.unwatch`` stops; ``sync`` re-reads
any conversation.
"""

from __future__ import annotations

import contextlib
import logging

import msgspec
from starlette.websockets import WebSocket, WebSocketState

from contact_center import protocol as p
from contact_center.audit import Actor, peer_address
from contact_center.conversations import contact_topic
from contact_center.gateway.connection import Connection
from contact_center.gateway.parts import SupervisorParts
from contact_center.gateway.session import Session
from contact_center.i18n import Text
from contact_center.protocol import FrameError
from contact_center.security import Identity
from dashboard import formulas
from dashboard.staffing import STAFFING_FORMULA

log = logging.getLogger(__name__)

MAX_WATCHED = 50


class SupervisorConnection(Connection):
    """A connection with a one-slot mailbox for dashboard snapshots besides the
    ordinary outbox: a snapshot not yet written is replaced by a newer one, so a slow
    reader never queues stale dashboards (and never trips the slow-consumer limit)."""

    def __init__(self, websocket: WebSocket, *args: object, **kwargs: object) -> None:
        super().__init__(websocket, *args, **kwargs)  # type: ignore[arg-type]
        self._snapshot: str | None = None
        self.snapshots_replaced = 0

    def offer_snapshot(self, payload: bytes, text: str) -> None:
        if self.closed:
            return
        if self._snapshot is not None:
            self.snapshots_replaced += 1
        self._snapshot = text
        self._wakeup.set()

    async def _write_loop(self) -> None:
        # Connection._write_loop, plus the snapshot slot (written after the frames
        # already queued, so an ack is never held behind a dashboard).
        websocket = self.websocket
        try:
            while True:
                if self._outbox:
                    await websocket.send_text(self._outbox.popleft().decode())
                elif self._snapshot is not None:
                    text, self._snapshot = self._snapshot, None
                    await websocket.send_text(text)
                elif self._closed:
                    break
                else:
                    self._wakeup.clear()
                    await self._wakeup.wait()
        except Exception:  # the peer went away mid-send; the reader will notice
            self._closed = True
        if self.close_code is not None and websocket.application_state != WebSocketState.DISCONNECTED:
            with contextlib.suppress(Exception):
                await websocket.close(self.close_code)


class SupervisorSession(Session):
    allowed_frames = p.SUPERVISOR_FRAMES

    def __init__(self, parts: SupervisorParts, conn: Connection, identity: Identity) -> None:
        super().__init__(parts, conn, identity)
        self.parts = parts
        assert isinstance(conn, SupervisorConnection)
        self.sink = conn
        self.watching: set[str] = set()

    async def open(self, hello: p.Hello) -> None:
        push = self.parts.dashboard
        identity = self.identity
        self.conn.send(
            p.Welcome(
                role=identity.role, user_id=identity.subject, name=identity.name, server_time=self.now()
            )
        )
        rules = self.parts.alert_rules
        self.conn.send(
            p.DashboardLegendEvent(
                legend={name: {**entry} for name, entry in formulas.LEGEND.items()},
                staffing_formula=STAFFING_FORMULA,
                alert_rules={
                    "longest_wait_warning_s": rules.longest_wait_warning_s,
                    "longest_wait_critical_s": rules.longest_wait_critical_s,
                    "service_level_target": rules.service_level_target,
                    "service_level_critical": rules.service_level_critical,
                    "service_level_min_contacts": rules.service_level_min_contacts,
                    "missed_offers_in_a_row": rules.missed_offers_in_a_row,
                    "short_abandon_s": formulas.SHORT_ABANDON_S,
                },
                push_s=push.period_s,
                agent_table_every=push.agent_table_every(),
            )
        )
        push.subscribe(self.sink)

    async def close(self) -> None:
        self.parts.dashboard.unsubscribe(self.sink)
        await super().close()

    async def handle(self, frame: msgspec.Struct) -> None:
        contacts = self.parts.contacts
        if isinstance(frame, p.ContactWatch):
            if frame.contact_id not in self.watching and len(self.watching) >= MAX_WATCHED:
                raise FrameError("conflict", Text("error.watch.too_many", count=MAX_WATCHED), frame.id)
            contact = await contacts.get(frame.contact_id)
            if contact is None:
                raise FrameError("not_found", Text("error.no_such_conversation"), frame.id)
            if contact.id not in self.watching:
                await self.parts.audit.record(
                    Actor.of(self.identity),
                    "supervisor.watch",
                    target_kind="contact",
                    target_id=contact.id,
                    address=peer_address(self.conn.websocket),
                )
            self.watching.add(contact.id)
            last = await self.replay(contact.id, 0)
            self.ack(frame.id, contact_id=contact.id, seq=last)
        elif isinstance(frame, p.ContactUnwatch):
            self.watching.discard(frame.contact_id)
            self.conn.unsubscribe(contact_topic(frame.contact_id))
            self.ack(frame.id, contact_id=frame.contact_id)
        elif isinstance(frame, p.Sync):
            if await contacts.get(frame.contact_id) is None:
                raise FrameError("not_found", Text("error.no_such_conversation"), frame.id)
            last = await self.replay(frame.contact_id, frame.after_seq, resend=True)
            if frame.contact_id not in self.watching:
                # A one-off read: do not keep following it.
                self.conn.unsubscribe(contact_topic(frame.contact_id))
            if frame.id is not None:
                self.ack(frame.id, contact_id=frame.contact_id, seq=last)
        elif isinstance(frame, p.Ping):
            self.conn.send(p.Pong(id=frame.id, server_time=self.now()))
        else:  # pragma: no cover - allowed_frames keeps others out
            raise FrameError("forbidden", Text("error.frame.not_supervisor"))
