"""Recording the journey as it happens: page views from the widget."""

from __future__ import annotations

from sqlalchemy import insert
from sqlalchemy.ext.asyncio import AsyncEngine

from contact_center import protocol as p
from contact_center.journey.stages import StageRule, resolve_stage
from contact_center.store.models import Touchpoint
from contact_center.store.visitors import VisitorStore


class JourneyRecorder:
    def __init__(
        self, engine: AsyncEngine, visitors: VisitorStore, rules: list[StageRule], enabled: bool
    ) -> None:
        self._engine = engine
        self._visitors = visitors
        self.rules = rules
        self.enabled = enabled

    async def record_page_view(self, visitor_id: str, page: p.PageInfo, now: float) -> None:
        if not self.enabled:
            return
        stage, source = resolve_stage(page.stage, page.url, self.rules)
        await self._visitors.touch(
            visitor_id,
            now,
            {
                "url": page.url,
                "referrer": page.referrer,
                "utm_source": page.utm_source,
                "utm_medium": page.utm_medium,
                "utm_campaign": page.utm_campaign,
                "utm_term": page.utm_term,
                "utm_content": page.utm_content,
            },
        )
        async with self._engine.begin() as conn:
            await conn.execute(
                insert(Touchpoint).values(
                    visitor_id=visitor_id,
                    kind="page_view",
                    channel="web",
                    stage=stage,
                    stage_source=source,
                    url=page.url,
                    title=page.title,
                    referrer=page.referrer,
                    utm_source=page.utm_source,
                    utm_medium=page.utm_medium,
                    utm_campaign=page.utm_campaign,
                    started_at=now,
                    queue_id="",
                    outcome="",
                )
            )
