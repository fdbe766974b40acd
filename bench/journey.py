"""Journey analytics on a million touchpoints, on PostgreSQL and SQLite.

    python -m bench.journey [--touchpoints 1000000] [--repeat 5] [--skip-sqlite] [--no-write]

Builds a fresh database of each kind with the migrations (so with the indexes of
0002), loads the demo generator's history until it holds the requested number of
touchpoints (COPY on PostgreSQL, executemany on SQLite), refreshes the planner's
statistics, then times each query ``--repeat`` times and reports the median:

* the funnel (per-visitor first touch per stage, over the whole 30 days),
* the journey map (stage x channel with conversion after contact, and bottlenecks),
* attribution (first / last / linear over each conversion's path),
* origins (contacts by stage of origin x channel),
* a visitor's timeline (a different visitor each time),
* the funnel over the last 7 days only,

and, as the in-run baseline, ``SELECT count(*) FROM touchpoints`` (a full pass over
the table), so each figure is also a ratio to it.  PostgreSQL comes from
``CC_BENCH_DATABASE_URL`` (a server to create a throwaway database on; default
127.0.0.1:5432, user postgres).  Results go to docs/benchmarks.md (section "journey").
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import asyncpg
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from bench.report import machine_line, write_section
from contact_center.journey.analytics import Filters, JourneyAnalytics
from contact_center.journey.demo import (
    CONTACT_COLUMNS,
    TOUCHPOINT_COLUMNS,
    VISITOR_COLUMNS,
    DemoConfig,
    DemoGenerator,
    DemoSummary,
    write_rows,
)
from contact_center.store.database import create_engine, upgrade_schema_async

DEFAULT_PG = "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres"
END = 1_780_000_000.0  # a fixed end date keeps the data set identical between runs


async def load(engine: AsyncEngine, touchpoints: int, seed: int) -> tuple[DemoSummary, list[str]]:
    """Demo history until at least ``touchpoints`` rows; returns a sample of visitor ids."""
    config = DemoConfig(visitors=10_000_000, seed=seed, end=END, chunk=5000)
    summary = DemoSummary()
    sample: list[str] = []
    for chunk in DemoGenerator(config).chunks():
        await write_rows(engine, "visitors", VISITOR_COLUMNS, chunk.visitors)
        await write_rows(engine, "contacts", CONTACT_COLUMNS, chunk.contacts)
        await write_rows(engine, "touchpoints", TOUCHPOINT_COLUMNS, chunk.touchpoints)
        summary.add(chunk)
        sample.extend(row[0] for row in chunk.visitors[:20])
        if summary.touchpoints >= touchpoints:
            break
    return summary, sample


async def analyze(engine: AsyncEngine) -> None:
    if engine.dialect.name == "postgresql":
        async with engine.connect() as conn:
            await conn.execution_options(isolation_level="AUTOCOMMIT")
            for table in ("touchpoints", "visitors", "contacts", "journey_visitor_days"):
                await conn.execute(text(f"VACUUM ANALYZE {table}"))
    else:
        async with engine.begin() as conn:
            await conn.execute(text("ANALYZE"))


async def timed(fn: Callable[[], Awaitable[Any]], repeat: int) -> float:
    await fn()  # warm the cache and the connection pool
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        await fn()
        samples.append(time.perf_counter() - started)
    return statistics.median(samples)


async def measure(url: str, touchpoints: int, repeat: int, seed: int) -> dict[str, Any]:
    await upgrade_schema_async(url)
    engine = create_engine(url)
    try:
        started = time.perf_counter()
        summary, sample = await load(engine, touchpoints, seed)
        load_s = time.perf_counter() - started
        started = time.perf_counter()
        await analyze(engine)
        analyze_s = time.perf_counter() - started
        analytics = JourneyAnalytics(engine)
        whole = Filters(start=END - 30 * 86400, end=END)
        week = Filters(start=END - 7 * 86400, end=END)
        visitors = iter(sample * (repeat + 2))

        async def count() -> Any:
            async with engine.connect() as conn:
                return await conn.scalar(text("SELECT count(*) FROM touchpoints"))

        results = {
            "count(*) baseline": await timed(count, repeat),
            "funnel (30 days)": await timed(lambda: analytics.funnel(whole), repeat),
            "journey map + bottlenecks": await timed(lambda: analytics.journey_map(whole), repeat),
            "attribution": await timed(lambda: analytics.attribution(whole), repeat),
            "origins": await timed(lambda: analytics.origins(whole), repeat),
            "visitor timeline": await timed(lambda: analytics.timeline(next(visitors)), repeat),
            "funnel (last 7 days)": await timed(lambda: analytics.funnel(week), repeat),
        }
        grid = await analytics.journey_map(whole)
        return {
            "summary": summary,
            "load_s": load_s,
            "analyze_s": analyze_s,
            "results": results,
            "bottlenecks": [f"{b.stage} x {b.channel}: {'; '.join(b.reasons)}" for b in grid.bottlenecks[:3]],
        }
    finally:
        await engine.dispose()


async def _pg_admin(base: str, sql: str) -> None:
    conn = await asyncpg.connect(base.replace("postgresql+asyncpg://", "postgresql://", 1), timeout=5)
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


async def on_postgresql(touchpoints: int, repeat: int, seed: int) -> dict[str, Any]:
    base = os.environ.get("CC_BENCH_DATABASE_URL", DEFAULT_PG)
    name = f"cc_bench_{uuid.uuid4().hex[:10]}"
    await _pg_admin(base, f'CREATE DATABASE "{name}"')
    try:
        return await measure(base.rsplit("/", 1)[0] + "/" + name, touchpoints, repeat, seed)
    finally:
        await _pg_admin(base, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


async def on_sqlite(touchpoints: int, repeat: int, seed: int) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="cc-bench-journey-") as tmp:
        return await measure(f"sqlite+aiosqlite:///{Path(tmp) / 'bench.db'}", touchpoints, repeat, seed)


def report(runs: dict[str, dict[str, Any]], touchpoints: int, repeat: int) -> str:
    lines = [
        "## Journey analytics on a million touchpoints",
        "",
        f"`python -m bench.journey --touchpoints {touchpoints} --repeat {repeat}` on {machine_line()}.",
        "",
        "The demo generator's history (30 days; fixed seed and end date) loaded into a fresh "
        "database built by the migrations, statistics refreshed, then each query run "
        f"{repeat} times after one warm-up; the median is shown, and as a ratio to a full "
        "`SELECT count(*) FROM touchpoints` in the same run.  Target: under 1 s each on "
        "PostgreSQL.",
        "",
    ]
    names = list(next(iter(runs.values()))["results"])
    header = "| query | " + " | ".join(f"{db} (ms) | {db} x count(*)" for db in runs) + " |"
    lines += [header, "|---|" + "---:|---:|" * len(runs)]
    for name in names:
        cells = []
        for run in runs.values():
            value = run["results"][name]
            base = run["results"]["count(*) baseline"]
            cells += [f"{value * 1000:.1f}", f"{value / base:.2f}"]
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    lines.append("")
    for db, run in runs.items():
        s = run["summary"]
        lines.append(
            f"- {db}: {s.touchpoints:,} touchpoints ({s.page_views:,} page views, {s.contacts:,} contacts, "
            f"{s.conversions:,} conversions) for {s.visitors:,} visitors; loaded in {run['load_s']:.1f} s, "
            f"statistics in {run['analyze_s']:.1f} s."
        )
    first = next(iter(runs.values()))
    lines += ["", "Worst cells the journey map flags (the generator's deliberate bottlenecks):", ""]
    lines += [f"- {b}" for b in first["bottlenecks"]]
    lines += [
        "",
        "How: the funnel groups `journey_visitor_days` (per visitor and UTC day, the first touch in "
        "each stage; kept by a trigger on `touchpoints`) for the whole days of the window and the "
        "touchpoints themselves for the partial first and last days, so it reads about a third as "
        "many rows as there are touchpoints; the map, origins and attribution start from "
        "`(kind, started_at)` (contacts and conversions are a few percent of the rows) and follow "
        "each visitor through `(visitor_id, started_at)`, which also serves the timeline.  The "
        "machine is shared: other test suites ran beside this one, so the ratios are the figures "
        "to compare between runs.",
    ]
    return "\n".join(lines)


async def main_async(args: argparse.Namespace) -> dict[str, dict[str, Any]]:
    runs: dict[str, dict[str, Any]] = {}
    runs["PostgreSQL"] = await on_postgresql(args.touchpoints, args.repeat, args.seed)
    print_run("PostgreSQL", runs["PostgreSQL"])
    if not args.skip_sqlite:
        runs["SQLite"] = await on_sqlite(args.touchpoints, args.repeat, args.seed)
        print_run("SQLite", runs["SQLite"])
    return runs


def print_run(db: str, run: dict[str, Any]) -> None:
    print(f"{db}: {run['summary']}  load {run['load_s']:.1f} s, analyze {run['analyze_s']:.1f} s", flush=True)
    for name, value in run["results"].items():
        print(f"  {name:28s} {value * 1000:9.1f} ms", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--touchpoints", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--skip-sqlite", action="store_true")
    parser.add_argument("--no-write", action="store_true", help="print only; leave docs/benchmarks.md alone")
    args = parser.parse_args()
    runs = asyncio.run(main_async(args))
    markdown = report(runs, args.touchpoints, args.repeat)
    print(markdown)
    if not args.no_write:
        write_section("journey", markdown)


if __name__ == "__main__":
    main()
