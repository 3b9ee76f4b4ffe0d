"""``versions``: a simulator's runs as a series of versions, against known truths on simulated
data (a planted regression, a planted drop in one person group, min-ACC's bias low under flat
accuracy), and inputs that say what to do."""

from __future__ import annotations

from collections.abc import Callable
from typing import Literal

import numpy as np
import pandas as pd
import pytest

from behaviorlab.analysis import versions
from behaviorlab.analysis._versions import continual_values
from behaviorlab.analysis._versions_regress import windowed_forgetting

from .conftest import build_frame

FAST: Literal["fdr_bh"] = "fdr_bh"
"""statsmodels' Holm runs ``gc.collect()`` on every call (0.4 s in a test process): tests that
are not about the correction use Benjamini-Hochberg."""

Truth = Callable[[int, int, int], float]
"""(version, person, item) -> probability of a correct answer."""


def series(
    truth: Truth, n_versions: int = 4, n_people: int = 30, n_items: int = 10, seed: int = 0
) -> list[pd.DataFrame]:
    rng = np.random.default_rng(seed)
    frames = []
    for v in range(n_versions):
        rows = []
        for p in range(n_people):
            for i in range(n_items):
                ok = bool(rng.random() < truth(v, p, i))
                rows.append(
                    {
                        "run_id": f"run-v{v}",
                        "person_id": f"p{p:02d}",
                        "item_id": f"q{i:02d}",
                        "answer": "a" if ok else "b",
                        "human_answer": "a",
                    }
                )
        frames.append(build_frame(rows))
    return frames


def test_each_version_and_the_paired_differences_find_a_planted_step() -> None:
    # accuracy 0.5, 0.5, 0.8, 0.8: only the step from v1 to v2 is real
    frames = series(lambda v, p, i: 0.5 if v < 2 else 0.8, n_people=60)
    result = versions(frames, n_resamples=400, correction=FAST)
    assert result.labels == ("run-v0", "run-v1", "run-v2", "run-v3")
    acc = result.per_version.set_index("version")
    for label, truth in zip(result.labels, (0.5, 0.5, 0.8, 0.8), strict=True):
        row = acc.loc[label]
        assert abs(row["value"] - truth) < 3 * row["se"] and row["low"] < row["value"] < row["high"]
    diff = result.differences.set_index(["before", "after"])
    step = diff.loc[("run-v1", "run-v2")]
    assert step["low"] > 0.15 and step["value"] == pytest.approx(
        acc.loc["run-v2", "value"] - acc.loc["run-v1", "value"]
    )
    for flat in (("run-v0", "run-v1"), ("run-v2", "run-v3")):
        assert diff.loc[flat, "low"] < 0 < diff.loc[flat, "high"]
    assert ("run-v0", "run-v3") in diff.index
    assert any("min-ACC and WC-ACC are not reported" in n for n in result.notes)
    assert result.continual is None


def test_the_same_person_weights_make_a_paired_interval_narrower() -> None:
    """People differ a lot and versions barely: the paired difference's interval is much
    narrower than the two versions' own intervals would give if resampled apart."""
    skill = np.random.default_rng(3).uniform(0.1, 0.9, 80)
    frames = series(lambda v, p, i: float(skill[p]), n_versions=2, n_people=80, n_items=20)
    result = versions(frames, n_resamples=400, correction=FAST)
    own = result.per_version["high"] - result.per_version["low"]
    paired = float(result.differences["high"].iloc[0] - result.differences["low"].iloc[0])
    assert paired < 0.6 * float(np.hypot(own.iloc[0], own.iloc[1]))


