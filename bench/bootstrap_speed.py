"""How fast is the person-clustered bootstrap? Ours against the two usual ways of doing it.

    .venv/bin/python bench/bootstrap_speed.py                 # 1,000,000 trials, 2,000 people
    .venv/bin/python bench/bootstrap_speed.py --rows 200000 --people 500

The statistic is accuracy (the mean of a 0/1 score) on ``--rows`` trials of ``--people``
people with unequal numbers of trials (lognormal sizes) and a person effect. Three ways to get
a 95% percentile interval from ``--resamples`` (10,000) resamples:

(a) behaviorlab: per-person sums once (``MeanMetric.stats``), then all resamples as one
    matrix product of multinomial person weights (``cluster_bootstrap``). Timed in full, from
    the DataFrame (``estimate(..., interval="percentile")``) and the bootstrap step alone.
(b) the loop most analysts write: per resample, draw people with replacement,
    ``pd.concat`` their rows (from a precomputed ``groupby``) and take the mean. Timed on
    ``--loop-resamples`` resamples and extrapolated linearly to ``--resamples``.
(c) ``scipy.stats.bootstrap`` on the same mean *without* clustering (it resamples trials; the
    interval is too narrow for clustered data, this is only about speed), vectorised in
    batches. Timed on ``--scipy-resamples`` resamples and extrapolated linearly.

Prints the times and the ratios measured in this one run.
"""

from __future__ import annotations

import argparse
import os
import platform
import time

import numpy as np
import pandas as pd
from scipy import stats as sps

from behaviorlab.analysis import estimate
from behaviorlab.analysis._bootstrap import cluster_bootstrap
from behaviorlab.analysis._metrics import Accuracy


def make_trials(rows: int, people: int, seed: int = 0) -> pd.DataFrame:
    """``rows`` trials of ``people`` people with lognormal cluster sizes and a person effect."""
    rng = np.random.default_rng(seed)
    weights = rng.lognormal(0.0, 0.8, people)
    sizes = np.maximum(1, np.floor(weights / weights.sum() * rows)).astype(int)
    sizes[np.argmax(sizes)] += rows - sizes.sum()
    person = np.repeat(np.arange(people), sizes)
    effect = rng.normal(0.0, 0.8, people)[person]
    correct = (rng.random(rows) < 1.0 / (1.0 + np.exp(-(0.3 + effect)))).astype(float)
    return pd.DataFrame(
        {
            "task": "survey",
            "simulator": "llm:bench",
            "condition": "full",
            "person_id": pd.Series([f"p{i:05d}" for i in range(people)])[person].to_numpy(),
            "item_id": "q",
            "error": None,
            "correct": correct,
        }
    )


def ours(frame: pd.DataFrame, resamples: int) -> tuple[float, float, tuple[float, float]]:
    start = time.perf_counter()
    est = estimate(frame, "accuracy", n_resamples=resamples, interval="percentile")
    total = time.perf_counter() - start
    stats = Accuracy().stats(frame)
    start = time.perf_counter()
    cluster_bootstrap(stats, Accuracy().value, n_resamples=resamples)
    core = time.perf_counter() - start
    assert est is not None
    return total, core, (est.low, est.high)


def loop(frame: pd.DataFrame, resamples: int, seed: int = 0) -> tuple[float, np.ndarray]:
    """The straightforward per-resample loop over a pandas group-by."""
    start = time.perf_counter()
    groups = {pid: g for pid, g in frame.groupby("person_id")}
    people = np.array(list(groups))
    rng = np.random.default_rng(seed)
    means = []
    for _ in range(resamples):
        sample = rng.choice(people, size=len(people), replace=True)
        boot = pd.concat([groups[p] for p in sample])
        means.append(boot["correct"].mean())
    return time.perf_counter() - start, np.array(means)


def scipy_unclustered(frame: pd.DataFrame, resamples: int) -> tuple[float, tuple[float, float]]:
    data = frame["correct"].to_numpy()
    batch = max(1, 20_000_000 // len(data))  # about 160 MB of indices per batch
    start = time.perf_counter()
    res = sps.bootstrap(
        (data,),
        np.mean,
        n_resamples=resamples,
        batch=batch,
        vectorized=True,
        method="percentile",
        random_state=np.random.default_rng(0),
    )
    ci = res.confidence_interval
    return time.perf_counter() - start, (float(ci.low), float(ci.high))


def cpu_name() -> str:
    """The CPU model from /proc/cpuinfo (Linux), else what platform reports."""
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--people", type=int, default=2_000)
    parser.add_argument("--resamples", type=int, default=10_000)
    parser.add_argument("--loop-resamples", type=int, default=200)
    parser.add_argument("--scipy-resamples", type=int, default=200)
    args = parser.parse_args()

    frame = make_trials(args.rows, args.people)
    sizes = frame.groupby("person_id").size()
    print(
        f"{len(frame):,} trials of {args.people:,} people (trials per person: min "
        f"{sizes.min()}, median {int(sizes.median())}, max {sizes.max()}); "
        f"{cpu_name()}, {os.cpu_count()} CPUs, "
        f"numpy {np.__version__}, pandas {pd.__version__}"
    )
    total, core, ci = ours(frame, args.resamples)
    print(
        f"(a) behaviorlab, {args.resamples:,} resamples: {total:.2f} s from the DataFrame "
        f"({core:.2f} s of it the bootstrap itself); 95% CI [{ci[0]:.4f}, {ci[1]:.4f}]"
    )
    spent, means = loop(frame, args.loop_resamples)
    loop_full = spent / args.loop_resamples * args.resamples
    low, high = np.quantile(means, [0.025, 0.975])
    print(
        f"(b) pandas loop, {args.loop_resamples} resamples: {spent:.1f} s, so about "
        f"{loop_full:,.0f} s for {args.resamples:,} (CI from {args.loop_resamples}: "
        f"[{low:.4f}, {high:.4f}])"
    )
    spent_scipy, ci_scipy = scipy_unclustered(frame, args.scipy_resamples)
    scipy_full = spent_scipy / args.scipy_resamples * args.resamples
    print(
        f"(c) scipy.stats.bootstrap over trials (not clustered), {args.scipy_resamples} "
        f"resamples: {spent_scipy:.1f} s, so about {scipy_full:,.0f} s for {args.resamples:,} "
        f"(its too narrow CI: [{ci_scipy[0]:.4f}, {ci_scipy[1]:.4f}])"
    )
    print(
        f"ratios at {args.resamples:,} resamples: pandas loop / behaviorlab = "
        f"{loop_full / total:,.0f}x; scipy (unclustered) / behaviorlab = "
        f"{scipy_full / total:,.0f}x (behaviorlab timed from the DataFrame)"
    )


if __name__ == "__main__":
    main()
