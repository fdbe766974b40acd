"""What the gateway needs from the rest of the shell, stated where it is needed.

The gateway knows sockets and sessions.  It is handed its parts by the wiring
(``contact_center.wiring``) and states here, as protocols, the little it uses of each:
the stores and services below it by their own types, and the parts beside it (calls,
the supervisor's push) by the few methods it calls.  It imports neither.
"""

from __future__ import annotations

from typing import Protocol

import msgspec

from contact_center import protocol as p
from contact_center.actions import ContactActions
from contact_center.audit import AuditLog
from contact_center.bus.hub import Hub
from contact_center.directory import ContactDirectory
from contact_center.domain import DomainEvents
from contact_center.gateway.presence import Presence
from contact_center.gateway.session import Session, SessionParts
from contact_center.journey.recorder import JourneyRecorder
from contact_center.router_input import RouterInput
from contact_center.scale.roll_call import RollCall
from contact_center.security import Identity, TokenSigner
from contact_center.settings import Settings
from contact_center.store.conversation_log import ConversationLog
from contact_center.store.receipts import ReceiptWriter
from contact_center.store.users import UserStore
from contact_center.store.visitors import VisitorStore
from dashboard.alerts import AlertRules
from dashboard.metrics import Metrics


class SocketParts(Protocol):
    """What every socket needs before it has a session: limits, metrics, tokens."""

    settings: Settings
    metrics: Metrics
    signer: TokenSigner
    hub: Hub

    async def staff_allowed(self, identity: Identity) -> bool:
        """The account behind a staff token still exists, is enabled, has that role."""
        ...


class CallDesk(Protocol):
    """The calls part, as sessions use it: every ``call.*`` frame goes there as it is."""

    def attach(self, session: Session, device_id: str | None) -> str:
        """The socket can take part in calls now; its party id."""
        ...

    def detach(self, session: Session) -> None: ...

    async def handle(self, session: Session, frame: msgspec.Struct) -> None: ...

    def offer_seen(self, session: Session, contact_id: str) -> None:
        """A routing offer of a call contact reached this console: it rings."""
        ...

    def offer_gone(self, session: Session, contact_id: str) -> None: ...

    def answer_offer(self, session: Session, contact_id: str, accept: bool) -> bool:
        """Accept or decline the offer of a call ringing here; False if none rings."""
        ...


class VisitorParts(SessionParts, Protocol):
    @property
    def calls(self) -> CallDesk: ...

    presence: Presence
    visitors: VisitorStore
    conversation_log: ConversationLog
    directory: ContactDirectory
    actions: ContactActions
    receipts: ReceiptWriter
    router_input: RouterInput
    journey: JourneyRecorder

    async def agent_name(self, agent_id: str | None) -> str: ...

    def queue_status(self, queue_id: str) -> p.QueueStatus | None: ...


class AgentParts(SessionParts, Protocol):
    @property
    def calls(self) -> CallDesk: ...

    presence: Presence
    users: UserStore
    conversation_log: ConversationLog
    directory: ContactDirectory
    actions: ContactActions
    receipts: ReceiptWriter
    router_input: RouterInput
    domain: DomainEvents
    audit: AuditLog
    # Tells a router rebuilt from the database what each console chose.
    roll_call: RollCall


class SnapshotSink(Protocol):
    def offer_snapshot(self, payload: bytes, text: str) -> None: ...


class DashboardFeed(Protocol):
    """The supervisor's live push, as the supervisor socket uses it."""

    @property
    def period_s(self) -> float: ...

    def agent_table_every(self) -> int: ...

    def subscribe(self, sink: SnapshotSink) -> None: ...

    def unsubscribe(self, sink: SnapshotSink) -> None: ...


class SupervisorParts(SessionParts, Protocol):
    audit: AuditLog

    @property
    def dashboard(self) -> DashboardFeed: ...

    @property
    def alert_rules(self) -> AlertRules: ...
