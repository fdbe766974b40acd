"""Frames from the protocol's msgspec structs (valid, then mutated) thrown at a live
server on every socket kind.  Each is answered with an ``error`` frame (or its normal
answer) or a documented close code, never with an unhandled exception in the server's
log or the ``internal`` error code, and the server stays healthy for the next client.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
import websockets
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.fuzz.frames import BINARY, CLIENT_FRAMES, RAW_GARBAGE, encode, mutated_frame, valid_frame
from tests.support.server import LiveServer, live_server

SOCKETS = ("/ws/visitor", "/ws/agent", "/ws/supervisor")
# Close codes docs/protocol.md documents for a bad client; 1011 (a handler crashed) is not one.
DOCUMENTED_CLOSES = {1009, 4401, 4403, 4429}
MAX_FRAME_BYTES = 128 * 1024  # the server's default CC_MAX_FRAME_BYTES
FUZZ = settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck), database=None)

frames = st.one_of(
    st.sampled_from(CLIENT_FRAMES).flatmap(valid_frame).map(encode),
    st.sampled_from(CLIENT_FRAMES).flatmap(mutated_frame).map(encode),
    RAW_GARBAGE,
)


class ErrorLog(logging.Handler):
    """Every ERROR (and worse) the server logs while the fuzzer runs."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)

    def text(self) -> str:
        return "\n".join(self.format(r) for r in self.records[-5:])


@dataclass
class Desk:
    server: LiveServer
    tokens: dict[str, str]
    errors: ErrorLog


@pytest.fixture(scope="module")
def desk(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Desk]:
    errors = ErrorLog()
    errors.setFormatter(logging.Formatter("%(name)s: %(message)s"))
    root = logging.getLogger()
    root.addHandler(errors)
    try:
        with live_server(tmp_path_factory.mktemp("fuzz")) as server:
            admin = server.admin_token()
            server.add_queue(admin, "sales")
            server.add_agent(admin, "alice")
            server.add_agent(admin, "sue", role="supervisor")
            tokens = {
                "/ws/visitor": server.visitor_token(),
                "/ws/agent": server.login("alice"),
                "/ws/supervisor": server.login("sue"),
            }
            yield Desk(server, tokens, errors)
    finally:
        root.removeHandler(errors)


async def _exchange(url: str, token: str | None, raw: str | bytes) -> tuple[list[dict[str, Any]], int | None]:
    """hello (unless ``token`` is None), the fuzz frame, then a ping: what came back,
    up to the pong, and the close code if the server closed instead."""
    events: list[dict[str, Any]] = []
    async with websockets.connect(url, max_size=None, open_timeout=20, close_timeout=5) as ws:
        try:
            if token is not None:
                await ws.send(json.dumps({"type": "hello", "token": token}))
                while json.loads(await asyncio.wait_for(ws.recv(), 20)).get("type") != "welcome":
                    pass
            await ws.send(raw)
            if len(raw) <= MAX_FRAME_BYTES:  # (after an over-size frame, only the close)
                await ws.send(json.dumps({"type": "ping", "id": "probe"}))
            while True:
                event = json.loads(await asyncio.wait_for(ws.recv(), 20))
                events.append(event)
                if event.get("type") == "pong" and event.get("id") == "probe":
                    return events, None
        except websockets.ConnectionClosed:
            await ws.wait_closed()
            return events, ws.close_code


def _healthy(desk: Desk) -> None:
    assert httpx.get(desk.server.base_url + "/healthz", timeout=20).status_code == 200
    events, closed = asyncio.run(
        _exchange(desk.server.ws_url + "/ws/visitor", desk.tokens["/ws/visitor"], "{}")
    )
    assert closed is None and events[-1]["type"] == "pong", "a fresh client is served"


def _judge(desk: Desk, raw: str | bytes, events: list[dict[str, Any]], closed: int | None) -> None:
    internal = [e for e in events if e.get("type") == "error" and e.get("code") == "internal"]
    assert not internal, f"the server failed on {raw[:300]!r}: {internal}\n{desk.errors.text()}"
    assert not desk.errors.records, f"server logged an error for {raw[:300]!r}:\n{desk.errors.text()}"
    for event in events:
        if event.get("type") == "error":
            assert event.get("code") and event.get("message"), event
    if closed is not None:
        assert closed in DOCUMENTED_CLOSES, f"closed {closed} on {raw[:300]!r}"
        if closed == 1009:
            assert len(raw) > desk.server.settings.max_frame_bytes // 4


