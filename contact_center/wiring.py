"""The wiring: the application's parts, built once from settings and handed to
each other.

This is the one module that knows every part.  Nothing below it imports it: each part
states what it needs (the gateway in :mod:`contact_center.gateway.parts`, the REST
handlers in :mod:`contact_center.api.parts`, the calls part in
:mod:`contact_center.calls.party`) and :class:`Services` satisfies those protocols, or
passes a callable.  ``create_app`` puts the one instance on the application; tests
reach it as ``app.state.services``.
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from typing import Any

import msgspec
from prometheus_client import CollectorRegistry

from contact_center import protocol as p
from contact_center.actions import ContactActions
from contact_center.audit import AuditLog
from contact_center.bus import create_bus
from contact_center.bus.hub import Hub
from contact_center.bus.redis import RedisBus
from contact_center.calls import CallManager, CallStore
from contact_center.calls.orphans import end_orphaned_call
from contact_center.conversations import CONTACT_TOPIC, Conversations, contact_topic, server_event
from contact_center.directory import ContactDirectory, peek
from contact_center.domain import DOMAIN_TOPIC, DomainEvents
from contact_center.gateway.endpoint import SocketKind, agent_socket, supervisor_socket, visitor_socket
from contact_center.gateway.parts import DashboardFeed
from contact_center.gateway.presence import Presence
from contact_center.journey.recorder import JourneyRecorder
from contact_center.journey.stages import parse_rules
from contact_center.lifecycle.retention import RetentionJob
from contact_center.router_driver import STATUS_TOPIC, RouterDriver, RouterStatusMessage
from contact_center.router_input import AgentDisconnected, MemoryRouterInput, RouterInput
from contact_center.scale.cluster_router import ClusterRouter
from contact_center.scale.presence import ClusterPresence
from contact_center.scale.roll_call import ROLL_CALL_TOPIC, RollCall, reannounce_assignments
from contact_center.scale.sweeper import PresenceSweeper
from contact_center.security import Identity, TokenSigner
from contact_center.settings import Settings
from contact_center.signin import SignInThrottle, ThrottlePolicy
from contact_center.store.contacts import ContactStore
from contact_center.store.conversation_log import ConversationLog
from contact_center.store.database import create_engine
from contact_center.store.offers import OfferLedger
from contact_center.store.queues import QueueStore
from contact_center.store.receipts import ReceiptWriter
from contact_center.store.saved_replies import SavedReplyStore
from contact_center.store.users import UserStore
from contact_center.store.visitors import VisitorStore
from contact_center.supervisor.actions import SupervisorActions
from contact_center.supervisor.prom import DashboardCollector
from contact_center.supervisor.service import Supervision
from dashboard import events as dev
from dashboard.aggregator import KpiAggregator
from dashboard.alerts import AlertRules
from dashboard.metrics import Metrics
from routing.engine import RoutingEngine
from routing.events import EngineConfig

log = logging.getLogger(__name__)

_status_decoder = msgspec.json.Decoder(RouterStatusMessage)


def start_of_day(now: float) -> float:
    """Midnight (UTC) of ``now``: the live counters cover "today"."""
    return now - (now % 86400)


class Services:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.started_at = time.time()
        self.db = create_engine(settings.resolved_database_url)
        self.bus = create_bus(settings.bus_url)
        self.hub = Hub(self.bus)
        self.signer = TokenSigner(settings.resolved_secret_key())
        self.registry = CollectorRegistry()
        self.metrics = Metrics(self.registry)
        # Today's live figures for the supervisor page, fed by every domain event of
        # the cluster (they arrive on the bus topic "domain").
        self.aggregator = KpiAggregator(since=start_of_day(time.time()))

        self.users = UserStore(self.db)
        self.audit = AuditLog(self.db)
        self.signin = SignInThrottle(self.audit, ThrottlePolicy.from_settings(settings))
        self.queues = QueueStore(self.db)
        self.saved_replies = SavedReplyStore(self.db)
        self.visitors = VisitorStore(self.db)
        self.contacts = ContactStore(self.db)
        self.directory = ContactDirectory(
            self.contacts, lambda contact_id: self.hub.subscribers(contact_topic(contact_id)) > 0
        )
        self.receipts = ReceiptWriter(self.contacts)
        self.conversation_log = ConversationLog(self.db)
        self.offers = OfferLedger(self.db)
        self.conversations = Conversations(self.conversation_log, self.hub)
        self.domain = DomainEvents(self.bus)
        # The supervisor dashboard: the aggregator is fed through its live push.
        pushes_out = self.metrics.gateway_frames_out.labels(role="supervisor_page")
        self.supervision = Supervision(
            aggregator=self.aggregator,
            db=self.db,
            publish=self.domain.emit,
            routes_here=lambda: self.driver is not None,
            push_s=settings.dashboard_push_s,
            default_chat_capacity=settings.default_chat_capacity,
            on_push=pushes_out.inc,
        )
        self.registry.register(DashboardCollector(self.supervision, self.queue_statuses))
        self.domain.listen(self.supervision.ingest)
        # Contact, queue and agent metrics come from the domain events, which every
        # process receives; in a cluster only the active router exports them, so that
        # summing the instances counts each event once.  (Messages and gateway
        # figures are counted by the process where they happen.)
        self.domain.listen(self._observe_metrics)
        self.stage_rules = parse_rules(settings.stage_rules)
        self.journey = JourneyRecorder(self.db, self.visitors, self.stage_rules, settings.track_page_views)

        self.router_input: RouterInput = self._router_input()
        self.actions = ContactActions(
            contacts=self.contacts,
            visitors=self.visitors,
            queues=self.queues,
            conversations=self.conversations,
            router=self.router_input,
            emit=self.domain.emit,
            stage_rules=self.stage_rules,
        )
        senders = {s: self.metrics.messages.labels(sender=s) for s in ("visitor", "agent", "system")}
        self.actions.count_message = lambda sender: senders[sender].inc()
        self.actions.infer_stage = self.journey.latest_stage
        self.node_id = uuid.uuid4().hex[:12]
        self.clustered = not settings.bus_url.startswith("memory://")
        routes = settings.role in ("all", "router")
        # The router in this process: always active on its own, or (clustered) only
        # while this process holds the router lease.
        self.driver: RouterDriver | None = None
        self.cluster_router: ClusterRouter | None = None
        self.cluster_presence: ClusterPresence | None = None
        self.sweeper: PresenceSweeper | None = None
        if routes and not self.clustered:
            self.driver = self._make_driver()
        self.presence = Presence(
            grace_s={"visitor": settings.visitor_grace_s, "agent": settings.agent_grace_s},
            on_gone={"visitor": self._visitor_gone, "agent": self._agent_gone},
        )
        # Answers a router that rebuilt itself from the database (Redis lost the log).
        self.roll_call = RollCall(
            self.router_input, lambda: self.presence.local_subjects("agent"), self._spawn_reannounce
        )
        self._reannouncing: set[asyncio.Task[int]] = set()
        if self.clustered:
            self._cluster(routes)
        # Voice and video calls: this process's devices and the calls it owns.
        self.calls = CallManager(
            settings=settings,
            hub=self.hub,
            contacts=self.contacts,
            users=self.users,
            actions=self.actions,
            router_input=self.router_input,
            emit=self.domain.emit,
            store=CallStore(self.db),
            node_id=self.node_id,
            agent_name=self.agent_name,
            queue_status=self.queue_status,
            # In a cluster, a call whose owner died is taken over, not ended.
            node_alive=self.cluster_presence.node_alive if self.cluster_presence is not None else None,
        )
        self.supervisor_actions = SupervisorActions(
            users=self.users,
            queues=self.queues,
            contacts=self.contacts,
            conversations=self.conversations,
            router_input=self.router_input,
            db=self.db,
        )
        # The three sockets, each with its session bound to these parts.
        self.sockets: dict[str, SocketKind] = {
            "visitor": visitor_socket(self),
            "agent": agent_socket(self),
            "supervisor": supervisor_socket(self),
        }
        # Transcripts past CC_RETENTION_DAYS go, purged by the process that routes.
        self.retention = RetentionJob(
            self.db, settings.retention_days, settings.retention_check_s, lambda: self.driver is not None
        )
        self._queue_status: dict[str, p.QueueStatus] = {}
        self._agent_names: dict[str, str] = {}
        # contact id -> the highest seq this process has delivered to its sockets
        self._delivered: dict[str, int] = {}

    def _make_driver(self) -> RouterDriver:
        settings = self.settings
        return RouterDriver(
            engine=RoutingEngine(
                EngineConfig(
                    missed_offers_before_away=settings.missed_offers_before_away,
                    chat_while_on_call=settings.chat_while_on_call,
                    default_chat_capacity=settings.default_chat_capacity,
                )
            ),
            router_input=self.router_input,
            contacts=self.contacts,
            queues=self.queues,
            users=self.users,
            conversations=self.conversations,
            offers=self.offers,
            bus=self.bus,
            db=self.db,
            emit=self.supervision.router_emit,
            tick_s=settings.router_tick_s,
            config_poll_s=settings.config_poll_s,
        )

    def _cluster(self, routes: bool) -> None:
        """Several processes on Redis: presence visible to all, and (when this process
        may route) a router that leads only under the lease."""
        from contact_center.scale.router_log import RedisRouterInput

        assert isinstance(self.bus, RedisBus) and isinstance(self.router_input, RedisRouterInput)
        settings = self.settings
        self.cluster_presence = ClusterPresence(
            self.bus.client,
            self.node_id,
            self.presence.local_subjects,
            ttl_s=settings.presence_ttl_s,
            refresh_s=settings.presence_ttl_s / 3,
        )
        self.presence.elsewhere = self.cluster_presence.elsewhere
        self.presence.on_first = self.cluster_presence.announce
        self.bus.on_reconnect.append(self._resync_after_bus_outage)
        if not routes:
            return

        def on_active(driver: RouterDriver | None) -> None:
            self.driver = driver

        self.cluster_router = ClusterRouter(
            make_driver=self._make_driver,
            router_input=self.router_input,
            lease_s=settings.router_lease_s,
            node_id=self.node_id,
            on_active=on_active,
        )
        self.sweeper = PresenceSweeper(
            presence=self.cluster_presence,
            engine=lambda: self.driver.engine if self.driver is not None else None,
            contacts=self.contacts,
            router_input=self.router_input,
            abandon=self.actions.abandon,
            # (self.calls is built after this: look it up when the sweep runs)
            live_calls=lambda: self.calls.store.live(),
            end_orphaned_call=lambda call, now: end_orphaned_call(self.calls, call, now),
            agent_grace_s=settings.agent_grace_s,
            visitor_grace_s=settings.visitor_grace_s,
            call_grace_s=settings.reconnect_grace_s,
        )

    def _observe_metrics(self, event: dev.DomainEvent) -> None:
        if not self.clustered or self.driver is not None:
            self.metrics.observe(event)

    def _router_input(self) -> RouterInput:
        if self.settings.bus_url.startswith("memory://"):
            return MemoryRouterInput()
        from contact_center.scale.router_log import RedisRouterInput

        return RedisRouterInput(self.settings.bus_url)

    # ------------------------------------------------------------------ lifecycle

    async def start(self) -> None:
        await self.bus.start()
        self.hub.observe(CONTACT_TOPIC, self._seen_on_conversation)
        self.hub.observe(DOMAIN_TOPIC, self.domain.on_bus_message, subscribe=DOMAIN_TOPIC)
        self.hub.observe(STATUS_TOPIC, self._router_status, subscribe=STATUS_TOPIC)
        if self.clustered:
            self.hub.observe(ROLL_CALL_TOPIC, self.roll_call.answer, subscribe=ROLL_CALL_TOPIC)
        await self.supervision.start()
        await self.router_input.start()
        self.conversation_log.start()
        self.receipts.start()
        await self.journey.start()
        if self.driver is not None:
            await self.driver.start()
        if self.cluster_presence is not None:
            self.cluster_presence.start()
        if self.cluster_router is not None:
            self.cluster_router.start()
        if self.sweeper is not None:
            self.sweeper.start()
        self.retention.start()

    async def stop(self) -> None:
        self.presence.cancel_all()
        await self.retention.stop()
        await self.calls.stop()
        await self.supervision.stop()
        if self.sweeper is not None:
            await self.sweeper.stop()
        if self.cluster_router is not None:
            await self.cluster_router.stop()
        elif self.driver is not None:
            await self.driver.stop()
        if self.cluster_presence is not None:
            await self.cluster_presence.stop()
        await self.journey.stop()
        await self.conversation_log.stop()
        await self.receipts.stop()
        await self.router_input.stop()
        await self.bus.stop()
        await self.db.dispose()

    # ------------------------------------------------------------------ observers

    def _seen_on_conversation(self, topic: str, payload: bytes) -> None:
        """Every conversation event this process receives keeps three things current:
        the last seq (for numbering), the contact directory (for authorisation) and
        how far local sockets have been served (for repair after a bus outage)."""
        event = peek(payload)
        contact_id = topic[len(CONTACT_TOPIC) :]
        if event.seq is not None:
            self.conversation_log.note_seq(contact_id, event.seq)
            if event.seq > self._delivered.get(contact_id, 0):
                self._delivered[contact_id] = event.seq
        self.directory.apply(contact_id, event)

    async def _resync_after_bus_outage(self) -> None:
        """Redis came back: events published while this process was not subscribed
        never reached it.  They are in the database; hand each followed conversation
        what it missed, as if the bus had delivered it (sockets ignore seqs they have)."""
        # First, as they need no database: Redis may have come back empty, without this
        # gateway's presence entries, and a router that rebuilt from it may have called
        # the roll while this process was not listening (both harmless otherwise).
        if self.cluster_presence is not None:
            self.cluster_presence.refresh_now()
        if self.clustered:
            self.roll_call.announce()
        for topic in self.hub.topics(CONTACT_TOPIC):
            contact_id = topic[len(CONTACT_TOPIC) :]
            after = self._delivered.get(contact_id)
            if after is None:
                after = max(0, (self.conversation_log.known_last_seq(contact_id) or 1) - 1)
            for stored in await self.conversation_log.history(contact_id, after):
                self.hub.deliver_local(topic, p.encode(server_event(stored)))
        # Assignments published meanwhile are lost the same way; the database has them.
        await self._reannounce()

    async def _reannounce(self) -> int:
        return await reannounce_assignments(
            self.contacts, self.hub, self.presence.local_subjects("agent"), self.agent_name
        )

    def _spawn_reannounce(self) -> None:
        task = asyncio.create_task(self._reannounce())
        self._reannouncing.add(task)
        task.add_done_callback(self._reannouncing.discard)

    def _router_status(self, _topic: str, payload: bytes) -> None:
        message = _status_decoder.decode(payload)
        self._queue_status = {status.queue_id: status for status in message.queues}

    def queue_status(self, queue_id: str) -> p.QueueStatus | None:
        return self._queue_status.get(queue_id)

    def queue_statuses(self) -> list[p.QueueStatus]:
        return list(self._queue_status.values())

    # ------------------------------------------------------------------ presence

    async def _visitor_gone(self, visitor_id: str) -> None:
        """Every tab of this visitor closed for the grace period: a contact still
        waiting is abandoned."""
        for contact in await self.contacts.for_visitor(visitor_id, recent_closed_since=time.time()):
            if contact.status == "queued":
                await self.actions.abandon(contact.id)

    async def _agent_gone(self, agent_id: str) -> None:
        self.router_input.submit(AgentDisconnected(at=time.time(), agent_id=agent_id))

    # ------------------------------------------------------------------ parts by another name

    @property
    def call_records(self) -> CallStore:
        return self.calls.store

    @property
    def dashboard(self) -> DashboardFeed:
        return self.supervision.push

    @property
    def alert_rules(self) -> AlertRules:
        return self.aggregator.rules

    # ------------------------------------------------------------------ helpers

    async def agent_name(self, agent_id: str | None) -> str:
        if not agent_id:
            return ""
        name = self._agent_names.get(agent_id)
        if name is None:
            user = await self.users.get(agent_id)
            name = user.display_name if user else ""
            self._agent_names[agent_id] = name
        return name

    async def staff_allowed(self, identity: Identity) -> bool:
        user = await self.users.get(identity.subject)
        return user is not None and not user.disabled and user.role == identity.role

    def issue_token(self, identity: Identity) -> str:
        ttl = (
            self.settings.visitor_token_ttl_s
            if identity.role == "visitor"
            else self.settings.agent_token_ttl_s
        )
        return self.signer.issue(identity, ttl)

    def describe(self) -> dict[str, Any]:
        return {
            "role": self.settings.role,
            "bus": self.settings.bus_url.split("://")[0],
            "node_id": self.node_id,
            "routing": self.driver is not None,
        }
