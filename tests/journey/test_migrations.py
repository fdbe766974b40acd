"""The migrations and the models describe the same schema: after ``alembic upgrade
head`` Alembic's autogenerate comparison finds nothing to change, on SQLite and on
PostgreSQL; and 0002 back-fills the first-touch source of visitors created before it."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import text

from contact_center.store.database import alembic_config, create_engine, upgrade_schema, upgrade_schema_async
from contact_center.store.models import Base


def _diff(connection: Any) -> list[Any]:
    context = MigrationContext.configure(connection, opts={"compare_type": True})
    return list(compare_metadata(context, Base.metadata))


async def _schema_diff(url: str) -> list[Any]:
    await upgrade_schema_async(url)
    engine = create_engine(url)
    try:
        async with engine.connect() as conn:
            return await conn.run_sync(_diff)
    finally:
        await engine.dispose()


async def test_models_match_migrations_on_sqlite(tmp_path: Path) -> None:
    assert await _schema_diff(f"sqlite+aiosqlite:///{tmp_path / 'db.sqlite'}") == []


@pytest.mark.services
async def test_models_match_migrations_on_postgresql(postgres_url: str) -> None:
    assert await _schema_diff(postgres_url) == []


async def test_0002_backfills_first_source(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'db.sqlite'}"
    await upgrade_schema_async(url, "0001")
    engine = create_engine(url)
    rows = [
        ("v1", "", "https://shop.example/", "Google"),
        ("v2", "https://www.bikeradar.example/review", "https://shop.example/product", ""),
        ("v3", "https://shop.example/", "https://shop.example/pricing", ""),
        ("v4", "", "https://shop.example/", ""),
    ]
    try:
        async with engine.begin() as conn:
            for vid, referrer, landing, utm in rows:
                await conn.execute(
                    text(
                        "INSERT INTO visitors (id, created_at, last_seen_at, name, email, first_referrer,"
                        " first_landing_url, first_utm_source, first_utm_medium, first_utm_campaign,"
                        " first_utm_term, first_utm_content) VALUES (:id, 1, 1, '', '', :ref, :landing,"
                        " :utm, '', '', '', '')"
                    ),
                    {"id": vid, "ref": referrer, "landing": landing, "utm": utm},
                )
        await upgrade_schema_async(url)
        async with engine.connect() as conn:
            got = dict((await conn.execute(text("SELECT id, first_source FROM visitors"))).all())
    finally:
        await engine.dispose()
    assert got == {"v1": "google", "v2": "bikeradar.example", "v3": "direct", "v4": "direct"}


async def test_0002_downgrades_and_upgrades_again(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'db.sqlite'}"
    await upgrade_schema_async(url, "0002")
    engine = create_engine(url)
    try:
        async with engine.begin() as conn:
            await conn.execute(
                text(
                    "INSERT INTO touchpoints (visitor_id, kind, channel, stage, stage_source, url, title,"
                    " referrer, utm_source, utm_medium, utm_campaign, started_at, queue_id, outcome)"
                    " VALUES ('v1', 'page_view', 'web', 'decision', 'declared', '', '', '', '', '', '',"
                    " 86400.5, '', '')"
                )
            )
            days = (
                await conn.execute(text("SELECT day, visitor_id, first_decision FROM journey_visitor_days"))
            ).all()
        assert [tuple(d) for d in days] == [(1, "v1", 86400.5)]
        await asyncio.to_thread(command.downgrade, alembic_config(url), "0001")
        async with engine.connect() as conn:
            tables = {r[0] for r in (await conn.execute(text("SELECT name FROM sqlite_master"))).all()}
        assert "journey_visitor_days" not in tables and "sites" not in tables
        # Upgrading again back-fills the rollup from the touchpoints kept meanwhile.
        await asyncio.to_thread(upgrade_schema, url, "0002")
        async with engine.connect() as conn:
            days = (
                await conn.execute(text("SELECT day, visitor_id, first_decision FROM journey_visitor_days"))
            ).all()
        assert [tuple(d) for d in days] == [(1, "v1", 86400.5)]
    finally:
        await engine.dispose()
