"""Saved replies over REST: ``/api/saved-replies``.

Who may do what: any agent lists what they may pick and keeps their own personal
replies; shared ones (for one queue, or for every queue) are created, changed and
deleted by supervisors and admins.  A personal reply is its owner's alone: nobody
else sees or changes it (another agent's id answers 404, as if it did not exist).
Changes to shared replies leave an audit entry (they are the team's configuration).
Variables (``{{visitor.name}}`` ...) are stored as typed; the console fills them in.
"""

from __future__ import annotations

from typing import Annotated, Literal

import msgspec
from msgspec import Meta, Struct
from starlette.requests import Request
from starlette.responses import Response

from contact_center.api.audit import audited
from contact_center.api.http import ApiError, ApiRoute, body_of, json_response, parts_of, require
from contact_center.i18n import Text
from contact_center.security import Identity
from contact_center.store.models import SavedReply
from contact_center.store.saved_replies import ReplyExists, saved_reply_dict

MAX_BODY = 4000
Shortcut = Annotated[str, Meta(min_length=1, max_length=32, pattern=r"^[a-z0-9_-]{1,32}$")]
Title = Annotated[str, Meta(min_length=1, max_length=128)]
Body = Annotated[str, Meta(min_length=1, max_length=MAX_BODY)]
ScopeName = Literal["personal", "queue", "global"]
QueueRef = Annotated[str, Meta(min_length=1, max_length=64)]


class SavedReplyCreate(Struct, forbid_unknown_fields=True):
    """``scope``: ``personal`` (yours), ``queue`` (shared with the agents of
    ``queue_id``) or ``global`` (shared with every queue); shared ones need the
    supervisor role.  ``shortcut`` is what follows the ``/`` in the composer, unique
    within its scope.  The body may hold ``{{visitor.name}}``, ``{{agent.name}}`` and
    ``{{queue.name}}``, filled in when the reply is inserted."""

    shortcut: Shortcut
    title: Title
    body: Body
    scope: ScopeName = "personal"
    queue_id: QueueRef | None = None


class SavedReplyUpdate(Struct, forbid_unknown_fields=True, omit_defaults=True):
    """Only the fields sent change (a reply keeps its scope)."""

    shortcut: Shortcut | None = None
    title: Title | None = None
    body: Body | None = None


class SavedReplyOut(Struct):
    """``editable``: whether the caller may change or delete it."""

    id: str
    scope: str
    queue_id: str | None
    owner_id: str | None
    shortcut: str
    title: str
    body: str
    created_by: str
    created_at: float
    updated_at: float
    editable: bool


def _may_edit(identity: Identity, reply: SavedReply) -> bool:
    if reply.scope == "personal":
        return reply.owner_id == identity.subject
    return identity.at_least("supervisor")


def _out(identity: Identity, reply: SavedReply) -> SavedReplyOut:
    return SavedReplyOut(**saved_reply_dict(reply), editable=_may_edit(identity, reply))


def _text(value: str, what: str) -> str:
    """Surrounding blanks go; a title or body of blanks only is refused."""
    value = value.strip()
    if not value:
        raise ApiError(422, "invalid", Text("error.reply.blank", field=what))
    return value


async def _reply_for_change(request: Request, identity: Identity) -> SavedReply:
    reply = await parts_of(request).saved_replies.get(request.path_params["reply_id"])
    if reply is None or (reply.scope == "personal" and reply.owner_id != identity.subject):
        raise ApiError(404, "not_found", Text("error.reply.not_found"))
    if not _may_edit(identity, reply):
        raise ApiError(403, "forbidden", Text("error.reply.shared_needs_supervisor"))
    return reply


async def list_saved_replies(request: Request) -> Response:
    identity = require(request, "agent")
    query = request.query_params
    scope = query.get("scope") or None
    if scope is not None and scope not in ("personal", "queue", "global"):
        raise ApiError(422, "invalid", Text("error.reply.bad_scope"))
    search = query.get("q", "")
    if len(search) > 200:
        raise ApiError(422, "invalid", Text("error.reply.search_too_long", max=200))
    queue_id = query.get("queue") or None
    if queue_id is not None and len(queue_id) > 64:
        raise ApiError(422, "invalid", Text("error.no_queue", queue=queue_id[:64]))
    replies = await parts_of(request).saved_replies.visible(
        identity.subject, queue_id=queue_id, search=search, scope=scope
    )
    return json_response([_out(identity, r) for r in replies])


