"""Several real server processes on loopback sharing Redis and PostgreSQL: the
topology of docker-compose.yml, proven without Docker."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from tests.support.server import ADMIN_PASSWORD, free_port

SECRET = "cluster-test-secret-0123456789abcdef"


@dataclass
class Node:
    name: str
    port: int
    role: str
    env: dict[str, str]
    log_path: Path
    process: subprocess.Popen[bytes] | None = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}"

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

    def wait_ready(self, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self.process is not None
            if self.process.poll() is not None:
                raise RuntimeError(f"{self.name} exited:\n{self.log_path.read_text()[-3000:]}")
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(self.base_url + "/healthz", timeout=2).status_code == 200:
                    return
            time.sleep(0.1)
        raise RuntimeError(f"{self.name} not ready:\n{self.log_path.read_text()[-3000:]}")

    def kill(self) -> None:
        """kill -9: no goodbye, no cleanup."""
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(10)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                self.process.kill()

    @property
    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None


@dataclass
class Cluster:
    nodes: list[Node] = field(default_factory=list)

    def node(self, name: str) -> Node:
        return next(n for n in self.nodes if n.name == name)

    def api(
        self, method: str, path: str, token: str | None = None, node: int = 0, **kwargs: Any
    ) -> httpx.Response:
        headers = kwargs.pop("headers", {})
        if token:
            headers["Authorization"] = f"Bearer {token}"
        live = [n for n in self.nodes if n.alive]
        return httpx.request(method, live[node].base_url + path, headers=headers, timeout=30, **kwargs)

    def admin_token(self) -> str:
        response = self.api("POST", "/api/auth/login", json={"username": "admin", "password": ADMIN_PASSWORD})
        response.raise_for_status()
        return str(response.json()["token"])

    def login(self, username: str, password: str = "agent-password") -> str:
        response = self.api("POST", "/api/auth/login", json={"username": username, "password": password})
        response.raise_for_status()
        return str(response.json()["token"])

    def visitor_token(self) -> str:
        return str(self.api("POST", "/api/visitor/token", json={}).json()["token"])

    def router_holder(self, redis_url: str) -> str | None:
        import redis

        value = redis.Redis.from_url(redis_url).get("cc:router:lease")
        return value.decode() if value else None


@contextlib.contextmanager
def cluster(
    tmp_path: Path, redis_url: str, database_url: str, roles: list[str], **settings: str
) -> Iterator[Cluster]:
    env = dict(os.environ)
    env.update(
        CC_BUS_URL=redis_url,
        CC_DATABASE_URL=database_url,
        CC_SECRET_KEY=SECRET,
        CC_ADMIN_PASSWORD=ADMIN_PASSWORD,
        CC_ROUTER_LEASE_S="2",
        CC_ROUTER_TICK_S="0.1",
        CC_VISITOR_GRACE_S="3",
        CC_AGENT_GRACE_S="3",
        CC_LOG_LEVEL="info",
    )
    env.update({f"CC_{k.upper()}": v for k, v in settings.items()})
    made = Cluster()
    for i, role in enumerate(roles):
        node_env = dict(env, CC_DATA_DIR=str(tmp_path / f"node{i}"))
        made.nodes.append(Node(f"node{i}", free_port(), role, node_env, tmp_path / f"node{i}.log"))
    try:
        # The first node migrates the database; start it alone, then the rest.
        made.nodes[0].start()
        made.nodes[0].wait_ready()
        for node in made.nodes[1:]:
            node.start()
        for node in made.nodes[1:]:
            node.wait_ready()
        yield made
    except BaseException:
        # What each process said is the only witness of a cluster failure: shown with
        # the test's output (pytest prints a failing test's stdout).
        for node in made.nodes:
            if node.log_path.exists():
                print(f"----- {node.name} ({node.role}) log tail -----")
                print(node.log_path.read_text(errors="replace")[-6000:])
        raise
    finally:
        for node in made.nodes:
            node.stop()
