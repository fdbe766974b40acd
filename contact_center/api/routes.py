"""REST handlers: auth, visitor tokens and widget config, admin (agents and queues),
contacts and transcripts."""

from __future__ import annotations

import logging
import time
from typing import Any

import msgspec
from starlette.requests import Request
from starlette.responses import Response

from contact_center import protocol as p
from contact_center.api import schemas as s
from contact_center.api.audit import audited
from contact_center.api.http import (
    ApiError,
    ApiRoute,
    body_of,
    client_address,
    identity_of,
    json_response,
    parts_of,
    require,
)
from contact_center.api.identity import customer_of, verified_visitor
from contact_center.api.locales import visitor_locale
from contact_center.api.parts import ApiParts
from contact_center.conversations import contact_summary
from contact_center.i18n import Text, locale_info
from contact_center.i18n.catalogue import valid_locale
from contact_center.router_input import ReloadConfig
from contact_center.security import Identity, TokenError, new_id
from contact_center.signin import LOGIN_ACTION
from contact_center.store.models import Contact
from contact_center.store.queues import queue_dict, queue_label
from contact_center.store.users import UserExists, user_dict

log = logging.getLogger(__name__)

# --------------------------------------------------------------------------- auth


async def login(request: Request) -> Response:
    """Check the throttle, then the password; every outcome but a refusal is an
    ``auth.login`` audit entry (the failures are what the throttle counts)."""
    body = await body_of(request, s.LoginRequest)
    parts = parts_of(request)
    address = client_address(request)
    throttle = parts.signin
    async with throttle.lock("address:" + address), throttle.lock("account:" + body.username):
        verdict = await throttle.check(body.username, address, time.time())
        if not verdict.allowed:
            log.warning(
                "sign-in refused for %r from %s: too many failures (%s), retry in %d s",
                body.username[:64],
                address,
                verdict.scope,
                verdict.retry_after_s,
            )
            raise ApiError(
                429,
                "too_many_attempts",
                Text("error.login.too_many", scope=verdict.scope, seconds=verdict.retry_after_s),
                headers={"Retry-After": str(verdict.retry_after_s)},
            )
        user = await parts.users.authenticate(body.username, body.password)
        if user is None:
            log.warning("sign-in failed for %r from %s", body.username[:64], address)
            await audited(
                request, None, LOGIN_ACTION, target_kind="account", target_id=body.username, outcome="failed"
            )
            raise ApiError(401, "invalid_credentials", Text("error.login.wrong"))
        identity = Identity(subject=user.id, role=user.role, name=user.display_name)  # type: ignore[arg-type]
        await audited(request, identity, LOGIN_ACTION, target_kind="account", target_id=body.username)
    return json_response(
        s.LoginResponse(
            token=parts.issue_token(identity),
            expires_in=parts.settings.agent_token_ttl_s,
            user=msgspec.convert(user_dict(user), s.UserOut),
        )
    )


async def me(request: Request) -> Response:
    identity = require(request, "agent")
    user = await parts_of(request).users.get(identity.subject)
    if user is None:
        raise ApiError(401, "unauthenticated", Text("error.api.unknown_user"))
    return json_response(msgspec.convert(user_dict(user), s.UserOut))


async def update_me(request: Request) -> Response:
    """A person's own settings: the language the staff pages speak to them."""
    identity = require(request, "agent")
    body = await body_of(request, s.MeUpdate, max_bytes=4096)
    if body.locale is not None and not valid_locale(body.locale):
        raise ApiError(422, "invalid", Text("error.unknown_locale", locale=body.locale))
    user = await parts_of(request).users.update(identity.subject, locale=body.locale)
    if user is None:
        raise ApiError(401, "unauthenticated", Text("error.api.unknown_user"))
    return json_response(msgspec.convert(user_dict(user), s.UserOut))


# --------------------------------------------------------------------------- visitors


async def visitor_token(request: Request) -> Response:
    """A signed token for the widget.  The server picks the visitor id; a browser that
    sends a still-valid token keeps its id (and so its conversations), and one that
    brings a verified identity gets its customer's (api/identity.py)."""
    parts = parts_of(request)
    body = await body_of(request, s.VisitorTokenRequest, max_bytes=8192)
    visitor_id = ""
    if body.token:
        try:
            identity = parts.signer.verify(body.token)
            if identity.role == "visitor":
                visitor_id = identity.subject
        except TokenError:
            visitor_id = ""
    # A customer the site vouched for gets its own visitor, the same on every device.
    customer_visitor = await verified_visitor(parts, body)
    visitor_id = customer_visitor or visitor_id or new_id()
    token = parts.issue_token(Identity(subject=visitor_id, role="visitor"))
    return json_response(
        s.VisitorTokenResponse(
            token=token,
            visitor_id=visitor_id,
            expires_in=parts.settings.visitor_token_ttl_s,
            verified=customer_visitor is not None,
        )
    )