def test_planted_regressions_are_found_and_nobody_else_is() -> None:
    regress = {3, 11, 27}  # these people go from 0.9 to 0.1 at v2; everyone else stays at 0.8
    frames = series(
        lambda v, p, i: (0.1 if v >= 2 else 0.9) if p in regress else 0.8,
        n_people=40,
        n_items=30,
    )
    for correction in ("holm", "fdr_bh"):
        result = versions(frames, n_resamples=100, correction=correction)
        reg = result.regressions
        flagged = reg.loc[reg["regressed"] & (reg["kind"] == "person")]
        assert set(flagged["unit"]) == {f"p{p:02d}" for p in regress}
        assert set(flagged["after_version"]) == {"run-v2"}
        assert (flagged["change"] < -0.5).all()
        # the p-values are corrected: the adjusted ones are never below the raw ones
        assert (reg["p_adjusted"] >= reg["p_value"] - 1e-12).all()


def test_no_change_flags_almost_nobody_after_the_correction() -> None:
    flagged = 0
    for seed in range(5):
        frames = series(lambda v, p, i: 0.6, n_people=40, n_items=20, seed=seed)
        reg = versions(frames, n_resamples=50, correction=FAST).regressions
        flagged += int(reg["regressed"].sum())
    # 5 series x 2 families (people, items; each over the series' 3 steps); under the complete
    # null Benjamini-Hochberg holds the family-wise rate too (Holm is tested below)
    assert flagged <= 2


def test_windowed_forgetting_finds_the_group_that_dipped() -> None:
    # people of group "b" drop from 0.8 to 0.4 at v2 and recover at v3 (a stability gap)
    frames = series(lambda v, p, i: 0.4 if (p % 2 and v == 2) else 0.8, n_people=60, n_items=20)
    groups = {f"p{p:02d}": "b" if p % 2 else "a" for p in range(60)}
    result = versions(frames, groups=groups, n_resamples=300, correction=FAST)
    wf = result.forgetting.set_index("group")
    assert list(wf.index) == ["all people", "a", "b"]
    assert wf.loc["b", "low"] > 0.25 and wf.loc["b", "to_version"] == "run-v2"
    assert wf.loc["a", "value"] < 0.1
    assert wf.loc["b", "people"] == 30
    # the end-of-series accuracy of group b shows nothing: 0.8 at the first and last version
    traj = result.trajectory.set_index(["group", "version"])
    assert abs(traj.loc[("b", "run-v3"), "value"] - traj.loc[("b", "run-v0"), "value"]) < 0.1


def test_windowed_forgetting_of_known_curves() -> None:
    acc = np.array([0.8, 0.7, 0.75, 0.5, 0.9])
    assert windowed_forgetting(acc, 2)[0] == pytest.approx(0.25)
    assert windowed_forgetting(acc, 3)[0] == pytest.approx(0.25)
    assert windowed_forgetting(acc, 4)[0] == pytest.approx(0.3)  # 0.8 -> 0.5, 3 versions on
    assert windowed_forgetting(np.array([0.1, 0.2, 0.3]), 2)[0] == pytest.approx(-0.1)


def test_min_and_wc_acc_of_known_accuracies() -> None:
    # three groups learned at versions 0, 1, 2; acc[v, k]
    acc = np.array(
        [
            [0.9, 0.0, 0.0],
            [0.6, 0.8, 0.0],
            [0.7, 0.5, 0.9],
            [0.8, 0.7, 0.6],
        ]
    )
    out = continual_values(acc, [0, 1, 2])
    assert np.isnan(out["min_acc"][0])
    assert out["min_acc"][1] == pytest.approx(0.6)
    assert out["wc_acc"][1] == pytest.approx(0.8 / 2 + 0.5 * 0.6)
    assert out["min_acc"][2] == pytest.approx((0.6 + 0.5) / 2)
    assert out["wc_acc"][2] == pytest.approx(0.9 / 3 + (2 / 3) * 0.55)
    assert out["min_acc"][3] == pytest.approx((0.6 + 0.5) / 2)
    assert out["final_acc"][3] == pytest.approx((0.8 + 0.7) / 2)
    assert out["wc_acc"][3] == pytest.approx(0.6 / 3 + (2 / 3) * 0.55)


