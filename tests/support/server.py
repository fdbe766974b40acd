"""A real server for integration tests: uvicorn on a free loopback port, in a thread
with its own event loop, with the same WebSocket implementation and limits as
``contact-center serve``."""

from __future__ import annotations

import asyncio
import contextlib
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import uvicorn

from contact_center.app import create_app
from contact_center.settings import Settings, load_settings

ADMIN_PASSWORD = "admin-password-for-tests"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class LiveServer:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.port = settings.port
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.ws_url = f"ws://127.0.0.1:{self.port}"
        self.app = create_app(settings)
        config = uvicorn.Config(
            self.app,
            host="127.0.0.1",
            port=self.port,
            ws="websockets-sansio",
            ws_max_size=settings.max_frame_bytes,
            ws_per_message_deflate=False,
            log_level="warning",
            lifespan="on",
        )
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def start(self) -> None:
        self.thread.start()
        deadline = time.monotonic() + 30
        while not self.server.started:
            if not self.thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("server did not start")
            time.sleep(0.02)

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=15)

    @property
    def services(self) -> Any:
        return self.app.state.services

    def run_in_server(self, coro: Any) -> Any:
        """Run a coroutine on the server's loop (to read its state)."""
        loop = self.server_loop
        return asyncio.run_coroutine_threadsafe(coro, loop).result(timeout=30)

    @property
    def server_loop(self) -> asyncio.AbstractEventLoop:
        loop: asyncio.AbstractEventLoop = self.app.state.loop
        return loop

    # ---------------------------------------------------------------- REST helpers

    def admin_token(self) -> str:
        response = httpx.post(
            self.base_url + "/api/auth/login", json={"username": "admin", "password": ADMIN_PASSWORD}
        )
        response.raise_for_status()
        return str(response.json()["token"])

    def api(self, method: str, path: str, token: str | None = None, **kwargs: Any) -> httpx.Response:
        headers = kwargs.pop("headers", {})
        if token:
            headers["Authorization"] = f"Bearer {token}"
        return httpx.request(method, self.base_url + path, headers=headers, timeout=30, **kwargs)

    def add_queue(self, token: str, queue_id: str, **fields: Any) -> dict[str, Any]:
        response = self.api("POST", "/api/admin/queues", token, json={"id": queue_id, **fields})
        assert response.status_code == 201, response.text
        return dict(response.json())

    def add_agent(
        self, token: str, username: str, password: str = "agent-password", **fields: Any
    ) -> dict[str, Any]:
        response = self.api(
            "POST", "/api/admin/agents", token, json={"username": username, "password": password, **fields}
        )
        assert response.status_code == 201, response.text
        return dict(response.json())

    def login(self, username: str, password: str = "agent-password") -> str:
        response = self.api("POST", "/api/auth/login", json={"username": username, "password": password})
        assert response.status_code == 200, response.text
        return str(response.json()["token"])

    def visitor_token(self, previous: str = "") -> str:
        response = self.api("POST", "/api/visitor/token", json={"token": previous})
        assert response.status_code == 200, response.text
        return str(response.json()["token"])


def server_settings(data_dir: Path, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "data_dir": data_dir,
        "port": free_port(),
        "admin_password": ADMIN_PASSWORD,
        "secret_key": "test-secret-key-0123456789abcdef",
        "router_tick_s": 0.05,
        "visitor_grace_s": 2.0,
        "agent_grace_s": 2.0,
        "hello_timeout_s": 2.0,
    }
    values.update(overrides)
    return load_settings(environ={}, **values)


@contextlib.contextmanager
def live_server(data_dir: Path, **overrides: Any) -> Iterator[LiveServer]:
    server = LiveServer(server_settings(data_dir, **overrides))
    server.start()
    try:
        yield server
    finally:
        server.stop()
