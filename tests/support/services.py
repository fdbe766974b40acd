"""Real Redis and PostgreSQL for the ``services`` tests.

Redis: ``CC_TEST_REDIS_URL`` if set, else a private ``redis-server`` started on a free
port (nothing on disk).  PostgreSQL: ``CC_TEST_DATABASE_URL`` (a server to create
throwaway databases on), else a server on 127.0.0.1:5432 if one answers.  A missing
service skips the test with the reason, unless ``CC_REQUIRE_SERVICES=1`` (CI), where
it fails.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import subprocess
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import asyncpg
import pytest
import redis

from tests.support.server import free_port

REQUIRED = os.environ.get("CC_REQUIRE_SERVICES") == "1"
DEFAULT_PG = "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres"


def unavailable(reason: str) -> None:
    if REQUIRED:
        pytest.fail(f"CC_REQUIRE_SERVICES=1 but {reason}")
    pytest.skip(reason)


@dataclass
class RedisServer:
    url: str
    process: subprocess.Popen[bytes] | None
    port: int
    workdir: Path | None

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.process.wait(5)
            if self.process.poll() is None:
                self.process.kill()

    def kill(self) -> None:
        if self.process is not None:
            self.process.kill()
            self.process.wait(5)

    def restart(self) -> None:
        """Start again on the same port (after ``kill``), empty."""
        assert self.workdir is not None, "only a redis-server we started can be restarted"
        self.process = _spawn_redis(self.port, self.workdir)


def _spawn_redis(port: int, workdir: Path) -> subprocess.Popen[bytes]:
    process = subprocess.Popen(
        [
            "redis-server",
            "--port",
            str(port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
            "--dir",
            str(workdir),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    client = redis.Redis(host="127.0.0.1", port=port)
    deadline = time.monotonic() + 10
    while True:
        try:
            client.ping()
            return process
        except redis.ConnectionError:
            if time.monotonic() > deadline or process.poll() is not None:
                raise RuntimeError("redis-server did not start") from None
            time.sleep(0.05)


@contextlib.contextmanager
def redis_server(tmp_path: Path) -> Iterator[RedisServer]:
    url = os.environ.get("CC_TEST_REDIS_URL")
    if url:
        redis.Redis.from_url(url).flushdb()
        yield RedisServer(url, None, 0, None)
        return
    if shutil.which("redis-server") is None:
        unavailable("redis-server is not installed (apt install redis-server) and CC_TEST_REDIS_URL is unset")
    port = free_port()
    workdir = tmp_path / "redis"
    workdir.mkdir(exist_ok=True)
    server = RedisServer(f"redis://127.0.0.1:{port}/0", _spawn_redis(port, workdir), port, workdir)
    try:
        yield server
    finally:
        server.stop()


def _asyncpg_dsn(url: str) -> str:
    return url.replace("postgresql+asyncpg://", "postgresql://", 1)


async def _pg_admin(url: str, sql: str) -> None:
    conn = await asyncpg.connect(_asyncpg_dsn(url), timeout=5)
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


@contextlib.contextmanager
def postgres_database() -> Iterator[str]:
    """A fresh, empty database; dropped afterwards.  Yields its SQLAlchemy URL."""
    base = os.environ.get("CC_TEST_DATABASE_URL", DEFAULT_PG)
    try:
        asyncio.run(_pg_admin(base, "select 1"))
    except (OSError, asyncpg.PostgresError, TimeoutError) as exc:
        unavailable(f"no PostgreSQL at {base.split('@')[-1]} ({exc}); set CC_TEST_DATABASE_URL")
    name = f"cc_test_{uuid.uuid4().hex[:12]}"
    asyncio.run(_pg_admin(base, f'CREATE DATABASE "{name}"'))
    url = base.rsplit("/", 1)[0] + "/" + name
    try:
        yield url
    finally:
        with contextlib.suppress(Exception):
            asyncio.run(_pg_admin(base, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
