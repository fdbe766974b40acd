"""Backups: SQLite through the online backup API while the server takes messages,
restored into a fresh install that has every message acknowledged before the backup
began (and no torn tail); PostgreSQL through pg_dump / pg_restore."""

from __future__ import annotations

import asyncio
import os
import sys
import time
from pathlib import Path

import asyncpg
import pytest
from typer.testing import CliRunner

from contact_center.audit import Actor, AuditLog
from contact_center.cli import app
from contact_center.lifecycle.backup import backup_postgres, restore_postgres
from contact_center.store.database import create_engine, upgrade_schema_async
from tests.ops.chat import open_chat
from tests.support.client import ProtocolError
from tests.support.server import live_server


async def _backup_cli(data_dir: Path, out: Path) -> str:
    """``contact-center backup`` as an operator runs it: another process."""
    env = dict(os.environ, CC_DATA_DIR=str(data_dir))
    env.pop("CC_DATABASE_URL", None)
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "contact_center.cli",
        "backup",
        str(out),
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    output, _ = await asyncio.wait_for(proc.communicate(), 120)
    assert proc.returncode == 0, output.decode()
    return output.decode()


async def test_a_backup_taken_under_load_restores_every_acknowledged_message(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    live_dir, restored_dir, out = tmp_path / "live", tmp_path / "restored", tmp_path / "backup.db"
    acked: list[str] = []
    with live_server(live_dir) as server:
        admin = server.admin_token()
        chat = await open_chat(server, admin)
        stop = asyncio.Event()

        async def talk() -> None:
            n = 0
            while not stop.is_set() and n < 2000:  # bounded
                n += 1
                body = f"m{n}"
                try:
                    await chat.visitor.request(
                        {"type": "chat.message", "contact_id": chat.contact_id, "body": body}, 30
                    )
                except ProtocolError:
                    continue  # rate limited: not acknowledged, not counted
                acked.append(body)
                await asyncio.sleep(0.01)

        async def acked_at_least(count: int) -> None:
            deadline = time.monotonic() + 60
            while len(acked) < count:
                assert time.monotonic() < deadline, "the visitor stopped getting acks"
                await asyncio.sleep(0.02)

        talker = asyncio.create_task(talk())
        await acked_at_least(30)
        before_backup = list(acked)
        printed = await _backup_cli(live_dir, out)
        await acked_at_least(len(acked) + 30)  # the server went on taking messages
        stop.set()
        await talker
        await chat.close()
        live_actions = [e["action"] for e in server.api("GET", "/api/admin/audit", admin).json()["entries"]]
        assert "backup.create" in live_actions
    assert "backed up to" in printed and "conversation_events" in printed

    monkeypatch.setenv("CC_DATA_DIR", str(restored_dir))
    monkeypatch.delenv("CC_DATABASE_URL", raising=False)
    # (The command runs its own event loop: give it a thread.)
    result = await asyncio.to_thread(CliRunner().invoke, app, ["restore", str(out), "--yes"])
    assert result.exit_code == 0, result.output

    with live_server(restored_dir) as restored:
        admin = restored.admin_token()
        transcript = restored.api("GET", f"/api/contacts/{chat.contact_id}", admin).json()["transcript"]
        bodies = [
            e["body"] for e in transcript if e["kind"] == "chat.message" and e["sender_kind"] == "visitor"
        ]
        assert set(before_backup) <= set(bodies), "every message acknowledged before the backup is in it"
        assert bodies == acked[: len(bodies)], "a consistent snapshot: a prefix of the acknowledged order"
        assert len(bodies) < len(acked), "and the backup did not see what came after it"
        actions = [e["action"] for e in restored.api("GET", "/api/admin/audit", admin).json()["entries"]]
        assert "backup.restore" in actions


def test_restore_refuses_what_is_not_a_backup(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CC_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.delenv("CC_DATABASE_URL", raising=False)
    junk = tmp_path / "junk.db"
    junk.write_bytes(b"not a database at all" * 100)
    result = CliRunner().invoke(app, ["restore", str(junk), "--yes"])
    assert result.exit_code == 1
    missing = CliRunner().invoke(app, ["restore", str(tmp_path / "missing.db"), "--yes"])
    assert missing.exit_code == 1 and "no backup" in missing.output
    assert CliRunner().invoke(app, ["db", "upgrade"]).exit_code == 0
    first = CliRunner().invoke(app, ["backup", str(tmp_path / "b.db")])
    assert first.exit_code == 0, first.output
    again = CliRunner().invoke(app, ["backup", str(tmp_path / "b.db")])
    assert again.exit_code == 1 and "exists" in again.output


@pytest.mark.services
async def test_postgres_backup_and_restore_with_pg_dump(postgres_url: str, tmp_path: Path) -> None:
    await upgrade_schema_async(postgres_url)
    engine = create_engine(postgres_url)
    try:
        await AuditLog(engine).record(Actor.cli(), "queue.create", target_kind="queue", target_id="kept")
        out = tmp_path / "cc.dump"
        info = await asyncio.to_thread(backup_postgres, postgres_url, out)
        assert info.bytes > 0
        await AuditLog(engine).record(Actor.cli(), "queue.create", target_kind="queue", target_id="after")
    finally:
        await engine.dispose()
    await asyncio.to_thread(restore_postgres, out, postgres_url)
    conn = await asyncpg.connect(postgres_url.replace("postgresql+asyncpg://", "postgresql://"))
    try:
        targets = [r["target_id"] for r in await conn.fetch("SELECT target_id FROM audit_log ORDER BY id")]
        revision = await conn.fetchval("SELECT version_num FROM alembic_version")
    finally:
        await conn.close()
    assert targets == ["kept"] and revision
