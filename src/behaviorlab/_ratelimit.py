"""The one token bucket, for the model backends' rate limits and the ingest server's.

A :class:`TokenBucket` refills ``rate`` units per second up to ``capacity`` (a full bucket is a
burst of ``capacity``). It serves two kinds of caller:

* one that must go ahead and may wait (a call to a rate-limited API): :meth:`TokenBucket.reserve`
  takes the amount at once, the level may go negative, and says how long to wait before using
  it; :meth:`TokenBucket.give_back` undoes or corrects a reservation;
* one that either goes ahead now or is refused (a request to the ingest server):
  :meth:`TokenBucket.take` takes the amount only when the bucket holds it, and otherwise takes
  nothing and says how long until it would.

It holds no lock and no event loop: a caller that shares one bucket between threads serializes
its calls. Time comes from ``clock`` (seconds, monotonic), so a test drives it by hand.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

Clock = Callable[[], float]


@dataclass
class TokenBucket:
    """``rate`` units per second, at most ``capacity`` banked."""

    rate: float
    capacity: float
    clock: Clock = time.monotonic
    level: float = field(init=False)
    _stamp: float = field(init=False)

    def __post_init__(self) -> None:
        if self.rate <= 0 or self.capacity <= 0:
            raise ValueError("a token bucket needs a positive rate and capacity")
        self.level = self.capacity
        self._stamp = self.clock()

    def _refill(self) -> None:
        now = self.clock()
        self.level = min(self.capacity, self.level + (now - self._stamp) * self.rate)
        self._stamp = now

    def reserve(self, amount: float) -> float:
        """Take ``amount`` now; seconds to wait before it may be used (0 if available)."""
        self._refill()
        self.level -= amount
        return max(0.0, -self.level / self.rate)

    def give_back(self, amount: float) -> None:
        """Return ``amount`` (negative: charge more), e.g. after the real usage is known."""
        self._refill()
        self.level = min(self.capacity, self.level + amount)

    def take(self, amount: float = 1.0) -> float:
        """Take ``amount`` if the bucket holds it: 0. Otherwise take nothing and return the
        seconds until it would hold it (an amount above ``capacity`` never fits: a ValueError)."""
        if amount > self.capacity:
            raise ValueError(f"cannot take {amount:g} from a bucket of {self.capacity:g}")
        self._refill()
        if self.level >= amount:
            self.level -= amount
            return 0.0
        return (amount - self.level) / self.rate

    def full_at(self) -> float:
        """The clock time at which the bucket is full again (now or earlier if it is full);
        a full bucket behaves as a new one, so its owner may forget it from then on."""
        return self._stamp + max(0.0, self.capacity - self.level) / self.rate
