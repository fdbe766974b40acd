"""Retention deletes old transcripts and keeps the figures; a visitor's data is
exported (JSON) and erased on request, over admin REST and the CLI, each audited."""

from __future__ import annotations

import asyncio
import json
import sqlite3
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from contact_center.cli import app
from tests.ops.chat import open_chat
from tests.support.server import LiveServer, live_server


async def _ended_chat(server: LiveServer, admin: str, **start: object) -> tuple[str, str]:
    """A finished conversation with a reply from the agent; (contact id, visitor id)."""
    chat = await open_chat(server, admin, **start)
    await chat.visitor.request({"type": "chat.message", "contact_id": chat.contact_id, "body": "my order?"})
    await chat.agent.request({"type": "chat.message", "contact_id": chat.contact_id, "body": "on its way"})
    await chat.agent.request(
        {"type": "contact.end", "contact_id": chat.contact_id, "disposition": "resolved"}
    )
    await chat.visitor.wait_type("contact.ended", contact_id=chat.contact_id)
    await chat.visitor.request(
        {"type": "chat.rate", "contact_id": chat.contact_id, "rating": 4, "comment": "call me on 0612345678"}
    )
    visitor_id = server.api("GET", f"/api/contacts/{chat.contact_id}", admin).json()["contact"]["visitor_id"]
    await chat.close()
    return chat.contact_id, visitor_id


def _totals(server: LiveServer, admin: str) -> dict[str, object]:
    report = server.api("GET", "/api/reports?interval=day", admin).json()
    totals = dict(report["totals"])
    totals.pop("interval_start", None)
    totals.pop("interval_end", None)
    return totals


async def test_retention_deletes_transcripts_and_keeps_the_figures(server: LiveServer) -> None:
    admin = server.admin_token()
    old_contact, _ = await _ended_chat(server, admin)
    open_chat_ = await open_chat(server, admin, agent_name="bob")
    before = _totals(server, admin)
    assert before["first_response_median_s"] is not None and before["csat"] == 1.0

    await asyncio.sleep(0.2)
    result = server.api("POST", "/api/admin/retention/run", admin, json={"days": 1e-6})
    assert result.status_code == 200, result.text
    assert result.json()["contacts"] == 1 and result.json()["events"] >= 5

    detail = server.api("GET", f"/api/contacts/{old_contact}", admin).json()
    assert detail["transcript"] == [] and detail["csat_comment"] == ""
    assert detail["contact"]["csat"] == 4 and detail["disposition"] == "resolved"
    assert _totals(server, admin) == before, "every report figure is the same without the transcript"
    still_open = server.api("GET", f"/api/contacts/{open_chat_.contact_id}", admin).json()
    assert still_open["transcript"], "an open conversation keeps its transcript"
    again = server.api("POST", "/api/admin/retention/run", admin, json={"days": 1e-6}).json()
    assert again["contacts"] == 0, "nothing left to purge"
    entries = server.api("GET", "/api/admin/audit?action=retention.purge", admin).json()["entries"]
    assert [e["details"]["contacts"] for e in entries] == [0, 1]
    assert server.api("POST", "/api/admin/retention/run", admin, json={}).status_code == 422  # 0 = keep
    await open_chat_.close()


async def test_the_scheduled_job_purges_what_is_past_the_period(tmp_path: Path) -> None:
    with live_server(tmp_path, retention_days=30, retention_check_s=0.2) as server:
        admin = server.admin_token()
        recent, _ = await _ended_chat(server, admin)
        old, _ = await _ended_chat(server, admin, agent_name="bob")
        long_ago = time.time() - 31 * 86400
        with sqlite3.connect(tmp_path / "contact-center.db") as db:
            db.execute("UPDATE contacts SET ended_at = ? WHERE id = ?", (long_ago, old))
        deadline = time.monotonic() + 30
        while server.api("GET", f"/api/contacts/{old}", admin).json()["transcript"]:
            assert time.monotonic() < deadline, "the job did not purge"
            await asyncio.sleep(0.2)
        assert server.api("GET", f"/api/contacts/{recent}", admin).json()["transcript"], "recent ones stay"
        [entry] = server.api("GET", "/api/admin/audit?action=retention.purge", admin).json()["entries"]
        assert entry["actor_role"] == "system" and entry["details"]["days"] == 30


