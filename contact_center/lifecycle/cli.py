"""Data-lifecycle and audit commands of ``contact-center``: ``backup``, ``restore``,
``retention run``, ``visitors export`` / ``erase`` and ``audit list``.  Merged into the
main command by one ``add_typer`` in :mod:`contact_center.cli`."""

from __future__ import annotations

import json
import sys
from collections.abc import Awaitable, Callable
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer

from contact_center.settings import load_settings

app = typer.Typer()
retention_app = typer.Typer(no_args_is_help=True, help="Deleting transcripts past the retention period.")
visitors_app = typer.Typer(no_args_is_help=True, help="One visitor's data: export it or erase it.")
audit_app = typer.Typer(no_args_is_help=True, help="The audit log of staff actions.")
app.add_typer(retention_app, name="retention")
app.add_typer(visitors_app, name="visitors")
app.add_typer(audit_app, name="audit")

T = TypeVar("T")


def _run(work: Callable[[Any], Awaitable[T]], migrate: bool = True) -> T:
    """Run ``work(engine)`` against the configured database (the database layer is
    imported here, not at start, so ``--help`` stays quick)."""
    from contact_center.store.database import run_on_database

    return run_on_database(load_settings().resolved_database_url, work, migrate=migrate)


async def _audit(engine: Any, action: str, kind: str, target: str, **details: Any) -> None:
    from contact_center.audit import record_cli_change

    await record_cli_change(engine, action, kind, target, **details)


def _fail(message: str) -> typer.Exit:
    typer.echo(message, err=True)
    return typer.Exit(1)


# --------------------------------------------------------------------------- backup


@app.command()
def backup(
    out: Annotated[Path, typer.Argument(help="The file to write (must not exist).")],
) -> None:
    """Back up the database while the server runs.  SQLite (the embedded default): a
    consistent copy through SQLite's online backup API.  PostgreSQL: pg_dump
    --format=custom (restore with `contact-center restore` or pg_restore)."""
    from contact_center.lifecycle.backup import BackupError
    from contact_center.lifecycle.backup import backup as take

    settings = load_settings()
    try:
        info = take(settings.resolved_database_url, out)
    except BackupError as exc:
        raise _fail(str(exc)) from None

    async def log(engine: Any) -> None:
        await _audit(engine, "backup.create", "file", str(out.resolve()), bytes=info.bytes)

    _run(log, migrate=False)
    counts = ", ".join(f"{k} {v}" for k, v in info.tables.items() if k != "alembic_version")
    typer.echo(f"backed up to {out} ({info.bytes:,} bytes in {info.seconds:.2f} s)")
    if info.revision:
        typer.echo(f"schema {info.revision}; {counts}")


@app.command()
def restore(
    backup_file: Annotated[Path, typer.Argument(help="A file made by `contact-center backup`.")],
    yes: Annotated[bool, typer.Option("--yes", help="Do not ask for confirmation.")] = False,
) -> None:
    """Replace the database with a backup.  Stop the server first.  SQLite: the current
    file is kept beside it (.before-restore-<time>); PostgreSQL: pg_restore --clean.
    The result is migrated to this version's schema."""
    from contact_center.lifecycle.backup import BackupError, restore_postgres, restore_sqlite, sqlite_path
    from contact_center.store.database import is_sqlite, upgrade_schema

    settings = load_settings()
    url = settings.resolved_database_url
    if not yes and not typer.confirm(
        f"Replace the database ({url.split('://')[0]}) with {backup_file}? The server must be stopped."
    ):
        raise typer.Exit(1)
    try:
        if is_sqlite(url):
            info, kept = restore_sqlite(backup_file, sqlite_path(url))
            if kept is not None:
                typer.echo(f"kept the previous database as {kept}")
        else:
            info = restore_postgres(backup_file, url)
    except BackupError as exc:
        raise _fail(str(exc)) from None
    upgrade_schema(url)

    async def log(engine: Any) -> None:
        await _audit(engine, "backup.restore", "file", str(backup_file.resolve()), revision=info.revision)

    _run(log, migrate=False)
    typer.echo(f"restored {backup_file} ({info.bytes:,} bytes in {info.seconds:.2f} s)")


# --------------------------------------------------------------------------- retention


