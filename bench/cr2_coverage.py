"""Coverage of the CR2 t interval of accuracy with few people of unequal sizes (issue 15).

    .venv/bin/python bench/cr2_coverage.py                  # 1,000 datasets per cell, ~20 s
    .venv/bin/python bench/cr2_coverage.py --datasets 400

Person ``g`` answers ``n_g`` trials, ``n_g`` uniform on 2..40 (a 20-fold range), each correct
with probability ``expit(a + z_g)``, ``z_g ~ N(0, 1)`` (a person effect of sd 1 on the logit
scale), for intercepts ``a`` of 0.3, 1.0 and 1.5 (pooled accuracy about 0.56, 0.69, 0.77). The
truth is the pooled accuracy ``E[n p] / E[n]`` (Gauss-Hermite quadrature). Prints the share of
nominal 95% intervals that cover it, at 5, 10, 20 and 50 people, for the CR2 t interval on the
accuracy scale (``scale="linear"``, the library's default today) and on the logit scale
(``scale="log-odds"``), both with Bell-McCaffrey degrees of freedom. The Monte Carlo standard
error of one cell is about 0.7 points at 1,000 datasets, 1.1 at 400.
"""

from __future__ import annotations

import argparse

import numpy as np

from behaviorlab.analysis._small_sample import Scale, cr2_interval

LOW, HIGH, SIGMA = 2, 40, 1.0
INTERCEPTS = (0.3, 1.0, 1.5)
PEOPLE = (5, 10, 20, 50)
SCALES: tuple[Scale, ...] = ("linear", "log-odds")


def truth(a: float) -> float:
    nodes, weights = np.polynomial.hermite_e.hermegauss(80)
    weights = weights / weights.sum()
    sizes = np.arange(LOW, HIGH + 1, dtype=float)
    shares = [float(np.sum(weights / (1.0 + np.exp(-(a + SIGMA * nodes))))) for _ in sizes]
    return float(np.sum(sizes * np.array(shares)) / sizes.sum())


def coverage(a: float, people: int, datasets: int, rng: np.random.Generator) -> dict[str, float]:
    target = truth(a)
    hits = dict.fromkeys(SCALES, 0)
    for _ in range(datasets):
        n = rng.integers(LOW, HIGH + 1, size=people).astype(float)
        p = 1.0 / (1.0 + np.exp(-(a + SIGMA * rng.normal(size=people))))
        correct = rng.binomial(n.astype(int), p).astype(float)
        for scale in SCALES:
            est = cr2_interval(correct, n, bounds=(0.0, 1.0), scale=scale)
            hits[scale] += int(est.low <= target <= est.high)
    return {s: hits[s] / datasets for s in SCALES}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--datasets", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=15)
    args = parser.parse_args()
    rng = np.random.default_rng(args.seed)
    print(f"{args.datasets} datasets per cell; sizes {LOW}..{HIGH}; person sd {SIGMA} (logit)")
    print(f"{'a':>4} {'truth':>6} {'people':>6} {'CR2 linear':>11} {'CR2 logit':>10}")
    for a in INTERCEPTS:
        for g in PEOPLE:
            cov = coverage(a, g, args.datasets, rng)
            print(f"{a:4.1f} {truth(a):6.3f} {g:6d} {cov['linear']:11.1%} {cov['log-odds']:10.1%}")


if __name__ == "__main__":
    main()
