"""Admin REST routes of the data lifecycle: a visitor's data exported or erased on
request, and the retention purge run on demand.  Each leaves an audit entry."""

from __future__ import annotations

import time
from typing import Annotated, Any

from msgspec import Meta, Struct
from starlette.requests import Request
from starlette.responses import Response

from contact_center.api.audit import audited
from contact_center.api.http import ApiError, ApiRoute, body_of, json_response, parts_of, require
from contact_center.audit import Actor
from contact_center.i18n import Text
from contact_center.lifecycle.retention import run_retention
from contact_center.lifecycle.visitors import VisitorBusy, VisitorNotFound, erase_visitor, export_visitor


class VisitorExport(Struct):
    """Everything held about one visitor: the visitor row, every contact with its
    transcript, every journey touchpoint and every call (rows as stored)."""

    format: int
    exported_at: float
    visitor_id: str
    visitor: dict[str, Any] | None
    contacts: list[dict[str, Any]]
    touchpoints: list[dict[str, Any]]
    calls: list[dict[str, Any]]


class VisitorErased(Struct):
    """What erasure changed; what is left (for the figures) now belongs to
    ``anonymous_id``, which nothing links to the visitor."""

    anonymous_id: str
    contacts: int
    events_deleted: int
    touchpoints: int
    calls: int


class RetentionRun(Struct, forbid_unknown_fields=True):
    """Delete transcripts of conversations closed more than ``days`` ago (default:
    the server's CC_RETENTION_DAYS)."""

    days: Annotated[float, Meta(ge=0, le=36500)] | None = None


class RetentionResult(Struct):
    days: float
    cutoff: float
    contacts: int
    events: int


def _visitor_id(request: Request) -> str:
    visitor_id = request.path_params["visitor_id"]
    if not (0 < len(visitor_id) <= 64):
        raise ApiError(404, "not_found", Text("error.no_such_visitor"))
    return str(visitor_id)


async def visitor_export(request: Request) -> Response:
    identity = require(request, "admin")
    visitor_id = _visitor_id(request)
    try:
        data = await export_visitor(parts_of(request).db, visitor_id)
    except VisitorNotFound:
        raise ApiError(404, "not_found", Text("error.no_such_visitor")) from None
    await audited(
        request,
        identity,
        "visitor.export",
        target_kind="visitor",
        target_id=visitor_id,
        contacts=len(data["contacts"]),
    )
    return json_response(
        data, headers={"Content-Disposition": f'attachment; filename="visitor-{visitor_id}.json"'}
    )


async def visitor_erase(request: Request) -> Response:
    identity = require(request, "admin")
    visitor_id = _visitor_id(request)
    parts = parts_of(request)
    try:
        result = await erase_visitor(parts.db, visitor_id)
    except VisitorNotFound:
        raise ApiError(404, "not_found", Text("error.no_such_visitor")) from None
    except VisitorBusy:
        raise ApiError(409, "conflict", Text("error.visitor_has_open_conversation")) from None
    await audited(
        request, identity, "visitor.erase", target_kind="visitor", target_id=visitor_id, changed=result
    )
    return json_response(result)


async def retention_run(request: Request) -> Response:
    identity = require(request, "admin")
    body = await body_of(request, RetentionRun, max_bytes=1024)
    parts = parts_of(request)
    days = body.days if body.days is not None else float(parts.settings.retention_days)
    if days <= 0:
        raise ApiError(422, "invalid", Text("error.retention_days_needed"))
    result = await run_retention(parts.db, days, Actor.of(identity), time.time())
    return json_response(
        RetentionResult(days=days, cutoff=result.cutoff, contacts=result.contacts, events=result.events)
    )


ROUTES: list[ApiRoute] = [
    ApiRoute(
        "GET",
        "/api/admin/visitors/{visitor_id}/export",
        visitor_export,
        "Everything held about one visitor, as JSON (data subject access)",
        "admin",
        role="admin",
        response=VisitorExport,
    ),
    ApiRoute(
        "DELETE",
        "/api/admin/visitors/{visitor_id}",
        visitor_erase,
        "Erase one visitor: transcripts deleted, personal text blanked, figures kept under a new "
        "anonymous id (409 while a conversation is open)",
        "admin",
        role="admin",
        response=VisitorErased,
    ),
    ApiRoute(
        "POST",
        "/api/admin/retention/run",
        retention_run,
        "Delete transcripts older than the retention period now (aggregates kept)",
        "admin",
        role="admin",
        request=RetentionRun,
        response=RetentionResult,
    ),
]
