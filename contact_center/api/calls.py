"""REST: calls as recorded (``GET /api/calls``, ``GET /api/calls/{call_id}``), for the
console's history of a conversation and for reports.  Live calls are on the sockets."""

from __future__ import annotations

from typing import Any

from msgspec import Struct
from starlette.requests import Request
from starlette.responses import Response

from contact_center.api.http import ApiError, ApiRoute, json_response, parts_of, require
from contact_center.i18n import Text
from contact_center.security import Identity
from contact_center.store.models import CallRecord


class CallOut(Struct):
    """One call: where it came from, how it went, its quality (MOS and warnings from
    the sides' samples).  Times are Unix seconds, durations seconds."""

    id: str
    contact_id: str
    visitor_id: str
    agent_id: str | None
    channel: str
    origin: str
    state: str
    end_reason: str
    invited_at: float
    ringing_at: float | None
    answered_at: float | None
    connected_at: float | None
    ended_at: float | None
    ring_s: float | None
    setup_s: float | None
    talk_s: float
    hold_s: float
    reconnects: int
    quality: dict[str, Any] | None


class CallList(Struct):
    calls: list[CallOut]


def call_out(row: CallRecord) -> CallOut:
    return CallOut(
        id=row.id,
        contact_id=row.contact_id,
        visitor_id=row.visitor_id,
        agent_id=row.agent_id,
        channel=row.channel,
        origin=row.origin,
        state=row.state,
        end_reason=row.end_reason,
        invited_at=row.invited_at,
        ringing_at=row.ringing_at,
        answered_at=row.answered_at,
        connected_at=row.connected_at,
        ended_at=row.ended_at,
        ring_s=row.ring_s,
        setup_s=row.setup_s,
        talk_s=row.talk_s,
        hold_s=row.hold_s,
        reconnects=row.reconnects,
        quality=row.quality,
    )


def _may_read(identity: Identity, row: CallRecord) -> bool:
    return identity.at_least("supervisor") or row.agent_id == identity.subject


async def list_calls(request: Request) -> Response:
    identity = require(request, "agent")
    query = request.query_params
    try:
        limit = min(500, max(1, int(query.get("limit", "100"))))
    except ValueError:
        raise ApiError(422, "invalid", Text("error.limit_not_number")) from None
    agent_id = query.get("agent_id") or None
    if not identity.at_least("supervisor"):
        agent_id = identity.subject
    rows = await parts_of(request).call_records.search(
        contact_id=query.get("contact_id") or None, agent_id=agent_id, limit=limit
    )
    return json_response(CallList(calls=[call_out(row) for row in rows]))


async def get_call(request: Request) -> Response:
    identity = require(request, "agent")
    row = await parts_of(request).call_records.get(request.path_params["call_id"])
    if row is None or not _may_read(identity, row):
        raise ApiError(404, "not_found", Text("error.no_such_call"))
    return json_response(call_out(row))


ROUTES = [
    ApiRoute(
        "GET",
        "/api/calls",
        list_calls,
        "Calls, latest first (agents: their own; supervisors: any, by agent or conversation)",
        "calls",
        role="agent",
        response=CallList,
        query=(
            ("contact_id", "string", "only this conversation's calls"),
            ("agent_id", "string", "only this agent's calls (supervisors)"),
            ("limit", "integer", "at most this many (1-500, default 100)"),
        ),
    ),
    ApiRoute(
        "GET",
        "/api/calls/{call_id}",
        get_call,
        "One call: timings, end reason and quality summary",
        "calls",
        role="agent",
        response=CallOut,
    ),
]