def test_min_acc_over_noisy_versions_is_biased_low() -> None:
    """Flat true accuracy 0.7 at every version: the estimated min-ACC is below 0.7 on average
    (a minimum of noisy estimates), while each version's accuracy is not; the bias-corrected
    value sits between."""
    learned = {f"p{p:02d}": f"run-v{p % 2}" for p in range(20)}
    mins, corrected, accs = [], [], []
    for seed in range(12):
        frames = series(lambda v, p, i: 0.7, n_versions=5, n_people=20, n_items=8, seed=seed)
        result = versions(frames, learned_at=learned, n_resamples=100, correction=FAST)
        assert result.continual is not None
        mins.append(result.continual["min_acc"].iloc[-1])
        corrected.append(result.continual["min_acc_corrected"].iloc[-1])
        accs.append(result.per_version["value"].mean())
    bias = float(np.mean(mins)) - 0.7
    se = float(np.std(mins, ddof=1) / np.sqrt(len(mins)))
    assert bias < -3 * se and bias < -0.02
    assert abs(float(np.mean(accs)) - 0.7) < 0.02
    # the bootstrap bias correction removes part of it (not all: docs/versions.md)
    assert float(np.mean(mins)) < float(np.mean(corrected)) < 0.7


def test_continual_metrics_with_learned_items_as_a_table() -> None:
    # items q00-q04 learned at v0, q05-q09 at v1; the first set is forgotten at v2
    frames = series(lambda v, p, i: 0.3 if (i < 5 and v == 2) else 0.9, n_people=40)
    table = pd.DataFrame(
        {"item": [f"q{i:02d}" for i in range(10)], "at": ["run-v0"] * 5 + ["run-v1"] * 5}
    )
    result = versions(
        frames, learned_at=table, learned_by="item_id", n_resamples=200, correction=FAST
    )
    cont = result.continual
    assert cont is not None and result.learned_by == "item_id"
    last = cont.iloc[-1]
    assert last["k"] == 2
    assert last["min_acc_low"] < 0.3 < last["min_acc_high"]
    assert last["final_acc"] > 0.8  # the end-of-series accuracy hides the dip
    assert last["wc_acc"] == pytest.approx(0.5 * 0.9 + 0.5 * last["min_acc"], abs=0.05)


def test_missing_people_and_items_are_named() -> None:
    frames = series(lambda v, p, i: 0.7, n_versions=3, n_people=10, n_items=5)
    frames[1] = frames[1].loc[frames[1]["person_id"] != "p04"]
    frames[2] = frames[2].loc[~frames[2]["item_id"].isin(["q01", "q03"])]
    result = versions(frames, labels=["a", "b", "c"], n_resamples=50, correction=FAST)
    cov = result.coverage.set_index("version")
    assert cov.loc["b", "missing_people"] == 1 and cov.loc["b", "missing_people_examples"] == "p04"
    assert cov.loc["c", "missing_items"] == 2
    assert cov.loc["c", "missing_items_examples"] == "q01, q03"
    assert any("version b lacks 1 of the people" in n for n in result.notes)
    assert result.n_people == 9 and result.n_items == 3 and result.n_trials == 27


def test_gap_metrics_per_version_and_bad_inputs() -> None:
    frames = series(lambda v, p, i: 0.7, n_versions=2, n_people=10, n_items=4)
    result = versions(
        {"old": frames[0], "new": frames[1]}, metrics=["accuracy", "macro_f1"], correction=FAST
    )
    assert set(result.per_version["metric"]) == {"accuracy", "macro_f1"}
    with pytest.raises(ValueError, match="per-trial metric"):
        versions(frames, metrics=["macro_f1"])
    with pytest.raises(ValueError, match="not one of the versions"):
        versions(frames, learned_at={"p00": "v9"})
    with pytest.raises(ValueError, match="labels must differ"):
        versions(frames, labels=["x", "x"])
    disjoint = frames[1].assign(person_id=lambda f: "z" + f["person_id"])
    with pytest.raises(ValueError, match="no person_id is in every version"):
        versions([frames[0], disjoint])
    two_arms = pd.concat([frames[0], frames[0].assign(simulator="majority")])
    with pytest.raises(ValueError, match="simulator="):
        versions([two_arms, frames[1]])
    picked = versions([two_arms, frames[1]], simulator="llm:mock", n_resamples=50, correction=FAST)
    assert picked.n_trials == 40


