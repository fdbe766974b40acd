"""Stage rules managed through the admin API and the CLI (table ``stage_rules``).

They are evaluated in ``position`` order before the rules from settings
(``CC_STAGE_RULES``), and a page's own ``data-stage`` wins over all of them.  Every
process reloads them every few seconds (:class:`~contact_center.journey.recorder.
JourneyRecorder`), and the process that changed them at once.
"""

from __future__ import annotations

import time
from collections.abc import Sequence

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from contact_center.journey.stages import STAGES
from contact_center.store.models import StageRuleRecord


class InvalidRule(ValueError):
    pass


def check_rule(pattern: str, stage: str) -> None:
    if not pattern.strip() or len(pattern) > 512:
        raise InvalidRule("a rule needs a pattern of 1-512 characters")
    if stage not in STAGES:
        raise InvalidRule(f"unknown stage {stage!r}; one of {', '.join(STAGES)}")


class StageRuleStore:
    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    async def all(self) -> list[StageRuleRecord]:
        async with AsyncSession(self._engine, expire_on_commit=False) as session:
            stmt = select(StageRuleRecord).order_by(StageRuleRecord.position, StageRuleRecord.id)
            return list((await session.scalars(stmt)).all())

    async def add(self, pattern: str, stage: str, position: int | None = None) -> StageRuleRecord:
        """Add a rule at ``position`` (default: after the others)."""
        check_rule(pattern, stage)
        async with AsyncSession(self._engine, expire_on_commit=False) as session:
            if position is None:
                highest = await session.scalar(select(func.max(StageRuleRecord.position)))
                position = (highest if highest is not None else -1) + 1
            rule = StageRuleRecord(
                pattern=pattern.strip(), stage=stage, position=position, created_at=time.time()
            )
            session.add(rule)
            await session.commit()
        return rule

    async def replace(self, rules: Sequence[tuple[str, str]]) -> list[StageRuleRecord]:
        """Replace every rule with ``rules`` (pattern, stage), in this order."""
        for pattern, stage in rules:
            check_rule(pattern, stage)
        now = time.time()
        async with AsyncSession(self._engine, expire_on_commit=False) as session:
            await session.execute(delete(StageRuleRecord))
            records = [
                StageRuleRecord(pattern=pattern.strip(), stage=stage, position=i, created_at=now)
                for i, (pattern, stage) in enumerate(rules)
            ]
            session.add_all(records)
            await session.commit()
        return records

    async def remove(self, rule_id: int) -> bool:
        async with self._engine.begin() as conn:
            result = await conn.execute(delete(StageRuleRecord).where(StageRuleRecord.id == rule_id))
            return bool(result.rowcount)
