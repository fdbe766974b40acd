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


class Visitor(Base):
    """A browser, identified by the id in its signed visitor token.  The first-touch
    source is written once, on creation, and never overwritten."""

    __tablename__ = "visitors"

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


class AgentStateLog(Base):
    """Every change of an agent's state, for occupancy and reports."""

    __tablename__ = "agent_state_log"
    __table_args__ = (Index("ix_agent_state_log_agent_time", "agent_id", "at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    agent_id: Mapped[str] = mapped_column(String(32))
    state: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str] = mapped_column(String(64), default="")
    at: Mapped[float] = mapped_column(Float)
