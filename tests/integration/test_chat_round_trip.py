"""A visitor chats with an agent through a real server."""

from __future__ import annotations

from tests.support.client import WsClient
from tests.support.server import LiveServer


async def test_chat_round_trip(server: LiveServer) -> None:
    await chat_round_trip(server)


async def chat_round_trip(server: LiveServer) -> None:
    """The whole path once; also run against PostgreSQL (test_postgres.py)."""
    admin = server.admin_token()
    server.add_queue(admin, "sales", name="Sales")
    server.add_agent(admin, "alice", display_name="Alice")
    agent = await WsClient.connect(server.ws_url + "/ws/agent", server.login("alice"))
    await agent.wait_type("welcome")
    await agent.request({"type": "agent.status", "status": "available"})
    await agent.wait_type("agent.state", state="available")

    visitor = await WsClient.connect(server.ws_url + "/ws/visitor", server.visitor_token())
    await visitor.wait_type("welcome")
    ack = await visitor.request(
        {
            "type": "chat.start",
            "queue": "sales",
            "name": "Vera",
            "message": "Hello?",
            "page": {"url": "http://shop.test/pricing", "stage": "consideration"},
        }
    )
    contact_id = ack["contact_id"]

    offer = await agent.wait_type("offer")
    assert offer["contact"]["id"] == contact_id
    assert offer["contact"]["stage"] == "consideration"
    await agent.request({"type": "offer.accept", "contact_id": contact_id})
    await agent.wait_type("contact.assigned")
    first = await agent.wait_type("chat.message", contact_id=contact_id)
    assert first["body"] == "Hello?"
    await visitor.wait_type("contact.joined", contact_id=contact_id)

    reply = await agent.request({"type": "chat.message", "contact_id": contact_id, "body": "Hi Vera"})
    got = await visitor.wait_type("chat.message", seq=reply["seq"])
    assert got["body"] == "Hi Vera" and got["sender"]["kind"] == "agent"

    await agent.request({"type": "contact.end", "contact_id": contact_id, "disposition": "resolved"})
    await visitor.wait_type("contact.ended", contact_id=contact_id)
    await visitor.request({"type": "chat.rate", "contact_id": contact_id, "rating": 5})

    detail = server.api("GET", f"/api/contacts/{contact_id}", admin).json()
    assert detail["contact"]["csat"] == 5
    assert [e["kind"] for e in detail["transcript"]] == [
        "chat.message",
        "contact.joined",
        "chat.message",
        "contact.ended",
        "contact.rated",
    ]
    await agent.close()
    await visitor.close()


def test_the_widget_script_is_compressed_and_revalidated(server: LiveServer) -> None:
    """A visitor's phone downloads the widget compressed, and later only asks whether
    it changed."""
    first = server.api("GET", "/widget.js", headers={"Accept-Encoding": "gzip"})
    assert first.status_code == 200
    assert first.headers["content-encoding"] == "gzip"
    assert "ContactCenter" in first.text  # httpx decompressed it: the script itself
    etag = first.headers["etag"]
    again = server.api("GET", "/widget.js", headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.content == b""
    styles = server.api("GET", "/static/widget/widget.css", headers={"Accept-Encoding": "gzip"})
    assert styles.status_code == 200 and styles.headers["content-encoding"] == "gzip"
