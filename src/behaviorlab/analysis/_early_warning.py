"""Early-warning signals on a behavior stream: rising variance and lag-1 autocorrelation.

A system drifting towards a critical transition (a fold bifurcation: a habit about to break, a
participant about to drop out, a population about to switch) recovers ever more slowly from
small perturbations ("critical slowing down"), so in a window that slides along the series the
variance and the lag-1 autocorrelation rise. The recipe follows Dakos et al. (2012):

1. optionally transform: a count's variance rises with its mean, so counts whose mean drifts
   need ``"anscombe"`` (``2 * sqrt(x + 3/8)``, variance about 1 for a Poisson count of mean 4
   or more) or ``"log1p"``, else the variance "warns" on the drift alone;
2. detrend the whole series (``"gaussian"`` kernel smoother; ``bandwidth``, a fraction of the
   length or a number of points, puts the kernel's quartiles at +/- ``bandwidth / 4`` as R's
   ``earlywarnings`` and ``ewstools`` do; ``"linear"``; or ``"none"``);
3. in a rolling window of ``window`` points (a fraction of the length, rounded down, or a
   number of points; the indicator placed at the window's last point) compute each indicator
   of the residuals: ``variance``, ``ac1`` (lag-1 autocorrelation) and ``skew``;
4. the trend statistic of each indicator is Kendall's tau against time
   (:func:`scipy.stats.kendalltau`);
5. significance comes from surrogate series that share the series' trend and short-range
   correlation but not a rising one (``"ar1"``: an AR(1) fitted to the residuals with
   statsmodels; ``"phase"``: the residuals with their Fourier phases randomised), each run
   through steps 2-4. A naive p-value of tau would ignore that neighbouring windows overlap.

``variance`` and ``ac1`` warn when they *rise* (one-sided); ``skew`` may move either way
(its statistic is ``|tau|``). The decision (:attr:`EarlyWarning.warns`) uses one test over all
the indicators asked for: the largest statistic against the surrogates' largest, so asking for
two indicators does not double the false-alarm rate.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import pandas as pd
from numpy.lib.stride_tricks import sliding_window_view
from scipy import ndimage, signal
from scipy import stats as sps

Detrend = Literal["gaussian", "linear", "none"]
Surrogate = Literal["ar1", "phase"]
Transform = Literal["anscombe", "log1p"]

INDICATORS = ("variance", "ac1", "skew")
"""The rolling indicators :func:`early_warning` can compute."""

MIN_WINDOW = 10
"""The fewest points a rolling window may hold."""

MIN_TREND = 10
"""The fewest rolling-window positions a Kendall tau is computed from."""

_CHUNK = 1 << 22
_QUARTILE = 0.675
"""A standard normal's upper quartile (rounded as in R's earlywarnings and ewstools)."""
_DIRECTION = {"variance": 1, "ac1": 1, "skew": 0}


@dataclass(frozen=True)
class EarlyWarning:
    """Rolling indicators of one series, their Kendall tau and surrogate p-values.

    ``indicators`` has one column per indicator, indexed by the series' index at each window's
    last point. ``p_values`` are one-sided (two-sided for ``skew``): the share of surrogates
    whose tau is at least as extreme, ``(1 + k) / (1 + n_surrogates)``. ``p_value`` is the
    joint test over all the indicators, and ``warns`` is ``p_value <= alpha``.
    """

    indicators: pd.DataFrame
    tau: dict[str, float]
    p_values: dict[str, float]
    p_value: float
    alpha: float
    window: int
    bandwidth: float | None
    detrend: str
    surrogate: str
    n_surrogates: int
    transform: str | None
    surrogate_tau: dict[str, np.ndarray] = field(repr=False)

    @property
    def warns(self) -> bool:
        return self.p_value <= self.alpha

    def to_dict(self) -> dict[str, Any]:
        return {
            "tau": self.tau,
            "p_values": self.p_values,
            "p_value": self.p_value,
            "warns": self.warns,
            "alpha": self.alpha,
            "window": self.window,
            "bandwidth": self.bandwidth,
            "detrend": self.detrend,
            "surrogate": self.surrogate,
            "n_surrogates": self.n_surrogates,
            "transform": self.transform,
        }


def _points(value: float, n: int, name: str) -> int:
    if isinstance(value, bool) or value <= 0:
        raise ValueError(f"{name} must be a fraction in (0, 1] or a number of points; got {value}")
    if isinstance(value, int) or value > 1:
        return int(value)
    return int(value * n)


def minimum_length(window: float = 0.25) -> int:
    """The shortest series :func:`early_warning` accepts for ``window`` (a fraction of the
    length or a number of points): every window holds at least :data:`MIN_WINDOW` points and
    there are at least :data:`MIN_TREND` window positions."""
    if isinstance(window, int) or window > 1:
        return max(int(window), MIN_WINDOW) + MIN_TREND - 1
    n = MIN_WINDOW
    while _points(window, n, "window") < MIN_WINDOW or n - _points(window, n, "window") < (
        MIN_TREND - 1
    ):
        n += 1
    return n


def _window(window: float, n: int) -> int:
    w = _points(window, n, "window")
    if w < MIN_WINDOW or n - w + 1 < MIN_TREND:
        raise ValueError(
            f"a series of {n} points is too short for window={window} ({w} points): early "
            f"warnings need at least {minimum_length(window)} points (windows of at least "
            f"{MIN_WINDOW} points at {MIN_TREND} or more positions); use a longer series, "
            "coarser time bins or a smaller window"
        )
    return w


def transformed(x: np.ndarray, transform: Transform | None) -> np.ndarray:
    """``x`` after a variance-stabilising transform for counts (``None`` leaves it as is)."""
    if transform is None:
        return x
    if np.any(x < 0):
        raise ValueError(f"the {transform!r} transform is for counts; the series has negatives")
    if transform == "anscombe":
        return np.asarray(2.0 * np.sqrt(x + 3.0 / 8.0))
    if transform == "log1p":
        return np.asarray(np.log1p(x))
    raise ValueError(f"unknown transform {transform!r}; use 'anscombe', 'log1p' or None")


def trend(x: np.ndarray, detrend: Detrend, bandwidth: float | None) -> np.ndarray:
    """The trend removed before the indicators are computed, along the last axis."""
    n = x.shape[-1]
    if detrend == "gaussian":
        bw = 0.2 if bandwidth is None else bandwidth
        if bw <= 0:
            raise ValueError(f"bandwidth must be positive; got {bw}")
        points = bw * n if bw <= 1 else bw
        sigma = 0.25 / _QUARTILE * points
        return np.asarray(ndimage.gaussian_filter1d(x, sigma=sigma, axis=-1, mode="reflect"))
    if detrend == "linear":
        return np.asarray(x - signal.detrend(x, axis=-1, type="linear"))
    if detrend == "none":
        return np.zeros_like(x)
    raise ValueError(f"unknown detrend {detrend!r}; use 'gaussian', 'linear' or 'none'")


def _rolling(resid: np.ndarray, w: int, names: Sequence[str]) -> np.ndarray:
    """Indicators of shape ``(len(names), ..., n - w + 1)`` for residuals ``(..., n)``."""
    win = sliding_window_view(resid, w, axis=-1)
    out = np.empty((len(names), *win.shape[:-1]))
    for k, name in enumerate(names):
        if name == "variance":
            out[k] = win.var(axis=-1, ddof=1)
        elif name == "ac1":
            a = win[..., :-1] - win[..., :-1].mean(axis=-1, keepdims=True)
            b = win[..., 1:] - win[..., 1:].mean(axis=-1, keepdims=True)
            den = np.sqrt((a * a).sum(axis=-1) * (b * b).sum(axis=-1))
            with np.errstate(invalid="ignore", divide="ignore"):
                out[k] = (a * b).sum(axis=-1) / den
        else:  # skew
            out[k] = sps.skew(win, axis=-1, bias=False)
    return out


def _tau(values: np.ndarray) -> float:
    ok = np.isfinite(values)
    if ok.sum() < 3 or np.ptp(values[ok]) == 0:
        return 0.0
    return float(sps.kendalltau(np.flatnonzero(ok), values[ok]).statistic)


def _indicators(
    x: np.ndarray, w: int, names: Sequence[str], detrend: Detrend, bandwidth: float | None
) -> np.ndarray:
    """Indicators ``(len(names), S, m)`` of series ``x`` of shape ``(S, n)``."""
    out = []
    step = max(1, _CHUNK // max(1, x.shape[-1] * w))
    for i in range(0, len(x), step):
        chunk = x[i : i + step]
        out.append(_rolling(chunk - trend(chunk, detrend, bandwidth), w, names))
    return np.concatenate(out, axis=1)


def ar1_surrogates(resid: np.ndarray, n: int, rng: np.random.Generator) -> np.ndarray:
    """``n`` AR(1) series (rows) with the coefficients and noise of an AR(1) fitted to
    ``resid`` by statsmodels, started from the stationary distribution."""
    from statsmodels.tsa.ar_model import AutoReg

    fit = AutoReg(resid, lags=1, trend="c").fit()
    const, phi = (float(v) for v in np.asarray(fit.params))
    sigma = math.sqrt(float(fit.sigma2))
    phi = min(max(phi, -0.999), 0.999)
    mean = const / (1.0 - phi)
    noise = rng.normal(0.0, sigma, (n, len(resid)))
    start = rng.normal(0.0, sigma / math.sqrt(1.0 - phi * phi), n)
    series = signal.lfilter([1.0], [1.0, -phi], noise, axis=-1, zi=(phi * start)[:, None])[0]
    return np.asarray(series + mean)


def phase_surrogates(resid: np.ndarray, n: int, rng: np.random.Generator) -> np.ndarray:
    """``n`` series (rows) with the power spectrum of ``resid`` and random Fourier phases."""
    spectrum = np.fft.rfft(resid)
    phases = rng.uniform(0.0, 2.0 * np.pi, (n, len(spectrum)))
    phases[:, 0] = 0.0
    if len(resid) % 2 == 0:
        phases[:, -1] = 0.0
    return np.fft.irfft(np.abs(spectrum) * np.exp(1j * phases), n=len(resid), axis=-1)


def _statistic(taus: np.ndarray, names: Sequence[str]) -> np.ndarray:
    """Per-indicator test statistics (rising tau, or |tau| for skew), same shape as taus."""
    direction = np.array([_DIRECTION[n] for n in names], dtype=float)
    shape = (len(names),) + (1,) * (taus.ndim - 1)
    signed = taus * direction.reshape(shape)
    return np.asarray(np.where(direction.reshape(shape) == 0, np.abs(taus), signed))


def early_warning(
    series: Any,
    *,
    window: float = 0.25,
    detrend: Detrend = "gaussian",
    bandwidth: float | None = 0.2,
    indicators: Sequence[str] = ("variance", "ac1"),
    transform: Transform | None = None,
    surrogate: Surrogate = "ar1",
    n_surrogates: int = 500,
    alpha: float = 0.05,
    seed: int = 0,
) -> EarlyWarning:
    """Early-warning indicators of ``series`` (a sequence, array or :class:`pandas.Series` of
    evenly spaced values, oldest first; missing values are not allowed) and whether they rise
    more than ``n_surrogates`` surrogate series say chance would (see the module docs)."""
    names = tuple(indicators)
    unknown = [n for n in names if n not in INDICATORS]
    if not names or unknown:
        raise ValueError(f"unknown indicator(s) {unknown}; choose from {list(INDICATORS)}")
    if surrogate not in ("ar1", "phase"):
        raise ValueError(f"unknown surrogate {surrogate!r}; use 'ar1' or 'phase'")
    if n_surrogates < 19:
        raise ValueError(f"n_surrogates={n_surrogates}: use at least 19 (p-values >= 0.05)")
    index = series.index if isinstance(series, pd.Series) else None
    x = np.asarray(series, dtype=float)
    if x.ndim != 1:
        raise ValueError(f"early_warning takes one series; got an array of shape {x.shape}")
    if not np.all(np.isfinite(x)):
        bad = int(np.flatnonzero(~np.isfinite(x))[0])
        raise ValueError(
            f"the series has a missing or infinite value at position {bad}; fill or drop "
            "it (for event counts, a bin without events is 0)"
        )
    w = _window(window, len(x))
    x = transformed(x, transform)
    observed = _indicators(x[None, :], w, names, detrend, bandwidth)[:, 0]
    tau = np.array([_tau(v) for v in observed])

    rng = np.random.default_rng(seed)
    smooth = trend(x, detrend, bandwidth)
    resid = x - smooth
    if np.ptp(resid) == 0:
        raise ValueError("the series is constant after detrending: there is nothing to test")
    make = ar1_surrogates if surrogate == "ar1" else phase_surrogates
    surrogates = make(resid, n_surrogates, rng) + smooth
    simulated = _indicators(surrogates, w, names, detrend, bandwidth)
    null_tau = np.array([[_tau(v) for v in per] for per in simulated])

    stat = _statistic(tau[:, None], names)[:, 0]
    null_stat = _statistic(null_tau, names)
    p_each = (1.0 + (null_stat >= stat[:, None] - 1e-12).sum(axis=1)) / (1.0 + n_surrogates)
    joint = (1.0 + (null_stat.max(axis=0) >= stat.max() - 1e-12).sum()) / (1.0 + n_surrogates)
    positions = np.arange(w - 1, len(x))
    frame = pd.DataFrame(
        {n: observed[k] for k, n in enumerate(names)},
        index=index[positions] if index is not None else positions,
    )
    return EarlyWarning(
        indicators=frame,
        tau={n: float(tau[k]) for k, n in enumerate(names)},
        p_values={n: float(p_each[k]) for k, n in enumerate(names)},
        p_value=float(joint),
        alpha=alpha,
        window=w,
        bandwidth=bandwidth if detrend == "gaussian" else None,
        detrend=detrend,
        surrogate=surrogate,
        n_surrogates=n_surrogates,
        transform=transform,
        surrogate_tau={n: null_tau[k] for k, n in enumerate(names)},
    )


def binned_counts(
    events: pd.DataFrame,
    *,
    time: str,
    freq: str,
    by: str | None = None,
) -> pd.DataFrame:
    """Events per time bin (rows: bins of ``freq``, a pandas offset such as ``"1D"`` or
    ``"1h"``; columns: each value of ``by``, or one column ``"events"``), bins without events
    holding 0: the series :func:`early_warning` takes, from a captured study's event table or a
    run's results (``time`` a timestamp column)."""
    missing = [c for c in (time, by) if c is not None and c not in events.columns]
    if missing:
        raise ValueError(
            f"the event table has no column(s) {missing}; it has {list(events.columns)}"
        )
    stamps = pd.to_datetime(events[time], utc=True, errors="coerce")
    if stamps.isna().any():
        row = int(np.flatnonzero(stamps.isna().to_numpy())[0])
        raise ValueError(
            f"row {row}: column {time!r} holds {events[time].iloc[row]!r}, not a timestamp"
        )
    keys = events[by].astype(str) if by is not None else pd.Series("events", index=events.index)
    frame = pd.DataFrame({"t": stamps, "k": keys.to_numpy()})
    counts = frame.groupby([pd.Grouper(key="t", freq=freq), "k"]).size().unstack(fill_value=0)
    full = pd.date_range(counts.index.min(), counts.index.max(), freq=freq)
    counts = counts.reindex(full, fill_value=0)
    counts.columns.name = by
    return counts
