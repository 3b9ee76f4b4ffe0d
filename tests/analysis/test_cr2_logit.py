"""The CR2 t interval of a share on the logit scale (issue 15 §3): with few people of
unequal sizes the linear interval of accuracy under-covers (about 91% at 5 people with 2-40
trials each and a person effect of sd 1); on the logit scale it covers 93-97%."""

from __future__ import annotations

import importlib.util
import math
from pathlib import Path
from types import ModuleType

import numpy as np
from scipy import stats as sps

from behaviorlab.analysis._small_sample import bm_degrees_of_freedom, cr2_interval

BENCH = Path(__file__).parents[2] / "bench" / "cr2_coverage.py"


def test_the_logit_interval_is_the_cr2_interval_mapped_back() -> None:
    sums, counts = np.array([3.0, 9.0, 30.0, 2.0, 1.0]), np.array([4.0, 10.0, 35.0, 3.0, 2.0])
    linear = cr2_interval(sums, counts, bounds=(0.0, 1.0))
    logit = cr2_interval(sums, counts, bounds=(0.0, 1.0), scale="log-odds")
    v, se, df = linear.value, linear.se, bm_degrees_of_freedom(counts)
    assert (logit.value, logit.se, logit.df) == (v, se, df)
    half = sps.t.ppf(0.975, df) * se / (v * (1 - v))
    centre = math.log(v / (1 - v))
    expected = (1 / (1 + math.exp(-(centre - half))), 1 / (1 + math.exp(-(centre + half))))
    assert np.allclose((logit.low, logit.high), expected)
    assert 0.0 < logit.low < v < logit.high < 1.0
    assert v - logit.low > logit.high - v  # skewed away from the bound near 1
    assert logit.low < linear.low and linear.high == 1.0  # the linear one is clipped


def test_a_share_of_zero_or_one_keeps_the_linear_interval() -> None:
    ones = cr2_interval(np.array([3.0, 5.0]), np.array([3.0, 5.0]), bounds=(0, 1), scale="log-odds")
    assert (ones.value, ones.low, ones.high) == (1.0, 1.0, 1.0)


def _coverage_module() -> ModuleType:
    spec = importlib.util.spec_from_file_location("cr2_coverage", BENCH)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_logit_covers_with_five_people_of_unequal_sizes() -> None:
    """400 datasets of 5 people (2-40 trials each, accuracy about 0.78): the bench's cell."""
    bench = _coverage_module()
    cov = bench.coverage(1.5, 5, 400, np.random.default_rng(15))
    assert 0.93 <= cov["log-odds"] <= 0.97
    assert cov["linear"] < cov["log-odds"] - 0.02
