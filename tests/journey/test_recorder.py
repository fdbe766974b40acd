"""The page-view writer: views are buffered and written in one multi-row INSERT per
batch (when the batch is full, on the timer, or on stop), the visitor's first touch is
written at once, the switch in settings turns recording off, and the admin stage
rules reach the shared rule list in place."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest
from sqlalchemy import event, func, select

from contact_center import protocol as p
from contact_center.journey.recorder import JourneyRecorder
from contact_center.journey.rules import StageRuleStore
from contact_center.journey.stages import StageRule
from contact_center.store.database import create_engine
from contact_center.store.models import JourneyVisitorDay, Touchpoint, Visitor
from contact_center.store.visitors import VisitorStore


class Recording:
    def __init__(self, url: str) -> None:
        self.engine = create_engine(url)
        self.statements: list[tuple[str, bool]] = []

        @event.listens_for(self.engine.sync_engine, "before_cursor_execute")
        def _count(_conn: Any, _cursor: Any, statement: str, _params: Any, _context: Any, many: bool) -> None:
            self.statements.append((statement, many))

    def inserts(self) -> list[tuple[str, bool]]:
        return [
            (s, many)
            for s, many in self.statements
            if s.lstrip().upper().startswith("INSERT INTO TOUCHPOINTS")
        ]

    async def count(self, model: Any = Touchpoint) -> int:
        async with self.engine.connect() as conn:
            return int(await conn.scalar(select(func.count()).select_from(model)) or 0)


@pytest.fixture
async def db(database_url: str) -> AsyncIterator[Recording]:
    recording = Recording(database_url)
    yield recording
    await recording.engine.dispose()


def view(n: int, **extra: Any) -> p.PageInfo:
    return p.PageInfo(url=f"https://shop.example/p{n}", title=f"Page {n}", **extra)


async def eventually(check: Any, timeout: float = 5.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not await check():
        assert asyncio.get_running_loop().time() < deadline, "timed out"
        await asyncio.sleep(0.02)


async def test_page_views_are_written_in_batches(db: Recording) -> None:
    rules: list[StageRule] = []
    recorder = JourneyRecorder(
        db.engine, VisitorStore(db.engine), rules, True, flush_interval_s=60, max_batch=5
    )
    await recorder.start()
    try:
        first = view(0, utm_source="newsletter", stage="awareness")
        await recorder.record_page_view("v1", first, 1000.0)
        await recorder.record_page_view("v1", view(1, utm_source="google"), 1001.0)
        await recorder.record_page_view("v2", view(2), 1002.0)
        # Buffered: no touchpoint yet, but the first touch of each visitor is stored.
        assert await db.count() == 0 and recorder.pending == 3
        assert await db.count(Visitor) == 2
        db.statements.clear()
        await recorder.record_page_view("v2", view(3), 1003.0)
        await recorder.record_page_view("v1", view(4), 1004.0)  # the fifth: the batch is full

        async def written() -> bool:
            return await db.count() == 5

        await eventually(written)
        # One INSERT statement for the five rows (a multi-row INSERT or one executemany).
        assert len(db.inserts()) == 1
        assert recorder.flushes == 1 and recorder.pending == 0
    finally:
        await recorder.stop()
    async with db.engine.connect() as conn:
        v1 = (await conn.execute(select(Visitor).where(Visitor.id == "v1"))).one()
        stages = (
            await conn.execute(
                select(Touchpoint.stage, Touchpoint.stage_source).order_by(Touchpoint.started_at)
            )
        ).all()
        days = (await conn.execute(select(JourneyVisitorDay).order_by(JourneyVisitorDay.visitor_id))).all()
    # First touch: the first view's source; last_seen moved with the batch.
    assert (v1.first_utm_source, v1.first_source, v1.last_seen_at) == ("newsletter", "newsletter", 1004.0)
    # v1's later pages inherit its last known stage; v2 never had one.
    assert [tuple(r) for r in stages] == [
        ("awareness", "declared"),
        ("awareness", "inferred"),
        ("unknown", "inferred"),
        ("unknown", "inferred"),
        ("awareness", "inferred"),
    ]
    # The rollup the funnel reads was kept by the trigger.
    assert [(d.visitor_id, d.first_awareness, d.touches) for d in days] == [
        ("v1", 1000.0, 3),
        ("v2", None, 2),
    ]


async def test_stop_writes_what_is_buffered_and_the_timer_flushes(db: Recording) -> None:
    recorder = JourneyRecorder(
        db.engine, VisitorStore(db.engine), [], True, flush_interval_s=0.05, max_batch=1000
    )
    await recorder.start()
    await recorder.record_page_view("v1", view(1), 10.0)

    async def written() -> bool:
        return await db.count() == 1

    await eventually(written)  # the timer
    recorder.flush_interval_s = 60
    await asyncio.sleep(0.1)
    for n in range(3):
        await recorder.record_page_view("v1", view(n), 20.0 + n)
    await recorder.stop()  # writes the rest
    assert await db.count() == 4


async def test_recording_can_be_switched_off(db: Recording) -> None:
    recorder = JourneyRecorder(db.engine, VisitorStore(db.engine), [], False)
    await recorder.start()
    await recorder.record_page_view("v1", view(1), 10.0)
    await recorder.stop()
    assert await db.count() == 0 and await db.count(Visitor) == 0


async def test_admin_rules_are_loaded_into_the_shared_list(db: Recording) -> None:
    shared = [StageRule("/shop/*", "consideration")]
    recorder = JourneyRecorder(db.engine, VisitorStore(db.engine), shared, True)
    await StageRuleStore(db.engine).add("/shop/checkout*", "purchase")
    await recorder.start()
    try:
        # The same list object, admin rules first, then the settings rule.
        assert recorder.rules is shared
        assert shared == [StageRule("/shop/checkout*", "purchase"), StageRule("/shop/*", "consideration")]
        await recorder.record_page_view("v1", p.PageInfo(url="https://x.test/shop/checkout/pay"), 1.0)
        await recorder.record_page_view("v1", p.PageInfo(url="https://x.test/shop/bikes"), 2.0)
        await recorder.record_page_view(
            "v1", p.PageInfo(url="https://x.test/shop/bikes", stage="decision"), 3.0
        )
    finally:
        await recorder.stop()
    async with db.engine.connect() as conn:
        rows = (
            await conn.execute(
                select(Touchpoint.stage, Touchpoint.stage_source).order_by(Touchpoint.started_at)
            )
        ).all()
    assert [tuple(r) for r in rows] == [
        ("purchase", "rule"),
        ("consideration", "rule"),
        ("decision", "declared"),
    ]
