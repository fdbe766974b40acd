"""The supervisor socket's rules, watching a live chat read-only, the supervisor actions,
and the socket's place in the AsyncAPI document."""

from __future__ import annotations

import yaml

from contact_center import protocol as p
from contact_center.protocol_docs import DOC_PATH, SUPERVISOR_EVENTS
from tests.supervisor.floor import TIMEOUT, Floor
from tests.support.client import WsClient
from tests.support.server import LiveServer


def test_the_asyncapi_document_describes_the_supervisor_socket() -> None:
    document = yaml.safe_load(DOC_PATH.read_text())
    channel = document["channels"]["supervisor"]
    assert channel["address"] == "/ws/supervisor"
    keys = set(channel["messages"])
    frames = {k[len("client.") :] for k in keys if k.startswith("client.")}
    assert frames == set(p.SUPERVISOR_FRAMES) | {"hello"}
    assert {k[len("server.") :] for k in keys if k.startswith("server.")} == set(SUPERVISOR_EVENTS)
    snapshot = document["components"]["schemas"]["DashboardSnapshotEvent"]
    assert snapshot["properties"]["snapshot"] == {"$ref": "#/components/schemas/Snapshot"}
    assert "Kpi" in document["components"]["schemas"]


async def test_only_supervisors_and_admins_open_it(server: LiveServer) -> None:
    floor = Floor(server)
    server.add_agent(floor.admin, "sam", role="supervisor")
    await floor.agent("alice")
    for token in (server.login("alice"), server.visitor_token()):
        client = await WsClient.connect(server.ws_url + "/ws/supervisor", token)
        assert (await client.closed)[0] == 4403
    client = await WsClient.connect(server.ws_url + "/ws/supervisor", "not-a-token")
    assert (await client.closed)[0] == 4401
    sam = await WsClient.connect(server.ws_url + "/ws/supervisor", server.login("sam"))
    welcome = await sam.wait_type("welcome", timeout=TIMEOUT)
    assert welcome["role"] == "supervisor"
    legend = await sam.wait_type("dashboard.legend", timeout=TIMEOUT)
    assert legend["legend"]["service_level"]["formula"].startswith("answered within T")
    assert legend["legend"]["asa_s"]["unit"] == "s"
    assert legend["push_s"] == 1.0 and legend["alert_rules"]["short_abandon_s"] == 5.0
    await sam.wait_type("dashboard.snapshot", timeout=TIMEOUT)
    # Read-only: a supervisor socket cannot post into a conversation.
    await sam.send({"type": "chat.message", "id": "m1", "contact_id": "c1", "body": "hi"})
    error = await sam.wait_type("error", timeout=TIMEOUT)
    assert error["code"] == "forbidden" and error["ref"] == "m1"
    # Opening the dashboard signs nobody in as an agent.
    event = await sam.wait_for(lambda e: e["type"] == "dashboard.snapshot" and e["push"] >= 1, TIMEOUT)
    assert welcome["user_id"] not in event["snapshot"]["agents"]
    await sam.close()
    await floor.close()


