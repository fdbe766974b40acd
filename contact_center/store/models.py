"""The relational schema (SQLAlchemy declarative models).

Alembic migrations in ``contact_center/migrations`` create and evolve these tables; the
models are the single description of the schema that both the migrations and the
queries use.  Times are stored as Unix seconds (float) so SQLite and PostgreSQL agree
and arithmetic in analytics queries stays portable; string ids are opaque (uuid4 hex)
so every process can mint them without a round trip.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import JSON, Boolean, Float, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from contact_center.store.sources import first_source


class Base(DeclarativeBase):
    type_annotation_map = {dict[str, Any]: JSON, list[Any]: JSON}


class User(Base):
    """A person who logs in: agent, supervisor or admin."""

    __tablename__ = "users"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(128))
    password_hash: Mapped[str] = mapped_column(String(256))
    role: Mapped[str] = mapped_column(String(16))  # agent | supervisor | admin
    # skill -> proficiency 1..10
    skills: Mapped[dict[str, Any]] = mapped_column(default=dict)
    languages: Mapped[list[Any]] = mapped_column(default=list)
    # channel -> concurrent contacts
    capacity: Mapped[dict[str, Any]] = mapped_column(default=dict)
    # queue ids served; empty = all
    queues: Mapped[list[Any]] = mapped_column(default=list)
    disabled: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[float] = mapped_column(Float)
    # The language the staff pages speak to this person (a shipped locale code, e.g.
    # "fa"); None: the browser's.  Chosen in the page header, so it follows them.
    locale: Mapped[str | None] = mapped_column(String(16), nullable=True)


class Queue(Base):
    __tablename__ = "queues"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(128))
    description: Mapped[str] = mapped_column(Text, default="")
    strategy: Mapped[str] = mapped_column(String(32), default="longest_idle")
    skills: Mapped[list[Any]] = mapped_column(default=list)
    priority: Mapped[int] = mapped_column(Integer, default=0)
    sl_target_s: Mapped[float] = mapped_column(Float, default=20.0)
    offer_timeout_s: Mapped[float] = mapped_column(Float, default=20.0)
    max_wait_s: Mapped[float | None] = mapped_column(Float, nullable=True)
    overflow_to: Mapped[str | None] = mapped_column(String(64), nullable=True)
    ageing_s: Mapped[float | None] = mapped_column(Float, nullable=True)
    wrap_up_s: Mapped[float] = mapped_column(Float, default=0.0)
    # {"timezone": "Europe/Paris", "spans": [{"weekday": 0, "opens": "09:00", "closes": "17:00"}]}
    hours: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    position: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[float] = mapped_column(Float)
    # The queue's name in other languages, {"fa": "فروش"}; ``name`` is the fallback.
    labels: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True, default=dict)


def _first_source_default(context: Any) -> str:
    """``visitors.first_source`` from the first-touch columns of the same INSERT."""
    params = context.get_current_parameters()
    return first_source(
        params.get("first_utm_source") or "",
        params.get("first_referrer") or "",
        params.get("first_landing_url") or "",
    )


class Visitor(Base):
    """A browser, identified by the id in its signed visitor token.  The first-touch
    source is written once, on creation, and never overwritten."""

    __tablename__ = "visitors"
    __table_args__ = (Index("ix_visitors_first_source", "first_source", "created_at"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    created_at: Mapped[float] = mapped_column(Float)
    last_seen_at: Mapped[float] = mapped_column(Float)
    name: Mapped[str] = mapped_column(String(128), default="")
    email: Mapped[str] = mapped_column(String(256), default="")
    first_referrer: Mapped[str] = mapped_column(Text, default="")
    first_landing_url: Mapped[str] = mapped_column(Text, default="")
    first_utm_source: Mapped[str] = mapped_column(String(256), default="")
    first_utm_medium: Mapped[str] = mapped_column(String(256), default="")
    first_utm_campaign: Mapped[str] = mapped_column(String(256), default="")
    first_utm_term: Mapped[str] = mapped_column(String(256), default="")
    first_utm_content: Mapped[str] = mapped_column(String(256), default="")
    # Derived from the first touch on insert (contact_center.store.sources): the
    # first utm_source, else the referring domain, else "direct".
    first_source: Mapped[str] = mapped_column(
        String(256), default=_first_source_default, server_default="direct"
    )


class Contact(Base):
    """One conversation or call with a visitor.  Its stage of origin and source are
    fixed at creation: they say where on the journey the visitor reached for help."""

    __tablename__ = "contacts"
    __table_args__ = (
        Index("ix_contacts_visitor", "visitor_id", "created_at"),
        Index("ix_contacts_agent_status", "agent_id", "status"),
        Index("ix_contacts_status", "status", "created_at"),
        Index("ix_contacts_created", "created_at"),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    visitor_id: Mapped[str] = mapped_column(ForeignKey("visitors.id"))
    queue_id: Mapped[str] = mapped_column(String(64))
    channel: Mapped[str] = mapped_column(String(16), default="chat")  # chat | voice | video
    # queued | active | ended | abandoned | offline
    status: Mapped[str] = mapped_column(String(16))
    priority: Mapped[int] = mapped_column(Integer, default=0)
    name: Mapped[str] = mapped_column(String(128), default="")
    email: Mapped[str] = mapped_column(String(256), default="")
    topic: Mapped[str] = mapped_column(String(256), default="")
    stage: Mapped[str] = mapped_column(String(32), default="unknown")
    stage_source: Mapped[str] = mapped_column(String(16), default="inferred")
    page_url: Mapped[str] = mapped_column(Text, default="")
    page_title: Mapped[str] = mapped_column(Text, default="")
    referrer: Mapped[str] = mapped_column(Text, default="")
    utm_source: Mapped[str] = mapped_column(String(256), default="")
    utm_medium: Mapped[str] = mapped_column(String(256), default="")
    utm_campaign: Mapped[str] = mapped_column(String(256), default="")
    created_at: Mapped[float] = mapped_column(Float)
    enqueued_at: Mapped[float] = mapped_column(Float)
    answered_at: Mapped[float | None] = mapped_column(Float, nullable=True)
    ended_at: Mapped[float | None] = mapped_column(Float, nullable=True)
    abandoned_at: Mapped[float | None] = mapped_column(Float, nullable=True)
    wrap_up_ended_at: Mapped[float | None] = mapped_column(Float, nullable=True)
    agent_id: Mapped[str | None] = mapped_column(String(32), nullable=True)
    ended_by: Mapped[str] = mapped_column(String(16), default="")
    disposition: Mapped[str] = mapped_column(String(64), default="")
    csat: Mapped[int | None] = mapped_column(Integer, nullable=True)
    csat_comment: Mapped[str] = mapped_column(Text, default="")
    # Receipts: the highest seq each side has received / read.
    visitor_read_seq: Mapped[int] = mapped_column(Integer, default=0)
    agent_read_seq: Mapped[int] = mapped_column(Integer, default=0)
    visitor_delivered_seq: Mapped[int] = mapped_column(Integer, default=0)
    agent_delivered_seq: Mapped[int] = mapped_column(Integer, default=0)
    data: Mapped[dict[str, Any]] = mapped_column(default=dict)


class ConversationEvent(Base):
    """Everything on a conversation that a participant must see again after a
    reconnect: messages, joins, transfers, the end.  ``seq`` is dense per contact;
    (contact, sender, client id) makes a resent frame idempotent."""

    __tablename__ = "conversation_events"
    __table_args__ = (
        UniqueConstraint("contact_id", "seq", name="uq_conversation_seq"),
        UniqueConstraint("contact_id", "sender_id", "client_id", name="uq_conversation_client_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    contact_id: Mapped[str] = mapped_column(String(32))
    seq: Mapped[int] = mapped_column(Integer)
    # chat.message | contact.joined | contact.transferred | contact.ended | contact.note ...
    kind: Mapped[str] = mapped_column(String(32))
    sender_kind: Mapped[str] = mapped_column(String(16))  # visitor | agent | system
    sender_id: Mapped[str] = mapped_column(String(32), default="")
    sender_name: Mapped[str] = mapped_column(String(128), default="")
    body: Mapped[str] = mapped_column(Text, default="")
    data: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    # NULL for server-made events (unique constraints ignore NULLs on both engines).
    client_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    created_at: Mapped[float] = mapped_column(Float)


class Touchpoint(Base):
    """One step of a visitor's journey: a page view, a contact, an offline message, a
    conversion.  Where the stage came from is kept (declared by the page, matched by
    a URL rule, or inferred)."""

    __tablename__ = "touchpoints"
    __table_args__ = (
        Index("ix_touchpoints_visitor_time", "visitor_id", "started_at"),
        Index("ix_touchpoints_time_stage_channel", "started_at", "stage", "channel"),
        Index("ix_touchpoints_contact", "contact_id"),
        # Journey analytics (migration 0002): contacts and conversions by time, and
        # idempotent conversions reported by sites.
        Index("ix_touchpoints_kind_time", "kind", "started_at"),
        Index("uq_touchpoints_dedupe", "dedupe_key", unique=True),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    visitor_id: Mapped[str] = mapped_column(String(32))
    contact_id: Mapped[str | None] = mapped_column(String(32), nullable=True)
    # page_view | contact | offline_message | conversion
    kind: Mapped[str] = mapped_column(String(24))
    # web | chat | voice | video | offline
    channel: Mapped[str] = mapped_column(String(16))
    stage: Mapped[str] = mapped_column(String(32), default="unknown")
    stage_source: Mapped[str] = mapped_column(String(16), default="inferred")
    url: Mapped[str] = mapped_column(Text, default="")
    title: Mapped[str] = mapped_column(Text, default="")
    referrer: Mapped[str] = mapped_column(Text, default="")
    utm_source: Mapped[str] = mapped_column(String(256), default="")
    utm_medium: Mapped[str] = mapped_column(String(256), default="")
    utm_campaign: Mapped[str] = mapped_column(String(256), default="")
    utm_term: Mapped[str] = mapped_column(String(256), default="", server_default="")
    utm_content: Mapped[str] = mapped_column(String(256), default="", server_default="")
    started_at: Mapped[float] = mapped_column(Float)
    ended_at: Mapped[float | None] = mapped_column(Float, nullable=True)
    queue_id: Mapped[str] = mapped_column(String(64), default="")
    wait_s: Mapped[float | None] = mapped_column(Float, nullable=True)
    handle_s: Mapped[float | None] = mapped_column(Float, nullable=True)
    # answered | abandoned | offline | overflowed | converted | disposition text
    outcome: Mapped[str] = mapped_column(String(64), default="")
    csat: Mapped[int | None] = mapped_column(Integer, nullable=True)
    sentiment: Mapped[float | None] = mapped_column(Float, nullable=True)
    value: Mapped[float | None] = mapped_column(Float, nullable=True)
    data: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    # "<site id>:<event id>" for a conversion a site reported with an event id, so a
    # retried report is stored once.
    dedupe_key: Mapped[str | None] = mapped_column(String(200), nullable=True)


class Site(Base):
    """A website that reports conversions (``POST /api/journey/events``) with its key.
    Only a SHA-256 of the key is stored; the key is shown once, when created."""

    __tablename__ = "sites"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(String(128))
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    # The key's first characters, to tell keys apart in listings.
    key_prefix: Mapped[str] = mapped_column(String(16))
    disabled: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[float] = mapped_column(Float)
    # The languages its widget speaks: the one it falls back to, and those a visitor may
    # get (None: every shipped locale).  The widget names its site with data-site.
    default_locale: Mapped[str] = mapped_column(String(16), default="en", server_default="en")
    allowed_locales: Mapped[list[Any] | None] = mapped_column(JSON, nullable=True)
    # Verified visitor identity (contact_center.journey.identity): the secret the
    # site's backend signs its customers' ids with is derived from the server's secret
    # key and this random salt, so the database alone never holds it; a new salt
    # rotates it, None turns verified identity off.  The prefix tells secrets apart.
    identity_salt: Mapped[str | None] = mapped_column(String(64), nullable=True)
    identity_prefix: Mapped[str | None] = mapped_column(String(16), nullable=True)
    identity_rotated_at: Mapped[float | None] = mapped_column(Float, nullable=True)


class Customer(Base):
    """A site's own customer, named by the id the site gave it (``external_id``) and
    vouched for by the site's backend with an HMAC of that id.  Every verified device of
    the customer gets the same ``visitor_id``, so its conversations and journey are one
    visitor's and the per-visitor checks (a visitor reads only its own contacts) hold
    unchanged.  Name and e-mail are the last verified ones."""

    __tablename__ = "customers"
    __table_args__ = (
        UniqueConstraint("site_id", "external_id", name="uq_customers_site_external"),
        Index("uq_customers_visitor", "visitor_id", unique=True),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    site_id: Mapped[str] = mapped_column(ForeignKey("sites.id"))
    external_id: Mapped[str] = mapped_column(String(128))
    visitor_id: Mapped[str] = mapped_column(String(32))
    name: Mapped[str] = mapped_column(String(128), default="")
    email: Mapped[str] = mapped_column(String(256), default="")
    created_at: Mapped[float] = mapped_column(Float)
    # The last time the site vouched for this customer.
    verified_at: Mapped[float] = mapped_column(Float)


class StageRuleRecord(Base):
    """A URL rule -> journey stage managed through the admin API (evaluated in
    ``position`` order, before the rules in settings)."""

    __tablename__ = "stage_rules"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    pattern: Mapped[str] = mapped_column(String(512))
    stage: Mapped[str] = mapped_column(String(32))
    position: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[float] = mapped_column(Float)


class JourneyVisitorDay(Base):
    """Per visitor and UTC day: the first touch in each journey stage and how many
    touchpoints, so the funnel groups a row per visitor-day instead of every touchpoint.
    Written only by triggers on ``touchpoints`` (migration 0002), whoever inserts the
    touchpoint; a touchpoint's stage and time never change after it is stored."""

    __tablename__ = "journey_visitor_days"

    # Days since the Unix epoch (UTC): floor(started_at / 86400).
    day: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    visitor_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    first_awareness: Mapped[float | None] = mapped_column(Float, nullable=True)
    first_consideration: Mapped[float | None] = mapped_column(Float, nullable=True)
    first_decision: Mapped[float | None] = mapped_column(Float, nullable=True)
    first_purchase: Mapped[float | None] = mapped_column(Float, nullable=True)
    first_retention: Mapped[float | None] = mapped_column(Float, nullable=True)
    touches: Mapped[int] = mapped_column(Integer, default=0)


