"""A token bucket per connection: bursts are fine, a sustained flood is not."""

from __future__ import annotations


class TokenBucket:
    __slots__ = ("_burst", "_rate", "_tokens", "_updated", "strikes")

    def __init__(self, rate_per_s: float, burst: int, now: float) -> None:
        self._rate = rate_per_s
        self._burst = float(burst)
        self._tokens = float(burst)
        self._updated = now
        # Consecutive refusals; reset by the first frame that fits.
        self.strikes = 0

    def take(self, now: float) -> bool:
        elapsed = max(0.0, now - self._updated)
        self._updated = now
        self._tokens = min(self._burst, self._tokens + elapsed * self._rate)
        if self._tokens >= 1.0:
            self._tokens -= 1.0
            self.strikes = 0
            return True
        self.strikes += 1
        return False
