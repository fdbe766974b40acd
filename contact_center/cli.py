"""The ``contact-center`` command: run the server, manage agents and queues, upgrade
the database."""

from __future__ import annotations

import asyncio
import functools
import inspect
import json
import logging
import os
import sys
import typing
from collections.abc import Awaitable, Callable
from typing import Annotated, Any, TypeVar

import typer

from contact_center.calls.cli import call_bot
from contact_center.journey.cli import app as journey_app
from contact_center.lifecycle.cli import app as lifecycle_app
from contact_center.settings import Settings, load_settings

app = typer.Typer(no_args_is_help=True, help="Omnichannel contact centre backend.")
agents_app = typer.Typer(no_args_is_help=True, help="Agents, supervisors and admins.")
queues_app = typer.Typer(no_args_is_help=True, help="Queues and their routing settings.")
db_app = typer.Typer(no_args_is_help=True, help="The database schema.")
replies_app = typer.Typer(no_args_is_help=True, help="Shared saved replies (the composer's /shortcut).")
app.add_typer(agents_app, name="agents")
app.add_typer(queues_app, name="queues")
app.add_typer(db_app, name="db")
app.add_typer(replies_app, name="replies")
app.add_typer(journey_app)  # demo-data, sites, stage-rules
app.add_typer(lifecycle_app)  # backup, restore, retention, visitors, audit
app.command("call-bot")(call_bot)  # answers calls with a test tone and pattern

T = TypeVar("T")


def _run(settings: Settings, work: Callable[[Any], Awaitable[T]]) -> T:
    """Run ``work(stores)`` against the configured database after migrating it."""
    from contact_center.audit import AuditLog
    from contact_center.store.database import create_engine, upgrade_schema_async
    from contact_center.store.queues import QueueStore
    from contact_center.store.users import UserStore

    async def main() -> T:
        await upgrade_schema_async(settings.resolved_database_url)
        engine = create_engine(settings.resolved_database_url)
        try:
            stores = type(
                "Stores",
                (),
                {
                    "users": UserStore(engine),
                    "queues": QueueStore(engine),
                    "audit": AuditLog(engine),
                    "engine": engine,
                },
            )
            return await work(stores)
        finally:
            await engine.dispose()

    return asyncio.run(main())


