"""Drift toward the model's default (issue 18 §2-3): scripted drift agents with a known share
per round are recovered within their interval, DeGroot agents match the closed form, the
same-identity and retest controls run, and stubborn agents close nothing."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

import behaviorlab as bl
from behaviorlab.analysis import Estimate
from behaviorlab.families.debate import (
    debate_reports,
    degroot_closed_form,
    drift_differences,
    drift_table,
    reference_reports,
    trajectories,
)

Spec = Callable[..., dict[str, Any]]
START = {"a Democrat": 2.0, "a Republican": 6.0}
ARMS = ["full", "same_identity", "retest", "model_default"]


def _shares(table: pd.DataFrame, condition: str, topic: str = "t") -> pd.DataFrame:
    rows = table.loc[(table["condition"] == condition) & (table["topic"] == topic)]
    est = rows["share"].tolist()
    return pd.DataFrame(
        {
            "round": rows["round"].to_numpy(),
            "value": [e.value for e in est],
            "low": [e.low for e in est],
            "high": [e.high for e in est],
        }
    )


@pytest.fixture(scope="module")
def drift_run(tmp_path_factory: pytest.TempPathFactory, make_spec: Spec) -> pd.DataFrame:
    agent = {"name": "drift_agent", "default": 3.5, "share": 0.25, "start": START, "sd": 0.3}
    spec = make_spec(agent, agents=4, rounds=4, repeats=25, conditions=ARMS)
    run = bl.run(spec, out=tmp_path_factory.mktemp("drift"), progress=False)
    return debate_reports(run.to_pandas())


def test_a_known_drift_is_recovered_by_the_run(drift_run: pd.DataFrame) -> None:
    table = drift_table(drift_run, n_resamples=1000, seed=1)
    debate = _shares(table, "full")
    truth = 1 - (1 - 0.25) ** debate["round"]
    assert list(debate["round"]) == [1, 2, 3, 4]
    # within about 4 standard errors (the interval's coverage is the study below)
    assert (debate["value"] - truth).abs().lt(0.06).all(), debate
    assert (debate["high"] - debate["low"]).lt(0.12).all()  # informative, not just wide
    # same-identity debates drift the same (the agents' pull is the model's, not the others')
    same = _shares(table, "same_identity")
    assert (same["value"] - truth).abs().lt(0.06).all(), same
    # retest: no debate, no drift
    retest = _shares(table, "retest")
    assert retest["value"].abs().lt(0.05).all(), retest
    assert ((retest["low"] <= 0) & (retest["high"] >= 0)).sum() >= 3, retest


def test_arms_are_compared_with_the_debate_paired_by_setup(drift_run: pd.DataFrame) -> None:
    diffs = drift_differences(drift_run, n_resamples=1000, seed=1)
    table = drift_table(drift_run, per_topic=False, n_resamples=1000, seed=1)
    diff: dict[tuple[str, int], Estimate] = {
        (str(c), int(r)): e
        for c, r, e in zip(diffs["condition"], diffs["round"], diffs["difference"], strict=True)
    }
    own: dict[tuple[str, int], Estimate] = {
        (str(c), int(r)): e
        for c, r, e in zip(table["condition"], table["round"], table["share"], strict=True)
    }
    assert sorted(r for c, r in diff if c == "retest") == [1, 2, 3, 4]
    assert (diffs["setups"] == 25).all()
    for r in (1, 2, 3, 4):
        truth = -(1 - 0.75**r)  # a retest closes nothing, the debate 1 - 0.75**r
        est = diff[("retest", r)]
        # within about 4 standard errors, as the shares above; the interval excludes 0
        assert abs(est.value - truth) < 0.06 and est.high < 0
        # the same point as the two arms' own shares, subtracted
        assert est.value == pytest.approx(own[("retest", r)].value - own[("full", r)].value)
        # same-identity debates drift like the debate: a difference near 0 (within about
        # 4 standard errors; without report noise it is exactly 0)
        assert abs(diff[("same_identity", r)].value) < 0.06
    # pairing: the interval of the difference is narrower than the two arms' intervals added
    widths = sum(own[(c, 1)].high - own[(c, 1)].low for c in ("full", "same_identity"))
    paired = diff[("same_identity", 1)]
    assert paired.high - paired.low < widths


def test_without_noise_the_drift_is_exact(tmp_path: Path, make_spec: Spec) -> None:
    agent = {"name": "drift_agent", "default": 3.5, "share": 0.4, "start": START}
    spec = make_spec(agent, rounds=3, repeats=2, conditions=["full", "model_default"])
    reports = debate_reports(bl.run(spec, out=tmp_path, progress=False).to_pandas())
    shares = _shares(drift_table(reports, n_resamples=200), "full")
    assert np.allclose(shares["value"], 1 - 0.6 ** np.arange(1, 4))


def _simulated(rng: np.random.Generator, debates: int = 25, rounds: int = 4) -> pd.DataFrame:
    """Reports of drift agents (share 0.25 per round toward 3.5, noise sd 0.3) and of the
    model's default, as debate_reports gives them."""
    rows: list[dict[str, Any]] = []
    common = {"simulator": "a", "seed": 0, "topic": "t", "role_simulator": "x", "agents": 4}
    for g in range(debates):
        for i, a0 in enumerate([2.0, 6.0, 2.0, 6.0]):
            for r in range(rounds + 1):
                x = 3.5 + 0.75**r * (a0 - 3.5) + rng.normal(0, 0.3)
                rows.append(
                    {
                        **common,
                        "condition": "full",
                        "person_id": f"p{g}",
                        "trial_id": f"t{g}",
                        "arm": "debate",
                        "role": f"agent_{i}",
                        "identity": str(a0),
                        "round": r,
                        "ask": 0,
                        "attitude": x,
                        "threshold": 0.5,
                    }
                )
        for k in range(12):
            rows.append(
                {
                    **common,
                    "condition": "model_default",
                    "person_id": f"p{g}",
                    "trial_id": f"m{g}",
                    "arm": "model_default",
                    "role": "agent_1",
                    "identity": "(none)",
                    "round": 0,
                    "ask": k,
                    "attitude": 3.5 + rng.normal(0, 0.3),
                    "threshold": 0.5,
                }
            )
    return pd.DataFrame(rows)


