"""The first start makes an admin even when someone ran the CLI first (found by a client
written from the documents alone: users existed, so no admin was made and nothing said
so), and says in the log what it did."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from contact_center.store.database import create_engine, upgrade_schema_async
from contact_center.store.users import UserStore


async def _users(tmp_path: Path) -> UserStore:
    url = f"sqlite+aiosqlite:///{tmp_path / 'cc.db'}"
    await upgrade_schema_async(url)
    return UserStore(create_engine(url))


async def test_an_admin_is_made_even_when_agents_exist(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    users = await _users(tmp_path)
    await users.create("alice", "agent-password", "agent")
    with caplog.at_level(logging.INFO, logger="contact_center.store.users"):
        password = await users.ensure_admin("")
    assert password is not None
    assert await users.authenticate("admin", password) is not None
    assert "created the admin account 'admin'" in caplog.text and "1 other users" in caplog.text
    # Once there is an admin, nothing more happens.
    assert await users.ensure_admin("") is None
    assert await users.count() == 2


async def test_a_username_admin_taken_by_an_agent_is_reported(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    users = await _users(tmp_path)
    await users.create("admin", "agent-password", "agent")
    with caplog.at_level(logging.WARNING, logger="contact_center.store.users"):
        assert await users.ensure_admin("chosen-password") is None
    assert "username 'admin' is taken by a non-admin" in caplog.text
