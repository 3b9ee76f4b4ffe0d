"""Within-person effects under serial interference (issue 23 §3): the g-formula on a fitted
model of one person recovers known effects that the naive difference in means misses."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from behaviorlab.analysis import within_person_effect


def series(
    n: int,
    seed: int,
    *,
    tau: float = 1.0,
    carry: float = 0.5,
    rho: float = 0.5,
    confound: float = 1.5,
    binary: bool = False,
) -> pd.DataFrame:
    """A person's periods: the treatment follows the last outcome (confounding), and acts now
    (``tau``) and one period later (``carry``); the outcome is an AR(1) (``rho``)."""
    rng = np.random.default_rng(seed)
    a, y = np.zeros(n), np.zeros(n)
    y_prev = a_prev = 0.0
    for t in range(n):
        a[t] = rng.random() < 1 / (1 + np.exp(-confound * (y_prev - (0.5 if binary else 1.0))))
        eta = -0.5 + tau * a[t] + carry * a_prev + rho * y_prev
        y[t] = float(rng.random() < 1 / (1 + np.exp(-eta))) if binary else eta + rng.normal()
        y_prev, a_prev = y[t], a[t]
    return pd.DataFrame({"period": np.arange(n), "nudge": a, "steps": y})


def test_the_g_formula_recovers_the_effects_the_naive_contrast_misses() -> None:
    frame = series(600, 3).sample(frac=1.0, random_state=0)  # rows out of order: time sorts
    res = within_person_effect(
        frame, treatment="nudge", outcome="steps", time="period", n_boot=200, seed=1
    )
    t = res.table.set_index("estimand")
    assert t.loc["apte", "value"] == pytest.approx(1.0, abs=0.25)
    # always against never: (tau + carry) / (1 - rho) = 3
    assert t.loc["sustained", "value"] == pytest.approx(3.0, abs=0.6)
    # the treatment follows high outcomes: the plain contrast is far off, outside its own
    # interval's reach of the truth
    assert t.loc["naive", "value"] > 1.8 and t.loc["naive", "low"] > 1.0
    assert (t["low"] <= t["value"]).all() and (t["value"] <= t["high"]).all()
    assert t.loc["apte", "low"] <= 1.0 <= t.loc["apte", "high"]
    assert res.outcome_kind == "continuous" and res.block_length == {"None": 2}
    assert len(res.replicates[(None, "apte")]) == 200


def test_randomised_treatment_without_carry_over_agrees_with_the_naive_contrast() -> None:
    frame = series(500, 5, carry=0.0, confound=0.0)
    t = within_person_effect(frame, treatment="nudge", outcome="steps", n_boot=100).table
    t = t.set_index("estimand")["value"]
    assert t["apte"] == pytest.approx(t["naive"], abs=0.25)
    assert t["apte"] == pytest.approx(1.0, abs=0.25)


def test_a_binary_outcome_is_modelled_with_a_logistic_twin() -> None:
    # the truth under randomisation at the person's rate, by simulating the true process
    frame = series(800, 11, binary=True, tau=1.2, carry=0.0, rho=0.8)
    res = within_person_effect(frame, treatment="nudge", outcome="steps", n_boot=100, seed=2)
    p = frame["nudge"].mean()
    rng = np.random.default_rng(0)
    y_prev = np.zeros(20000)
    diffs = []
    for t in range(200):
        a = rng.random(y_prev.shape) < p
        p1 = 1 / (1 + np.exp(-(-0.5 + 1.2 + 0.8 * y_prev)))
        p0 = 1 / (1 + np.exp(-(-0.5 + 0.8 * y_prev)))
        if t >= 50:
            diffs.append((p1 - p0).mean())
        y_prev = (rng.random(y_prev.shape) < np.where(a, p1, p0)).astype(float)
    truth = float(np.mean(diffs))
    assert res.outcome_kind == "binary"
    assert res.value("apte") == pytest.approx(truth, abs=0.08)
    t = res.table.set_index("estimand")
    assert 0.0 <= t.loc["apte", "low"] <= t.loc["apte", "high"] <= 1.0


def test_one_series_per_person() -> None:
    both = pd.concat(
        [series(300, 1).assign(person="p1"), series(300, 2, tau=-1.0).assign(person="p2")]
    )
    res = within_person_effect(
        both, treatment="nudge", outcome="steps", time="period", person="person", n_boot=100
    )
    assert res.value("apte", "p1") > 0.4 and res.value("apte", "p2") < -0.4
    assert set(res.table["person"]) == {"p1", "p2"}


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda f: f.assign(nudge=1.0), r"the treatment 'nudge' never varies \(always 1\)"),
        (lambda f: f.head(12), r"has 12 periods; with lags=1 the model has 4 coefficients and "),
        (lambda f: f.assign(nudge=f["nudge"] * 2), r"treatment 'nudge' must be 0/1"),
        (
            lambda f: f.assign(steps=f["steps"].where(f["period"] != 7)),
            r"column 'steps' is missing or not a number in period 8 \(row 7\)",
        ),
        (lambda f: f.drop(columns="steps"), r"no column 'steps'"),
    ],
)
def test_bad_input_says_what_to_do(change: object, message: str) -> None:
    frame = change(series(100, 0))  # type: ignore[operator]
    with pytest.raises(ValueError, match=message):
        within_person_effect(frame, treatment="nudge", outcome="steps", n_boot=50)