def test_model_updates_beside_a_baseline_and_checkpoints_in_one_run() -> None:
    """Each run holds the LLM arm (its label carries the model) and a majority baseline; a
    glob picks the LLM arm in every run. One run holding three checkpoints as simulators gives
    three versions with one simulator per version. A name that matches nothing lists the arms."""
    frames = series(lambda v, p, i: 0.7, n_versions=3, n_people=10, n_items=4)
    runs = [
        pd.concat([f.assign(simulator=f"llm:mock-{v + 1}"), f.assign(simulator="majority")])
        for v, f in enumerate(frames)
    ]
    result = versions(runs, simulator="llm:*", n_resamples=50, correction=FAST)
    assert result.labels == ("run-v0", "run-v1", "run-v2") and result.n_trials == 40
    with pytest.raises(ValueError, match="no trials match") as err:
        versions(runs, simulator="llm:mock-1")
    assert "survey/llm:mock-2/full" in str(err.value) and "survey/majority/full" in str(err.value)
    one = pd.concat([f.assign(simulator=f"llm:ckpt-{v}", run_id="r") for v, f in enumerate(frames)])
    sims = ["llm:ckpt-0", "llm:ckpt-1", "llm:ckpt-2"]
    ckpts = versions([one] * 3, simulator=sims, n_resamples=50, correction=FAST)
    assert ckpts.labels == tuple(sims) and ckpts.n_trials == 40
    with pytest.raises(ValueError, match="2 simulators for 3 runs"):
        versions([one] * 3, simulator=sims[:2])


def test_a_gap_metric_over_versions_that_used_different_options() -> None:
    """People answer a or b; the old version too, the new one also c (an option no person
    chose): macro-F1 per version is read on the union of the codes, and equals each version's
    own macro-F1."""
    from behaviorlab.analysis._metrics import get_metric

    rng = np.random.default_rng(7)
    frames = []
    for v, codes in enumerate((["a", "b"], ["a", "b", "c"])):
        rows = [
            {"run_id": f"r{v}", "person_id": f"p{p}", "item_id": f"q{i}"}
            | {"answer": str(rng.choice(codes)), "human_answer": "ab"[i % 2]}
            for p in range(12)
            for i in range(6)
        ]
        frames.append(build_frame(rows))
    result = versions(frames, metrics=["accuracy", "macro_f1"], n_resamples=50, correction=FAST)
    f1 = result.per_version.loc[result.per_version["metric"] == "macro_f1"].set_index("version")
    m = get_metric("macro_f1")
    for label, frame in zip(("r0", "r1"), frames, strict=True):
        alone = float(m.value(m.stats(frame).values.sum(axis=0)))
        assert f1.loc[label, "value"] == pytest.approx(alone)
        assert f1.loc[label, "low"] <= alone <= f1.loc[label, "high"]
    assert len(result.differences.loc[result.differences["metric"] == "macro_f1"]) == 1


def test_no_shared_trial_says_which_key_fails_or_that_the_metric_has_no_score() -> None:
    frames = series(lambda v, p, i: 0.7, n_versions=2, n_people=6, n_items=3)
    with pytest.raises(ValueError) as err:
        versions([frames[0], frames[1].assign(seed=1)])
    text = str(err.value)
    assert "no seed is in every version" in text and "run-v1 has 1 (1)" in text
    assert "person_id" not in text and "run-v0: 6 people, 3 items, 18 trials" in text
    with pytest.raises(ValueError) as err:
        versions([frames[0], frames[1].assign(person_id=lambda f: "z" + f["person_id"])])
    text = str(err.value)
    assert "no person_id is in every version (people: run-v0 has 6 (p00, p01" in text
    assert "run-v1 has 6 (zp00" in text and "no item_id" not in text
    with pytest.raises(ValueError) as err:  # generated answers: no probabilities to score
        versions(frames, metrics=["log_loss"])
    text = str(err.value)
    assert "no trial of run-v0 (18 trials without an error), run-v1" in text
    assert "log_loss needs probabilities" in text


