"""The CR2 cluster-robust t interval against statsmodels and a dense reference, and when the
library picks it."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
from scipy import stats as sps

from behaviorlab.analysis import SMALL_SAMPLE_CLUSTERS, cr2_interval, estimate, paired_effect
from behaviorlab.analysis._small_sample import bm_degrees_of_freedom

FrameBuilder = Callable[[list[dict[str, Any]]], pd.DataFrame]


def _trials(rng: np.random.Generator, sizes: list[int]) -> tuple[np.ndarray, np.ndarray]:
    """Per-trial binary scores with a person effect, and each trial's person."""
    groups = np.repeat(np.arange(len(sizes)), sizes)
    effect = rng.normal(scale=0.8, size=len(sizes))[groups]
    y = (rng.random(len(groups)) < 1 / (1 + np.exp(-(0.2 + effect)))).astype(float)
    return y, groups


def _sums(y: np.ndarray, groups: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    return np.bincount(groups, weights=y), np.bincount(groups).astype(float)


def test_equal_clusters_match_statsmodels_cluster_robust_t(rng: np.random.Generator) -> None:
    """With equal cluster sizes CR2 equals statsmodels' CR1 (G/(G-1) correction) and the
    Bell-McCaffrey df equal G - 1, so the interval is statsmodels' OLS intercept interval
    with cov_type='cluster' and t(G - 1) quantiles."""
    y, groups = _trials(rng, [6] * 8)
    fit = sm.OLS(y, np.ones((len(y), 1))).fit(
        cov_type="cluster", cov_kwds={"groups": groups}, use_t=True
    )
    low, high = fit.conf_int(alpha=0.05)[0]
    est = cr2_interval(*_sums(y, groups))
    assert est.value == pytest.approx(fit.params[0], abs=1e-12)
    assert est.se == pytest.approx(fit.bse[0], rel=1e-10)
    assert est.df == pytest.approx(7.0)
    assert (est.low, est.high) == (pytest.approx(low, rel=1e-10), pytest.approx(high, rel=1e-10))
    assert est.method == "cluster-t-cr2" and est.n_clusters == 8 and est.n == 48


def _dense_cr2(y: np.ndarray, groups: np.ndarray) -> tuple[float, float]:
    """CR2 variance and BM df of the intercept from the textbook matrix formulas (Bell and
    McCaffrey 2002; Imbens and Kolesar 2016), with (I - H_gg)^(-1/2) by eigendecomposition."""
    n = len(y)
    x = np.ones((n, 1))
    hat = x @ np.linalg.inv(x.T @ x) @ x.T
    resid = y - hat @ y
    meat = 0.0
    bread = float(np.linalg.inv(x.T @ x)[0, 0])
    g_vectors = []
    residual_maker = np.eye(n) - hat
    for g in np.unique(groups):
        idx = np.flatnonzero(groups == g)
        h_gg = hat[np.ix_(idx, idx)]
        vals, vecs = np.linalg.eigh(np.eye(len(idx)) - h_gg)
        adjust = vecs @ np.diag(vals**-0.5) @ vecs.T
        score = float((x[idx].T @ adjust @ resid[idx])[0]) * bread
        meat += score**2
        # the linear map y -> score_g, a row of the G matrix in the Satterthwaite formula
        g_vectors.append(bread * (x[idx].T @ adjust @ residual_maker[idx, :]).ravel())
    big_g = np.array(g_vectors)
    eig = np.linalg.eigvalsh(big_g @ big_g.T)
    return meat, float(eig.sum() ** 2 / (eig**2).sum())


def test_unequal_clusters_match_the_dense_matrix_formulas(rng: np.random.Generator) -> None:
    y, groups = _trials(rng, [1, 3, 9, 2, 14, 5, 7])
    variance, df = _dense_cr2(y, groups)
    est = cr2_interval(*_sums(y, groups))
    assert est.se**2 == pytest.approx(variance, rel=1e-9)
    assert est.df == pytest.approx(df, rel=1e-9)
    half = sps.t.ppf(0.975, df) * math.sqrt(variance)
    assert est.high - est.value == pytest.approx(half, rel=1e-9)
    assert est.df < 6  # unequal sizes: fewer effective degrees of freedom than G - 1


def test_bm_degrees_of_freedom_are_g_minus_1_for_equal_sizes() -> None:
    assert bm_degrees_of_freedom(np.full(12, 5.0)) == pytest.approx(11.0)
    assert bm_degrees_of_freedom(np.array([1.0, 1.0, 50.0])) < 2.0
    assert math.isnan(bm_degrees_of_freedom(np.array([3.0])))


def test_edge_cases() -> None:
    one = cr2_interval(np.array([2.0]), np.array([4.0]))
    assert one.value == 0.5 and math.isnan(one.low) and one.n_clusters == 1
    none = cr2_interval(np.zeros(0), np.zeros(0))
    assert not none.ok and none.n_clusters == 0
    flat = cr2_interval(np.array([1.0, 2.0, 3.0]), np.array([1.0, 2.0, 3.0]))
    assert (flat.value, flat.low, flat.high) == (1.0, 1.0, 1.0)
    clipped = cr2_interval(np.array([3.0, 3.0, 2.0]), np.array([3.0, 3.0, 3.0]), bounds=(0, 1))
    assert clipped.high == 1.0 and clipped.low < clipped.value
    empty_cluster = cr2_interval(np.array([1.0, 0.0, 2.0]), np.array([2.0, 0.0, 3.0]))
    assert empty_cluster.n_clusters == 2


def _frame(frame_of: FrameBuilder, rng: np.random.Generator, n_people: int) -> pd.DataFrame:
    rows = []
    for p in range(n_people):
        for i in range(int(rng.integers(1, 6))):
            human = str(rng.choice(["a", "b"]))
            answer = human if rng.random() < 0.7 else ("b" if human == "a" else "a")
            for cond in ("full", "no_persona"):
                rows.append(
                    {
                        "person_id": f"p{p:03d}",
                        "item_id": f"q{i}",
                        "human_answer": human,
                        "answer": answer if cond == "full" else human,
                        "condition": cond,
                    }
                )
    return frame_of(rows)


def test_estimate_picks_cr2_below_the_threshold(
    frame_of: FrameBuilder, rng: np.random.Generator
) -> None:
    few = _frame(frame_of, rng, 12)
    arm = few[few["condition"] == "full"]
    est = estimate(arm, "accuracy")
    assert est is not None and est.method == "cluster-t-cr2" and est.n_clusters == 12
    correct = arm["correct"].to_numpy(float)
    people = pd.factorize(arm["person_id"], sort=True)[0]
    assert est == cr2_interval(*_sums(correct, people), bounds=(0.0, 1.0), scale="log-odds")
    forced = estimate(arm, "accuracy", interval="percentile", n_resamples=200)
    assert forced is not None and forced.method == "cluster-bootstrap"
    assert forced.value == est.value
    # distances keep their bootstrap interval
    many = _frame(frame_of, rng, SMALL_SAMPLE_CLUSTERS)
    big = estimate(many[many["condition"] == "full"], "accuracy", n_resamples=200)
    assert big is not None and big.method == "cluster-bootstrap" and big.n_clusters == 100
    with pytest.raises(ValueError, match="mean metric"):
        estimate(arm, "macro_f1", interval="cr2")
    with pytest.raises(ValueError, match="interval must be"):
        estimate(arm, "accuracy", interval="wild")  # type: ignore[arg-type]


def test_paired_effect_with_few_people_uses_cr2_on_the_differences(
    frame_of: FrameBuilder, rng: np.random.Generator
) -> None:
    frame = _frame(frame_of, rng, 9)
    est = paired_effect(frame, "llm:mock", "full", "no_persona")
    full = frame[frame["condition"] == "full"]
    diff = full["correct"].to_numpy(float) - 1.0  # the control arm always answers right
    people = pd.factorize(full["person_id"], sort=True)[0]
    assert est.method == "cluster-t-cr2"
    reference = cr2_interval(*_sums(diff, people))
    assert (est.value, est.low, est.high) == pytest.approx(
        (reference.value, reference.low, reference.high)
    )