async def test_a_visitor_is_exported_then_erased_over_rest(server: LiveServer) -> None:
    admin = server.admin_token()
    page = {"url": "https://shop.test/pricing?utm_source=news", "title": "Pricing", "utm_source": "news"}
    contact_id, visitor_id = await _ended_chat(server, admin, email="vera@example.com", page=page)
    busy = await open_chat(server, admin, agent_name="bob")
    busy_visitor = server.api("GET", f"/api/contacts/{busy.contact_id}", admin).json()["contact"][
        "visitor_id"
    ]

    export = server.api("GET", f"/api/admin/visitors/{visitor_id}/export", admin)
    assert export.status_code == 200
    assert "attachment" in export.headers["content-disposition"]
    data = export.json()
    assert data["visitor_id"] == visitor_id and data["visitor"]["name"] == "Vera"
    [contact] = data["contacts"]
    assert contact["email"] == "vera@example.com" and contact["csat_comment"] == "call me on 0612345678"
    assert [e["body"] for e in contact["transcript"] if e["kind"] == "chat.message"] == [
        "my order?",
        "on its way",
    ]
    assert any(t["url"].startswith("https://shop.test/pricing") for t in data["touchpoints"])

    sue_token = None
    server.add_agent(admin, "sue", role="supervisor")
    sue_token = server.login("sue")
    assert server.api("GET", f"/api/admin/visitors/{visitor_id}/export", sue_token).status_code == 403
    assert server.api("DELETE", f"/api/admin/visitors/{busy_visitor}", admin).status_code == 409
    before = _totals(server, admin)

    erased = server.api("DELETE", f"/api/admin/visitors/{visitor_id}", admin)
    assert erased.status_code == 200, erased.text
    anonymous = erased.json()["anonymous_id"]
    assert erased.json()["contacts"] == 1 and erased.json()["events_deleted"] >= 5

    assert server.api("GET", f"/api/admin/visitors/{visitor_id}/export", admin).status_code == 404
    assert server.api("DELETE", f"/api/admin/visitors/{visitor_id}", admin).status_code == 404
    detail = server.api("GET", f"/api/contacts/{contact_id}", admin).json()
    assert detail["contact"]["visitor_id"] == anonymous and detail["transcript"] == []
    held = json.dumps(server.api("GET", f"/api/admin/visitors/{anonymous}/export", admin).json())
    for personal in ("Vera", "vera@example.com", "0612345678", "shop.test", "my order?"):
        assert personal not in held, personal
    assert _totals(server, admin) == before, "the figures are kept"
    actions = [
        (e["action"], e["target_id"])
        for e in server.api("GET", "/api/admin/audit?action=visitor.", admin).json()["entries"]
    ]
    assert ("visitor.erase", visitor_id) in actions and ("visitor.export", visitor_id) in actions
    await busy.close()


@pytest.fixture
def cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    monkeypatch.setenv("CC_DATA_DIR", str(tmp_path))
    monkeypatch.delenv("CC_DATABASE_URL", raising=False)
    return CliRunner()


async def test_the_cli_exports_and_erases_a_visitor(tmp_path: Path, cli: CliRunner) -> None:
    with live_server(tmp_path) as server:
        admin = server.admin_token()
        _, visitor_id = await _ended_chat(server, admin)

    out = tmp_path / "vera.json"
    result = await asyncio.to_thread(cli.invoke, app, ["visitors", "export", visitor_id, "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert json.loads(out.read_text())["visitor"]["name"] == "Vera"
    result = await asyncio.to_thread(cli.invoke, app, ["visitors", "erase", visitor_id, "--yes"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["contacts"] == 1
    missing = await asyncio.to_thread(cli.invoke, app, ["visitors", "export", visitor_id])
    assert missing.exit_code == 1
    listed = await asyncio.to_thread(cli.invoke, app, ["audit", "list", "--action", "visitor."])
    assert [json.loads(line)["action"] for line in listed.output.splitlines()] == [
        "visitor.erase",
        "visitor.export",
    ]
    purge = await asyncio.to_thread(cli.invoke, app, ["retention", "run", "--days", "365"])
    assert purge.exit_code == 0 and "deleted the transcripts of 0 contacts" in purge.output
