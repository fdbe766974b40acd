"""The demo history (reproducible, realistic enough that the journey map shows its
deliberate bottlenecks) and the journey CLI commands: demo-data, sites, stage-rules."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path

from typer.testing import CliRunner

from contact_center.cli import app
from contact_center.journey.analytics import Filters, JourneyAnalytics
from contact_center.journey.demo import DemoConfig, DemoGenerator, write_demo
from contact_center.store.database import create_engine

END = 1_780_000_000.0


def rows(config: DemoConfig) -> list[tuple[object, ...]]:
    out: list[tuple[object, ...]] = []
    for chunk in DemoGenerator(config).chunks():
        out += chunk.visitors + chunk.contacts + chunk.touchpoints
    return out


def test_the_same_seed_gives_the_same_history() -> None:
    config = DemoConfig(visitors=300, seed=5, end=END, chunk=100)
    assert rows(config) == rows(config)
    assert rows(config) != rows(DemoConfig(visitors=300, seed=6, end=END, chunk=100))
    # Nothing happens after the end, or before the start.
    started_at = 14  # TOUCHPOINT_COLUMNS.index("started_at")
    for chunk in DemoGenerator(config).chunks():
        assert all(END - 30 * 86400 <= t[started_at] < END for t in chunk.touchpoints)


async def test_demo_history_shows_its_bottlenecks(database_url: str) -> None:
    engine = create_engine(database_url)
    try:
        summary = await write_demo(engine, DemoConfig(visitors=4000, seed=11, end=END))
        analytics = JourneyAnalytics(engine)
        window = Filters(END - 30 * 86400, END)
        funnel = await analytics.funnel(window)
        grid = await analytics.journey_map(window)
        attribution = await analytics.attribution(window)
    finally:
        await engine.dispose()
    assert funnel.steps[0].reached == summary.visitors
    reached = [s.reached for s in funnel.steps]
    assert reached == sorted(reached, reverse=True) and reached[-1] > 0
    assert sum(c.volume for c in grid.cells) == summary.contacts
    assert {c.channel for c in grid.cells} == {"chat", "voice", "video", "offline"}
    assert attribution.conversions == summary.conversions and attribution.unattributed == 0
    assert attribution.value == summary.value
    worst = grid.bottlenecks[0]
    assert (worst.stage, worst.channel) == ("decision", "voice")
    assert "abandonment" in worst.rules and "wait" in worst.rules
    flagged = {(b.stage, b.channel): b.rules for b in grid.bottlenecks}
    assert "csat" in flagged[("purchase", "chat")]


def test_cli_demo_data_sites_and_stage_rules(tmp_path: Path) -> None:
    runner = CliRunner()
    env = {"CC_DATA_DIR": str(tmp_path)}
    result = runner.invoke(app, ["demo-data", "--visitors", "500", "--end", "2026-01-31"], env=env)
    assert result.exit_code == 0, result.output
    assert "created the queues sales and support" in result.output
    assert re.search(r"demo data: 500 visitors, \d+ touchpoints .* over 30 days to 2026-01-31", result.output)

    again = runner.invoke(app, ["demo-data", "--visitors", "500", "--end", "2026-01-31"], env=env)
    assert again.exit_code == 1 and "pick another --seed" in again.output
    other = runner.invoke(
        app, ["demo-data", "--visitors", "100", "--seed", "9", "--end", "2026-01-31"], env=env
    )
    assert other.exit_code == 0, other.output

    added = runner.invoke(app, ["sites", "add", "shop.example"], env=env)
    assert added.exit_code == 0, added.output
    key = added.output.strip().splitlines()[-1]
    assert key.startswith("cck_")
    listed = runner.invoke(app, ["sites", "list"], env=env)
    assert "shop.example" in listed.output and key not in listed.output

    rule = runner.invoke(app, ["stage-rules", "add", "/blog/*", "awareness"], env=env)
    assert rule.exit_code == 0 and "-> awareness" in rule.output
    assert runner.invoke(app, ["stage-rules", "add", "/x", "nowhere"], env=env).exit_code == 1
    listed_rules = runner.invoke(app, ["stage-rules", "list"], env=env)
    assert '"pattern": "/blog/*"' in listed_rules.output
    rule_id = re.search(r"added rule (\d+)", rule.output)
    assert rule_id is not None
    assert runner.invoke(app, ["stage-rules", "remove", rule_id.group(1)], env=env).exit_code == 0
    assert runner.invoke(app, ["stage-rules", "remove", rule_id.group(1)], env=env).exit_code == 1

    async def count() -> int:
        engine = create_engine(f"sqlite+aiosqlite:///{(tmp_path / 'contact-center.db').resolve()}")
        try:
            funnel = await JourneyAnalytics(engine).funnel(Filters(0, 2e9))
        finally:
            await engine.dispose()
        return funnel.steps[0].reached

    assert asyncio.run(count()) == 600
