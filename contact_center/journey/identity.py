"""Verified visitor identity: a site vouches for its signed-in customer.

The site's backend computes ``HMAC-SHA256(identity secret, customer id)`` (hex) and
the page hands id and HMAC to the widget (``ContactCenter.identify``).  The server
checks the HMAC with :func:`hmac.compare_digest`; on success the visitor token it
issues names the customer's one visitor id (:mod:`contact_center.store.customers`), the
same on every device, so conversations and journey follow the customer.

The secret must be recoverable to verify HMACs, so it cannot be stored hashed like
the site's key.  Instead it is *derived*: ``HMAC-SHA256(server secret key, site id +
random salt)``, and only the salt is stored.  A copy of the database alone reveals no
secret (as with encryption under the server key, which this amounts to, without a
cipher dependency); rotating is a new salt; changing ``CC_SECRET_KEY`` changes every
site's identity secret (verification then fails safely: visitors stay anonymous until
the site gets its new secret).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets
import time
from dataclasses import dataclass

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncEngine

from contact_center.store.models import Site

SECRET_PREFIX = "ccid_"
MAX_ID_CHARS = 128
MAX_NAME_CHARS = 128
MAX_EMAIL_CHARS = 256
_DERIVATION_LABEL = b"contact-center identity secret v1\x00"
# Loose on purpose: something@something, no spaces (the site vouches for it anyway).
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+$")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def derive_secret(server_key: str, site_id: str, salt: str) -> str:
    """The site's identity secret for this salt (see the module docstring)."""
    digest = hmac.new(
        server_key.encode(), _DERIVATION_LABEL + site_id.encode() + b"\x00" + salt.encode(), hashlib.sha256
    ).digest()
    return SECRET_PREFIX + base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def identity_hmac(secret: str, external_id: str) -> str:
    """What the site's backend computes: hex HMAC-SHA256 of the id under the secret."""
    return hmac.new(secret.encode(), external_id.encode(), hashlib.sha256).hexdigest()


def site_secret(server_key: str, site: Site) -> str | None:
    """The site's current identity secret, or None when it has none (or is disabled)."""
    if site.disabled or not site.identity_salt:
        return None
    return derive_secret(server_key, site.id, site.identity_salt)


def hmac_matches(server_key: str, site: Site, external_id: str, given: str) -> bool:
    """Whether ``given`` is the HMAC of ``external_id`` under the site's secret (in
    constant time; hex in any case)."""
    secret = site_secret(server_key, site)
    if secret is None or not given:
        return False
    expected = identity_hmac(secret, external_id)
    return hmac.compare_digest(expected.encode(), given.strip().lower().encode())


class InvalidIdentity(ValueError):
    """The identity's fields are not acceptable; ``field`` says which."""

    def __init__(self, field: str) -> None:
        super().__init__(field)
        self.field = field


@dataclass(frozen=True, slots=True)
class ClaimedIdentity:
    external_id: str
    name: str
    email: str


def check_identity(external_id: str, name: str, email: str) -> ClaimedIdentity:
    """The identity with its text tidied, or :class:`InvalidIdentity`.  The id is kept
    exactly as sent (the HMAC covers those bytes)."""
    if not external_id or len(external_id) > MAX_ID_CHARS or _CONTROL.search(external_id):
        raise InvalidIdentity("id")
    name = " ".join(name.split())
    if len(name) > MAX_NAME_CHARS:
        raise InvalidIdentity("name")
    email = email.strip()
    if email and (len(email) > MAX_EMAIL_CHARS or not _EMAIL.match(email)):
        raise InvalidIdentity("email")
    return ClaimedIdentity(external_id, name, email)


@dataclass(frozen=True, slots=True)
class IssuedSecret:
    site_id: str
    secret: str
    prefix: str
    rotated_at: float


async def rotate_secret(engine: AsyncEngine, server_key: str, site_id: str) -> IssuedSecret | None:
    """Give the site a new identity secret (HMACs made with the old one stop
    verifying at once) and return it: the only time it is shown.  None: no such site."""
    salt = secrets.token_urlsafe(32)
    secret = derive_secret(server_key, site_id, salt)
    now = time.time()
    async with engine.begin() as conn:
        result = await conn.execute(
            update(Site)
            .where(Site.id == site_id)
            .values(identity_salt=salt, identity_prefix=secret[:12], identity_rotated_at=now)
        )
        if not result.rowcount:
            return None
    return IssuedSecret(site_id=site_id, secret=secret, prefix=secret[:12], rotated_at=now)


async def remove_secret(engine: AsyncEngine, site_id: str) -> bool:
    """Turn verified identity off for the site (every HMAC is refused).  False: no
    such site."""
    async with engine.begin() as conn:
        result = await conn.execute(
            update(Site)
            .where(Site.id == site_id)
            .values(identity_salt=None, identity_prefix=None, identity_rotated_at=time.time())
        )
        return bool(result.rowcount)
