"""Bad input gets a clear error and loses nothing; wrong tokens, floods and over-size
frames are refused; a visitor can never reach another visitor's conversation."""

from __future__ import annotations

import asyncio
import json

import pytest

from tests.support.client import ProtocolError, WsClient
from tests.support.server import LiveServer


async def _visitor_with_chat(server: LiveServer, name: str = "Vic") -> tuple[WsClient, str]:
    visitor = await WsClient.connect(server.ws_url + "/ws/visitor", server.visitor_token())
    await visitor.wait_type("welcome")
    ack = await visitor.request({"type": "chat.start", "queue": "help", "name": name})
    return visitor, ack["contact_id"]


@pytest.fixture
def help_queue(server: LiveServer) -> str:
    admin = server.admin_token()
    server.add_queue(admin, "help")
    return admin


async def test_bad_frames_get_errors_and_the_socket_stays_up(server: LiveServer, help_queue: str) -> None:
    visitor, contact_id = await _visitor_with_chat(server)
    cases: list[tuple[str | bytes, str, str | None]] = [
        ("not json at all", "invalid_json", None),
        ('["a", "list"]', "invalid_json", None),
        (json.dumps({"type": "no.such.type", "id": "x1"}), "unknown_type", "x1"),
        (json.dumps({"type": "chat.message", "id": "x2", "contact_id": contact_id}), "invalid_frame", "x2"),
        (
            json.dumps({"type": "chat.message", "id": "x3", "contact_id": contact_id, "body": ""}),
            "invalid_frame",
            "x3",
        ),
        (
            json.dumps({"type": "chat.message", "id": "x4", "contact_id": contact_id, "body": "b" * 4001}),
            "invalid_frame",
            "x4",
        ),
        (
            json.dumps({"type": "chat.rate", "id": "x5", "contact_id": contact_id, "rating": 9}),
            "invalid_frame",
            "x5",
        ),
        (json.dumps({"type": "offer.accept", "id": "x6", "contact_id": contact_id}), "forbidden", "x6"),
        (json.dumps({"type": "hello", "token": "again"}), "invalid_frame", None),
        # Binary frames are refused even when they hold a valid JSON frame.
        (json.dumps({"type": "ping", "id": "x7"}).encode(), "invalid_json", None),
        (b"\xff\xfe", "invalid_json", None),
    ]
    for raw, code, ref in cases:
        start = len(visitor.events)
        await visitor.send_raw(raw)
        error = await visitor.wait_for(lambda e: e["type"] == "error", since=start)
        assert error["code"] == code, (raw, error)
        assert error.get("ref") == ref, (raw, error)
    # Still alive and still useful.
    ack = await visitor.request({"type": "chat.message", "contact_id": contact_id, "body": "still here"})
    assert ack["seq"] >= 1
    await visitor.close()


async def test_repeated_frame_id_is_applied_once(server: LiveServer, help_queue: str) -> None:
    visitor, contact_id = await _visitor_with_chat(server)
    frame = {"type": "chat.message", "id": "same-id", "contact_id": contact_id, "body": "once"}
    await visitor.send(frame)
    first = await visitor.wait_type("ack", id="same-id")
    await visitor.send(frame)
    second = await visitor.wait_for(
        lambda e: e["type"] == "ack" and e["id"] == "same-id" and e.get("duplicate")
    )
    assert first["seq"] == second["seq"]
    detail = server.api("GET", f"/api/contacts/{contact_id}", help_queue).json()
    assert [e["body"] for e in detail["transcript"] if e["kind"] == "chat.message"] == ["once"]
    await visitor.close()