async def widget_config(request: Request) -> Response:
    parts = parts_of(request)
    locale, allowed, default = await visitor_locale(request)
    queues = []
    for queue in await parts.queues.all():
        status = parts.queue_status(queue.id)
        queues.append(
            s.WidgetQueue(
                id=queue.id,
                name=queue_label(queue, locale),
                description=queue.description,
                open=status.open if status else True,
                online=bool(status and status.agents_online > 0),
                agents_available=status.agents_available if status else 0,
                waiting=status.waiting if status else 0,
                next_open=status.next_open if status else None,
            )
        )
    return json_response(
        s.WidgetConfig(
            queues=queues,
            track_page_views=parts.settings.track_page_views,
            server_time=time.time(),
            locale=locale,
            dir=locale_info(locale).dir,
            allowed_locales=allowed,
            default_locale=default,
        )
    )


async def page_views(request: Request) -> Response:
    """Page views batched by the widget (sent with navigator.sendBeacon on unload, so
    the token travels in the body)."""
    parts = parts_of(request)
    body = await body_of(request, s.PageViewsRequest, max_bytes=64_000)
    try:
        identity = parts.signer.verify(body.token)
    except TokenError as exc:
        raise ApiError(401, "unauthenticated", Text("error.api.bad_token", detail=str(exc))) from None
    if identity.role != "visitor":
        raise ApiError(403, "forbidden", Text("error.visitor.token_needed"))
    now = time.time()
    for view in body.views:
        await parts.journey.record_page_view(identity.subject, view, now)
    return Response(status_code=204)


# --------------------------------------------------------------------------- admin: agents


def _user_out(user: Any) -> s.UserOut:
    return msgspec.convert(user_dict(user), s.UserOut)


async def list_agents(request: Request) -> Response:
    require(request, "supervisor")
    users = await parts_of(request).users.all()
    return json_response([_user_out(u) for u in users])


async def create_agent(request: Request) -> Response:
    identity = require(request, "admin")
    body = await body_of(request, s.AgentCreate)
    parts = parts_of(request)
    try:
        user = await parts.users.create(
            body.username,
            body.password,
            body.role,
            display_name=body.display_name,
            skills=dict(body.skills),
            languages=list(body.languages),
            capacity={str(k): v for k, v in body.capacity.items()},
            queues=list(body.queues),
        )
    except UserExists:
        raise ApiError(409, "exists", Text("error.user_exists", user=body.username)) from None
    parts.router_input.submit(ReloadConfig(at=time.time(), what="agents"))
    await audited(
        request,
        identity,
        "agent.create",
        target_kind="user",
        target_id=user.id,
        username=user.username,
        role=user.role,
    )
    return json_response(_user_out(user), 201)


async def update_agent(request: Request) -> Response:
    identity = require(request, "admin")
    body = await body_of(request, s.AgentUpdate)
    parts = parts_of(request)
    changes = {k: v for k, v in msgspec.structs.asdict(body).items() if v is not None}
    user = await parts.users.update(request.path_params["agent_id"], **changes)
    if user is None:
        raise ApiError(404, "not_found", Text("error.no_such_agent"))
    parts.router_input.submit(ReloadConfig(at=time.time(), what="agents"))
    await audited(
        request,
        identity,
        "agent.update",
        target_kind="user",
        target_id=user.id,
        username=user.username,
        changed=sorted(changes),
    )
    return json_response(_user_out(user))


async def agent_directory(request: Request) -> Response:
    """Colleagues an agent can transfer to (names only; no admin details)."""
    require(request, "agent")
    users = await parts_of(request).users.all()
    return json_response(
        [s.DirectoryEntry(id=u.id, display_name=u.display_name, role=u.role) for u in users if not u.disabled]
    )


# --------------------------------------------------------------------------- admin: queues


def _queue_out(queue: Any, parts: ApiParts) -> s.QueueOut:
    return s.QueueOut(**queue_dict(queue), status=parts.queue_status(queue.id))


async def list_queues(request: Request) -> Response:
    require(request, "agent")
    parts = parts_of(request)
    return json_response([_queue_out(q, parts) for q in await parts.queues.all()])


