"""Rate limits and retry timing for HTTP backends.

* :class:`TokenBucket` (the one bucket of :mod:`behaviorlab._ratelimit`, shared with the
  ingest server) is used here as a reservation bucket: :meth:`TokenBucket.reserve` takes the
  amount at once (the level may go negative) and returns how long the caller must wait before
  using it. It holds no lock and no event loop, so one bucket serves every task of every loop,
  and a test drives it with a fake clock.
* :class:`RateLimiter` combines a requests-per-minute and a tokens-per-minute bucket. The token
  cost of a call is estimated before it is sent and corrected with the ``usage`` the server
  reports (:meth:`RateLimiter.correct`).
* :func:`backoff_delay` is exponential backoff with full jitter (a uniform draw between 0 and
  ``base * 2**attempt``, capped), and :func:`retry_after_seconds` reads a ``Retry-After``
  header (seconds or an HTTP date).
"""

from __future__ import annotations

import asyncio
import email.utils
import random
import time
from collections.abc import Awaitable, Callable

from behaviorlab._ratelimit import Clock, TokenBucket

__all__ = [
    "Clock",
    "RateLimiter",
    "Sleep",
    "TokenBucket",
    "backoff_delay",
    "retry_after_seconds",
]

Sleep = Callable[[float], Awaitable[None]]


class RateLimiter:
    """Requests per minute and tokens per minute (either may be None: unlimited)."""

    def __init__(
        self,
        requests_per_minute: float | None = None,
        tokens_per_minute: float | None = None,
        *,
        clock: Clock = time.monotonic,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        self.requests = (
            TokenBucket(requests_per_minute / 60, requests_per_minute, clock)
            if requests_per_minute
            else None
        )
        self.tokens = (
            TokenBucket(tokens_per_minute / 60, tokens_per_minute, clock)
            if tokens_per_minute
            else None
        )
        self._sleep = sleep

    def reserve(self, tokens: int) -> float:
        """Reserve one request of ``tokens`` estimated tokens; seconds to wait."""
        wait = 0.0
        if self.requests is not None:
            wait = max(wait, self.requests.reserve(1))
        if self.tokens is not None:
            wait = max(wait, self.tokens.reserve(tokens))
        return wait

    def cancel(self, tokens: int) -> None:
        """Undo a reservation that will not be used (the call gave up before sending)."""
        if self.requests is not None:
            self.requests.give_back(1)
        if self.tokens is not None:
            self.tokens.give_back(tokens)

    async def acquire(self, tokens: int, *, max_wait: float | None = None) -> float:
        """Wait until one request of ``tokens`` tokens may be sent; returns the wait.

        Raises :class:`TimeoutError` (and keeps nothing reserved) when the wait would exceed
        ``max_wait``."""
        wait = self.reserve(tokens)
        if max_wait is not None and wait > max_wait:
            self.cancel(tokens)
            raise TimeoutError(f"rate limit: the next slot is {wait:.1f}s away")
        if wait > 0:
            await self._sleep(wait)
        return wait

    def correct(self, estimated: int, actual: int) -> None:
        """Charge the difference once the server reported the real token count."""
        if self.tokens is not None and actual != estimated:
            self.tokens.give_back(estimated - actual)


def backoff_delay(
    attempt: int, *, base: float, cap: float, rng: random.Random | None = None
) -> float:
    """Full-jitter exponential backoff: uniform in [0, min(cap, base * 2**attempt)]."""
    draw = (rng or random).random()
    return draw * min(cap, base * 2.0**attempt)


def retry_after_seconds(value: str | None, *, now: float | None = None) -> float | None:
    """Seconds from a ``Retry-After`` header: a number of seconds or an HTTP date."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - (time.time() if now is None else now))