@retention_app.command("run")
def retention_run(
    days: Annotated[
        float | None,
        typer.Option(
            help="Delete transcripts closed more than this many days ago (default CC_RETENTION_DAYS)."
        ),
    ] = None,
) -> None:
    """Delete old transcripts now (the figures the dashboard and reports need are kept)."""
    from contact_center.audit import Actor
    from contact_center.lifecycle.retention import run_retention

    period = days if days is not None else float(load_settings().retention_days)
    if period <= 0:
        raise _fail("give --days (CC_RETENTION_DAYS is 0: keep forever)")

    result = _run(lambda engine: run_retention(engine, period, Actor.cli()))
    typer.echo(
        f"deleted the transcripts of {result.contacts} contacts ({result.events} events) closed before "
        f"{datetime.fromtimestamp(result.cutoff).isoformat(timespec='seconds')}"
    )


# --------------------------------------------------------------------------- visitors


@visitors_app.command("export")
def visitors_export(
    visitor_id: Annotated[str, typer.Argument(help="The visitor's id (as in the console and the API).")],
    out: Annotated[Path | None, typer.Option(help="Write to this file instead of stdout.")] = None,
) -> None:
    """Everything held about one visitor, as JSON."""
    from contact_center.lifecycle.visitors import VisitorNotFound, export_visitor

    async def work(engine: Any) -> dict[str, Any]:
        data = await export_visitor(engine, visitor_id)
        await _audit(engine, "visitor.export", "visitor", visitor_id, contacts=len(data["contacts"]))
        return data

    try:
        data = _run(work)
    except VisitorNotFound:
        raise _fail(f"no visitor {visitor_id!r}") from None
    text = json.dumps(data, indent=2, ensure_ascii=False, default=str)
    if out is None:
        sys.stdout.write(text + "\n")
    else:
        out.write_text(text + "\n", encoding="utf-8")
        typer.echo(f"wrote {out}", err=True)


@visitors_app.command("erase")
def visitors_erase(
    visitor_id: Annotated[str, typer.Argument(help="The visitor's id.")],
    yes: Annotated[bool, typer.Option("--yes", help="Do not ask for confirmation.")] = False,
) -> None:
    """Erase one visitor: transcripts deleted, personal text blanked, figures kept under
    a new anonymous id."""
    from contact_center.lifecycle.visitors import VisitorBusy, VisitorNotFound, erase_visitor

    if not yes and not typer.confirm(f"Erase visitor {visitor_id}? This cannot be undone."):
        raise typer.Exit(1)

    async def work(engine: Any) -> dict[str, Any]:
        result = await erase_visitor(engine, visitor_id)
        await _audit(engine, "visitor.erase", "visitor", visitor_id, **result)
        return result

    try:
        result = _run(work)
    except VisitorNotFound:
        raise _fail(f"no visitor {visitor_id!r}") from None
    except VisitorBusy:
        raise _fail("the visitor has an open conversation; end it first") from None
    typer.echo(json.dumps(result))


# --------------------------------------------------------------------------- audit


def _moment(text: str | None) -> float | None:
    if not text:
        return None
    try:
        return float(text)
    except ValueError:
        pass
    try:
        return datetime.fromisoformat(text).timestamp()
    except ValueError:
        raise typer.BadParameter(f"not a Unix time or ISO 8601 date: {text!r}") from None


@audit_app.command("list")
def audit_list(
    since: Annotated[str | None, typer.Option(help="From this time (ISO 8601 or Unix seconds).")] = None,
    until: Annotated[str | None, typer.Option(help="Before this time.")] = None,
    action: Annotated[
        str | None, typer.Option(help="One action (auth.login) or a family ending in '.' (queue.).")
    ] = None,
    actor: Annotated[str | None, typer.Option(help="Only this user id's actions.")] = None,
    target: Annotated[
        str | None, typer.Option(help="Only actions on this id (account name for sign-ins).")
    ] = None,
    limit: Annotated[int, typer.Option(min=1, max=100_000, help="At most this many, newest first.")] = 100,
) -> None:
    """The audit log as JSON lines, newest first."""
    from contact_center.audit import AuditLog, entry_dict

    async def work(engine: Any) -> list[dict[str, Any]]:
        rows = await AuditLog(engine).entries(
            since=_moment(since),
            until=_moment(until),
            action=action,
            actor_id=actor,
            target_id=target,
            limit=limit,
        )
        return [entry_dict(r) for r in rows]

    for entry in _run(work):
        entry["time"] = datetime.fromtimestamp(entry["at"]).astimezone().isoformat(timespec="seconds")
        typer.echo(json.dumps(entry, ensure_ascii=False))