@pytest.mark.parametrize("path", SOCKETS)
def test_frames_after_hello(desk: Desk, path: str) -> None:
    url = desk.server.ws_url + path

    @given(frames)
    @FUZZ
    def run(raw: str) -> None:
        desk.errors.records.clear()
        events, closed = asyncio.run(_exchange(url, desk.tokens[path], raw))
        _judge(desk, raw, events, closed)

    run()
    _healthy(desk)


@pytest.mark.parametrize("path", SOCKETS)
def test_binary_and_oversized_frames(desk: Desk, path: str) -> None:
    url = desk.server.ws_url + path
    for raw in [*BINARY, "x" * (desk.server.settings.max_frame_bytes + 1)]:
        events, closed = asyncio.run(_exchange(url, desk.tokens[path], raw))
        _judge(desk, raw, events, closed)
    _healthy(desk)


@pytest.mark.parametrize("path", SOCKETS)
def test_frames_before_hello_are_closed_4401(desk: Desk, path: str) -> None:
    url = desk.server.ws_url + path

    @given(frames)
    @settings(max_examples=20, deadline=None, suppress_health_check=list(HealthCheck), database=None)
    def run(raw: str) -> None:
        desk.errors.records.clear()
        events, closed = asyncio.run(_exchange(url, None, raw))
        assert closed in (4401, 1009), (raw[:200], events, closed)
        assert not desk.errors.records, desk.errors.text()

    run()
    _healthy(desk)


def test_replayed_ids_and_wrong_seqs(desk: Desk) -> None:
    """A frame re-sent with its id is applied once (the ack says duplicate, with the
    first seq); seqs out of range are refused or harmless."""
    server = desk.server

    async def scenario() -> None:
        from tests.support.client import WsClient

        admin = server.admin_token()
        agent = await WsClient.connect(server.ws_url + "/ws/agent", server.login("alice"))
        await agent.wait_type("welcome")
        await agent.request({"type": "agent.status", "status": "available"})
        visitor = await WsClient.connect(server.ws_url + "/ws/visitor", server.visitor_token())
        await visitor.wait_type("welcome")
        contact_id = (await visitor.request({"type": "chat.start", "queue": "sales", "name": "R"}))[
            "contact_id"
        ]
        offer = await agent.wait_type("offer", timeout=20)
        await agent.request({"type": "offer.accept", "contact_id": offer["contact"]["id"]})
        await visitor.wait_type("contact.joined", timeout=20)
        frame = {"type": "chat.message", "id": "same-id", "contact_id": contact_id, "body": "once"}
        first = await visitor.request(frame)
        again = await visitor.request({**frame, "body": "twice?"})
        assert again["seq"] == first["seq"] and again.get("duplicate") is True
        for after in (-1, 2**63, 10**30):
            await visitor.send(
                {"type": "sync", "id": f"s{after}", "contact_id": contact_id, "after_seq": after}
            )
        far = await visitor.request({"type": "sync", "contact_id": contact_id, "after_seq": 10**9})
        assert far["seq"] == 10**9 or far["seq"] >= first["seq"]
        await visitor.send({"type": "chat.receipt", "contact_id": contact_id, "seq": 2**40})
        await visitor.send({"type": "chat.receipt", "contact_id": contact_id, "seq": 2**60})
        await visitor.send({"type": "ping", "id": "alive"})
        await visitor.wait_type("pong", id="alive")
        refused = [e for e in visitor.of_type("error") if str(e.get("ref", "")).startswith("s")]
        assert {e["code"] for e in refused} == {"invalid_frame"}, refused
        transcript = server.api("GET", f"/api/contacts/{contact_id}", admin).json()["transcript"]
        assert [e["body"] for e in transcript if e["kind"] == "chat.message"] == ["once"]
        await visitor.close()
        await agent.close()

    asyncio.run(scenario())
    assert not desk.errors.records, desk.errors.text()
    _healthy(desk)
