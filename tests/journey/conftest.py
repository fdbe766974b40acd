"""Fixtures for the journey tests: one database URL per engine (SQLite always,
PostgreSQL as a ``services`` test), migrated to head."""

from __future__ import annotations

from pathlib import Path

import pytest

from contact_center.store.database import upgrade_schema


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.services)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        url = f"sqlite+aiosqlite:///{tmp_path / 'journey.db'}"
    else:
        url = str(request.getfixturevalue("postgres_url"))
    upgrade_schema(url)
    return url
