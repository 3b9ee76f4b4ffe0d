"""How often do early warnings fire before a fold bifurcation, and how often on plain noise?

    .venv/bin/python bench/early_warning_rates.py                  # 200 + 200 series
    .venv/bin/python bench/early_warning_rates.py --sims 50 --surrogates 200

Two sets of ``--sims`` series of ``--length`` points, analysed with the defaults of
``behaviorlab.analysis.early_warning`` (Gaussian detrending, bandwidth 0.2; rolling window
0.25; variance and lag-1 autocorrelation in one max-tau test against ``--surrogates`` AR(1)
surrogates; 5% level):

(a) approaching a fold: ``dx = (r(t) + x^2) dt + sigma dW`` (Euler-Maruyama, step 0.01), x
    started at the stable state ``-1``, ``r`` rising linearly from ``-1`` to ``--r-end``
    (``-0.05``: close to, but before, the bifurcation at 0), observed every time unit. The
    recovery rate ``2 sqrt(-r)`` falls from 2 to 0.45, so variance and lag-1 autocorrelation
    rise. The share that warns is the power.
(b) stationary AR(1) noise with the coefficient of the fold's start (``exp(-2)``). The share
    that warns is the false-alarm rate.

When ``ewstools`` imports (it is not a dependency of behaviorlab: it pulls in arch, lmfit,
EntropyHub, EMD-signal, matplotlib, plotly), the rolling variance, lag-1 autocorrelation and
their Kendall tau are also computed with it on the first ``--compare`` fold series and the
largest absolute differences printed.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
from scipy import signal

from behaviorlab.analysis import early_warning


def fold_series(
    n_series: int, length: int, r_end: float, sigma: float, rng: np.random.Generator
) -> np.ndarray:
    """Series of the fold normal form approaching its bifurcation (rows)."""
    dt, per_unit = 0.01, 100
    r = np.linspace(-1.0, r_end, length)
    x = np.full(n_series, -1.0)
    out = np.empty((n_series, length))
    for i in range(length):
        for _ in range(per_unit):
            x = x + (r[i] + x * x) * dt + sigma * np.sqrt(dt) * rng.normal(size=n_series)
        out[:, i] = x
    return out


def ar1_series(n_series: int, length: int, phi: float, rng: np.random.Generator) -> np.ndarray:
    return np.asarray(signal.lfilter([1.0], [1.0, -phi], rng.normal(size=(n_series, length))))


def compare_ewstools(series: np.ndarray) -> None:
    try:
        import ewstools  # type: ignore[import-not-found]
        import pandas as pd
    except ImportError as exc:
        print(f"ewstools comparison skipped ({exc}); pip install ewstools to run it")
        return
    worst = {"variance": 0.0, "ac1": 0.0, "tau": 0.0}
    for x in series:
        ours = early_warning(x, n_surrogates=19)
        ts = ewstools.TimeSeries(pd.Series(x))
        ts.detrend(method="Gaussian", bandwidth=0.2)
        ts.compute_var(rolling_window=0.25)
        ts.compute_auto(rolling_window=0.25, lag=1)
        ts.compute_ktau()
        theirs = ts.ews.dropna()
        for name in ("variance", "ac1"):
            diff = np.abs(theirs[name].to_numpy() - ours.indicators[name].to_numpy())
            worst[name] = max(worst[name], float(diff.max()))
            worst["tau"] = max(worst["tau"], abs(ts.ktau[name] - ours.tau[name]))
    print(
        f"ewstools on {len(series)} fold series: largest |difference| variance "
        f"{worst['variance']:.2e}, ac1 {worst['ac1']:.2e}, Kendall tau {worst['tau']:.2e}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sims", type=int, default=200)
    parser.add_argument("--length", type=int, default=1000)
    parser.add_argument("--surrogates", type=int, default=500)
    parser.add_argument("--r-end", type=float, default=-0.05)
    parser.add_argument("--sigma", type=float, default=0.05)
    parser.add_argument("--compare", type=int, default=20)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    rng = np.random.default_rng(args.seed)
    fold = fold_series(args.sims, args.length, args.r_end, args.sigma, rng)
    null = ar1_series(args.sims, args.length, float(np.exp(-2.0)), rng)
    start = time.perf_counter()
    rates = {}
    for label, series in (("fold", fold), ("null", null)):
        warns = [
            early_warning(x, n_surrogates=args.surrogates, seed=i).warns
            for i, x in enumerate(series)
        ]
        rates[label] = float(np.mean(warns))
    elapsed = time.perf_counter() - start
    se = {k: float(np.sqrt(v * (1 - v) / args.sims)) for k, v in rates.items()}
    print(
        f"{args.sims} series of {args.length} points each, {args.surrogates} AR(1) "
        f"surrogates, 5% level, {elapsed:.0f} s"
    )
    print(f"warned before a fold (power):      {rates['fold']:.3f} (se {se['fold']:.3f})")
    print(f"warned on AR(1) noise (false alarm): {rates['null']:.3f} (se {se['null']:.3f})")
    compare_ewstools(fold[: args.compare])


if __name__ == "__main__":
    main()
