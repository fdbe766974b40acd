"""The same chat, stored in PostgreSQL through asyncpg (the production store)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.integration.test_chat_round_trip import chat_round_trip
from tests.support.server import live_server


@pytest.mark.services
async def test_chat_round_trip_on_postgresql(tmp_path: Path, postgres_url: str) -> None:
    with live_server(tmp_path, database_url=postgres_url) as server:
        await chat_round_trip(server)
        # Migrations created the schema in PostgreSQL, not in a SQLite file.
        assert not (tmp_path / "contact-center.db").exists()
