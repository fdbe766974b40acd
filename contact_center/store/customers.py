"""Customers: a site's verified visitors, one visitor id per (site, the site's id).

The first verified identify of a customer mints the visitor id all its devices will
share; later ones (any device, any process) find the same row.  Two devices
identifying at the same moment race on the unique (site, external id) pair:
insert-or-ignore, then read, so both get the winner's visitor id.
"""

from __future__ import annotations

from sqlalchemy import delete, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from contact_center.security import new_id
from contact_center.store.models import Customer


class CustomerStore:
    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine
        self._insert = postgresql.insert if engine.dialect.name == "postgresql" else sqlite.insert

    async def verified(self, site_id: str, external_id: str, name: str, email: str, now: float) -> Customer:
        """The customer (created on its first verified identify), with the name and
        e-mail the site vouched for this time (an empty one keeps the stored one)."""
        async with self._engine.begin() as conn:
            await conn.execute(
                self._insert(Customer)
                .values(
                    id=new_id(),
                    site_id=site_id,
                    external_id=external_id,
                    visitor_id=new_id(),
                    name=name,
                    email=email,
                    created_at=now,
                    verified_at=now,
                )
                .on_conflict_do_nothing()
            )
            changes: dict[str, object] = {"verified_at": now}
            if name:
                changes["name"] = name
            if email:
                changes["email"] = email
            await conn.execute(
                update(Customer)
                .where(Customer.site_id == site_id, Customer.external_id == external_id)
                .values(**changes)
            )
        customer = await self.get(site_id, external_id)
        assert customer is not None  # inserted or already there, never deleted in between
        return customer

    async def get(self, site_id: str, external_id: str) -> Customer | None:
        async with AsyncSession(self._engine, expire_on_commit=False) as session:
            return await session.scalar(
                select(Customer).where(Customer.site_id == site_id, Customer.external_id == external_id)
            )

    async def of_visitor(self, visitor_id: str) -> Customer | None:
        """The customer whose visitor this is, if the visitor is a verified one."""
        async with AsyncSession(self._engine, expire_on_commit=False) as session:
            return await session.scalar(select(Customer).where(Customer.visitor_id == visitor_id))

    async def forget_visitor(self, visitor_id: str) -> int:
        async with self._engine.begin() as conn:
            result = await conn.execute(delete(Customer).where(Customer.visitor_id == visitor_id))
            return int(result.rowcount or 0)
