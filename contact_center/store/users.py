"""Agents, supervisors and admins."""

from __future__ import annotations

import logging
import secrets
import time
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from contact_center.security import hash_password, new_id, verify_password
from contact_center.store.models import User

log = logging.getLogger(__name__)

ROLES = ("agent", "supervisor", "admin")


class UserExists(Exception):
    pass


def user_dict(user: User) -> dict[str, Any]:
    """The public view of a user (never the password hash)."""
    return {
        "id": user.id,
        "username": user.username,
        "display_name": user.display_name,
        "role": user.role,
        "skills": dict(user.skills or {}),
        "languages": list(user.languages or []),
        "capacity": dict(user.capacity or {}),
        "queues": list(user.queues or []),
        "disabled": user.disabled,
        "created_at": user.created_at,
        "locale": user.locale,
    }


class UserStore:
    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    async def count(self) -> int:
        async with self._engine.connect() as conn:
            return int(await conn.scalar(select(func.count()).select_from(User)) or 0)

    async def create(
        self,
        username: str,
        password: str,
        role: str = "agent",
        *,
        display_name: str = "",
        skills: dict[str, int] | None = None,
        languages: list[str] | None = None,
        capacity: dict[str, int] | None = None,
        queues: list[str] | None = None,
    ) -> User:
        if role not in ROLES:
            raise ValueError(f"role must be one of {', '.join(ROLES)}")
        if await self.by_username(username) is not None:
            raise UserExists(username)
        user = User(
            id=new_id(),
            username=username,
            display_name=display_name or username,
            password_hash=hash_password(password),
            role=role,
            skills=skills or {},
            languages=languages or [],
            capacity=capacity or {},
            queues=queues or [],
            disabled=False,
            created_at=time.time(),
        )
        async with AsyncSession(self._engine, expire_on_commit=False) as session:
            session.add(user)
            await session.commit()
        return user

    async def ensure_admin(self, password: str) -> str | None:
        """Create the admin account ``admin`` when no admin exists yet, even if other
        users do (someone ran ``contact-center agents add`` before the first start):
        without it nobody could sign in to manage anything.  Returns the password to
        print when one had to be generated, else None; says in the log what it did."""
        async with self._engine.connect() as conn:
            admins = int(
                await conn.scalar(select(func.count()).select_from(User).where(User.role == "admin")) or 0
            )
        if admins:
            return None
        if await self.by_username("admin") is not None:
            log.warning(
                "no admin account exists and the username 'admin' is taken by a non-admin: "
                "make one with `contact-center agents add NAME --role admin`"
            )
            return None
        generated = not password
        password = password or secrets.token_urlsafe(12)
        try:
            await self.create("admin", password, "admin", display_name="Administrator")
        except (UserExists, IntegrityError):
            return None  # another process of the cluster created it first
        others = await self.count() - 1
        log.info(
            "created the admin account 'admin' (%s; %d other users existed)",
            "password printed once" if generated else "password from CC_ADMIN_PASSWORD",
            others,
        )
        return password if generated else None

    async def by_username(self, username: str) -> User | None:
        return await self._one(select(User).where(User.username == username))

    async def get(self, user_id: str) -> User | None:
        return await self._one(select(User).where(User.id == user_id))

    async def authenticate(self, username: str, password: str) -> User | None:
        user = await self.by_username(username)
        if user is None or user.disabled:
            # Hash anyway so a wrong username takes as long as a wrong password.
            verify_password(hash_password("x"), password)
            return None
        return user if verify_password(user.password_hash, password) else None

    async def all(self) -> list[User]:
        async with AsyncSession(self._engine) as session:
            return list((await session.scalars(select(User).order_by(User.username))).all())

    async def update(self, user_id: str, **changes: Any) -> User | None:
        if "password" in changes:
            changes["password_hash"] = hash_password(changes.pop("password"))
        if "role" in changes and changes["role"] not in ROLES:
            raise ValueError(f"role must be one of {', '.join(ROLES)}")
        if changes:
            async with self._engine.begin() as conn:
                await conn.execute(update(User).where(User.id == user_id).values(**changes))
        return await self.get(user_id)

    async def _one(self, stmt: Any) -> User | None:
        async with AsyncSession(self._engine, expire_on_commit=False) as session:
            result: User | None = (await session.scalars(stmt)).first()
            return result