async def _check_overflow(parts: ApiParts, queue_id: str, overflow_to: str | None) -> None:
    """An overflow target is another queue that exists (the router would send the
    contacts to the offline form instead, silently)."""
    if overflow_to is None:
        return
    if overflow_to == queue_id:
        raise ApiError(422, "invalid", Text("error.queue.overflow_to_itself"))
    if await parts.queues.get(overflow_to) is None:
        raise ApiError(422, "invalid", Text("error.queue.no_overflow_target", queue=overflow_to))


def _check_labels(labels: dict[str, str] | None) -> None:
    for code in labels or {}:
        if not valid_locale(code):
            raise ApiError(422, "invalid", Text("error.unknown_locale", locale=code))


async def create_queue(request: Request) -> Response:
    identity = require(request, "admin")
    body = await body_of(request, s.QueueCreate)
    _check_labels(body.labels)
    parts = parts_of(request)
    if await parts.queues.get(body.id) is not None:
        raise ApiError(409, "exists", Text("error.queue.exists", id=body.id))
    await _check_overflow(parts, body.id, body.overflow_to)
    fields = msgspec.structs.asdict(body)
    fields.pop("id")
    fields["hours"] = msgspec.to_builtins(body.hours) if body.hours else None
    queue = await parts.queues.create(body.id, **fields)
    parts.router_input.submit(ReloadConfig(at=time.time(), what="queues"))
    await audited(request, identity, "queue.create", target_kind="queue", target_id=queue.id)
    return json_response(_queue_out(queue, parts), 201)


async def update_queue(request: Request) -> Response:
    identity = require(request, "admin")
    body = await body_of(request, s.QueueUpdate)
    _check_labels(body.labels)
    parts = parts_of(request)
    changes = s.queue_changes(body)
    await _check_overflow(parts, request.path_params["queue_id"], changes.get("overflow_to"))
    queue = await parts.queues.update(request.path_params["queue_id"], **changes)
    if queue is None:
        raise ApiError(404, "not_found", Text("error.no_such_queue"))
    parts.router_input.submit(ReloadConfig(at=time.time(), what="queues"))
    await audited(
        request, identity, "queue.update", target_kind="queue", target_id=queue.id, changed=sorted(changes)
    )
    return json_response(_queue_out(queue, parts))


# --------------------------------------------------------------------------- contacts


def _may_read(identity: Identity, contact: Contact) -> bool:
    """Supervisors read everything; an agent reads what it handles or handled, and
    what waits in a queue (to take it)."""
    return (
        identity.at_least("supervisor")
        or contact.agent_id == identity.subject
        or (contact.status in ("queued", "offline"))
    )


async def list_contacts(request: Request) -> Response:
    identity = require(request, "agent")
    parts = parts_of(request)
    query = request.query_params
    try:
        limit = min(500, max(1, int(query.get("limit", "100"))))
    except ValueError:
        raise ApiError(422, "invalid", Text("error.limit_not_number")) from None
    agent_id = query.get("agent_id") or None
    if not identity.at_least("supervisor"):
        status = query.get("status")
        if status not in ("queued", "offline"):
            agent_id = identity.subject
    contacts = await parts.contacts.search(
        status=query.get("status") or None,
        agent_id=agent_id,
        visitor_id=query.get("visitor_id") or None,
        limit=limit,
    )
    return json_response(
        s.ContactList(
            contacts=[contact_summary(c, agent_name=await parts.agent_name(c.agent_id)) for c in contacts]
        )
    )


async def get_contact(request: Request) -> Response:
    identity = require(request, "agent")
    parts = parts_of(request)
    contact = await parts.contacts.get(request.path_params["contact_id"])
    if contact is None or not _may_read(identity, contact):
        raise ApiError(404, "not_found", Text("error.no_such_contact"))
    events = await parts.conversation_log.history(contact.id, 0, limit=10_000)
    earlier = [c for c in await parts.contacts.history_for_visitor(contact.visitor_id) if c.id != contact.id]
    return json_response(
        s.ContactDetail(
            contact=contact_summary(
                contact,
                agent_name=await parts.agent_name(contact.agent_id),
                last_seq=events[-1].seq if events else 0,
            ),
            disposition=contact.disposition,
            ended_by=contact.ended_by,
            csat_comment=contact.csat_comment,
            transcript=[
                s.TranscriptEntry(
                    seq=e.seq,
                    kind=e.kind,
                    at=e.created_at,
                    sender_kind=e.sender_kind,
                    sender_id=e.sender_id,
                    sender_name=e.sender_name,
                    body=e.body,
                    data=e.data,
                )
                for e in events
            ],
            earlier_contacts=[
                contact_summary(c, agent_name=await parts.agent_name(c.agent_id)) for c in earlier
            ],
            visitor=await parts.visitors.get(contact.visitor_id),
            offers=[
                s.OfferEntry(
                    agent_id=o.agent_id,
                    agent_name=await parts.agent_name(o.agent_id),
                    offered_at=o.offered_at,
                    answered_at=o.answered_at,
                    outcome=o.outcome,
                    reason=o.reason,
                )
                for o in await parts.offers.of_contact(contact.id)
            ],
            customer=await customer_of(parts, contact.visitor_id),
        )
    )


