"""Sites that report conversions, and their keys.

A key is ``cck_`` followed by 43 random URL-safe characters (256 bits), shown once
when the site is created.  Only its SHA-256 is stored: a key has full entropy, so a
fast hash is enough (as for API tokens) and a lookup is one indexed equality.
"""

from __future__ import annotations

import hashlib
import secrets
import time
from collections.abc import Sequence
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from contact_center.i18n import DEFAULT_LOCALE, available_locales
from contact_center.i18n.catalogue import check_locale
from contact_center.security import new_id
from contact_center.store.models import Site

KEY_PREFIX = "cck_"


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


class SiteStore:
    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    async def create(
        self,
        name: str,
        now: float | None = None,
        *,
        default_locale: str = DEFAULT_LOCALE,
        allowed_locales: Sequence[str] | None = None,
    ) -> tuple[Site, str]:
        """A new site and its key (the only time the key is available)."""
        default_locale, allowed = locale_settings(default_locale, allowed_locales)
        key = KEY_PREFIX + secrets.token_urlsafe(32)
        site = Site(
            id=new_id(),
            name=name,
            key_hash=hash_key(key),
            key_prefix=key[:12],
            disabled=False,
            created_at=now if now is not None else time.time(),
            default_locale=default_locale,
            allowed_locales=allowed,
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

    async def set_locales(
        self, site_id: str, default_locale: str | None = None, allowed_locales: Sequence[str] | None = None
    ) -> Site | None:
        """Change the site's languages (None leaves one as it is; an empty
        ``allowed_locales`` means every shipped locale).  ValueError when the default
        would not be allowed."""
        site = await self.get(site_id)
        if site is None:
            return None
        default = default_locale if default_locale is not None else site.default_locale
        allowed = site.allowed_locales if allowed_locales is None else (list(allowed_locales) or None)
        default, allowed = locale_settings(default, allowed)
        async with self._engine.begin() as conn:
            await conn.execute(
                update(Site).where(Site.id == site_id).values(default_locale=default, allowed_locales=allowed)
            )
        return await self.get(site_id)

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


def locale_settings(default: str, allowed: Sequence[str] | None) -> tuple[str, list[str] | None]:
    """Checked locale settings of a site: shipped locales only, the default among the
    allowed ones (None: all shipped)."""
    check_locale(default)
    if not allowed:
        return default, None
    codes = list(dict.fromkeys(check_locale(code) for code in allowed))
    if default not in codes:
        raise ValueError(f"the default locale {default!r} is not among the allowed ones ({', '.join(codes)})")
    return default, codes


def site_locales(site: Site | None) -> tuple[list[str], str]:
    """The locales a site's widget may speak and its fallback (all shipped and the
    product's default for no site, or a disabled one)."""
    shipped = list(available_locales())
    if site is None or site.disabled:
        return shipped, DEFAULT_LOCALE
    allowed = [c for c in (site.allowed_locales or shipped) if c in shipped] or shipped
    default = site.default_locale if site.default_locale in allowed else allowed[0]
    return allowed, default


def locales_out(site: Site) -> dict[str, Any]:
    allowed, default = site_locales(site)
    return {"default_locale": default, "allowed_locales": allowed}
