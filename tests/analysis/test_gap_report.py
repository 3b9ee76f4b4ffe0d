"""The gap report: rows, counts, what is missing and why, effects, exports."""

from __future__ import annotations

import json
import math
import time

import numpy as np
import pandas as pd
import pytest

from behaviorlab.analysis import GapReport, compare, estimate, gap

from .conftest import synthetic_results

N = 200  # resamples: enough for the tests, fast


@pytest.fixture(scope="module")
def report(results: pd.DataFrame) -> GapReport:
    return gap(results, n_resamples=N, metrics=_BUILTIN)


_BUILTIN = ["accuracy", "macro_f1", "log_loss", "brier", "js_distance", "total_variation"]


def test_one_row_per_task_simulator_condition(report: GapReport) -> None:
    keys = [(r.simulator, r.condition) for r in report.rows]
    assert keys == [
        ("llm:argmax", "full"),
        ("llm:probs", "full"),
        ("llm:probs", "no_persona"),
        ("llm:probs", "shuffled_persona"),
        ("majority", "full"),
    ]
    assert [r.baseline for r in report.rows] == [False] * 4 + [True]


def test_counts(report: GapReport, results: pd.DataFrame) -> None:
    for row in report.rows:
        arm = results[
            (results["simulator"] == row.simulator) & (results["condition"] == row.condition)
        ]
        kinds = arm["error_kind"].value_counts()
        assert row.n == len(arm) == 120
        assert row.n_failed == kinds.get("backend", 0) + kinds.get("timeout", 0)
        assert row.n_invalid == kinds.get("invalid", 0)
        assert row.n_valid == len(arm) - row.n_failed - row.n_invalid
    assert sum(r.n_failed + r.n_invalid for r in report.rows) > 0


def test_metrics_match_estimate_on_each_group(report: GapReport, results: pd.DataFrame) -> None:
    row = report.row("llm:probs", "full")
    arm = results[(results["simulator"] == "llm:probs") & (results["condition"] == "full")]
    for name in _BUILTIN:
        direct = estimate(arm, name, n_resamples=N)
        assert direct is not None and row.estimates[name] == direct


def test_argmax_only_simulator_has_no_distribution_or_probability_metrics(
    report: GapReport,
) -> None:
    row = report.row("llm:argmax")
    assert row.estimates["accuracy"] is not None and row.estimates["macro_f1"] is not None
    for name in ("log_loss", "brier", "js_distance", "total_variation"):
        assert row.estimates[name] is None
    assert "collapses to the mode" in row.missing["js_distance"]
    assert "probabilities" in row.missing["log_loss"]


def test_noise_floors_and_effects(report: GapReport) -> None:
    floors = report.noise_floors["survey"]
    assert set(floors) == {"js_distance", "total_variation"}
    assert all(f.ok and f.method == "split-half" and f.n_clusters == 30 for f in floors.values())
    persona = {(e.condition_b, e.metric) for e in report.effects if e.kind == "persona"}
    assert persona == {
        (c, m) for c in ("shuffled_persona", "no_persona") for m in ("accuracy", "log_loss")
    }
    assert all(e.simulator_a == "llm:probs" for e in report.effects if e.kind == "persona")
    versus = [e for e in report.effects if e.kind == "baseline"]
    assert {e.metric for e in versus} == {"accuracy", "log_loss"}
    for e in versus:
        assert e.simulator_b == "majority" and e.simulator_a.startswith("llm") and e.estimate.ok


def test_to_pandas_is_a_wide_table(report: GapReport) -> None:
    table = report.to_pandas()
    assert len(table) == 5
    assert list(table.columns[:9]) == [
        "task",
        "simulator",
        "condition",
        "baseline",
        "n",
        "n_valid",
        "n_failed",
        "n_invalid",
        "n_people",
    ]
    for m in _BUILTIN:
        assert {m, f"{m}_low", f"{m}_high"} <= set(table.columns)
    argmax = table[table["simulator"] == "llm:argmax"].iloc[0]
    assert math.isnan(argmax["log_loss"]) and not math.isnan(argmax["accuracy"])
    assert (table["accuracy_low"] <= table["accuracy"]).all()


def test_to_dict_is_strict_json(report: GapReport) -> None:
    data = json.loads(json.dumps(report.to_dict(), allow_nan=False))
    assert data["settings"] == {"n_resamples": N, "seed": 0, "level": 0.95}
    assert data["rows"][0]["metrics"]["log_loss"] is None
    assert {e["kind"] for e in data["effects"]} == {"persona", "baseline"}
    assert data["position_shares"] and "survey" in data["noise_floor"]


def test_same_seed_same_report(results: pd.DataFrame, report: GapReport) -> None:
    again = gap(results, n_resamples=N, metrics=_BUILTIN)
    pd.testing.assert_frame_equal(again.to_pandas(), report.to_pandas())