class AgentStateLog(Base):
    """Every change of an agent's state, for occupancy and reports."""

    __tablename__ = "agent_state_log"
    __table_args__ = (Index("ix_agent_state_log_agent_time", "agent_id", "at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    agent_id: Mapped[str] = mapped_column(String(32))
    state: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str] = mapped_column(String(64), default="")
    at: Mapped[float] = mapped_column(Float)


class OfferRecord(Base):
    """One offer of a contact to an agent and how it ended: accepted, declined (with
    the agent's reason), expired, or withdrawn (the visitor left, the contact moved).
    Written by the active router; the supervisor wall rebuilds today's offer figures
    from it after a restart, and a decline reason stays readable afterwards."""

    __tablename__ = "offers"
    __table_args__ = (
        Index("ix_offers_offered", "offered_at"),
        Index("ix_offers_agent_time", "agent_id", "offered_at"),
        Index("ix_offers_contact", "contact_id", "offered_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    contact_id: Mapped[str] = mapped_column(String(32))
    agent_id: Mapped[str] = mapped_column(String(32))
    offered_at: Mapped[float] = mapped_column(Float)
    answered_at: Mapped[float | None] = mapped_column(Float, nullable=True)
    # accepted | declined | expired | another revocation reason; NULL while open.
    outcome: Mapped[str | None] = mapped_column(String(32), nullable=True)
    reason: Mapped[str] = mapped_column(String(256), default="")


class CallRecord(Base):
    """One voice or video call (``contact_center.calls``).  A call belongs to a
    contact: its own (a call from the widget's queue) or a chat turned into a call.
    ``live_contact_id`` is the contact id while the call is not over, NULL after: its
    unique index allows one live call per conversation across every process."""

    __tablename__ = "calls"
    __table_args__ = (
        Index("ix_calls_contact", "contact_id", "invited_at"),
        Index("ix_calls_agent_time", "agent_id", "invited_at"),
        Index("ix_calls_invited", "invited_at"),
        Index("uq_calls_live_contact", "live_contact_id", unique=True),
    )

    id: Mapped[str] = mapped_column(String(128), primary_key=True)
    contact_id: Mapped[str] = mapped_column(String(32))
    live_contact_id: Mapped[str | None] = mapped_column(String(32), nullable=True)
    visitor_id: Mapped[str] = mapped_column(String(32))
    agent_id: Mapped[str | None] = mapped_column(String(32), nullable=True)
    # voice | video
    channel: Mapped[str] = mapped_column(String(16))
    # queue (a call from the widget, routed) | escalation (the visitor turned a chat
    # into a call) | agent (the agent called the visitor from a chat)
    origin: Mapped[str] = mapped_column(String(16))
    caller_party: Mapped[str] = mapped_column(String(200))
    callee_party: Mapped[str | None] = mapped_column(String(200), nullable=True)
    state: Mapped[str] = mapped_column(String(16))
    end_reason: Mapped[str] = mapped_column(String(32), default="")
    # The process that owns the call's state machine.
    node: Mapped[str] = mapped_column(String(64), default="")
    invited_at: Mapped[float] = mapped_column(Float)
    ringing_at: Mapped[float | None] = mapped_column(Float, nullable=True)
    answered_at: Mapped[float | None] = mapped_column(Float, nullable=True)
    connected_at: Mapped[float | None] = mapped_column(Float, nullable=True)
    ended_at: Mapped[float | None] = mapped_column(Float, nullable=True)
    ring_s: Mapped[float | None] = mapped_column(Float, nullable=True)
    setup_s: Mapped[float | None] = mapped_column(Float, nullable=True)
    talk_s: Mapped[float] = mapped_column(Float, default=0.0)
    hold_s: Mapped[float] = mapped_column(Float, default=0.0)
    reconnects: Mapped[int] = mapped_column(Integer, default=0)
    # signalling.quality.CallQualityTracker.summary()
    quality: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    # The journey touchpoint that records this call.
    touchpoint_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    # signalling.call.Call.snapshot() of an answered call, kept current by its owner,
    # so that another gateway can take the call over if the owner dies.
    signalling: Mapped[dict[str, Any] | None] = mapped_column(JSON(none_as_null=True), nullable=True)


class AuditRecord(Base):
    """One staff action: who (the signed-in user, or ``cli:<os user>``, or the
    server's own jobs as ``system``), what (``action`` on ``target_kind`` /
    ``target_id``, with ``details``), when, from which address, and how it went.
    Written by :mod:`contact_center.audit`; failed sign-ins double as the throttle's
    memory (:mod:`contact_center.signin`), so the indexes serve both."""

    __tablename__ = "audit_log"
    __table_args__ = (
        Index("ix_audit_at", "at"),
        Index("ix_audit_action_target", "action", "target_id", "at"),
        Index("ix_audit_action_address", "action", "address", "at"),
        Index("ix_audit_actor", "actor_id", "at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    at: Mapped[float] = mapped_column(Float)
    # user id ("" for the CLI and the server's own jobs)
    actor_id: Mapped[str] = mapped_column(String(32), default="")
    actor_name: Mapped[str] = mapped_column(String(128), default="")
    # agent | supervisor | admin | cli | system | anonymous (a failed sign-in)
    actor_role: Mapped[str] = mapped_column(String(16), default="")
    # e.g. auth.login, agent.create, queue.update, supervisor.reassign, export.report
    action: Mapped[str] = mapped_column(String(64))
    target_kind: Mapped[str] = mapped_column(String(32), default="")
    target_id: Mapped[str] = mapped_column(String(128), default="")
    # ok | failed | refused
    outcome: Mapped[str] = mapped_column(String(16), default="ok")
    address: Mapped[str] = mapped_column(String(64), default="")
    details: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)


class SavedReply(Base):
    """A canned answer an agent inserts from the console's composer (``/shortcut``).
    ``scope``: ``personal`` (``owner_id`` is its agent), ``queue`` (shared with the
    agents of ``queue_id``) or ``global`` (shared with every queue).  Unused columns
    hold "" rather than NULL so the unique index makes a shortcut unique within its
    scope on SQLite and PostgreSQL alike (NULLs would never collide)."""

    __tablename__ = "saved_replies"
    __table_args__ = (
        UniqueConstraint("scope", "queue_id", "owner_id", "shortcut", name="uq_saved_replies_shortcut"),
        Index("ix_saved_replies_owner", "owner_id"),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    scope: Mapped[str] = mapped_column(String(16))
    queue_id: Mapped[str] = mapped_column(String(64), default="")
    owner_id: Mapped[str] = mapped_column(String(32), default="")
    shortcut: Mapped[str] = mapped_column(String(32))
    title: Mapped[str] = mapped_column(String(128))
    body: Mapped[str] = mapped_column(Text)
    created_by: Mapped[str] = mapped_column(String(128), default="")
    created_at: Mapped[float] = mapped_column(Float)
    updated_at: Mapped[float] = mapped_column(Float)
