"""The one token bucket (``behaviorlab._ratelimit``): reservations for the model backends,
take-or-refuse for the ingest server, on a clock moved by hand."""

from __future__ import annotations

import pytest

from behaviorlab._ratelimit import TokenBucket


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_take_goes_ahead_or_takes_nothing() -> None:
    clock = Clock()
    bucket = TokenBucket(rate=2.0, capacity=3, clock=clock)  # a burst of 3, then 2 per second
    assert [bucket.take() for _ in range(3)] == [0.0, 0.0, 0.0]
    assert bucket.take() == pytest.approx(0.5)  # 1 token at 2/s
    assert bucket.take() == pytest.approx(0.5)  # a refusal took nothing
    assert bucket.level == pytest.approx(0.0)
    clock.now += 0.25
    assert bucket.take() == pytest.approx(0.25)  # half a token banked
    clock.now += 0.25
    assert bucket.take() == 0.0 and bucket.level == pytest.approx(0.0)
    clock.now += 60
    assert bucket.level == pytest.approx(0.0)  # refills on use, not by itself
    assert bucket.take(2) == 0.0 and bucket.level == pytest.approx(1.0)  # capped at 3
    with pytest.raises(ValueError, match="cannot take 4 from a bucket of 3"):
        bucket.take(4)


def test_reserve_goes_negative_and_give_back_corrects_it() -> None:
    clock = Clock()
    bucket = TokenBucket(rate=10.0, capacity=600, clock=clock)
    assert bucket.reserve(500) == 0.0
    assert bucket.reserve(300) == pytest.approx(20.0)  # level -200 at 10/s
    assert bucket.take() == pytest.approx(20.1)  # take waits for a positive level
    bucket.give_back(200)  # the call used 200 fewer than reserved
    assert bucket.level == pytest.approx(0.0)
    bucket.give_back(10_000)
    assert bucket.level == 600  # never above capacity


def test_full_at_says_when_a_bucket_is_as_good_as_new() -> None:
    clock = Clock()
    bucket = TokenBucket(rate=10.0, capacity=5, clock=clock)
    assert bucket.full_at() == 100.0  # full from the start
    bucket.take()
    bucket.take()
    assert bucket.full_at() == pytest.approx(100.2)  # 2 tokens at 10/s
    clock.now = 100.1
    bucket.take()  # refills 1, takes 1
    assert bucket.full_at() == pytest.approx(100.3)
    bucket.reserve(10)  # level -7: 1.2 s to be full
    assert bucket.full_at() == pytest.approx(101.3)


@pytest.mark.parametrize(("rate", "capacity"), [(0, 1), (1, 0), (-1, 5)])
def test_a_bucket_needs_a_positive_rate_and_capacity(rate: float, capacity: float) -> None:
    with pytest.raises(ValueError, match="positive rate and capacity"):
        TokenBucket(rate, capacity, Clock())


def test_models_and_collect_use_the_one_bucket() -> None:
    from behaviorlab.collect._server import RateLimit, ServerState
    from behaviorlab.collect._study import utc_now
    from behaviorlab.models import TokenBucket as ModelsBucket
    from behaviorlab.models._ratelimit import RateLimiter

    assert ModelsBucket is TokenBucket  # still importable where the OpenAI backend finds it
    assert type(RateLimiter(60, None).requests) is TokenBucket
    clock = Clock()
    rate = RateLimit(per_second=0.5, burst=2)
    state = ServerState(None, utc_now, 1, rate, monotonic=clock)  # type: ignore[arg-type]
    assert [state.take("p") for _ in range(3)] == [0.0, 0.0, 2.0]
    assert type(state.buckets["p"]) is TokenBucket
    clock.now += 1.0
    assert state.take("p") == pytest.approx(1.0)  # the server's clock drives its buckets


@pytest.mark.parametrize("bad", [{"per_second": 0}, {"burst": 0}])
def test_the_ingest_rate_limit_is_checked_up_front(bad: dict[str, float]) -> None:
    from pydantic import ValidationError

    from behaviorlab.collect._server import RateLimit

    with pytest.raises(ValidationError):
        RateLimit.model_validate(bad)
