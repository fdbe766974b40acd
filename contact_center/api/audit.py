"""The audit log over REST: ``GET /api/admin/audit`` (admins), and :func:`audited`,
which every handler that changes configuration, acts as a supervisor or exports data
calls to leave its entry."""

from __future__ import annotations

from typing import Any

import msgspec
from msgspec import Struct
from starlette.requests import Request
from starlette.responses import Response

from contact_center.api.http import (
    ApiError,
    ApiRoute,
    client_address,
    json_response,
    parts_of,
    require,
)
from contact_center.audit import Actor, entry_dict
from contact_center.i18n import Text
from contact_center.security import Identity


class AuditEntryOut(Struct):
    """One staff action.  ``actor_role`` is the signed-in role, ``cli`` (the
    command line, ``actor_name`` ``cli:<os user>``), ``system`` (the server's own
    jobs) or ``anonymous`` (a failed sign-in: ``target_id`` is the name tried)."""

    id: int
    at: float
    actor_id: str
    actor_name: str
    actor_role: str
    action: str
    target_kind: str
    target_id: str
    outcome: str
    address: str
    details: dict[str, Any]


class AuditPage(Struct):
    """Newest first; pass ``next_before`` as ``before`` for the next page (null at
    the end)."""

    entries: list[AuditEntryOut]
    next_before: int | None


async def audited(
    request: Request,
    identity: Identity | None,
    action: str,
    *,
    target_kind: str = "",
    target_id: str = "",
    outcome: str = "ok",
    **details: Any,
) -> None:
    """Leave the audit entry for what this request did."""
    actor = Actor.of(identity) if identity is not None else Actor("", "", "anonymous")
    await parts_of(request).audit.record(
        actor,
        action,
        target_kind=target_kind,
        target_id=target_id,
        outcome=outcome,
        address=client_address(request),
        details=details or None,
    )


def _number(request: Request, name: str) -> float | None:
    raw = request.query_params.get(name)
    if raw is None or raw == "":
        return None
    try:
        value = float(raw)
    except ValueError:
        raise ApiError(422, "invalid", Text("error.must_be_number", name=name)) from None
    if value != value or value in (float("inf"), float("-inf")):
        raise ApiError(422, "invalid", Text("error.must_be_number", name=name))
    return value


async def list_audit(request: Request) -> Response:
    require(request, "admin")
    query = request.query_params
    limit = _number(request, "limit")
    before = _number(request, "before")
    page_size = 100 if limit is None else int(min(1000, max(1, limit)))
    rows = await parts_of(request).audit.entries(
        since=_number(request, "since"),
        until=_number(request, "until"),
        action=query.get("action") or None,
        actor_id=query.get("actor_id") or None,
        target_id=query.get("target_id") or None,
        before_id=int(max(0, min(before, 2**62))) if before is not None else None,
        limit=page_size,
    )
    entries = [msgspec.convert(entry_dict(row), AuditEntryOut) for row in rows]
    next_before = entries[-1].id if len(entries) == page_size else None
    return json_response(AuditPage(entries=entries, next_before=next_before))


ROUTES: list[ApiRoute] = [
    ApiRoute(
        "GET",
        "/api/admin/audit",
        list_audit,
        "The audit log of staff actions (sign-ins, supervisor actions, configuration changes, "
        "exports, data lifecycle), newest first",
        "admin",
        role="admin",
        response=AuditPage,
        query=(
            ("since", "number", "from this Unix time (inclusive)"),
            ("until", "number", "before this Unix time"),
            ("action", "string", "one action (e.g. auth.login), or a family ending in '.' (e.g. queue.)"),
            ("actor_id", "string", "only this user's actions"),
            ("target_id", "string", "only actions on this id (an account name for sign-ins)"),
            ("before", "integer", "entries older than this id (paging: next_before)"),
            ("limit", "integer", "at most this many (1-1000, default 100)"),
        ),
    ),
]