def test_explicit_baselines_and_run_like_objects(results: pd.DataFrame) -> None:
    class Run:
        def to_pandas(self) -> pd.DataFrame:
            return results[results["condition"] == "full"]

    rep = gap(Run(), n_resamples=20, metrics=["accuracy"], baselines={"majority", "llm:argmax"})
    assert [r.baseline for r in rep.rows] == [True, False, True]
    assert rep.noise_floors == {"survey": {}}


def test_missing_optional_columns_are_tolerated(results: pd.DataFrame) -> None:
    lean = results[["task", "simulator", "condition", "person_id", "item_id", "error", "correct"]]
    rep = gap(lean, n_resamples=20, metrics=["accuracy", "log_loss"])
    assert all(r.estimates["log_loss"] is None for r in rep.rows)
    with pytest.raises(ValueError, match="lacks column"):
        gap(lean.drop(columns="person_id"))


def test_a_group_with_only_failures(results: pd.DataFrame) -> None:
    broken = results[results["simulator"] == "majority"].assign(
        simulator="llm:down", error="refused", error_kind="backend", correct=None
    )
    rep = gap(broken, n_resamples=20, metrics=["accuracy"])
    row = rep.row("llm:down")
    assert row.n_valid == 0 and row.n_failed == row.n == 120
    assert row.estimates["accuracy"] is None and row.missing["accuracy"] == "no valid trials"


def test_several_tasks_are_kept_apart(results: pd.DataFrame) -> None:
    both = pd.concat([results, results.assign(task="other")], ignore_index=True)
    rep = gap(both, n_resamples=20, metrics=["accuracy", "js_distance"])
    assert rep.tasks == ["other", "survey"] and len(rep.rows) == 10
    a, b = rep.row("majority", task="survey"), rep.row("majority", task="other")
    assert a.estimates["accuracy"] == b.estimates["accuracy"]
    assert rep.noise_floors["other"]["js_distance"] == rep.noise_floors["survey"]["js_distance"]


def test_report_carries_the_new_tables(results: pd.DataFrame) -> None:
    ids = sorted(results["person_id"].unique())
    persons = pd.DataFrame({"person_id": ids, "group": ["x", "y", "z"] * (len(ids) // 3)})
    rep = gap(results, persons=persons, n_resamples=100, n_flips=500, epsilon=0.2)
    assert list(rep.comparisons.columns) == list(compare(results.iloc[:0]).columns)
    assert len(rep.comparisons) == 7  # 4 accuracy, 3 log-loss comparisons
    assert set(rep.distribution_tests["simulator"]) == {"llm:probs", "majority"}
    assert (rep.distribution_tests["epsilon"] == 0.2).all() and rep.epsilon == 0.2
    assert set(rep.subgroups["group"]) == {"x", "y", "z"} and len(rep.disparities) == 5
    assert not rep.items.empty and len(rep.item_agreement) == 4
    assert rep.ceiling is None
    assert rep.yardstick_notes[0].startswith("no human ceiling")
    assert rep.yardstick_notes[1].startswith("noise floor: human split-half noise floor")
    assert rep.yardstick_notes[2].startswith("baselines: majority")
    data = json.loads(json.dumps(rep.to_dict(), allow_nan=False))
    for key in ("comparisons", "distribution_tests", "subgroups", "disparities", "items"):
        assert len(data[key]) == len(getattr(rep, key))
    assert data["ceiling"] is None and data["yardstick_notes"] == rep.yardstick_notes
    assert isinstance(data["distribution_tests"][0]["equivalent"], bool)


def test_tables_are_empty_with_their_columns_when_they_do_not_apply(
    results: pd.DataFrame,
) -> None:
    lean = results[["task", "simulator", "condition", "person_id", "item_id", "error", "correct"]]
    rep = gap(lean[lean["simulator"] != "majority"], n_resamples=20, metrics=["macro_f1"])
    for name in ("comparisons", "distribution_tests", "subgroups", "disparities", "items"):
        table = getattr(rep, name)
        assert table.empty and len(table.columns) > 5, name
    assert rep.item_agreement.empty
    assert rep.yardstick_notes[-1].startswith("no yardstick exists")
    json.dumps(rep.to_dict(), allow_nan=False)


def test_a_demo_sized_gap_is_fast() -> None:
    """100 people and 600 trials (the ANES demo's shape) with 2,000 resamples."""
    frame = synthetic_results(n_people=100, n_items=1, seed=3)
    ids = sorted(frame["person_id"].unique())
    rng = np.random.default_rng(0)
    persons = pd.DataFrame(
        {"person_id": ids, "age": rng.integers(18, 90, 100), "party": rng.choice(["l", "r"], 100)}
    )
    gap(frame.iloc[:40], n_resamples=20)  # warm up imports
    start = time.process_time()  # this process's CPU time: other processes' load is not in it
    rep = gap(frame, persons=persons, n_resamples=2000)
    elapsed = time.process_time() - start
    assert len(frame) == 500 and not rep.subgroups.empty
    assert elapsed < 5.0, f"gap took {elapsed:.2f}s of CPU time"
