"""Recording the journey as it happens: page views from the widget.

A page view is the most frequent write in the product (every page of every visitor),
so it is cheap: :meth:`JourneyRecorder.record_page_view` resolves the stage, appends a
row to an in-memory buffer and returns.  A background task writes the buffer in one
multi-row INSERT (and one batched ``last_seen_at`` UPDATE) every ``flush_interval_s``
or as soon as ``max_batch`` rows are waiting (group commit).  ``stop()`` writes what is
left.  A failed write is retried once with the next batch, then dropped and logged:
page views are analytics, and the buffer stays bounded (``max_pending``).

What must not wait is written at once: the first page view of a visitor this process
has not seen creates the visitor row (insert-or-ignore, so the first-touch source is
the first one that arrives and is never overwritten) before the view is buffered.

The recorder also keeps the live list of stage rules: the rules from settings plus the
ones managed through the admin API (database), reloaded every ``rules_reload_s`` and at
once after a change through this process.  The list object is the one given to the
constructor and is updated in place, so :class:`~contact_center.actions.ContactActions`,
which holds the same list, always resolves stages with the current rules.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import OrderedDict
from typing import Any

from sqlalchemy import bindparam, insert, select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from contact_center import protocol as p
from contact_center.journey.stages import STAGES, StageRule, resolve_stage
from contact_center.store.models import StageRuleRecord, Touchpoint, Visitor
from contact_center.store.visitors import VisitorStore

log = logging.getLogger(__name__)


class _Lru(OrderedDict[str, Any]):
    """A dict that forgets its least recently set keys beyond ``limit``."""

    def __init__(self, limit: int) -> None:
        super().__init__()
        self.limit = limit

    def put(self, key: str, value: Any) -> None:
        self[key] = value
        self.move_to_end(key)
        if len(self) > self.limit:
            self.popitem(last=False)


class JourneyRecorder:
    def __init__(
        self,
        engine: AsyncEngine,
        visitors: VisitorStore,
        rules: list[StageRule],
        enabled: bool,
        *,
        flush_interval_s: float = 0.5,
        max_batch: int = 500,
        max_pending: int = 50_000,
        rules_reload_s: float = 10.0,
        cache_size: int = 100_000,
    ) -> None:
        self._engine = engine
        self._visitors = visitors
        # Shared, updated in place: settings rules after the admin (database) rules.
        self.rules = rules
        self._settings_rules = list(rules)
        self.enabled = enabled
        self.flush_interval_s = flush_interval_s
        self.max_batch = max_batch
        self.max_pending = max_pending
        self.rules_reload_s = rules_reload_s
        self._pending: list[dict[str, Any]] = []
        self._last_seen: dict[str, float] = {}
        self._retry: list[dict[str, Any]] = []
        # Visitors whose row this process knows exists, and each one's latest known stage.
        self._known = _Lru(cache_size)
        self._stage = _Lru(cache_size)
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._rules_loaded_at = 0.0
        self._flush_lock = asyncio.Lock()
        self.dropped = 0
        self.flushes = 0

    # ------------------------------------------------------------------ lifecycle

    async def start(self) -> None:
        """Load the admin stage rules and start the background writer."""
        await self.reload_rules()
        self._ensure_task()

    def _ensure_task(self) -> None:
        if self._task is None or self._task.done():
            self._task = asyncio.get_running_loop().create_task(self._run(), name="journey-writer")

    async def stop(self) -> None:
        """Stop the writer and write what is still buffered."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        await self.flush()
        if self._retry:
            await self.flush()

    async def _run(self) -> None:
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self.flush_interval_s)
            self._wake.clear()
            try:
                await self.flush()
                if time.monotonic() - self._rules_loaded_at >= self.rules_reload_s:
                    await self.reload_rules()
            except Exception:  # pragma: no cover - logged and retried on the next round
                log.exception("journey writer")

    # ------------------------------------------------------------------ page views

    async def record_page_view(self, visitor_id: str, page: p.PageInfo, now: float) -> None:
        if not self.enabled:
            return
        self._ensure_task()
        inferred = ""
        if page.stage not in STAGES and not any(page.url and rule.matches(page.url) for rule in self.rules):
            inferred = await self.latest_stage(visitor_id)
        stage, source = resolve_stage(page.stage, page.url, self.rules, inferred)
        if visitor_id not in self._known:
            await self._visitors.touch(visitor_id, now, _page_dict(page))
            self._known.put(visitor_id, True)
        else:
            self._last_seen[visitor_id] = max(now, self._last_seen.get(visitor_id, now))
        if stage in STAGES:
            self._stage.put(visitor_id, stage)
        if len(self._pending) >= self.max_pending:
            self.dropped += 1
            return
        self._pending.append(
            {
                "visitor_id": visitor_id,
                "contact_id": None,
                "kind": "page_view",
                "channel": "web",
                "stage": stage,
                "stage_source": source,
                "url": page.url,
                "title": page.title,
                "referrer": page.referrer,
                "utm_source": page.utm_source,
                "utm_medium": page.utm_medium,
                "utm_campaign": page.utm_campaign,
                "utm_term": page.utm_term,
                "utm_content": page.utm_content,
                "started_at": now,
                "queue_id": "",
                "outcome": "",
            }
        )
        if len(self._pending) >= self.max_batch:
            self._wake.set()

    @property
    def pending(self) -> int:
        return len(self._pending) + len(self._retry)

    async def flush(self) -> int:
        """Write the buffered page views now; returns how many rows were written."""
        async with self._flush_lock:
            retry, self._retry = self._retry, []
            rows, self._pending = self._pending, []
            seen, self._last_seen = self._last_seen, {}
            batch = retry + rows
            if not batch and not seen:
                return 0
            try:
                async with self._engine.begin() as conn:
                    if batch:
                        await conn.execute(insert(Touchpoint), batch)
                    if seen:
                        await conn.execute(
                            update(Visitor)
                            .where(Visitor.id == bindparam("b_id"), Visitor.last_seen_at < bindparam("b_at"))
                            .values(last_seen_at=bindparam("b_at")),
                            [{"b_id": vid, "b_at": at} for vid, at in seen.items()],
                        )
            except Exception:
                log.exception("writing %d page views failed", len(batch))
                if retry:
                    self.dropped += len(retry)
                self._retry = rows  # this batch gets one more chance
                return 0
            self.flushes += 1
            return len(batch)

    async def latest_stage(self, visitor_id: str) -> str:
        """The stage of the visitor's latest page view with a known stage ("" if none):
        what a contact or page without a declared or matched stage is inferred to be."""
        cached = self._stage.get(visitor_id)
        if cached is not None:
            return str(cached)
        async with self._engine.connect() as conn:
            stage = await conn.scalar(
                select(Touchpoint.stage)
                .where(
                    Touchpoint.visitor_id == visitor_id,
                    Touchpoint.kind == "page_view",
                    Touchpoint.stage.in_(STAGES),
                )
                .order_by(Touchpoint.started_at.desc())
                .limit(1)
            )
        if stage:
            self._stage.put(visitor_id, stage)
        return str(stage or "")

    # ------------------------------------------------------------------ rules

    async def reload_rules(self) -> None:
        async with self._engine.connect() as conn:
            rows = (
                await conn.execute(
                    select(StageRuleRecord.pattern, StageRuleRecord.stage).order_by(
                        StageRuleRecord.position, StageRuleRecord.id
                    )
                )
            ).all()
        self.rules[:] = [StageRule(row.pattern, row.stage) for row in rows] + self._settings_rules
        self._rules_loaded_at = time.monotonic()

    @property
    def settings_rules(self) -> list[StageRule]:
        return list(self._settings_rules)


def _page_dict(page: p.PageInfo) -> dict[str, str]:
    return {
        "url": page.url,
        "referrer": page.referrer,
        "utm_source": page.utm_source,
        "utm_medium": page.utm_medium,
        "utm_campaign": page.utm_campaign,
        "utm_term": page.utm_term,
        "utm_content": page.utm_content,
    }
