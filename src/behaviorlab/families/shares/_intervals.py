"""Intervals for the share distances that stay right at the noise floor.

A distance between the people's observed shares ``p̂`` and the simulated ``q`` is pushed up by
the people's sampling noise: a perfect simulator (``q`` = the population ``P``) still gets the
noise floor, not 0. The basic bootstrap (``2 · estimate − quantiles``) assumes that push is the
same at the estimate as at the truth; near the boundary 0 it is not, and the interval lands
wholly below its own estimate and above the truth (for a perfect simulator on 40 planted items,
the JS interval covered 0 in 0 of 30 replications, and 86 of its 90 intervals excluded their
own estimate).

Here the interval is found by inverting a parametric bootstrap. The candidate populations
``P_λ = q + λ (p̂ − q)`` (clipped to the simplex; λ = 0 is the simulator itself, λ = 1 the
observed shares) have a known distance ``θ(λ)`` to ``q``. For each λ on a grid, the people are
redrawn ``Multinomial(n, P_λ)`` (and the items resampled as clusters, as everywhere in this
family) with the same random numbers for every λ, giving the distribution of the estimate if
the truth were ``θ(λ)``. The interval holds every ``θ(λ)`` whose distribution has the observed
estimate within its central ``level`` share.

When even λ = 0 (the simulator is exactly right) gives estimates as large as the observed one,
the simulator is **at the noise floor**: the data cannot tell it from a perfect one, and the
interval is the one-sided bound ``[0, high]`` (for the score ``[low, 100]``), ``high`` the
largest truth whose estimates can still be as small as a perfect simulator's largest; flagged
``at_floor`` and shown as a bound. The same flag is set when the two-sided interval would not
hold the (noise-inflated) point estimate, so an interval shown is never one that excludes its
own estimate.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass

import numpy as np

LAMBDAS = np.concatenate([np.linspace(0.0, 1.5, 16), [1.75, 2.0, 2.5, 3.0, 4.0]])
"""The grid of candidate populations ``P_λ`` (finer where the truth usually is)."""

INVERSION_RESAMPLES = 500
"""At most this many bootstrap draws per candidate population (every point of the grid costs
as much as one whole bootstrap)."""


@dataclass(frozen=True)
class Interval:
    """An interval for a metric; ``at_floor``: a one-sided bound (the other end is the
    metric's boundary: 0 for a distance, 100 for the score)."""

    low: float
    high: float
    at_floor: bool


def direction(p: np.ndarray, q: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """``p − q`` per unit; where the observed shares are exactly the simulated ones (no
    direction to move in), towards ``q``'s shares given to its options in reverse order, or
    (``q`` uniform) towards the first option, scaled to a TV of 0.1."""
    d = np.array(p - q, dtype=float)
    for r in np.nonzero(0.5 * np.abs(d).sum(axis=-1) < 1e-12)[0]:
        k = int(mask[r].sum())
        order = np.argsort(q[r, :k], kind="stable")
        target = np.zeros(k)
        target[order] = q[r, :k][order[::-1]]
        if 0.5 * np.abs(target - q[r, :k]).sum() < 1e-12:
            target = np.eye(k)[0]
        step = target - q[r, :k]
        d[r, :k] = 0.1 * step / (0.5 * np.abs(step).sum())
    return d


def candidate(p: np.ndarray, q: np.ndarray, mask: np.ndarray, lam: float) -> np.ndarray:
    """``P_λ = q + λ d`` per unit (``d`` from :func:`direction`), clipped at 0 and
    renormalised over the options."""
    cand = np.clip(q + lam * direction(p, q, mask), 0.0, None) * mask
    total = cand.sum(axis=-1, keepdims=True)
    return np.asarray(np.where(total > 0, cand / np.where(total > 0, total, 1.0), q))


def _crossing(curve: np.ndarray, target: float, theta: np.ndarray) -> float | None:
    """``θ`` where the increasing ``curve`` (over the grid) first reaches ``target``
    (linear between grid points); None if it never does."""
    above = np.nonzero(curve >= target)[0]
    if not above.size:
        return None
    g = int(above[0])
    if g == 0:
        return float(theta[0])
    c0, c1 = curve[g - 1], curve[g]
    frac = (target - c0) / (c1 - c0) if c1 > c0 else 1.0
    return float(theta[g - 1] + frac * (theta[g] - theta[g - 1]))


def invert(
    estimate: float,
    theta: np.ndarray,
    draws: np.ndarray,
    *,
    level: float,
    increasing: bool,
    bounds: tuple[float, float],
) -> Interval:
    """The test-inversion interval from ``theta`` (the metric of each candidate, shape (G,))
    and ``draws`` (its bootstrap estimates, (G, B)); ``increasing``: the metric grows with
    λ (a distance), else it falls (the score)."""
    if not math.isfinite(estimate) or not np.isfinite(theta).all():
        return Interval(math.nan, math.nan, False)
    sign = 1.0 if increasing else -1.0
    t, th, e = sign * draws, sign * theta, sign * estimate
    alpha = (1.0 - level) / 2.0
    lo_q = np.nanquantile(t, alpha, axis=1)
    hi_q = np.nanquantile(t, 1.0 - alpha, axis=1)
    lo_b, hi_b = bounds
    edge = lo_b if increasing else -hi_b  # θ(0): the metric's value for a perfect simulator
    at_floor = bool(hi_q[0] >= e)
    low = edge if at_floor else _crossing(hi_q, e, th)
    # where the candidates' low quantile passes the estimate; at the floor, where it passes
    # the largest estimate of a perfect simulator: every smaller truth can give estimates
    # like this one (an estimate low in the floor's range would otherwise bound at 0)
    high = _crossing(lo_q, max(e, float(hi_q[0])) if at_floor else e, th)
    if low is None:
        return Interval(math.nan, math.nan, False)
    if high is None:
        high = math.inf  # no candidate on the grid is far enough: unbounded there
    if not low <= e <= high:
        at_floor, low = True, edge  # never an interval that excludes its estimate
    if increasing:
        return Interval(float(np.clip(low, lo_b, hi_b)), float(np.clip(high, lo_b, hi_b)), at_floor)
    return Interval(float(np.clip(-high, lo_b, hi_b)), float(np.clip(-low, lo_b, hi_b)), at_floor)


def inverted_intervals(
    estimates: Mapping[str, float],
    metric_of: Callable[[np.ndarray, np.random.Generator | None], dict[str, np.ndarray]],
    *,
    seed: int,
    level: float,
    increasing: Mapping[str, bool],
    bounds: Mapping[str, tuple[float, float]],
    scale: float = 1.0,
) -> dict[str, Interval]:
    """Each metric's interval. ``metric_of(lam, rng)`` gives the metrics of the candidate
    ``P_λ`` (rng None: its value ``θ``, each metric a 0-d array) or its bootstrap estimates
    from ``rng`` (each metric (B,)); a fresh generator from ``seed`` for every λ, so every
    candidate sees the same random numbers. ``scale`` (1 or more) stretches the grid, for
    observed shares that are by chance much nearer the simulator than the noise floor: the
    candidates must reach distances past the floor."""
    thetas: dict[str, list[float]] = {m: [] for m in estimates}
    draws: dict[str, list[np.ndarray]] = {m: [] for m in estimates}
    for lam in LAMBDAS * max(scale, 1.0):
        value = metric_of(np.asarray(lam), None)
        boot = metric_of(np.asarray(lam), np.random.default_rng(seed))
        for m in estimates:
            thetas[m].append(float(value[m]))
            draws[m].append(boot[m])
    return {
        m: invert(
            estimates[m],
            np.asarray(thetas[m]),
            np.stack(draws[m]),
            level=level,
            increasing=increasing[m],
            bounds=bounds[m],
        )
        for m in estimates
    }
