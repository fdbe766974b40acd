"""The database engine and schema migrations.

SQLite (through aiosqlite) is the embedded default and PostgreSQL (through asyncpg) the
production store; both sit behind SQLAlchemy's async engine so the same queries run on
either.  The schema is only ever created by Alembic migrations, never by
``create_all``, so an install upgraded in place ends with the same schema as a new one.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, TypeVar

from alembic import command
from alembic.config import Config
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

MIGRATIONS_DIR = Path(__file__).resolve().parent.parent / "migrations"


def is_sqlite(url: str) -> bool:
    return url.startswith("sqlite")


def create_engine(url: str, **kwargs: Any) -> AsyncEngine:
    """An async engine with the per-dialect settings this application relies on."""
    if is_sqlite(url):
        Path(url.split("///", 1)[1]).parent.mkdir(parents=True, exist_ok=True) if "///" in url else None
        engine = create_async_engine(url, connect_args={"timeout": 30}, **kwargs)

        @event.listens_for(engine.sync_engine, "connect")
        def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
            # WAL lets readers run beside the single writer; synchronous=FULL makes a
            # commit durable before we acknowledge a message to a client.
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=FULL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA busy_timeout=30000")
            cursor.close()

        return engine
    kwargs.setdefault("pool_size", 10)
    kwargs.setdefault("max_overflow", 20)
    kwargs.setdefault("pool_pre_ping", True)
    # A connection whose server went away mid-query (a crash-restart) must not hold
    # its pool slot forever: connecting and each statement are bounded.
    kwargs.setdefault("connect_args", {"timeout": 10, "command_timeout": 120})
    return create_async_engine(url, **kwargs)


def alembic_config(url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def upgrade_schema(url: str, revision: str = "head") -> None:
    """Run the migrations up to ``revision`` (blocking; run it in a thread from async
    code: Alembic's async env starts its own event loop)."""
    command.upgrade(alembic_config(url), revision)


async def upgrade_schema_async(url: str, revision: str = "head") -> None:
    await asyncio.to_thread(upgrade_schema, url, revision)


T = TypeVar("T")


def run_on_database(url: str, work: Callable[[AsyncEngine], Awaitable[T]], *, migrate: bool = True) -> T:
    """Run ``work(engine)`` to completion against ``url`` (migrated first unless told
    not to): what each command-line command does, in one place."""

    async def main() -> T:
        if migrate:
            await upgrade_schema_async(url)
        engine = create_engine(url)
        try:
            return await work(engine)
        finally:
            await engine.dispose()

    return asyncio.run(main())