async def test_visitor_cannot_reach_another_visitors_conversation(
    server: LiveServer, help_queue: str
) -> None:
    alice, alice_contact = await _visitor_with_chat(server, "Alice")
    await alice.request({"type": "chat.message", "contact_id": alice_contact, "body": "my secret"})
    mallory = await WsClient.connect(server.ws_url + "/ws/visitor", server.visitor_token())
    await mallory.wait_type("welcome")
    attempts = [
        {"type": "sync", "id": "m1", "contact_id": alice_contact, "after_seq": 0},
        {"type": "chat.message", "id": "m2", "contact_id": alice_contact, "body": "hi"},
        {"type": "chat.end", "id": "m3", "contact_id": alice_contact},
        {"type": "chat.rate", "id": "m4", "contact_id": alice_contact, "rating": 1},
        {"type": "chat.receipt", "contact_id": alice_contact, "seq": 1},
        {"type": "chat.typing", "contact_id": alice_contact},
    ]
    for frame in attempts:
        start = len(mallory.events)
        await mallory.send(frame)
        error = await mallory.wait_for(lambda e: e["type"] == "error", since=start)
        assert error["code"] == "not_found"
    assert not any(e.get("body") == "my secret" for e in mallory.events)
    # A visitor token cannot be used on the REST API's staff routes either.
    response = server.api("GET", f"/api/contacts/{alice_contact}", server.visitor_token())
    assert response.status_code == 403
    # Alice's conversation is untouched.
    detail = server.api("GET", f"/api/contacts/{alice_contact}", help_queue).json()
    assert detail["contact"]["status"] == "queued"
    assert [e["body"] for e in detail["transcript"]] == ["my secret"]
    await alice.close()
    await mallory.close()


async def test_unauthenticated_and_wrong_tokens_are_closed(server: LiveServer) -> None:
    # No hello at all within the limit.
    silent = await WsClient.connect(server.ws_url + "/ws/agent", None)
    assert (await asyncio.wait_for(silent.closed, 10))[0] == 4401
    # A forged token.
    forged = await WsClient.connect(server.ws_url + "/ws/agent", "eyJhbGciOiJIUzI1NiJ9.e30.bad")
    assert (await asyncio.wait_for(forged.closed, 10))[0] == 4401
    # Something other than hello first.
    eager = await WsClient.connect(server.ws_url + "/ws/agent", None)
    await eager.send({"type": "ping"})
    assert (await asyncio.wait_for(eager.closed, 10))[0] == 4401
    # A visitor token on the agent socket, an agent token on the visitor socket.
    wrong = await WsClient.connect(server.ws_url + "/ws/agent", server.visitor_token())
    assert (await asyncio.wait_for(wrong.closed, 10))[0] == 4403
    admin = server.admin_token()
    wrong2 = await WsClient.connect(server.ws_url + "/ws/visitor", admin)
    assert (await asyncio.wait_for(wrong2.closed, 10))[0] == 4403
    # REST without a token, and an agent on an admin route.
    assert server.api("GET", "/api/admin/agents").status_code == 401
    server.add_agent(admin, "plain")
    agent_token = server.login("plain")
    assert server.api("POST", "/api/admin/queues", agent_token, json={"id": "x"}).status_code == 403
    assert server.api("GET", "/api/admin/agents", agent_token).status_code == 403


async def test_oversize_frame_is_refused_with_1009(server: LiveServer, help_queue: str) -> None:
    visitor, _contact_id = await _visitor_with_chat(server)
    await visitor.send_raw("x" * (server.settings.max_frame_bytes + 1))
    code, _reason = await asyncio.wait_for(visitor.closed, 10)
    assert code == 1009


async def test_flood_is_refused_then_closed_with_4429(server: LiveServer, help_queue: str) -> None:
    visitor, contact_id = await _visitor_with_chat(server)
    frames = [json.dumps({"type": "chat.typing", "contact_id": contact_id}) for _ in range(400)]
    for raw in frames:
        if visitor.closed.done():
            break
        try:
            await visitor.send_raw(raw)
        except Exception:
            break
    code, _reason = await asyncio.wait_for(visitor.closed, 10)
    assert code == 4429
    assert any(e["type"] == "error" and e["code"] == "rate_limited" for e in visitor.events)


async def test_disallowed_origin_cannot_open_the_widget_socket(server: LiveServer) -> None:
    with pytest.raises(Exception) as info:  # the handshake is refused
        client = await WsClient.connect(
            server.ws_url + "/ws/visitor", server.visitor_token(), origin="http://evil.example"
        )
        await asyncio.wait_for(client.closed, 5)
        raise ProtocolError(str(client.closed.result()))
    assert "403" in str(info.value) or "4403" in str(info.value)
