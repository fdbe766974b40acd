"""Sites that report conversions, and their keys.

A key is ``cck_`` followed by 43 random URL-safe characters (256 bits), shown once
when the site is created.  Only its SHA-256 is stored: a key has full entropy, so a
fast hash is enough (as for API tokens) and a lookup is one indexed equality.
"""

from __future__ import annotations

import hashlib
import secrets
import time

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from contact_center.security import new_id
from contact_center.store.models import Site

KEY_PREFIX = "cck_"


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


class SiteStore:
    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    async def create(self, name: str, now: float | None = None) -> tuple[Site, str]:
        """A new site and its key (the only time the key is available)."""
        key = KEY_PREFIX + secrets.token_urlsafe(32)
        site = Site(
            id=new_id(),
            name=name,
            key_hash=hash_key(key),
            key_prefix=key[:12],
            disabled=False,
            created_at=now if now is not None else time.time(),
        )
        async with AsyncSession(self._engine, expire_on_commit=False) as session:
            session.add(site)
            await session.commit()
        return site, key

    async def all(self) -> list[Site]:
        async with AsyncSession(self._engine, expire_on_commit=False) as session:
            return list((await session.scalars(select(Site).order_by(Site.created_at))).all())

    async def get(self, site_id: str) -> Site | None:
        async with AsyncSession(self._engine, expire_on_commit=False) as session:
            return await session.get(Site, site_id)

    async def set_disabled(self, site_id: str, disabled: bool = True) -> bool:
        async with self._engine.begin() as conn:
            result = await conn.execute(update(Site).where(Site.id == site_id).values(disabled=disabled))
            return bool(result.rowcount)

    async def authenticate(self, key: str) -> Site | None:
        """The enabled site this key belongs to, else None."""
        if not key.startswith(KEY_PREFIX) or len(key) > 128:
            return None
        async with AsyncSession(self._engine, expire_on_commit=False) as session:
            site = await session.scalar(select(Site).where(Site.key_hash == hash_key(key)))
        if site is None or site.disabled:
            return None
        return site
