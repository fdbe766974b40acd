"""The cluster a soak runs against, and the ways it breaks it.

Everything is a real process on loopback, started and killed here: a throwaway
PostgreSQL cluster of our own (``initdb`` / ``pg_ctl`` from /usr/lib/postgresql/*/bin,
on a free port in a temporary folder: the machine's shared server on 5432 is never
touched, let alone restarted), a private ``redis-server`` (no persistence: a restart
comes back empty, as a crashed cache would), and gateway and router processes of
``contact-center serve``.  The chaos is ``kill -9`` of a gateway or of the active
router (each started again a moment later), a Redis restart, and a PostgreSQL
crash-restart (``pg_ctl restart -m immediate``: recovery from the WAL, as after a
power cut).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import asyncpg
import httpx

ADMIN_PASSWORD = "soak-admin-password"
SECRET = "soak-secret-key-0123456789abcdef0123"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class ServiceMissing(RuntimeError):
    """A binary the soak needs is not installed."""


# --------------------------------------------------------------------------- PostgreSQL


def postgres_bin() -> Path:
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/pg_ctl"), key=lambda p: int(p.parts[-3]))
    if not found:
        raise ServiceMissing("PostgreSQL is not installed (apt install postgresql)")
    return found[-1].parent


class ThrowawayPostgres:
    """A PostgreSQL cluster in ``root`` on a free port, ours to crash."""

    def __init__(self, root: Path) -> None:
        self.bin = postgres_bin()
        # Its own folder directly under the temp dir: the postgres user must reach it,
        # and a test runner may close its own folders (pytest makes them 0700 again).
        self.root = Path(tempfile.mkdtemp(prefix="cc-soak-pg-"))
        self.datadir = self.root / "data"
        self.log = self.root / "postgres.log"
        self.keep_log = root / "postgres.log"  # copied here when it stops
        self.port = free_port()
        # PostgreSQL refuses to run as root; run its tools as its own user then.
        self._as = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []

    @property
    def url(self) -> str:
        return f"postgresql+asyncpg://postgres@127.0.0.1:{self.port}/cc"

    def _run(self, tool: str, *args: str, timeout: float = 120) -> None:
        result = subprocess.run(
            [*self._as, str(self.bin / tool), *args],
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
        if result.returncode != 0:
            raise RuntimeError(
                f"{tool} {' '.join(args)} failed: {result.stderr.strip() or result.stdout.strip()}"
            )

    def init(self) -> None:
        if self._as:
            shutil.chown(self.root, "postgres", "postgres")
        self._run("initdb", "-D", str(self.datadir), "-U", "postgres", "-A", "trust", "-E", "UTF8")
        with (self.datadir / "postgresql.conf").open("a") as conf:
            conf.write(
                f"\nport = {self.port}\nlisten_addresses = '127.0.0.1'\n"
                f"unix_socket_directories = '{self.root}'\nmax_connections = 300\n"
                "fsync = on\nsynchronous_commit = on\nshared_buffers = 64MB\n"
            )

    def start(self) -> None:
        self._run("pg_ctl", "-D", str(self.datadir), "-l", str(self.log), "-w", "-t", "120", "start")

    def crash_restart(self) -> None:
        """Stop without a checkpoint (like a crash), start again, recover from WAL."""
        self._run("pg_ctl", "-D", str(self.datadir), "-m", "immediate", "-w", "-t", "120", "stop")
        self.start()

    def stop(self) -> None:
        with contextlib.suppress(RuntimeError, subprocess.TimeoutExpired):
            self._run("pg_ctl", "-D", str(self.datadir), "-m", "fast", "-w", "-t", "60", "stop")
        with contextlib.suppress(OSError):
            self.keep_log.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(self.log, self.keep_log)
        shutil.rmtree(self.root, ignore_errors=True)

    async def create_database(self) -> None:
        conn = await asyncpg.connect(f"postgresql://postgres@127.0.0.1:{self.port}/postgres", timeout=10)
        try:
            await conn.execute('CREATE DATABASE "cc"')
        finally:
            await conn.close()


# --------------------------------------------------------------------------- Redis


class PrivateRedis:
    def __init__(self, root: Path) -> None:
        if shutil.which("redis-server") is None:
            raise ServiceMissing("redis-server is not installed (apt install redis-server)")
        self.root = root
        self.port = free_port()
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        self.process = subprocess.Popen(
            [
                "redis-server",
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(self.root),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 15
        while True:
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", self.port), 0.5) as s:
                s.sendall(b"PING\r\n")
                if s.recv(16).startswith(b"+PONG"):
                    return
            if time.monotonic() > deadline:
                raise RuntimeError("redis-server did not start")
            time.sleep(0.05)

    def kill(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(10)

    def restart(self) -> None:
        """Gone and back, empty (no persistence): streams, presence, leases lost."""
        self.kill()
        self.start()

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()


# --------------------------------------------------------------------------- server processes


@dataclass
class Node:
    name: str
    role: str
    port: int
    env: dict[str, str]
    log_path: Path
    process: subprocess.Popen[bytes] | None = None
    # Unix times it was killed (to tell which calls lost their owner).
    killed_at: list[float] = field(default_factory=list)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}"

    @property
    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def start(self) -> None:
        log = self.log_path.open("ab")
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "contact_center.cli",
                "serve",
                "--role",
                self.role,
                "--port",
                str(self.port),
            ],
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        log.close()

    async def wait_ready(self, timeout: float = 90) -> None:
        deadline = time.monotonic() + timeout
        async with httpx.AsyncClient(timeout=3) as http:
            while time.monotonic() < deadline:
                if not self.alive:
                    raise RuntimeError(f"{self.name} exited:\n{self.log_path.read_text()[-3000:]}")
                with contextlib.suppress(httpx.HTTPError):
                    if (await http.get(self.base_url + "/healthz")).status_code == 200:
                        return
                await asyncio.sleep(0.1)
        raise RuntimeError(f"{self.name} not ready:\n{self.log_path.read_text()[-3000:]}")

    async def routing(self) -> bool:
        if not self.alive:
            return False
        try:
            async with httpx.AsyncClient(timeout=3) as http:
                return bool((await http.get(self.base_url + "/healthz")).json().get("routing"))
        except (httpx.HTTPError, ValueError):
            return False

    def kill(self) -> None:
        """kill -9: no goodbye, no cleanup."""
        if self.alive:
            assert self.process is not None
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(10)
            self.killed_at.append(time.time())

    def stop(self) -> None:
        if self.alive:
            assert self.process is not None
            self.process.terminate()
            try:
                self.process.wait(20)
            except subprocess.TimeoutExpired:
                self.process.kill()


@dataclass
class Cluster:
    """Gateways and routers on one Redis and one PostgreSQL."""

    root: Path
    gateways: list[Node]
    routers: list[Node]
    redis: PrivateRedis
    postgres: ThrowawayPostgres

    @property
    def nodes(self) -> list[Node]:
        return [*self.gateways, *self.routers]

    def live_gateways(self) -> list[Node]:
        return [node for node in self.gateways if node.alive]

    async def active_router(self, timeout: float = 60) -> Node:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for node in self.routers:
                if await node.routing():
                    return node
            await asyncio.sleep(0.2)
        raise RuntimeError("no router took the lease")

    async def restart_node(self, node: Node, down_s: float, attempts: int = 5) -> None:
        """Start a killed process again, as a process supervisor would (docker's
        restart policy, systemd): a start that fails (PostgreSQL restarting at that
        moment) is retried."""
        await asyncio.sleep(down_s)
        for attempt in range(attempts):
            node.start()
            try:
                await node.wait_ready()
                return
            except RuntimeError:
                if attempt == attempts - 1:
                    raise
                node.stop()
                await asyncio.sleep(2.0)

    def stop(self) -> None:
        for node in self.nodes:
            node.stop()
        self.redis.stop()
        self.postgres.stop()


def node_env(
    root: Path, name: str, port: int, redis_url: str, database_url: str, **extra: str
) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        CC_DATA_DIR=str(root / name),
        CC_BUS_URL=redis_url,
        CC_DATABASE_URL=database_url,
        CC_SECRET_KEY=SECRET,
        CC_ADMIN_PASSWORD=ADMIN_PASSWORD,
        CC_PORT=str(port),
        CC_ROUTER_LEASE_S="2",
        CC_ROUTER_TICK_S="0.1",
        CC_PRESENCE_TTL_S="6",
        CC_VISITOR_GRACE_S="30",
        CC_AGENT_GRACE_S="30",
        CC_RECONNECT_GRACE_S="30",
        CC_LOG_LEVEL="warning",
    )
    env.update(extra)
    return env


async def start_cluster(root: Path, gateways: int, routers: int) -> Cluster:
    postgres = ThrowawayPostgres(root / "pg")
    redis = PrivateRedis(root / "redis")
    await asyncio.to_thread(postgres.init)
    await asyncio.to_thread(postgres.start)
    await postgres.create_database()
    redis.start()

    def make(name: str, role: str) -> Node:
        port = free_port()
        env = node_env(root, name, port, redis.url, postgres.url)
        return Node(name, role, port, env, root / f"{name}.log")

    made = Cluster(
        root,
        [make(f"gateway{i}", "gateway") for i in range(gateways)],
        [make(f"router{i}", "router") for i in range(routers)],
        redis,
        postgres,
    )
    try:
        # The first gateway migrates the database and creates the admin; then the rest.
        first = made.gateways[0]
        first.start()
        await first.wait_ready()
        for node in made.nodes[1:]:
            node.start()
        for node in made.nodes[1:]:
            await node.wait_ready()
        await made.active_router()
    except BaseException:
        made.stop()
        raise
    return made