def test_the_interval_covers_a_known_drift_in_most_replications() -> None:
    rng = np.random.default_rng(18)
    truth = 1 - 0.75 ** np.arange(1, 5)
    hits = np.zeros(4)
    n = 60
    for _ in range(n):
        table = drift_table(_simulated(rng), n_resamples=300)
        low = np.array([e.low for e in table["share"]])
        high = np.array([e.high for e in table["share"]])
        hits += (low <= truth) & (truth <= high)
    # nominal 95%; 200 replications of 25 debates measured 91.5-94% per round
    assert (hits / n >= 0.83).all(), hits / n


def test_the_default_is_measured_and_its_uncertainty_widens_the_interval(
    drift_run: pd.DataFrame,
) -> None:
    defaults = drift_run.loc[drift_run["arm"] == "model_default"]
    assert abs(defaults["attitude"].mean() - 3.5) < 0.1
    # only the Republicans (gap about 2.5) count: agents on one side of the default, whose
    # ratio depends on it (with agents on both sides in balance the default cancels)
    one_side = drift_run.assign(threshold=2.0)
    # a default of few, spread answers: trials answering 3 and 4 in turn (mean 3.5)
    is_default = one_side["arm"] == "model_default"
    trials = sorted(one_side.loc[is_default, "trial_id"].unique())
    level = {t: 3.0 + (i % 2) for i, t in enumerate(trials)}
    one_side.loc[is_default, "attitude"] = one_side.loc[is_default, "trial_id"].map(level)
    wide = drift_table(one_side, n_resamples=1000, seed=1)
    exact = one_side.copy()  # the same agents against a default known exactly
    exact.loc[is_default, "attitude"] = float(one_side.loc[is_default, "attitude"].mean())
    narrow = drift_table(exact, n_resamples=1000, seed=1)
    w, n = _shares(wide, "full"), _shares(narrow, "full")
    assert np.allclose(w["value"], n["value"])
    assert ((w["high"] - w["low"]) > 1.2 * (n["high"] - n["low"])).all(), (w, n)


def test_agents_below_the_threshold_are_left_out(drift_run: pd.DataFrame) -> None:
    far = drift_run.assign(threshold=5.0)  # every initial gap (about 1.5 and 2.5) is below
    table = drift_table(far, n_resamples=200)
    assert table.empty or (table["agents"] == 0).all()
    near = drift_run.assign(threshold=2.0)  # only the Republicans (gap 2.5) count
    row = drift_table(near, n_resamples=200).iloc[0]
    assert row["below_threshold"] > 0 and row["agents"] > 0


def test_degroot_agents_match_the_closed_form(tmp_path: Path, make_spec: Spec) -> None:
    start = {"a": 1.0, "b": 7.0, "c": 4.0, "d": 2.0}
    spec = make_spec(
        {"name": "degroot_agent", "start": start}, rounds=5, repeats=1, lineup=list(start)
    )
    reports = debate_reports(bl.run(spec, out=tmp_path, progress=False).to_pandas())
    got = reports.pivot_table(index="round", columns="role", values="attitude").to_numpy()
    assert np.allclose(got, degroot_closed_form(list(start.values()), 5))
    # and the reference trajectories from the same starts are the same closed form
    ref = reference_reports(reports, "degroot")
    assert np.allclose(ref.sort_index()["attitude"], reports.sort_index()["attitude"])
    stubborn = reference_reports(reports, "stubborn")
    flat = stubborn.pivot_table(index="round", columns="role", values="attitude").to_numpy()
    assert np.allclose(flat, np.tile(list(start.values()), (6, 1)))


def test_degroot_needs_public_attitudes(tmp_path: Path, make_spec: Spec) -> None:
    spec = make_spec({"name": "degroot_agent"}, rounds=1, repeats=1, public_attitudes=False)
    turns = bl.run(spec, out=tmp_path, progress=False).to_pandas(per="turn")
    errors = turns["error"].dropna()
    assert len(errors) == 4 and errors.str.contains("public_attitudes: true").all()


def test_stubborn_agents_close_nothing_and_keep_their_trajectory(
    tmp_path: Path, make_spec: Spec
) -> None:
    spec = make_spec(
        {"name": "stubborn_agent", "start": START, "sd": 0.2},
        rounds=3,
        repeats=10,
        conditions=["full", "model_default"],
    )
    reports = debate_reports(bl.run(spec, out=tmp_path, progress=False).to_pandas())
    shares = _shares(drift_table(reports, n_resamples=500), "full")
    assert shares["value"].abs().lt(0.05).all(), shares
    assert ((shares["low"] <= 0) & (shares["high"] >= 0)).sum() >= 2, shares
    traj = trajectories(reports, n_resamples=200)
    dem = traj.loc[(traj["identity"] == "a Democrat") & (traj["condition"] == "full")]
    assert [round(e.value) for e in dem["attitude"]] == [2, 2, 2, 2]


def test_a_single_degroot_agent_never_moves() -> None:
    got = degroot_closed_form([3.0], 4)
    assert got.shape == (5, 1) and np.all(got == 3.0)
    with pytest.raises(ValueError, match="at least one agent"):
        degroot_closed_form([], 2)
