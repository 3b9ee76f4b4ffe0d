"""Early warnings: planted transitions warn, plain noise rarely does, indicators as pandas
computes them, counts stabilised, short series refused. The 200-series study is
bench/early_warning_rates.py."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import signal

from behaviorlab.analysis import EarlyWarning, binned_counts, early_warning
from behaviorlab.analysis._early_warning import minimum_length, phase_surrogates


def fold_series(n_series: int, length: int, seed: int) -> np.ndarray:
    """``dx = (r + x^2) dt + 0.05 dW`` with ``r`` rising from -1 to -0.05 (the fold is at 0)."""
    rng = np.random.default_rng(seed)
    r = np.linspace(-1.0, -0.05, length)
    x = np.full(n_series, -1.0)
    out = np.empty((n_series, length))
    for i in range(length):
        for _ in range(100):
            x = x + (r[i] + x * x) * 0.01 + 0.005 * rng.normal(size=n_series)
        out[:, i] = x
    return out


def ar1_series(n_series: int, length: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    noise = rng.normal(size=(n_series, length))
    return np.asarray(signal.lfilter([1.0], [1.0, -np.exp(-2.0)], noise))


def test_series_approaching_a_fold_warn() -> None:
    results = [
        early_warning(x, n_surrogates=99, seed=i) for i, x in enumerate(fold_series(8, 800, 1))
    ]
    assert sum(r.warns for r in results) >= 7
    assert all(r.tau["variance"] > 0.3 and r.tau["ac1"] > 0.3 for r in results)


def test_stationary_noise_rarely_warns() -> None:
    results = [
        early_warning(x, n_surrogates=99, seed=i) for i, x in enumerate(ar1_series(30, 300, 2))
    ]
    assert sum(r.warns for r in results) <= 4
    p = np.array([r.p_value for r in results])
    assert 0.2 < float(np.median(p)) < 0.8  # roughly uniform under the null


def test_indicators_are_pandas_rolling_variance_and_autocorrelation() -> None:
    x = fold_series(1, 300, 3)[0]
    result = early_warning(x, window=60, detrend="linear", n_surrogates=19)
    resid = pd.Series(signal.detrend(x, type="linear"))
    var = resid.rolling(60).var().dropna()
    ac1 = resid.rolling(60).apply(lambda w: pd.Series(w).autocorr(lag=1), raw=True).dropna()
    assert list(result.indicators.index) == list(var.index)
    np.testing.assert_allclose(result.indicators["variance"], var, rtol=1e-10)
    np.testing.assert_allclose(result.indicators["ac1"], ac1, rtol=1e-8)
    tau = result.indicators.corrwith(
        pd.Series(result.indicators.index, index=var.index), method="kendall"
    )
    assert result.tau == pytest.approx(tau.to_dict())


def test_the_joint_test_is_no_more_liberal_than_either_indicator() -> None:
    result = early_warning(fold_series(1, 400, 4)[0], n_surrogates=99)
    assert isinstance(result, EarlyWarning) and result.window == 100
    assert result.p_value >= min(result.p_values.values())
    assert result.to_dict()["warns"] == (result.p_value <= 0.05)


def test_counts_with_a_rising_mean_warn_on_raw_variance_not_after_anscombe() -> None:
    """Poisson counts whose mean drifts from 5 to 40: no slowing down, only the mean-variance
    relation, which the transform removes."""
    for seed in range(3):
        counts = np.random.default_rng(seed).poisson(np.linspace(5.0, 40.0, 400)).astype(float)
        raw = early_warning(counts, indicators=["variance"], n_surrogates=99)
        stable = early_warning(
            counts, indicators=["variance"], transform="anscombe", n_surrogates=99
        )
        assert raw.tau["variance"] > 0.6 and raw.warns
        assert abs(stable.tau["variance"]) < 0.3 and not stable.warns
    with pytest.raises(ValueError, match="transform is for counts"):
        early_warning(np.linspace(-1.0, 1.0, 100), transform="anscombe")


def test_phase_surrogates_keep_the_power_spectrum() -> None:
    x = ar1_series(1, 256, 6)[0]
    surrogates = phase_surrogates(x, 5, np.random.default_rng(0))
    np.testing.assert_allclose(
        np.abs(np.fft.rfft(surrogates, axis=-1)),
        np.abs(np.fft.rfft(x))[None, :].repeat(5, 0),
        rtol=1e-8,
        atol=1e-8,
    )
    assert not np.allclose(surrogates[0], x)
    assert early_warning(x, surrogate="phase", n_surrogates=49).n_surrogates == 49


def test_a_short_series_names_the_minimum_length() -> None:
    assert minimum_length(0.25) == 40
    with pytest.raises(ValueError, match="at least 40 points"):
        early_warning(np.arange(39.0))
    early_warning(np.random.default_rng(0).normal(size=40), n_surrogates=19)
    with pytest.raises(ValueError, match="at least 29 points"):
        early_warning(np.arange(20.0), window=20)
    with pytest.raises(ValueError, match="position 3"):
        early_warning([1.0, 2.0, 3.0, float("nan")] * 20)
    with pytest.raises(ValueError, match="unknown indicator"):
        early_warning(np.arange(50.0), indicators=["kurtosis"])


def test_binned_counts_fill_empty_bins_per_participant() -> None:
    events = pd.DataFrame(
        {
            "ts": [
                "2026-01-01T10:00Z",
                "2026-01-01T11:00Z",
                "2026-01-03T09:00Z",
                "2026-01-01T12:00Z",
            ],
            "participant": ["a", "a", "a", "b"],
        }
    )
    counts = binned_counts(events, time="ts", freq="1D", by="participant")
    assert counts.to_dict("list") == {"a": [2, 0, 1], "b": [1, 0, 0]}
    with pytest.raises(ValueError, match="row 1: column 'ts'"):
        binned_counts(
            events.assign(ts=["2026-01-01", "soon", "2026-01-02", "2026-01-02"]),
            time="ts",
            freq="1D",
        )
