"""Within-person treatment effects from one person's time series, under serial interference:
the g-formula by Monte Carlo on a fitted model of the person (Model-Twin Randomization,
MoTR; Daza et al.).

The data: one person's periods in time order, a binary treatment ``A_t`` (a nudge shown or
not in a session) and an outcome ``Y_t``. Serial interference: earlier treatments and
outcomes affect later outcomes (carry-over), and the treatment may follow earlier outcomes
(a nudge shown after a bad day), so the plain difference in means between treated and
untreated periods is biased.

The outcome model (the person's "model twin"), fitted by least squares (a continuous
outcome) or logistic regression (a 0/1 outcome)::

    Y_t ~ 1 + A_t + A_{t-1} + ... + A_{t-L} + Y_{t-1} + ... + Y_{t-L}  [+ A_t x Y_{t-1}]

Two estimands, both computed by simulating the fitted model forward (the g-formula):

- ``apte``, the average period treatment effect: the expected difference in a period's
  outcome between treating and not treating *that* period, when every earlier period was
  treated at random with the person's own treatment rate (what the difference in means of
  an N-of-1 trial randomised at that rate estimates; MoTR's estimand). Each simulated period
  computes both potential outcomes from the same simulated past and the same noise.
- ``sustained``: the difference between always and never treating, in the long run
  (steady state after a burn-in): the carry-over included.

Intervals: a moving-block bootstrap of the person's periods (blocks of ``block_length``
consecutive periods, default ``lags + 1``: each row already carries its lagged values, so
short blocks suffice when the lags capture the dependence; longer blocks guard against
dependence the model misses, and measured coverage falls with them) that refits the model
in every replicate and simulates each refitted model; Monte Carlo over one fitted model
alone would cover simulation noise only. Percentile intervals. The naive difference in
means is reported beside the estimates, with an interval from the same blocks.

Assumptions (stated, not tested): the model's lags capture the carry-over and the
treatment's dependence on the past (no unmeasured confounder of A_t and Y_t given the
lagged values), and the person's process is stable over the series.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import pandas as pd
import statsmodels.api as sm

OutcomeKind = Literal["auto", "continuous", "binary"]

MIN_PERIODS_PER_TERM = 5
"""At least this many periods per model coefficient (else: too short, naming the minimum)."""


@dataclass(frozen=True)
class WithinPersonEffect:
    """Per person (rows of ``table``): ``estimand`` (``apte``, ``sustained``, ``naive``),
    ``value``, ``low``, ``high``, ``n_periods``, ``treated_share``; and how they were made."""

    table: pd.DataFrame
    lags: int
    outcome_kind: str
    interaction: bool
    n_boot: int
    block_length: dict[str, int]
    alpha: float
    notes: list[str] = field(default_factory=list)
    replicates: dict[tuple[Any, str], np.ndarray] = field(
        default_factory=dict, repr=False, compare=False
    )
    """The bootstrap replicates of each (person, estimand)."""

    def value(self, estimand: str, person: Any = None) -> float:
        rows = self.table.loc[self.table["estimand"] == estimand]
        if person is not None:
            rows = rows.loc[rows["person"] == person]
        if len(rows) != 1:
            raise KeyError(f"give one person of {sorted(self.table['person'].unique())}")
        return float(rows["value"].iloc[0])

    def to_dict(self) -> dict[str, Any]:
        return {
            "table": self.table.to_dict("records"),
            "lags": self.lags,
            "outcome_kind": self.outcome_kind,
            "interaction": self.interaction,
            "n_boot": self.n_boot,
            "block_length": self.block_length,
            "alpha": self.alpha,
            "notes": self.notes,
        }


@dataclass(frozen=True)
class _Design:
    y: np.ndarray
    x: np.ndarray  # columns: 1, A_t, A_{t-1..L}, Y_{t-1..L}[, A_t * Y_{t-1}]
    first: np.ndarray  # the first L outcomes and treatments (the simulation's start)
    first_a: np.ndarray


def _design(a: np.ndarray, y: np.ndarray, lags: int, interaction: bool) -> _Design:
    n = len(y)
    cols = [np.ones(n - lags), a[lags:]]
    cols += [a[lags - k : n - k] for k in range(1, lags + 1)]
    cols += [y[lags - k : n - k] for k in range(1, lags + 1)]
    if interaction:
        cols.append(a[lags:] * y[lags - 1 : n - 1])
    return _Design(y[lags:], np.column_stack(cols), y[:lags].copy(), a[:lags].copy())


def _fit(y: np.ndarray, x: np.ndarray, binary: bool) -> tuple[np.ndarray, np.ndarray]:
    """Coefficients and residuals (continuous) or empty residuals (binary)."""
    if binary:
        model = sm.GLM(y, x, family=sm.families.Binomial())
        try:
            res = model.fit(method="newton", maxiter=100, disp=0)
            beta = np.asarray(res.params, dtype=float)
        except (np.linalg.LinAlgError, ValueError):
            beta = np.full(x.shape[1], np.nan)
        if not np.all(np.isfinite(beta)) or np.max(np.abs(beta)) > 50:  # separation
            res = model.fit_regularized(alpha=1e-3, L1_wt=0.0)
            beta = np.asarray(res.params, dtype=float)
        return beta, np.empty(0)
    ols = sm.OLS(y, x).fit()
    beta = np.asarray(ols.params, dtype=float)
    return beta, y - x @ beta


def _simulate(
    betas: np.ndarray,
    residuals: list[np.ndarray],
    start_y: np.ndarray,
    start_a: np.ndarray,
    *,
    p: float,
    lags: int,
    interaction: bool,
    binary: bool,
    chains: int,
    burn: int,
    periods: int,
    rng: np.random.Generator,
) -> tuple[np.ndarray, np.ndarray]:
    """(apte, sustained) for each row of ``betas`` (one fitted model per row), by running
    ``chains`` simulated series per model ``burn + periods`` periods forward."""
    b = betas.shape[0]
    shape = (b, chains)
    # histories, newest last: y_hist[..., -k] is Y_{t-k}
    y_rand = np.broadcast_to(start_y, (*shape, lags)).astype(float).copy()
    a_rand = np.broadcast_to(start_a, (*shape, lags)).astype(float).copy()
    y_on, y_off = y_rand.copy(), y_rand.copy()
    a_on, a_off = np.ones_like(a_rand), np.zeros_like(a_rand)
    apte = np.zeros(b)
    sustained = np.zeros(b)
    res_len = np.array([max(len(r), 1) for r in residuals])
    res_pad = np.zeros((b, int(res_len.max())))
    for i, r in enumerate(residuals):
        res_pad[i, : len(r)] = r

    def mean(a_now: np.ndarray, a_hist: np.ndarray, y_hist: np.ndarray) -> np.ndarray:
        cols = [np.ones(shape), a_now]
        cols += [a_hist[..., -k] for k in range(1, lags + 1)]
        cols += [y_hist[..., -k] for k in range(1, lags + 1)]
        if interaction:
            cols.append(a_now * y_hist[..., -1])
        eta: np.ndarray = np.einsum("bck,bk->bc", np.stack(cols, axis=-1), betas)
        return 1.0 / (1.0 + np.exp(-eta)) if binary else eta

    def draw(mu: np.ndarray, u: np.ndarray, idx: np.ndarray) -> np.ndarray:
        if binary:
            return (u < mu).astype(float)
        return mu + np.take_along_axis(res_pad, idx, axis=1)

    for t in range(burn + periods):
        # common random numbers: one noise per chain and period for every arm
        u = rng.random(shape)
        idx = (rng.random(shape) * res_len[:, None]).astype(int)
        a_t = (rng.random(shape) < p).astype(float)
        y1 = draw(mean(np.ones(shape), a_rand, y_rand), u, idx)
        y0 = draw(mean(np.zeros(shape), a_rand, y_rand), u, idx)
        y_t = np.where(a_t == 1.0, y1, y0)
        on = draw(mean(np.ones(shape), a_on, y_on), u, idx)
        off = draw(mean(np.zeros(shape), a_off, y_off), u, idx)
        if t >= burn:
            apte += (y1 - y0).mean(axis=1)
            sustained += (on - off).mean(axis=1)
        y_rand = np.concatenate([y_rand[..., 1:], y_t[..., None]], axis=-1)
        a_rand = np.concatenate([a_rand[..., 1:], a_t[..., None]], axis=-1)
        y_on = np.concatenate([y_on[..., 1:], on[..., None]], axis=-1)
        y_off = np.concatenate([y_off[..., 1:], off[..., None]], axis=-1)
    return apte / periods, sustained / periods


def _blocks(n: int, length: int, rng: np.random.Generator) -> np.ndarray:
    """Row indices of one moving-block bootstrap sample of ``n`` rows."""
    starts = rng.integers(0, n - length + 1, size=math.ceil(n / length))
    return (starts[:, None] + np.arange(length)[None, :]).ravel()[:n]


def _series(
    rows: pd.DataFrame, who: Any, treatment: str, outcome: str
) -> tuple[np.ndarray, np.ndarray]:
    label = "" if who is None else f"person {who!r}: "
    a = pd.to_numeric(rows[treatment], errors="coerce")
    y = pd.to_numeric(rows[outcome], errors="coerce")
    for name, col in ((treatment, a), (outcome, y)):
        if col.isna().any():
            pos = int(np.flatnonzero(col.isna().to_numpy())[0])
            raise ValueError(
                f"{label}column {name!r} is missing or not a number in period {pos + 1} "
                f"(row {rows.index[pos]!r}); the g-formula needs every period: fill or drop "
                "the periods first (dropping breaks the lags: say so in your analysis)"
            )
    if not set(np.unique(a)) <= {0.0, 1.0}:
        raise ValueError(f"{label}treatment {treatment!r} must be 0/1; found {sorted(set(a))}")
    if a.nunique() < 2:
        raise ValueError(
            f"{label}the treatment {treatment!r} never varies (always {int(a.iloc[0])}): a "
            "within-person effect needs treated and untreated periods"
        )
    return a.to_numpy(dtype=float), y.to_numpy(dtype=float)


def within_person_effect(
    frame: pd.DataFrame,
    *,
    treatment: str,
    outcome: str,
    time: str | None = None,
    person: str | None = None,
    lags: int = 1,
    outcome_kind: OutcomeKind = "auto",
    interaction: bool = False,
    n_boot: int = 500,
    block_length: int | None = None,
    chains: int = 20,
    burn: int = 50,
    periods: int = 200,
    alpha: float = 0.05,
    seed: int = 0,
) -> WithinPersonEffect:
    """Each person's within-person effects of ``treatment`` on ``outcome`` (see the module
    docstring): ``apte`` and ``sustained`` by the g-formula, and the ``naive`` difference in
    means, with ``1 - alpha`` moving-block bootstrap intervals (the model refitted in each of
    the ``n_boot`` replicates). ``frame``: one row per period; ``time`` orders the rows
    (default: as given); ``person``: one series per value (default: one series)."""
    for col in [treatment, outcome, *(c for c in (time, person) if c)]:
        if col not in frame.columns:
            raise ValueError(f"no column {col!r}; the frame has {list(frame.columns)}")
    if lags < 1:
        raise ValueError(f"lags must be at least 1 (the carry-over), not {lags}")
    if not 0 < alpha < 1 or n_boot < 50:
        raise ValueError("alpha must be in (0, 1) and n_boot at least 50")
    rng = np.random.default_rng(seed)
    groups = [(None, frame)] if person is None else list(frame.groupby(person, sort=True))
    out: list[dict[str, Any]] = []
    used_blocks: dict[str, int] = {}
    replicates: dict[tuple[Any, str], np.ndarray] = {}
    notes: list[str] = []
    kinds: set[str] = set()
    for who, rows in groups:
        if time is not None:
            if rows[time].duplicated().any():
                dup = rows.loc[rows[time].duplicated(), time].iloc[0]
                raise ValueError(f"person {who!r}: two rows for {time} {dup!r}")
            rows = rows.sort_values(time, kind="stable")
        a, y = _series(rows, who, treatment, outcome)
        binary = outcome_kind == "binary" or (
            outcome_kind == "auto" and set(np.unique(y)) <= {0.0, 1.0}
        )
        kinds.add("binary" if binary else "continuous")
        design = _design(a, y, lags, interaction)
        n, k = design.x.shape
        need = MIN_PERIODS_PER_TERM * k + lags
        if len(y) < need:
            label = "the series" if who is None else f"person {who!r}'s series"
            raise ValueError(
                f"{label} has {len(y)} periods; with lags={lags} the model has {k} "
                f"coefficients and needs at least {need} periods ({MIN_PERIODS_PER_TERM} per "
                "coefficient, plus the lags)"
            )
        treated = design.x[:, 1] == 1.0
        if treated.all() or not treated.any():
            raise ValueError(
                f"person {who!r}: after the first {lags} periods the treatment never varies"
            )
        length = block_length or lags + 1
        if length >= n:
            raise ValueError(f"block_length {length} must be shorter than the {n} periods used")
        used_blocks[str(who)] = length
        fits = [_fit(design.y, design.x, binary)]
        naive = [float(design.y[treated].mean() - design.y[~treated].mean())]
        for _ in range(n_boot):
            take = _blocks(n, length, rng)
            yb, xb = design.y[take], design.x[take]
            tb = xb[:, 1] == 1.0
            if tb.all() or not tb.any():  # a replicate without one of the arms: redraw once
                take = _blocks(n, length, rng)
                yb, xb = design.y[take], design.x[take]
                tb = xb[:, 1] == 1.0
            fits.append(_fit(yb, xb, binary))
            naive.append(
                float(yb[tb].mean() - yb[~tb].mean()) if tb.any() and not tb.all() else np.nan
            )
        betas = np.vstack([f[0] for f in fits])
        ok = np.all(np.isfinite(betas), axis=1)
        if not ok[0]:
            raise ValueError(f"person {who!r}: the outcome model could not be fitted")
        p = float(a.mean())
        apte, sustained = _simulate(
            betas[ok],
            [f[1] for f, good in zip(fits, ok, strict=True) if good],
            design.first,
            design.first_a,
            p=p,
            lags=lags,
            interaction=interaction,
            binary=binary,
            chains=chains,
            burn=burn,
            periods=periods,
            rng=rng,
        )
        if (~ok).sum():
            notes.append(f"person {who!r}: {int((~ok).sum())} replicates could not be fitted")
        estimates = {"apte": apte, "sustained": sustained, "naive": np.array(naive)[ok]}
        for name, values in estimates.items():
            boot = values[1:][np.isfinite(values[1:])]
            replicates[(who, name)] = boot
            low, high = np.quantile(boot, [alpha / 2, 1 - alpha / 2])
            out.append(
                {
                    "person": who,
                    "estimand": name,
                    "value": float(values[0]),
                    "low": float(low),
                    "high": float(high),
                    "n_periods": len(y),
                    "treated_share": p,
                }
            )
    return WithinPersonEffect(
        table=pd.DataFrame(out),
        lags=lags,
        outcome_kind="/".join(sorted(kinds)),
        interaction=interaction,
        n_boot=n_boot,
        block_length=used_blocks,
        alpha=alpha,
        notes=notes,
        replicates=replicates,
    )


__all__ = ["WithinPersonEffect", "within_person_effect"]
