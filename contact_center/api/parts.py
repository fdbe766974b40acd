"""What the REST handlers need from the rest of the shell.

Handlers find their parts on the application (``request.app.state.services``, put
there by the wiring).  They see it only through :class:`ApiParts`: the stores and
services below the API by their own types, and nothing of the gateway's sockets.
"""

from __future__ import annotations

from typing import Any, Protocol

from sqlalchemy.ext.asyncio import AsyncEngine

from contact_center import protocol as p
from contact_center.audit import AuditLog
from contact_center.calls.store import CallStore
from contact_center.journey.recorder import JourneyRecorder
from contact_center.router_input import RouterInput
from contact_center.security import Identity, TokenSigner
from contact_center.settings import Settings
from contact_center.signin import SignInThrottle
from contact_center.store.contacts import ContactStore
from contact_center.store.conversation_log import ConversationLog
from contact_center.store.offers import OfferLedger
from contact_center.store.queues import QueueStore
from contact_center.store.saved_replies import SavedReplyStore
from contact_center.store.users import UserStore
from contact_center.store.visitors import VisitorStore
from contact_center.supervisor.actions import SupervisorActions
from dashboard.aggregator import KpiAggregator


class ApiParts(Protocol):
    settings: Settings
    started_at: float
    db: AsyncEngine
    signer: TokenSigner
    users: UserStore
    queues: QueueStore
    saved_replies: SavedReplyStore
    visitors: VisitorStore
    contacts: ContactStore
    conversation_log: ConversationLog
    offers: OfferLedger
    journey: JourneyRecorder
    router_input: RouterInput
    aggregator: KpiAggregator
    audit: AuditLog
    signin: SignInThrottle

    @property
    def call_records(self) -> CallStore: ...

    @property
    def supervisor_actions(self) -> SupervisorActions: ...

    async def agent_name(self, agent_id: str | None) -> str: ...

    def queue_status(self, queue_id: str) -> p.QueueStatus | None: ...

    def issue_token(self, identity: Identity) -> str: ...

    def describe(self) -> dict[str, Any]:
        """This process's role in a cluster, for the health check."""
        ...
