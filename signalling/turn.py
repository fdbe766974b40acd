"""ICE server configuration with time-limited TURN credentials.

The backend never shares the TURN secret with clients.  It mints credentials in
coturn's ``use-auth-secret`` scheme (the "TURN REST API" draft,
draft-uberti-behave-turn-rest-00), which coturn verifies without a database:

- username ``"<expiry unix time>:<user id>"``
- password ``base64(HMAC-SHA1(secret, username))``

coturn recomputes the HMAC with its ``static-auth-secret`` and refuses the username
once the expiry has passed, so a leaked credential stops working by itself.  The
result is a list of dicts shaped like the W3C ``RTCIceServer`` dictionary
(``urls``, ``username``, ``credential``), ready to hand to ``new RTCPeerConnection``.

Nothing here reads a clock: ``now`` is passed in.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Sequence
from typing import NotRequired, TypedDict

__all__ = [
    "DEFAULT_TTL_S",
    "RTCIceServer",
    "ice_servers",
    "turn_credentials",
    "verify_turn_credentials",
]

DEFAULT_TTL_S = 24 * 3600

_STUN_SCHEMES = ("stun:", "stuns:")
_TURN_SCHEMES = ("turn:", "turns:")


class RTCIceServer(TypedDict):
    """W3C ``RTCIceServer``: STUN entries carry only ``urls``."""

    urls: list[str]
    username: NotRequired[str]
    credential: NotRequired[str]


def _key(secret: str | bytes) -> bytes:
    return secret.encode() if isinstance(secret, str) else secret


def _password(secret: str | bytes, username: str) -> str:
    digest = hmac.new(_key(secret), username.encode(), hashlib.sha1).digest()
    return base64.b64encode(digest).decode("ascii")


def turn_credentials(
    secret: str | bytes, user_id: str, now: float, ttl_s: int = DEFAULT_TTL_S
) -> tuple[str, str]:
    """``(username, password)`` valid until ``int(now) + ttl_s``.

    The user id is kept after the first colon, where coturn ignores it for
    authentication but writes it to its logs, so a relay session can be traced back to
    a visitor or agent.
    """
    if not user_id:
        raise ValueError("user_id must not be empty")
    if ttl_s <= 0:
        raise ValueError("ttl_s must be positive")
    if not _key(secret):
        raise ValueError("the TURN secret must not be empty")
    username = f"{int(now) + int(ttl_s)}:{user_id}"
    return username, _password(secret, username)


def verify_turn_credentials(username: str, password: str, secret: str | bytes, now: float) -> bool:
    """What coturn checks: the HMAC matches and the expiry has not passed.

    Used by tests and by anyone who wants to check a credential without a coturn.
    """
    expiry, sep, _user = username.partition(":")
    if not sep or not expiry.isdigit():
        return False
    if int(expiry) < now:
        return False
    expected = _password(secret, username)
    return hmac.compare_digest(expected.encode(), password.encode())


def _check_schemes(urls: Sequence[str], schemes: tuple[str, ...]) -> list[str]:
    checked = []
    for url in urls:
        if not url.startswith(schemes):
            raise ValueError(f"{url!r} does not start with one of {schemes}")
        checked.append(url)
    return checked


def ice_servers(
    stun_urls: Sequence[str],
    turn_urls: Sequence[str],
    secret: str | bytes | None,
    user_id: str,
    now: float,
    ttl_s: int = DEFAULT_TTL_S,
) -> list[RTCIceServer]:
    """The ``iceServers`` list for one user.

    One entry for the STUN URLs (no credentials) and one for the TURN URLs with fresh
    credentials.  TURN is left out when there are no TURN URLs or no secret, so a
    deployment without coturn still gets a working (STUN-only or empty) list; an empty
    list is what tests on loopback want.
    """
    servers: list[RTCIceServer] = []
    stun = _check_schemes(stun_urls, _STUN_SCHEMES)
    turn = _check_schemes(turn_urls, _TURN_SCHEMES)
    if stun:
        servers.append({"urls": stun})
    if turn and secret:
        username, credential = turn_credentials(secret, user_id, now, ttl_s)
        servers.append({"urls": turn, "username": username, "credential": credential})
    return servers
