"""The audit log: staff actions over REST, sockets and the CLI leave who/what/when,
and only admins read it (REST and CLI)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from contact_center.cli import app
from tests.support.client import WsClient
from tests.support.server import LiveServer


async def test_staff_actions_are_audited_and_admins_read_them(server: LiveServer) -> None:
    admin = server.admin_token()
    admin_id = server.api("GET", "/api/me", admin).json()["id"]
    server.add_queue(admin, "sales")
    assert server.api("PATCH", "/api/admin/queues/sales", admin, json={"sl_target_s": 30}).status_code == 200
    alice = server.add_agent(admin, "alice")
    server.add_agent(admin, "sue", role="supervisor")
    assert (
        server.api(
            "PATCH", f"/api/admin/agents/{alice['id']}", admin, json={"display_name": "Al"}
        ).status_code
        == 200
    )
    assert server.api("POST", "/api/admin/sites", admin, json={"name": "shop"}).status_code == 201
    assert (
        server.api(
            "POST", "/api/admin/stage-rules", admin, json={"pattern": "/pricing*", "stage": "decision"}
        ).status_code
        == 201
    )

    sue = server.login("sue")
    sue_id = server.api("GET", "/api/me", sue).json()["id"]
    response = server.api(
        "POST",
        f"/api/supervisor/agents/{alice['id']}/status",
        sue,
        json={"status": "away", "reason": "lunch"},
    )
    assert response.status_code == 202
    assert server.api("GET", "/api/reports?format=csv", sue).status_code == 200
    assert server.api("GET", "/api/journey/funnel.csv", sue).status_code == 200

    # A supervisor watching a conversation is audited too (socket frame).
    visitor = await WsClient.connect(server.ws_url + "/ws/visitor", server.visitor_token())
    await visitor.wait_type("welcome")
    contact_id = (await visitor.request({"type": "chat.start", "queue": "sales", "name": "Vi"}))["contact_id"]
    watcher = await WsClient.connect(server.ws_url + "/ws/supervisor", sue)
    await watcher.wait_type("welcome")
    await watcher.request({"type": "contact.watch", "contact_id": contact_id})
    await watcher.close()
    await visitor.close()

    page = server.api("GET", "/api/admin/audit?limit=1000", admin).json()
    actions = {(e["action"], e["actor_id"]) for e in page["entries"]}
    for action in (
        "queue.create",
        "queue.update",
        "agent.create",
        "agent.update",
        "site.create",
        "stage_rule.add",
    ):
        assert (action, admin_id) in actions, action
    for action in ("supervisor.agent_status", "export.report", "export.journey", "supervisor.watch"):
        assert (action, sue_id) in actions, action
    assert ("auth.login", sue_id) in actions
    by_action = {e["action"]: e for e in page["entries"]}
    assert by_action["supervisor.agent_status"]["target_id"] == alice["id"]
    assert by_action["supervisor.agent_status"]["details"] == {"status": "away", "reason": "lunch"}
    assert by_action["supervisor.watch"]["target_id"] == contact_id
    assert by_action["queue.update"]["details"]["changed"] == ["sl_target_s"]
    assert all(e["at"] > 0 and e["address"] == "127.0.0.1" for e in page["entries"] if e["actor_id"])

    # Families, paging, and who may read.
    queue_entries = server.api("GET", "/api/admin/audit?action=queue.", admin).json()["entries"]
    assert [e["action"] for e in queue_entries] == ["queue.update", "queue.create"], "newest first"
    first = server.api("GET", "/api/admin/audit?limit=2", admin).json()
    assert len(first["entries"]) == 2 and first["next_before"] == first["entries"][-1]["id"]
    rest = server.api("GET", f"/api/admin/audit?limit=1000&before={first['next_before']}", admin).json()
    assert all(e["id"] < first["next_before"] for e in rest["entries"])
    assert server.api("GET", "/api/admin/audit", sue).status_code == 403
    assert server.api("GET", "/api/admin/audit").status_code == 401
    assert server.api("GET", "/api/admin/audit?since=nope", admin).status_code == 422


@pytest.fixture
def cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    monkeypatch.setenv("CC_DATA_DIR", str(tmp_path))
    monkeypatch.delenv("CC_DATABASE_URL", raising=False)
    return CliRunner()


def test_cli_changes_are_audited_and_listed(cli: CliRunner) -> None:
    assert cli.invoke(app, ["queues", "add", "sales"]).exit_code == 0
    assert cli.invoke(app, ["queues", "update", "sales", "--priority", "2"]).exit_code == 0
    result = cli.invoke(app, ["agents", "add", "bob", "--password-stdin"], input="bob-password\n")
    assert result.exit_code == 0, result.output
    assert cli.invoke(app, ["agents", "update", "bob", "--chat-capacity", "4"]).exit_code == 0
    assert cli.invoke(app, ["sites", "add", "shop"]).exit_code == 0
    assert cli.invoke(app, ["stage-rules", "add", "/help*", "retention"]).exit_code == 0

    result = cli.invoke(app, ["audit", "list"])
    assert result.exit_code == 0, result.output
    entries = [json.loads(line) for line in result.output.splitlines()]
    assert [e["action"] for e in entries] == [
        "stage_rule.add",
        "site.create",
        "agent.update",
        "agent.create",
        "queue.update",
        "queue.create",
    ]
    assert {e["actor_role"] for e in entries} == {"cli"}
    assert all(e["actor_name"].startswith("cli:") and e["time"] for e in entries)
    assert entries[2]["details"]["changed"] == ["capacity"]
    only_queues = cli.invoke(app, ["audit", "list", "--action", "queue.", "--limit", "1"])
    assert [json.loads(line)["action"] for line in only_queues.output.splitlines()] == ["queue.update"]
    assert cli.invoke(app, ["audit", "list", "--since", "yesterday"]).exit_code != 0