async def _audit(stores: Any, action: str, kind: str, target: str, **details: Any) -> None:
    """The audit entry of a change made from the command line (actor ``cli:<os user>``)."""
    from contact_center.audit import Actor

    await stores.audit.record(Actor.cli(), action, target_kind=kind, target_id=target, details=details)


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="Interface to listen on.")] = None,
    port: Annotated[int | None, typer.Option(help="Port to listen on.")] = None,
    role: Annotated[str | None, typer.Option(help="all (default), gateway or router.")] = None,
) -> None:
    """Run the server (embedded default: SQLite file in ./var, in-process bus)."""
    import uvicorn

    from contact_center.app import create_app

    overrides: dict[str, Any] = {}
    if host:
        overrides["host"] = host
    if port:
        overrides["port"] = port
    if role:
        if role not in ("all", "gateway", "router"):
            raise typer.BadParameter("role must be all, gateway or router")
        overrides["role"] = role
    settings = load_settings(**overrides)
    # The database driver runs in helper threads (aiosqlite); with the default 5 ms GIL
    # switch interval every hand-back to the event loop could wait that long.
    sys.setswitchinterval(float(os.environ.get("CC_GIL_SWITCH_S", "0.0005")))
    logging.basicConfig(
        level=settings.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    typer.echo(
        f"contact-center {settings.role} on http://{settings.host}:{settings.port}  (database: "
        f"{settings.resolved_database_url.split('://')[0]}, bus: {settings.bus_url})"
    )
    uvicorn.run(
        create_app(settings),
        host=settings.host,
        port=settings.port,
        ws="websockets-sansio",
        ws_max_size=settings.max_frame_bytes,
        ws_per_message_deflate=False,
        log_level=settings.log_level,
        lifespan="on",
        proxy_headers=True,
    )


def _read_password(password_stdin: bool) -> str:
    if password_stdin:
        password = sys.stdin.readline().rstrip("\n")
    else:
        password = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
    if len(password) < 8:
        raise typer.BadParameter("the password must be at least 8 characters")
    return password


def _skills(spec: str) -> dict[str, int]:
    """ "billing:7,returns" -> {"billing": 7, "returns": 5}."""
    skills: dict[str, int] = {}
    for part in filter(None, (p.strip() for p in spec.split(","))):
        name, _, level = part.partition(":")
        skills[name.strip()] = int(level) if level else 5
    return skills


@agents_app.command("add")
def agents_add(
    name: Annotated[str, typer.Argument(help="Username.")],
    role: Annotated[str, typer.Option(help="agent, supervisor or admin.")] = "agent",
    skills: Annotated[str, typer.Option(help="Skills with proficiency, e.g. billing:7,returns:4.")] = "",
    display_name: Annotated[str, typer.Option(help="Name shown to visitors.")] = "",
    chat_capacity: Annotated[int | None, typer.Option(help="Concurrent chats.")] = None,
    queues: Annotated[str, typer.Option(help="Queues served (comma-separated); empty = all.")] = "",
    languages: Annotated[str, typer.Option(help="Languages, e.g. en,fr.")] = "",
    password_stdin: Annotated[
        bool, typer.Option("--password-stdin", help="Read the password from stdin.")
    ] = False,
) -> None:
    """Add an agent, supervisor or admin (the password is prompted for)."""
    from contact_center.store.users import UserExists

    password = _read_password(password_stdin)
    settings = load_settings()

    async def work(stores: Any) -> None:
        user = await stores.users.create(
            name,
            password,
            role,
            display_name=display_name,
            skills=_skills(skills),
            languages=[x.strip() for x in languages.split(",") if x.strip()],
            capacity={"chat": chat_capacity} if chat_capacity is not None else {},
            queues=[x.strip() for x in queues.split(",") if x.strip()],
        )
        await _audit(stores, "agent.create", "user", user.id, username=name, role=role)

    try:
        _run(settings, work)
    except UserExists:
        typer.echo(f"user {name!r} already exists", err=True)
        raise typer.Exit(1) from None
    except ValueError as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(1) from None
    typer.echo(f"added {role} {name}")


@agents_app.command("list")
def agents_list() -> None:
    """List users as JSON lines."""
    from contact_center.store.users import user_dict

    async def work(stores: Any) -> list[dict[str, Any]]:
        return [user_dict(u) for u in await stores.users.all()]

    for user in _run(load_settings(), work):
        typer.echo(json.dumps(user))


def _csv(spec: str) -> list[str]:
    return [x.strip() for x in spec.split(",") if x.strip()]


# How a running server learns of a change made here (it is not told directly).
_PICKED_UP = (
    "a running server picks this up within CC_CONFIG_POLL_S seconds (30 by default), "
    "or at once on its next admin REST change"
)


@agents_app.command("update")
def agents_update(
    name: Annotated[str, typer.Argument(help="Username.")],
    role: Annotated[str | None, typer.Option(help="agent, supervisor or admin.")] = None,
    display_name: Annotated[str | None, typer.Option(help="Name shown to visitors.")] = None,
    skills: Annotated[
        str | None, typer.Option(help="Replace the skills, e.g. billing:7,returns:4 ('' for none).")
    ] = None,
    chat_capacity: Annotated[int | None, typer.Option(help="Concurrent chats.")] = None,
    voice_capacity: Annotated[int | None, typer.Option(help="Voice calls (0 or 1).")] = None,
    video_capacity: Annotated[int | None, typer.Option(help="Video calls (0 or 1).")] = None,
    queues: Annotated[
        str | None, typer.Option(help="Replace the queues served, comma-separated ('' = every queue).")
    ] = None,
    languages: Annotated[str | None, typer.Option(help="Replace the languages, e.g. en,fr.")] = None,
    disabled: Annotated[
        bool | None,
        typer.Option("--disabled/--enabled", help="Disable (no sign-in, no routing) or enable again."),
    ] = None,
    password_stdin: Annotated[
        bool, typer.Option("--password-stdin", help="Read a new password from stdin.")
    ] = False,
) -> None:
    """Change an agent, supervisor or admin: only the options given change."""
    import msgspec

    from contact_center.api.schemas import AgentUpdate

    changes: dict[str, Any] = {}
    try:
        if role is not None:
            changes["role"] = role
        if display_name is not None:
            changes["display_name"] = display_name
        if skills is not None:
            changes["skills"] = _skills(skills)
        if queues is not None:
            changes["queues"] = _csv(queues)
        if languages is not None:
            changes["languages"] = _csv(languages)
        if disabled is not None:
            changes["disabled"] = disabled
        if password_stdin:
            changes["password"] = _read_password(True)
        msgspec.convert(changes, AgentUpdate)
    except (ValueError, msgspec.ValidationError, typer.BadParameter) as exc:
        typer.echo(f"invalid change: {exc}", err=True)
        raise typer.Exit(1) from None
    capacity = {
        channel: value
        for channel, value in (("chat", chat_capacity), ("voice", voice_capacity), ("video", video_capacity))
        if value is not None
    }
    if not changes and not capacity:
        typer.echo("nothing to change: give at least one option (see --help)", err=True)
        raise typer.Exit(1)

    async def work(stores: Any) -> list[str]:
        user = await stores.users.by_username(name)
        if user is None:
            raise LookupError(f"no user {name!r}")
        if capacity:
            merged = {**(user.capacity or {}), **capacity}
            msgspec.convert({"capacity": merged}, AgentUpdate)
            changes["capacity"] = merged
        unknown = [q for q in changes.get("queues", []) if await stores.queues.get(q) is None]
        if unknown:
            raise LookupError(f"no queue {', '.join(map(repr, unknown))}")
        await stores.users.update(user.id, **changes)
        changed = sorted(changes)
        await _audit(stores, "agent.update", "user", user.id, username=name, changed=changed)
        return changed

    try:
        changed = _run(load_settings(), work)
    except (LookupError, ValueError, msgspec.ValidationError) as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(1) from None
    typer.echo(f"updated {name}: {', '.join(changed)} ({_PICKED_UP})")


def _labels(pairs: list[str]) -> dict[str, str]:
    """--label fa=فروش ... as {"fa": "فروش"}, shipped locales only."""
    from contact_center.i18n.catalogue import check_locale

    labels: dict[str, str] = {}
    for pair in pairs:
        code, sep, text = pair.partition("=")
        if not sep or not text.strip():
            raise ValueError(f"--label wants LOCALE=NAME, not {pair!r}")
        labels[check_locale(code.strip())] = text.strip()
    return labels


@queues_app.command("add")
def queues_add(
    queue_id: Annotated[str, typer.Argument(help="Queue id, e.g. sales.")],
    name: Annotated[str, typer.Option(help="Name shown in the widget's topic list.")] = "",
    description: Annotated[str, typer.Option()] = "",
    strategy: Annotated[
        str, typer.Option(help="longest_idle, least_occupied, round_robin, best_skill or manual.")
    ] = "longest_idle",
    skills: Annotated[str, typer.Option(help="Required skills, comma-separated.")] = "",
    priority: Annotated[int, typer.Option()] = 0,
    sl_target: Annotated[float, typer.Option(help="Service-level target T in seconds.")] = 20.0,
    offer_timeout: Annotated[float, typer.Option(help="Seconds an agent has to accept.")] = 20.0,
    max_wait: Annotated[float | None, typer.Option(help="Overflow after this many seconds.")] = None,
    overflow_to: Annotated[
        str | None, typer.Option(help="Queue to overflow to (default: offline form).")
    ] = None,
    ageing: Annotated[
        float | None, typer.Option(help="Seconds per priority step gained while waiting.")
    ] = None,
    wrap_up: Annotated[float, typer.Option(help="After-contact work seconds.")] = 0.0,
    hours: Annotated[
        str,
        typer.Option(
            help="Business hours JSON, e.g. "
            '{"timezone": "Europe/Paris", "spans": [{"weekday": 0, "opens": "09:00", "closes": "17:00"}]}'
        ),
    ] = "",
    label: Annotated[
        list[str] | None,
        typer.Option(
            "--label", help="The name in another language, LOCALE=NAME (repeatable): --label fa=فروش."
        ),
    ] = None,
) -> None:
    """Add a queue."""
    import msgspec

    from contact_center.api.schemas import QueueCreate

    try:
        body = msgspec.convert(
            {
                "id": queue_id,
                "name": name,
                "description": description,
                "strategy": strategy,
                "skills": [x.strip() for x in skills.split(",") if x.strip()],
                "priority": priority,
                "sl_target_s": sl_target,
                "offer_timeout_s": offer_timeout,
                "max_wait_s": max_wait,
                "overflow_to": overflow_to,
                "ageing_s": ageing,
                "wrap_up_s": wrap_up,
                "hours": json.loads(hours) if hours else None,
                "labels": _labels(label or []),
            },
            QueueCreate,
        )
    except (msgspec.ValidationError, json.JSONDecodeError, ValueError) as exc:
        typer.echo(f"invalid queue: {exc}", err=True)
        raise typer.Exit(1) from None

    async def work(stores: Any) -> None:
        if await stores.queues.get(queue_id) is not None:
            raise ValueError(f"queue {queue_id!r} exists")
        fields = msgspec.structs.asdict(body)
        fields.pop("id")
        fields["hours"] = msgspec.to_builtins(body.hours) if body.hours else None
        await stores.queues.create(queue_id, **fields)
        await _audit(stores, "queue.create", "queue", queue_id)

    try:
        _run(load_settings(), work)
    except ValueError as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(1) from None
    typer.echo(f"added queue {queue_id}")


@queues_app.command("list")
def queues_list() -> None:
    """List queues as JSON lines."""
    from contact_center.store.queues import queue_dict

    async def work(stores: Any) -> list[dict[str, Any]]:
        return [queue_dict(q) for q in await stores.queues.all()]

    for queue in _run(load_settings(), work):
        typer.echo(json.dumps(queue))


@queues_app.command("update")
def queues_update(
    queue_id: Annotated[str, typer.Argument(help="Queue id, e.g. sales.")],
    name: Annotated[str | None, typer.Option(help="Name shown in the widget's topic list.")] = None,
    description: Annotated[str | None, typer.Option()] = None,
    strategy: Annotated[
        str | None, typer.Option(help="longest_idle, least_occupied, round_robin, best_skill or manual.")
    ] = None,
    skills: Annotated[str | None, typer.Option(help="Replace the required skills ('' for none).")] = None,
    priority: Annotated[int | None, typer.Option()] = None,
    sl_target: Annotated[float | None, typer.Option(help="Service-level target T in seconds.")] = None,
    offer_timeout: Annotated[float | None, typer.Option(help="Seconds an agent has to accept.")] = None,
    max_wait: Annotated[float | None, typer.Option(help="Overflow after this many seconds.")] = None,
    no_max_wait: Annotated[bool, typer.Option("--no-max-wait", help="Wait without limit.")] = False,
    overflow_to: Annotated[str | None, typer.Option(help="Queue to overflow to.")] = None,
    no_overflow: Annotated[bool, typer.Option("--no-overflow", help="Overflow to the offline form.")] = False,
    ageing: Annotated[
        float | None, typer.Option(help="Seconds per priority step gained while waiting.")
    ] = None,
    no_ageing: Annotated[bool, typer.Option("--no-ageing", help="Turn priority ageing off.")] = False,
    wrap_up: Annotated[float | None, typer.Option(help="After-contact work seconds.")] = None,
    hours: Annotated[
        str | None,
        typer.Option(
            help="Business hours JSON, e.g. "
            '{"timezone": "Europe/Paris", "spans": [{"weekday": 0, "opens": "09:00", "closes": "17:00"}]}'
        ),
    ] = None,
    always_open: Annotated[bool, typer.Option("--always-open", help="Remove the business hours.")] = False,
    position: Annotated[int | None, typer.Option(help="Order in the widget's topic list.")] = None,
    label: Annotated[
        list[str] | None,
        typer.Option(
            "--label",
            help="The name in another language, LOCALE=NAME (repeatable; replaces them): --label fa=فروش.",
        ),
    ] = None,
) -> None:
    """Change a queue: only the options given change."""
    import msgspec

    from contact_center.api.schemas import QueueUpdate, queue_changes

    for given, cleared, flag in (
        (max_wait, no_max_wait, "--max-wait"),
        (overflow_to, no_overflow, "--overflow-to"),
        (ageing, no_ageing, "--ageing"),
        (hours, always_open, "--hours"),
    ):
        if given is not None and cleared:
            typer.echo(f"{flag} contradicts its --no-/--always- option", err=True)
            raise typer.Exit(1)
    raw: dict[str, Any] = {
        "name": name,
        "description": description,
        "strategy": strategy,
        "skills": None if skills is None else _csv(skills),
        "priority": priority,
        "sl_target_s": sl_target,
        "offer_timeout_s": offer_timeout,
        "wrap_up_s": wrap_up,
        "position": position,
    }
    raw = {k: v for k, v in raw.items() if v is not None}
    for field_name, value, cleared in (
        ("max_wait_s", max_wait, no_max_wait),
        ("overflow_to", overflow_to, no_overflow),
        ("ageing_s", ageing, no_ageing),
    ):
        if value is not None or cleared:
            raw[field_name] = value
    try:
        if hours is not None or always_open:
            raw["hours"] = json.loads(hours) if hours is not None else None
        if label is not None:
            raw["labels"] = _labels(label)
        changes = queue_changes(msgspec.convert(raw, QueueUpdate))
    except (msgspec.ValidationError, json.JSONDecodeError, ValueError) as exc:
        typer.echo(f"invalid queue: {exc}", err=True)
        raise typer.Exit(1) from None
    if not changes:
        typer.echo("nothing to change: give at least one option (see --help)", err=True)
        raise typer.Exit(1)

    async def work(stores: Any) -> None:
        if await stores.queues.get(queue_id) is None:
            raise LookupError(f"no queue {queue_id!r}")
        target = changes.get("overflow_to")
        if target is not None and (target == queue_id or await stores.queues.get(target) is None):
            raise LookupError(f"cannot overflow to {target!r}: not another existing queue")
        await stores.queues.update(queue_id, **changes)
        await _audit(stores, "queue.update", "queue", queue_id, changed=sorted(changes))

    try:
        _run(load_settings(), work)
    except (LookupError, ValueError) as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(1) from None
    typer.echo(f"updated queue {queue_id}: {', '.join(sorted(changes))} ({_PICKED_UP})")


# --------------------------------------------------------------------------- saved replies


def _reply_scope(queue: str | None) -> dict[str, str]:
    return {"scope": "queue", "queue_id": queue} if queue else {"scope": "global", "queue_id": ""}


@replies_app.command("add")
def replies_add(
    shortcut: Annotated[str, typer.Argument(help="What follows the / in the composer, e.g. refund.")],
    title: Annotated[str, typer.Option(help="What the picker shows beside the shortcut.")],
    body: Annotated[
        str,
        typer.Option(help="The text, with {{visitor.name}}, {{agent.name}} or {{queue.name}} if wanted."),
    ],
    queue: Annotated[
        str | None, typer.Option(help="Shared with this queue's agents only (default: every queue).")
    ] = None,
) -> None:
    """Add a shared saved reply, for every queue or for one."""
    import msgspec

    from contact_center.api.saved_replies import SavedReplyCreate
    from contact_center.store.saved_replies import ReplyExists, SavedReplyStore

    where = _reply_scope(queue)
    try:
        checked = msgspec.convert(
            {
                "shortcut": shortcut,
                "title": title.strip(),
                "body": body.strip(),
                "scope": where["scope"],
                "queue_id": queue,
            },
            SavedReplyCreate,
        )
    except msgspec.ValidationError as exc:
        typer.echo(f"invalid saved reply: {exc}", err=True)
        raise typer.Exit(1) from None

    async def work(stores: Any) -> str:
        if queue and await stores.queues.get(queue) is None:
            raise LookupError(f"no queue {queue!r}")
        reply = await SavedReplyStore(stores.engine).create(
            scope=checked.scope,
            shortcut=checked.shortcut,
            title=checked.title,
            body=checked.body,
            queue_id=where["queue_id"],
            created_by="cli",
        )
        await _audit(
            stores,
            "saved_reply.create",
            "saved_reply",
            reply.id,
            shortcut=shortcut,
            scope=reply.scope,
            queue=queue,
        )
        return str(reply.id)

    try:
        reply_id = _run(load_settings(), work)
    except ReplyExists:
        typer.echo(
            f"/{shortcut} exists already {'in queue ' + repr(queue) if queue else 'for every queue'}",
            err=True,
        )
        raise typer.Exit(1) from None
    except LookupError as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(1) from None
    typer.echo(f"added /{shortcut} ({'queue ' + queue if queue else 'every queue'}, id {reply_id})")


@replies_app.command("list")
def replies_list(
    queue: Annotated[
        str | None, typer.Option(help="Only what applies in this queue: its own and every queue's.")
    ] = None,
    search: Annotated[str, typer.Option(help="Only those whose shortcut, title or body contains this.")] = "",
) -> None:
    """List the shared saved replies as JSON lines."""
    from contact_center.store.saved_replies import SavedReplyStore, saved_reply_dict

    async def work(stores: Any) -> list[dict[str, Any]]:
        replies = await SavedReplyStore(stores.engine).visible(
            "", queue_id=queue, search=search, shared_only=True
        )
        return [saved_reply_dict(r) for r in replies]

    for reply in _run(load_settings(), work):
        typer.echo(json.dumps(reply, ensure_ascii=False))


@replies_app.command("remove")
def replies_remove(
    shortcut: Annotated[str, typer.Argument(help="The reply's shortcut.")],
    queue: Annotated[
        str | None, typer.Option(help="The queue it is shared with (default: every queue).")
    ] = None,
) -> None:
    """Remove a shared saved reply."""
    from contact_center.store.saved_replies import SavedReplyStore

    where = _reply_scope(queue)

    async def work(stores: Any) -> None:
        replies = SavedReplyStore(stores.engine)
        reply = await replies.find(where["scope"], shortcut, queue_id=where["queue_id"])
        if reply is None:
            raise LookupError(
                f"no shared reply /{shortcut} {'in queue ' + repr(queue) if queue else 'for every queue'}"
            )
        await replies.delete(reply.id)
        await _audit(
            stores,
            "saved_reply.delete",
            "saved_reply",
            reply.id,
            shortcut=shortcut,
            scope=reply.scope,
            queue=queue,
        )

    try:
        _run(load_settings(), work)
    except LookupError as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(1) from None
    typer.echo(f"removed /{shortcut}")


@db_app.command("upgrade")
def db_upgrade(revision: Annotated[str, typer.Argument()] = "head") -> None:
    """Run the schema migrations."""
    from contact_center.store.database import upgrade_schema

    settings = load_settings()
    upgrade_schema(settings.resolved_database_url, revision)
    typer.echo(f"database at {revision}")


def _data_dir_everywhere(typer_app: typer.Typer) -> None:
    """Give every command a ``--data-dir`` option (``CC_DATA_DIR``), shown in its help
    with the default, so any command can work on a server's folder from anywhere: the
    embedded default keeps its SQLite file and generated secret there.  Commands read
    their settings from the environment, so the option sets the variable before the
    command runs."""
    option = typer.Option(
        "--data-dir",
        envvar="CC_DATA_DIR",
        show_envvar=True,
        help="Folder of the embedded database and the generated secret.",
    )
    annotation = Annotated[str, option]
    default = str(Settings().data_dir)

    def wrap(callback: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(callback)
        def with_data_dir(*args: Any, data_dir: str = default, **kwargs: Any) -> Any:
            os.environ["CC_DATA_DIR"] = data_dir
            return callback(*args, **kwargs)

        signature = inspect.signature(callback, eval_str=True)
        parameter = inspect.Parameter(
            "data_dir", inspect.Parameter.KEYWORD_ONLY, default=default, annotation=annotation
        )
        with_data_dir.__signature__ = signature.replace(  # type: ignore[attr-defined]
            parameters=[*signature.parameters.values(), parameter]
        )
        with_data_dir.__annotations__ = {
            **typing.get_type_hints(callback, include_extras=True),
            "data_dir": annotation,
        }
        return with_data_dir

    for info in typer_app.registered_commands:
        if info.callback is not None:
            info.callback = wrap(info.callback)
    for group in typer_app.registered_groups:
        if group.typer_instance is not None:
            _data_dir_everywhere(group.typer_instance)


_data_dir_everywhere(app)


if __name__ == "__main__":  # pragma: no cover
    app()
