"""Supervisor REST routes: the full live snapshot, and the supervisor actions (set an
agent's status, reassign a waiting contact).  The live push is ``/ws/supervisor``."""

from __future__ import annotations

import time
from typing import Annotated, Literal

from msgspec import Meta, Struct
from starlette.requests import Request
from starlette.responses import Response

from contact_center.api.audit import audited
from contact_center.api.http import ApiError, ApiRoute, body_of, json_response, parts_of, require
from contact_center.supervisor.actions import SupervisorActionError
from dashboard.snapshot import Snapshot


class AgentStatusRequest(Struct, forbid_unknown_fields=True):
    """available / away as if the agent chose it; offline signs it out of routing (its
    conversations go back to their queues) until it picks a status again."""

    status: Literal["available", "away", "offline"]
    reason: Annotated[str, Meta(max_length=64)] = ""


class ReassignRequest(Struct, forbid_unknown_fields=True):
    """Move a waiting contact to another queue and/or offer it to one agent."""

    to_queue: Annotated[str, Meta(min_length=1, max_length=64)] | None = None
    to_agent: Annotated[str, Meta(min_length=1, max_length=64)] | None = None
    note: Annotated[str, Meta(max_length=2000)] = ""


class Accepted(Struct):
    """The action is in the routing log; its effect shows in the next snapshot."""

    status: str
    at: float


def _flag(request: Request, name: str, default: bool) -> bool:
    raw = request.query_params.get(name)
    if raw is None:
        return default
    return raw.strip().lower() in ("1", "true", "yes", "on")


async def get_snapshot(request: Request) -> Response:
    require(request, "supervisor")
    parts = parts_of(request)
    snapshot = parts.aggregator.snapshot(
        time.time(),
        agent_table=_flag(request, "agents", True),
        formulas=_flag(request, "formulas", True),
    )
    return json_response(snapshot)


async def set_agent_status(request: Request) -> Response:
    identity = require(request, "supervisor")
    body = await body_of(request, AgentStatusRequest, max_bytes=4096)
    parts = parts_of(request)
    try:
        await parts.supervisor_actions.set_agent_status(
            identity, request.path_params["agent_id"], body.status, body.reason
        )
    except SupervisorActionError as exc:
        raise ApiError(exc.status, exc.code, exc.message) from None
    await audited(
        request,
        identity,
        "supervisor.agent_status",
        target_kind="user",
        target_id=request.path_params["agent_id"],
        status=body.status,
        reason=body.reason,
    )
    return json_response(Accepted(status="accepted", at=time.time()), 202)


async def reassign_contact(request: Request) -> Response:
    identity = require(request, "supervisor")
    body = await body_of(request, ReassignRequest, max_bytes=8192)
    parts = parts_of(request)
    try:
        await parts.supervisor_actions.reassign(
            identity, request.path_params["contact_id"], body.to_queue, body.to_agent, body.note
        )
    except SupervisorActionError as exc:
        raise ApiError(exc.status, exc.code, exc.message) from None
    await audited(
        request,
        identity,
        "supervisor.reassign",
        target_kind="contact",
        target_id=request.path_params["contact_id"],
        to_queue=body.to_queue,
        to_agent=body.to_agent,
    )
    return json_response(Accepted(status="accepted", at=time.time()), 202)


ROUTES: list[ApiRoute] = [
    ApiRoute(
        "GET",
        "/api/supervisor/snapshot",
        get_snapshot,
        "The live dashboard now: every KPI with its formula, by queue, channel, stage and agent",
        "supervisor",
        role="supervisor",
        response=Snapshot,
        query=(
            ("agents", "boolean", "include the per-agent KPI table (default true)"),
            ("formulas", "boolean", "include each KPI's formula text (default true)"),
        ),
    ),
    ApiRoute(
        "POST",
        "/api/supervisor/agents/{agent_id}/status",
        set_agent_status,
        "Set an agent's status (available, away, or offline: signed out of routing)",
        "supervisor",
        role="supervisor",
        request=AgentStatusRequest,
        response=Accepted,
        status=202,
    ),
    ApiRoute(
        "POST",
        "/api/supervisor/contacts/{contact_id}/reassign",
        reassign_contact,
        "Move a waiting contact to another queue or offer it to one agent",
        "supervisor",
        role="supervisor",
        request=ReassignRequest,
        response=Accepted,
        status=202,
    ),
]