# --------------------------------------------------------------------------- health


async def health(request: Request) -> Response:
    parts = parts_of(request)
    return json_response(s.Health(status="ok", uptime_s=time.time() - parts.started_at, **parts.describe()))


_ = identity_of, p  # re-exported helpers used by other route modules

ROUTES: list[ApiRoute] = [
    ApiRoute(
        "POST",
        "/api/auth/login",
        login,
        "Log in as an agent, supervisor or admin",
        "auth",
        request=s.LoginRequest,
        response=s.LoginResponse,
    ),
    ApiRoute("GET", "/api/me", me, "Who the token belongs to", "auth", role="agent", response=s.UserOut),
    ApiRoute(
        "PATCH",
        "/api/me",
        update_me,
        "Change your own settings (the language of the staff pages)",
        "auth",
        role="agent",
        request=s.MeUpdate,
        response=s.UserOut,
    ),
    ApiRoute(
        "GET",
        "/api/agents",
        agent_directory,
        "Colleagues to transfer to",
        "agents",
        role="agent",
        response=list[s.DirectoryEntry],
    ),
    ApiRoute(
        "POST",
        "/api/visitor/token",
        visitor_token,
        "Get or renew a visitor token",
        "widget",
        request=s.VisitorTokenRequest,
        response=s.VisitorTokenResponse,
    ),
    ApiRoute(
        "GET",
        "/api/widget/config",
        widget_config,
        "Queues, whether they are open and staffed, and the visitor's language",
        "widget",
        response=s.WidgetConfig,
        query=(
            ("want", "string", "locale tags the page would like, best first (e.g. fa-IR,en)"),
            ("site", "string", "the site's id (data-site on the widget's tag)"),
        ),
    ),
    ApiRoute(
        "POST",
        "/api/visitor/pageviews",
        page_views,
        "Record page views (journey)",
        "widget",
        request=s.PageViewsRequest,
        status=204,
    ),
    ApiRoute(
        "GET",
        "/api/admin/agents",
        list_agents,
        "List agents",
        "admin",
        role="supervisor",
        response=list[s.UserOut],
    ),
    ApiRoute(
        "POST",
        "/api/admin/agents",
        create_agent,
        "Create an agent, supervisor or admin",
        "admin",
        role="admin",
        request=s.AgentCreate,
        response=s.UserOut,
        status=201,
    ),
    ApiRoute(
        "PATCH",
        "/api/admin/agents/{agent_id}",
        update_agent,
        "Change an agent",
        "admin",
        role="admin",
        request=s.AgentUpdate,
        response=s.UserOut,
    ),
    ApiRoute(
        "GET",
        "/api/admin/queues",
        list_queues,
        "List queues with live status",
        "admin",
        role="agent",
        response=list[s.QueueOut],
    ),
    ApiRoute(
        "POST",
        "/api/admin/queues",
        create_queue,
        "Create a queue",
        "admin",
        role="admin",
        request=s.QueueCreate,
        response=s.QueueOut,
        status=201,
    ),
    ApiRoute(
        "PATCH",
        "/api/admin/queues/{queue_id}",
        update_queue,
        "Change a queue",
        "admin",
        role="admin",
        request=s.QueueUpdate,
        response=s.QueueOut,
    ),
    ApiRoute(
        "GET",
        "/api/contacts",
        list_contacts,
        "List contacts",
        "contacts",
        role="agent",
        response=s.ContactList,
        query=(
            ("status", "string", "queued, active, ended, abandoned or offline"),
            ("agent_id", "string", "only this agent's (supervisors)"),
            ("visitor_id", "string", "only this visitor's"),
            ("limit", "integer", "at most this many (1-500, default 100)"),
        ),
    ),
    ApiRoute(
        "GET",
        "/api/contacts/{contact_id}",
        get_contact,
        "A contact with its transcript, the visitor, earlier contacts and every offer to an agent",
        "contacts",
        role="agent",
        response=s.ContactDetail,
    ),
    ApiRoute("GET", "/healthz", health, "Liveness", "ops", response=s.Health),
]