async def test_watch_a_live_chat_then_stop(server: LiveServer) -> None:
    floor = Floor(server)
    server.add_queue(floor.admin, "sales")
    await floor.agent("alice")
    await floor.set_status("alice", "available")
    contact = await floor.arrive("sales", "decision")
    await floor.accept("alice", contact)
    await floor.reply("alice", contact, "first")
    supervisor = await WsClient.connect(server.ws_url + "/ws/supervisor", floor.admin)
    ack = await supervisor.request({"type": "contact.watch", "contact_id": contact.contact_id}, TIMEOUT)
    assert ack["seq"] >= 2
    history = [
        e for e in supervisor.events if e.get("contact_id") == contact.contact_id and e["type"] != "ack"
    ]
    assert [e["type"] for e in history] == ["contact.joined", "chat.message"]
    visitor = floor.visitors[contact.contact_id]
    message = {"type": "chat.message", "contact_id": contact.contact_id, "body": "live one"}
    await visitor.request(message, TIMEOUT)
    live = await supervisor.wait_type("chat.message", TIMEOUT, body="live one")
    assert live["sender"]["kind"] == "visitor"
    await supervisor.request({"type": "contact.unwatch", "contact_id": contact.contact_id}, TIMEOUT)
    count = len(supervisor.of_type("chat.message"))
    await floor.reply("alice", contact, "after unwatch")
    await supervisor.send({"type": "ping", "id": "p1"})
    await supervisor.wait_type("pong", TIMEOUT, id="p1")
    assert len(supervisor.of_type("chat.message")) == count
    await supervisor.send({"type": "contact.watch", "id": "w9", "contact_id": "nope"})
    error = await supervisor.wait_type("error", TIMEOUT, ref="w9")
    assert error["code"] == "not_found"
    await supervisor.close()
    await floor.close()


async def test_supervisor_sets_status_and_reassigns_a_waiting_contact(server: LiveServer) -> None:
    floor = Floor(server)
    server.add_queue(floor.admin, "sales")
    server.add_queue(floor.admin, "care")
    await floor.agent("alice", queues=["sales"])
    await floor.agent("bob", queues=["care"])
    alice = floor.agents["alice"]

    # Status: the agent sees it, the dashboard shows it.
    path = f"/api/supervisor/agents/{alice.user_id}/status"
    assert server.api("POST", path, floor.admin, json={"status": "available"}).status_code == 202
    await alice.client.wait_type("agent.state", TIMEOUT, state="available")
    agent_token = server.login("bob")
    assert server.api("POST", path, agent_token, json={"status": "away"}).status_code == 403
    assert server.api("POST", path, floor.admin, json={"status": "busy"}).status_code == 422
    nobody = "/api/supervisor/agents/nobody/status"
    assert server.api("POST", nobody, floor.admin, json={"status": "away"}).status_code == 404

    # Reassign: a contact waiting in care (bob is away) moves to sales and reaches alice.
    contact = await floor.arrive("care", "purchase")
    supervisor = await WsClient.connect(server.ws_url + "/ws/supervisor", floor.admin)
    await supervisor.wait_for(
        lambda e: (
            e["type"] == "dashboard.snapshot" and e["snapshot"]["waiting"].get("care", {}).get("count") == 1
        ),
        TIMEOUT,
    )
    reassign = f"/api/supervisor/contacts/{contact.contact_id}/reassign"
    assert server.api("POST", reassign, floor.admin, json={}).status_code == 422
    assert server.api("POST", reassign, floor.admin, json={"to_queue": "nowhere"}).status_code == 404
    response = server.api("POST", reassign, floor.admin, json={"to_queue": "sales", "note": "sales knows"})
    assert response.status_code == 202, response.text
    await floor.accept("alice", contact)
    event = await supervisor.wait_for(
        lambda e: e["type"] == "dashboard.snapshot" and e["snapshot"]["totals"]["answered"]["value"] == 1,
        TIMEOUT,
    )
    snapshot = event["snapshot"]
    assert snapshot["by_queue"]["sales"]["answered"]["value"] == 1
    assert snapshot["by_queue"]["care"]["queued"]["value"] == 1
    assert snapshot["totals"]["contacts_waiting"]["value"] == 0
    # The wait counts from the first enqueue, in care.
    assert snapshot["totals"]["asa_s"]["value"] == contact.wait
    # Only a waiting contact can be reassigned.
    assert server.api("POST", reassign, floor.admin, json={"to_queue": "care"}).status_code == 409
    detail = server.api("GET", f"/api/contacts/{contact.contact_id}", floor.admin).json()
    assert detail["contact"]["transfer_note"] == "sales knows"
    assert any(e["kind"] == "contact.transferred" for e in detail["transcript"])
    await supervisor.close()
    await floor.close()
