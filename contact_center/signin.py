"""Sign-in throttling: per account and per address, with exponential back-off.

The memory is the audit log itself: every failed sign-in is an ``auth.login`` entry
with outcome ``failed``, the account name as its target and the client's address.  So
the limit holds across restarts and across every gateway of a cluster, and there is
no second store to keep in step.

Policy (settings ``CC_LOGIN_*``): an account may fail ``free_failures`` times in the
window; after that each further attempt must wait ``base * 2**(extra failures)``
seconds (capped) after the last failure.  A successful sign-in clears the account's
count.  An address gets a larger allowance (many people share one behind a NAT) and
is not cleared by a success (an attacker may own one account).  A refused attempt is
not checked and not stored, so a flood of them costs one indexed read each and writes
nothing.
"""

from __future__ import annotations

import asyncio
import math
from dataclasses import dataclass
from weakref import WeakValueDictionary

from contact_center.audit import AuditLog
from contact_center.settings import Settings

LOGIN_ACTION = "auth.login"


@dataclass(frozen=True, slots=True)
class ThrottlePolicy:
    free_failures: int = 5
    address_free_failures: int = 20
    window_s: float = 900.0
    base_delay_s: float = 1.0
    max_delay_s: float = 900.0

    @classmethod
    def from_settings(cls, settings: Settings) -> ThrottlePolicy:
        return cls(
            free_failures=settings.login_free_failures,
            address_free_failures=settings.login_address_free_failures,
            window_s=settings.login_window_s,
            base_delay_s=settings.login_backoff_base_s,
            max_delay_s=settings.login_backoff_max_s,
        )

    def delay(self, failures: int, free: int) -> float:
        """Seconds to wait after the last failure, given ``failures`` in the window."""
        extra = failures - free
        if extra < 0:
            return 0.0
        return min(self.max_delay_s, self.base_delay_s * 2.0**extra)


@dataclass(frozen=True, slots=True)
class Verdict:
    """``retry_after_s`` > 0: refuse now, and say when to try again (whole seconds)."""

    retry_after_s: int
    scope: str = ""  # "account" or "address"

    @property
    def allowed(self) -> bool:
        return self.retry_after_s <= 0


class SignInThrottle:
    def __init__(self, audit: AuditLog, policy: ThrottlePolicy) -> None:
        self.audit = audit
        self.policy = policy
        # One attempt at a time per account and per address in this process, so that
        # a burst of parallel guesses cannot all pass the check before the first
        # failure is stored.
        self._locks: WeakValueDictionary[str, asyncio.Lock] = WeakValueDictionary()

    def lock(self, key: str) -> asyncio.Lock:
        lock = self._locks.get(key)
        if lock is None:
            lock = asyncio.Lock()
            self._locks[key] = lock
        return lock

    async def check(self, username: str, address: str, now: float) -> Verdict:
        policy = self.policy
        since = now - policy.window_s
        cleared = await self.audit.last_success(LOGIN_ACTION, username)
        account = await self.audit.failures(
            LOGIN_ACTION, since=max(since, cleared or since), target_id=username
        )
        wait = self._wait(account.count, policy.free_failures, account.last_at, now)
        if wait > 0:
            return Verdict(math.ceil(wait), "account")
        if address:
            by_address = await self.audit.failures(LOGIN_ACTION, since=since, address=address)
            wait = self._wait(by_address.count, policy.address_free_failures, by_address.last_at, now)
            if wait > 0:
                return Verdict(math.ceil(wait), "address")
        return Verdict(0)

    def _wait(self, failures: int, free: int, last_at: float | None, now: float) -> float:
        if last_at is None:
            return 0.0
        # The attempt being checked would be failure number failures + 1.
        return last_at + self.policy.delay(failures + 1, free + 1) - now if failures >= free else 0.0
