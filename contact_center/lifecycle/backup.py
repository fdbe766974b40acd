"""Backups of the database.

The embedded SQLite file is copied with SQLite's online backup API (the one
``sqlite3.Connection.backup`` wraps), in a single step: that step is one read
transaction, and in WAL mode a read transaction sees one consistent snapshot while the
server goes on writing.  So a backup taken while visitors chat holds every message
committed (and so acknowledged) before it began, and no half of anything.  The copy is
checked (``PRAGMA integrity_check``) before it is called a backup.

A restore copies a backup back into the live file the same way (the server must be
stopped: its caches would not know), keeps what was there before beside it, and
migrates the result to the current schema.

PostgreSQL is backed up with its own tools: ``pg_dump --format=custom`` and
``pg_restore --clean --if-exists`` (run here when they are on the PATH; the README
shows the commands for doing it by hand).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import sqlite3
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urlsplit

from contact_center.store.database import is_sqlite


class BackupError(Exception):
    pass


@dataclass(frozen=True, slots=True)
class BackupInfo:
    path: Path
    bytes: int
    seconds: float
    revision: str
    tables: dict[str, int]


def sqlite_path(url: str) -> Path:
    """The file of a ``sqlite+aiosqlite:///...`` URL."""
    if not is_sqlite(url) or "///" not in url:
        raise BackupError(f"not a SQLite file URL: {url.split('://')[0]}://...")
    return Path(url.split("///", 1)[1].split("?", 1)[0])


def _describe(conn: sqlite3.Connection) -> tuple[str, dict[str, int]]:
    names = [
        row[0]
        for row in conn.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name"
        )
    ]
    tables = {name: int(conn.execute(f'SELECT count(*) FROM "{name}"').fetchone()[0]) for name in names}
    revision = ""
    if "alembic_version" in names:
        row = conn.execute("SELECT version_num FROM alembic_version").fetchone()
        revision = str(row[0]) if row else ""
    return revision, tables


def _check(conn: sqlite3.Connection, what: str) -> None:
    result = conn.execute("PRAGMA integrity_check").fetchone()[0]
    if result != "ok":
        raise BackupError(f"{what} failed its integrity check: {result}")


def backup_sqlite(database: Path, out: Path) -> BackupInfo:
    """Copy the live database ``database`` to ``out`` (which must not exist)."""
    if not database.exists():
        raise BackupError(f"no database at {database}")
    if out.exists():
        raise BackupError(f"{out} exists; choose a new file")
    out.parent.mkdir(parents=True, exist_ok=True)
    partial = out.with_name(out.name + ".partial")
    partial.unlink(missing_ok=True)
    started = time.monotonic()
    source = sqlite3.connect(database, timeout=30)
    try:
        target = sqlite3.connect(partial)
        try:
            # pages=-1: everything in one step, i.e. one snapshot.
            source.backup(target, pages=-1)
            target.execute("PRAGMA journal_mode=DELETE")  # a single self-contained file
            _check(target, "the backup")
            revision, tables = _describe(target)
        finally:
            target.close()
    finally:
        source.close()
    os.replace(partial, out)
    return BackupInfo(out, out.stat().st_size, time.monotonic() - started, revision, tables)


def restore_sqlite(backup: Path, database: Path) -> tuple[BackupInfo, Path | None]:
    """Replace the contents of ``database`` with ``backup``.  Returns what was restored
    and where the previous contents were kept (None if there was no database)."""
    if not backup.exists():
        raise BackupError(f"no backup at {backup}")
    started = time.monotonic()
    source = sqlite3.connect(f"file:{backup}?mode=ro", uri=True)
    try:
        _check(source, "the backup")
        revision, tables = _describe(source)
        if not revision:
            raise BackupError(f"{backup} is not a contact-center database (no alembic_version)")
        kept: Path | None = None
        database.parent.mkdir(parents=True, exist_ok=True)
        if database.exists():
            kept = database.with_name(f"{database.name}.before-restore-{time.strftime('%Y%m%d-%H%M%S')}")
            backup_sqlite(database, kept)
        target = sqlite3.connect(database, timeout=30)
        try:
            source.backup(target, pages=-1)
            target.execute("PRAGMA journal_mode=WAL")
            _check(target, "the restored database")
        finally:
            target.close()
    finally:
        source.close()
    info = BackupInfo(database, database.stat().st_size, time.monotonic() - started, revision, tables)
    return info, kept


# --------------------------------------------------------------------------- PostgreSQL


def _libpq(url: str) -> tuple[str, dict[str, str]]:
    """A libpq connection string for pg_dump (without the password, which goes in
    PGPASSWORD so it is not on the command line)."""
    parts = urlsplit(url.replace("postgresql+asyncpg://", "postgresql://", 1))
    env = dict(os.environ)
    if parts.password:
        env["PGPASSWORD"] = unquote(parts.password)
    netloc = parts.hostname or ""
    if parts.username:
        netloc = f"{parts.username}@{netloc}"
    if parts.port:
        netloc = f"{netloc}:{parts.port}"
    return f"postgresql://{netloc}{parts.path}", env


def _tool(name: str) -> str:
    found = shutil.which(name)
    if found is None:
        for candidate in sorted(Path("/usr/lib/postgresql").glob(f"*/bin/{name}"), reverse=True):
            return str(candidate)
        raise BackupError(f"{name} is not installed (apt install postgresql-client)")
    return found


def backup_postgres(url: str, out: Path) -> BackupInfo:
    if out.exists():
        raise BackupError(f"{out} exists; choose a new file")
    dsn, env = _libpq(url)
    started = time.monotonic()
    partial = out.with_name(out.name + ".partial")
    result = subprocess.run(
        [_tool("pg_dump"), "--format=custom", "--no-owner", f"--file={partial}", dsn],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        with contextlib.suppress(FileNotFoundError):
            partial.unlink()
        raise BackupError(f"pg_dump failed: {result.stderr.strip()}")
    os.replace(partial, out)
    return BackupInfo(out, out.stat().st_size, time.monotonic() - started, "", {})


def restore_postgres(backup: Path, url: str) -> BackupInfo:
    if not backup.exists():
        raise BackupError(f"no backup at {backup}")
    dsn, env = _libpq(url)
    started = time.monotonic()
    result = subprocess.run(
        [
            _tool("pg_restore"),
            "--clean",
            "--if-exists",
            "--no-owner",
            "--single-transaction",
            f"--dbname={dsn}",
            str(backup),
        ],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        raise BackupError(f"pg_restore failed: {result.stderr.strip()}")
    return BackupInfo(backup, backup.stat().st_size, time.monotonic() - started, "", {})


def backup(url: str, out: Path) -> BackupInfo:
    return backup_sqlite(sqlite_path(url), out) if is_sqlite(url) else backup_postgres(url, out)