async def create_saved_reply(request: Request) -> Response:
    identity = require(request, "agent")
    body = await body_of(request, SavedReplyCreate, max_bytes=32_000)
    parts = parts_of(request)
    shared = body.scope != "personal"
    if shared and not identity.at_least("supervisor"):
        raise ApiError(403, "forbidden", Text("error.reply.shared_needs_supervisor"))
    if body.scope == "queue":
        if body.queue_id is None:
            raise ApiError(422, "invalid", Text("error.reply.queue_needed"))
        if await parts.queues.get(body.queue_id) is None:
            raise ApiError(422, "invalid", Text("error.no_queue", queue=body.queue_id))
    elif body.queue_id is not None:
        raise ApiError(422, "invalid", Text("error.reply.queue_only_for_queue_scope"))
    try:
        reply = await parts.saved_replies.create(
            scope=body.scope,
            shortcut=body.shortcut,
            title=_text(body.title, "title"),
            body=_text(body.body, "body"),
            queue_id=body.queue_id or "",
            owner_id=identity.subject,
            created_by=identity.name or identity.subject,
        )
    except ReplyExists:
        raise ApiError(409, "exists", Text("error.reply.exists", shortcut=body.shortcut)) from None
    if shared:
        await audited(
            request,
            identity,
            "saved_reply.create",
            target_kind="saved_reply",
            target_id=reply.id,
            shortcut=reply.shortcut,
            scope=reply.scope,
            queue=reply.queue_id,
        )
    return json_response(_out(identity, reply), 201)


async def update_saved_reply(request: Request) -> Response:
    identity = require(request, "agent")
    body = await body_of(request, SavedReplyUpdate, max_bytes=32_000)
    reply = await _reply_for_change(request, identity)
    changes = {k: v for k, v in msgspec.structs.asdict(body).items() if v is not None}
    for name in ("title", "body"):
        if name in changes:
            changes[name] = _text(changes[name], name)
    try:
        updated = await parts_of(request).saved_replies.update(reply.id, **changes)
    except ReplyExists:
        raise ApiError(409, "exists", Text("error.reply.exists", shortcut=changes["shortcut"])) from None
    if updated is None:
        raise ApiError(404, "not_found", Text("error.reply.not_found"))
    if updated.scope != "personal":
        await audited(
            request,
            identity,
            "saved_reply.update",
            target_kind="saved_reply",
            target_id=updated.id,
            shortcut=updated.shortcut,
            changed=sorted(changes),
        )
    return json_response(_out(identity, updated))


async def delete_saved_reply(request: Request) -> Response:
    identity = require(request, "agent")
    reply = await _reply_for_change(request, identity)
    await parts_of(request).saved_replies.delete(reply.id)
    if reply.scope != "personal":
        await audited(
            request,
            identity,
            "saved_reply.delete",
            target_kind="saved_reply",
            target_id=reply.id,
            shortcut=reply.shortcut,
            scope=reply.scope,
            queue=reply.queue_id,
        )
    return Response(status_code=204)


ROUTES: list[ApiRoute] = [
    ApiRoute(
        "GET",
        "/api/saved-replies",
        list_saved_replies,
        "Saved replies you may use, nearest first: your personal ones, then the queue's, then "
        "those for every queue",
        "saved-replies",
        role="agent",
        response=list[SavedReplyOut],
        query=(
            ("q", "string", "only those whose shortcut, title or body contains this (any case)"),
            ("queue", "string", "only what applies in this queue: yours, its own and those for every queue"),
            ("scope", "string", "only personal, queue or global ones"),
        ),
    ),
    ApiRoute(
        "POST",
        "/api/saved-replies",
        create_saved_reply,
        "Save a reply: a personal one, or (supervisors) one shared with a queue or every queue",
        "saved-replies",
        role="agent",
        request=SavedReplyCreate,
        response=SavedReplyOut,
        status=201,
    ),
    ApiRoute(
        "PATCH",
        "/api/saved-replies/{reply_id}",
        update_saved_reply,
        "Change a saved reply (your own personal one; shared ones: supervisors)",
        "saved-replies",
        role="agent",
        request=SavedReplyUpdate,
        response=SavedReplyOut,
    ),
    ApiRoute(
        "DELETE",
        "/api/saved-replies/{reply_id}",
        delete_saved_reply,
        "Delete a saved reply (your own personal one; shared ones: supervisors)",
        "saved-replies",
        role="agent",
        status=204,
    ),
]
