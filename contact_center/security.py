"""Passwords and signed tokens.

Passwords are hashed with argon2id (argon2-cffi).  Agents and visitors carry short
signed JWTs (HS256, pyjwt): an agent token says who and which role; a visitor token
names the visitor id the *server* chose, so a browser can only ever speak for its own
conversations.  Tokens are bearer tokens sent in an Authorization header or the first
WebSocket frame, never in cookies, so REST writes need no CSRF defence.
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass
from typing import Literal

import jwt
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

Role = Literal["agent", "supervisor", "admin", "visitor"]
STAFF_ROLES: tuple[str, ...] = ("agent", "supervisor", "admin")
# Who may do what: a role may do everything the roles before it may.
ROLE_RANK = {"visitor": 0, "agent": 1, "supervisor": 2, "admin": 3}

_hasher = PasswordHasher()


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def new_id() -> str:
    return uuid.uuid4().hex


@dataclass(frozen=True, slots=True)
class Identity:
    """Who is on the other end of a request or socket."""

    subject: str  # user id or visitor id
    role: Role
    name: str = ""

    @property
    def is_staff(self) -> bool:
        return self.role in STAFF_ROLES

    def at_least(self, role: Role) -> bool:
        return ROLE_RANK[self.role] >= ROLE_RANK[role]


class TokenError(Exception):
    pass


class TokenSigner:
    """Signs and checks tokens with one secret."""

    _ALGORITHM = "HS256"

    def __init__(self, secret: str) -> None:
        # HS256 wants a key at least as long as its hash (RFC 7518 3.2).
        if len(secret) < 32:
            raise ValueError("the secret key (CC_SECRET_KEY) must be at least 32 characters")
        self._secret = secret

    def issue(self, identity: Identity, ttl_s: int, now: float | None = None) -> str:
        issued = int(now if now is not None else time.time())
        claims = {
            "sub": identity.subject,
            "role": identity.role,
            "name": identity.name,
            "iat": issued,
            "exp": issued + ttl_s,
        }
        return jwt.encode(claims, self._secret, algorithm=self._ALGORITHM)

    def verify(self, token: str) -> Identity:
        try:
            claims = jwt.decode(
                token,
                self._secret,
                algorithms=[self._ALGORITHM],
                options={"require": ["exp", "sub", "role"]},
            )
        except jwt.ExpiredSignatureError as exc:
            raise TokenError("token expired") from exc
        except jwt.PyJWTError as exc:
            raise TokenError("invalid token") from exc
        role = claims.get("role")
        if role not in ROLE_RANK:
            raise TokenError("invalid token")
        return Identity(subject=str(claims["sub"]), role=role, name=str(claims.get("name", "")))