def scores_of(n_versions: int, n_people: int, n_items: int, seed: int) -> dict[str, pd.DataFrame]:
    """Per-trial scores of a series with nothing changing: every trial correct at 0.5."""
    rng = np.random.default_rng(seed)
    base = pd.DataFrame(
        {
            "person_id": np.repeat([f"p{p:02d}" for p in range(n_people)], n_items),
            "item_id": np.tile([f"q{i:02d}" for i in range(n_items)], n_people),
        }
    )
    return {
        f"v{v}": base.assign(score=(rng.random(len(base)) < 0.5).astype(float))
        for v in range(n_versions)
    }


def test_holm_over_the_whole_series_holds_the_family_wise_rate_under_the_null(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Nothing changes over 6 versions (5 steps): the regressed people read as one list, so
    the chance that any person is flagged anywhere in the series stays under alpha (Holm per
    step would flag someone in about 1 series in 10)."""
    import gc

    from behaviorlab.analysis._versions_regress import _regressions

    monkeypatch.setattr(gc, "collect", lambda *a, **k: 0)  # statsmodels' Holm calls it
    hits = 0
    for seed in range(40):
        reg = _regressions(scores_of(6, 20, 30, seed), True, 0.05, "holm")
        hits += bool(reg.loc[reg["kind"] == "person", "regressed"].any())
    assert hits <= 2  # at most 0.05 of 40 series


def test_units_without_a_changed_trial_are_not_counted_as_tests() -> None:
    """One person gets 10 of 10 trials worse, nine others answer exactly as before: the one
    test is corrected as one test (Holm p = raw p), not as one of ten."""
    frames = series(lambda v, p, i: 1.0, n_versions=2, n_people=10, n_items=10)
    worse = frames[1]["person_id"] == "p00"
    frames[1].loc[worse, "answer"] = "b"
    frames[1].loc[worse, "correct"] = 0.0
    result = versions(frames, n_resamples=50, correction="holm", family="step")
    reg = result.regressions.set_index(["kind", "unit"])
    assert reg.loc[("person", "p00"), "p_adjusted"] == pytest.approx(0.5**10)
    assert reg.loc[("person", "p00"), "regressed"] and result.family == "step"
    assert not reg.loc[("person", "p05"), "tested"] and reg["tested"].sum() == 1 + 10


def test_learned_at_read_as_numbers_matches_numeric_labels() -> None:
    """A table whose version column pandas read as floats (1.0, 2.0, NaN for a blank) matches
    the labels "1", "2"; the blank means not learned; a wrong version names the row."""
    frames = series(lambda v, p, i: 0.8, n_versions=2, n_people=6, n_items=4)
    table = pd.DataFrame({"person_id": [f"p{p:02d}" for p in range(6)]})
    table["version"] = [1.0, 2.0, 1.0, 2.0, np.nan, 2.0]
    result = versions(frames, labels=["1", "2"], learned_at=table, n_resamples=50, correction=FAST)
    assert result.continual is not None and list(result.continual["k"]) == [1, 2]
    table.loc[3, "version"] = 5.0
    with pytest.raises(ValueError, match=r"learned_at row 4: person_id 'p03' has the version 5\.0"):
        versions(frames, labels=["1", "2"], learned_at=table)


def test_regressions_come_in_series_order_not_label_order() -> None:
    frames = series(lambda v, p, i: 0.6, n_versions=3, n_people=5, n_items=4)
    result = versions(frames, labels=["zeta", "alpha", "mid"], n_resamples=50, correction=FAST)
    reg = result.regressions
    steps = list(dict.fromkeys(zip(reg["before_version"], reg["after_version"], strict=True)))
    assert steps == [("zeta", "alpha"), ("alpha", "mid")]
