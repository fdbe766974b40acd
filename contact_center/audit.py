"""The audit log of staff actions: who did what, when, from where, and how it went.

One row per action in ``audit_log``: sign-ins (and failed ones), supervisor actions,
changes to agents, queues, sites and stage rules, exports, and the data-lifecycle jobs.
The REST handlers, the CLI and the server's own jobs all write through
:class:`AuditLog`; admins read it with ``GET /api/admin/audit`` or
``contact-center audit list``.  Writes are awaited: staff actions are rare, and an
action that cannot be logged should not pass silently.
"""

from __future__ import annotations

import getpass
import logging
import time
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, insert, select
from sqlalchemy.ext.asyncio import AsyncEngine

from contact_center.security import Identity
from contact_center.store.models import AuditRecord

log = logging.getLogger(__name__)

# Bounded so a hostile value (a 4 KiB username) cannot bloat a row.
_MAX_TARGET = 128
_MAX_NAME = 128


@dataclass(frozen=True, slots=True)
class Actor:
    """Who acted: a signed-in user, the command line, or the server itself."""

    id: str
    name: str
    role: str

    @classmethod
    def of(cls, identity: Identity) -> Actor:
        return cls(identity.subject, identity.name, identity.role)

    @classmethod
    def cli(cls) -> Actor:
        try:
            user = getpass.getuser()
        except (KeyError, OSError):  # no passwd entry (a bare container)
            user = "unknown"
        return cls("", f"cli:{user}", "cli")


SYSTEM = Actor("", "system", "system")
ANONYMOUS = Actor("", "", "anonymous")


def peer_address(websocket: Any) -> str:
    """The client address of a socket (or request), "" when unknown."""
    client = getattr(websocket, "client", None)
    return str(client.host) if client is not None else ""


def entry_dict(row: AuditRecord) -> dict[str, Any]:
    return {
        "id": row.id,
        "at": row.at,
        "actor_id": row.actor_id,
        "actor_name": row.actor_name,
        "actor_role": row.actor_role,
        "action": row.action,
        "target_kind": row.target_kind,
        "target_id": row.target_id,
        "outcome": row.outcome,
        "address": row.address,
        "details": dict(row.details or {}),
    }


class AuditLog:
    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    async def record(
        self,
        actor: Actor,
        action: str,
        *,
        target_kind: str = "",
        target_id: str = "",
        outcome: str = "ok",
        address: str = "",
        details: dict[str, Any] | None = None,
        at: float | None = None,
    ) -> None:
        values = {
            "at": time.time() if at is None else at,
            "actor_id": actor.id[:32],
            "actor_name": actor.name[:_MAX_NAME],
            "actor_role": actor.role[:16],
            "action": action[:64],
            "target_kind": target_kind[:32],
            "target_id": target_id[:_MAX_TARGET],
            "outcome": outcome[:16],
            "address": address[:64],
            "details": details or None,
        }
        async with self._engine.begin() as conn:
            await conn.execute(insert(AuditRecord).values(**values))
        log.info(
            "audit: %s %s %s:%s by %s (%s)%s",
            action,
            outcome,
            target_kind,
            target_id,
            actor.name or actor.id or actor.role,
            actor.role,
            f" from {address}" if address else "",
        )

    async def entries(
        self,
        *,
        since: float | None = None,
        until: float | None = None,
        action: str | None = None,
        actor_id: str | None = None,
        target_id: str | None = None,
        before_id: int | None = None,
        limit: int = 100,
    ) -> list[AuditRecord]:
        """Newest first.  ``action`` ending in ``.`` matches a family
        (``auth.`` -> every sign-in entry)."""
        stmt = select(AuditRecord)
        if since is not None:
            stmt = stmt.where(AuditRecord.at >= since)
        if until is not None:
            stmt = stmt.where(AuditRecord.at < until)
        if action:
            if action.endswith("."):
                stmt = stmt.where(AuditRecord.action.startswith(action, autoescape=True))
            else:
                stmt = stmt.where(AuditRecord.action == action)
        if actor_id:
            stmt = stmt.where(AuditRecord.actor_id == actor_id)
        if target_id:
            stmt = stmt.where(AuditRecord.target_id == target_id)
        if before_id is not None:
            stmt = stmt.where(AuditRecord.id < before_id)
        stmt = stmt.order_by(AuditRecord.id.desc()).limit(limit)
        async with self._engine.connect() as conn:
            return [AuditRecord(**row._mapping) for row in (await conn.execute(stmt)).all()]

    async def failures(
        self, action: str, *, since: float, target_id: str = "", address: str = ""
    ) -> Failures:
        """How many ``failed`` entries of ``action`` since ``since`` for one target (or
        one address), and when the last was."""
        stmt = select(func.count(), func.max(AuditRecord.at)).where(
            AuditRecord.action == action, AuditRecord.outcome == "failed", AuditRecord.at >= since
        )
        if target_id:
            stmt = stmt.where(AuditRecord.target_id == target_id)
        if address:
            stmt = stmt.where(AuditRecord.address == address)
        async with self._engine.connect() as conn:
            count, last = (await conn.execute(stmt)).one()
        return Failures(int(count or 0), float(last) if last is not None else None)

    async def last_success(self, action: str, target_id: str) -> float | None:
        stmt = select(func.max(AuditRecord.at)).where(
            AuditRecord.action == action, AuditRecord.outcome == "ok", AuditRecord.target_id == target_id
        )
        async with self._engine.connect() as conn:
            value = await conn.scalar(stmt)
        return float(value) if value is not None else None


@dataclass(frozen=True, slots=True)
class Failures:
    count: int
    last_at: float | None


async def record_cli_change(engine: AsyncEngine, action: str, kind: str, target: str, **details: Any) -> None:
    """The audit entry of a change made from the command line (no signed-in user: the
    operating-system account is the actor)."""
    await AuditLog(engine).record(
        Actor.cli(), action, target_kind=kind, target_id=target, details=details or None
    )
