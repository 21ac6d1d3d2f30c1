"""Client-side pacing for Graph's reporting APIs: a token bucket under the documented limit.

Microsoft Graph throttles ``/auditLogs`` at 5 requests per 10 seconds per app per tenant
(Graph "Identity and access reports service limits"). A bucket holding one token, refilled at
``requests / window`` (less a small safety margin), spaces requests evenly, so no sliding window of
that length ever sees more than ``requests`` of them.
"""

import threading
import time
from collections.abc import Callable

from pydantic import BaseModel, ConfigDict, Field

Clock = Callable[[], float]
_EPSILON = 1e-9  # tolerance for float rounding in refills, so a wait never shrinks to nothing
Sleep = Callable[[float], None]


class ThrottleLimit(BaseModel):
    """A request budget: at most ``requests`` per ``window_s`` seconds."""

    model_config = ConfigDict(frozen=True)

    requests: int = Field(5, gt=0)
    window_s: float = Field(10.0, gt=0)
    margin: float = Field(0.03, ge=0, lt=1)

    @property
    def rate(self) -> float:
        """Requests per second the pacer allows (the ceiling less the safety margin)."""
        return self.requests / self.window_s * (1 - self.margin)

    @property
    def ceiling(self) -> float:
        """Requests per second the service allows."""
        return self.requests / self.window_s

    def scaled(self, factor: float) -> "ThrottleLimit":
        """The same budget with time sped up ``factor`` times (for tests and benchmarks)."""
        return self.model_copy(update={"window_s": self.window_s / factor})


REPORTS_LIMIT = ThrottleLimit()
"""Graph's documented per-tenant limit for ``/auditLogs``: 5 requests / 10 s per app per tenant."""


class TokenBucket:
    """Blocks each caller until a token is available; ``hold_until`` honours a ``Retry-After``."""

    def __init__(
        self,
        rate: float,
        capacity: float = 1.0,
        *,
        clock: Clock = time.monotonic,
        sleep: Sleep = time.sleep,
    ) -> None:
        if rate <= 0 or capacity < 1:
            raise ValueError("rate must be > 0 and capacity >= 1")
        self.rate = rate
        self.capacity = capacity
        self._clock = clock
        self._sleep = sleep
        self._tokens = capacity
        self._stamp = clock()
        self._hold = 0.0
        self._lock = threading.Lock()
        self.waited_s = 0.0

    @classmethod
    def for_limit(
        cls, limit: ThrottleLimit, *, clock: Clock = time.monotonic, sleep: Sleep = time.sleep
    ) -> "TokenBucket":
        """A bucket that keeps a caller under ``limit``."""
        return cls(limit.rate, 1.0, clock=clock, sleep=sleep)

    def _refill(self, now: float) -> None:
        self._tokens = min(self.capacity, self._tokens + (now - self._stamp) * self.rate)
        self._stamp = now

    def acquire(self) -> float:
        """Take one token, sleeping as long as needed; returns the seconds waited."""
        with self._lock:
            waited = 0.0
            while True:
                now = self._clock()
                if now < self._hold:
                    pause = self._hold - now
                else:
                    self._refill(now)
                    if self._tokens >= 1 - _EPSILON:
                        self._tokens = max(0.0, self._tokens - 1)
                        self.waited_s += waited
                        return waited
                    pause = (1 - self._tokens) / self.rate
                self._sleep(pause)
                waited += pause

    def hold_for(self, seconds: float) -> None:
        """Give out no token for ``seconds`` from now (a ``Retry-After``)."""
        self.hold_until(self._clock() + seconds)

    def hold_until(self, deadline: float) -> None:
        """Give out no token before ``deadline`` (clock time), then one at once and pace again."""
        with self._lock:
            if deadline > self._hold:
                self._hold = deadline
                self._tokens = 1.0
                self._stamp = deadline
