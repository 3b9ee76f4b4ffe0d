"""numeric_outcomes (issue 16 §3): per-item correlation, std ratio and Glass's Δ across people
(checked against numpy on the same values), MAE and 1 − |h − s| / range, the expected and median
accuracy of a twin's distribution, the uniform and other-people's-mean baselines (exact), flat
items counted, a missing range refused naming question and file, and a numeric survey run end
to end (gap accuracy, terminal table, report block)."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
import yaml
from rich.console import Console

import behaviorlab as bl
from behaviorlab.analysis import gap, numeric_outcomes
from behaviorlab.report import write_report
from behaviorlab.report._outcomes import numeric_lines, render_numeric

META = {"answer_type": "numeric", "range": [0, 10]}


def _row(person: str, item: str, h: float, s: float, **extra: Any) -> dict[str, Any]:
    return {
        "task": "survey",
        "simulator": "twin",
        "condition": "full",
        "person_id": person,
        "item_id": item,
        "human_answer": f"{h:g}",
        "answer": f"{s:g}",
        "error": None,
        "meta": META,
    } | extra


def _frame(seed: int = 0, people: int = 30) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    rows = []
    for item in ("a", "b", "c"):
        h = np.round(rng.uniform(0, 10, people), 1)
        s = np.clip(np.round(h * 0.5 + rng.uniform(0, 4, people), 1), 0, 10)
        rows += [_row(f"p{p}", item, h[p], s[p]) for p in range(people)]
    return pd.DataFrame(rows)


def test_the_metrics_are_what_numpy_says_on_the_same_values() -> None:
    frame = _frame()
    out = numeric_outcomes(frame, n_resamples=200)
    h = frame["human_answer"].astype(float).to_numpy().reshape(3, -1)
    s = frame["answer"].astype(float).to_numpy().reshape(3, -1)
    corr = np.mean([np.corrcoef(h[i], s[i])[0, 1] for i in range(3)])
    ratio = np.mean([s[i].std() / h[i].std() for i in range(3)])
    glass = np.mean([(s[i].mean() - h[i].mean()) / h[i].std(ddof=1) for i in range(3)])
    assert out.value("correlation") == pytest.approx(corr)
    assert out.value("std_ratio") == pytest.approx(ratio)
    assert out.value("glass_delta") == pytest.approx(glass)
    assert out.value("mae") == pytest.approx(np.abs(h - s).mean())
    assert out.value("accuracy") == pytest.approx(1 - np.abs(h - s).mean() / 10)
    row = out.table.set_index("metric").loc["accuracy"]
    assert row["low"] < row["value"] < row["high"] and row["n_people"] == 30
    # uniform over [0, 10]: E|h - U| = (h^2 + (10 - h)^2) / 20
    assert row["uniform"] == pytest.approx(1 - ((h**2 + (10 - h) ** 2) / 20).mean() / 10)
    # loo_mean: each person against the mean of the other 29 test people's answers
    others = (h.sum(axis=1, keepdims=True) - h) / (h.shape[1] - 1)
    assert row["loo_mean"] == pytest.approx(1 - np.abs(h - others).mean() / 10)
    # no train_mean arm: no training people's mean, and the note says how to get one
    acc = row.to_dict()
    assert math.isnan(acc["people_mean"]) and "add {name: train_mean}" in acc["note"]
    assert math.isnan(out.table.set_index("metric")["uniform"].astype(float)["correlation"])


def test_people_mean_is_the_training_peoples_mean_from_the_train_mean_arm() -> None:
    """The baseline is what train_mean's rows say the training people answered (their
    meta["training_mean"]), not the other test people's answers (which is loo_mean)."""
    frame = _frame()
    train = {"a": 2.0, "b": 7.5, "c": 5.0}  # far from the test people's own means
    base = frame.assign(
        simulator="train_mean",
        answer=frame["item_id"].map(lambda i: f"{train[i]:g}"),
        meta=frame["item_id"].map(lambda i: META | {"training_mean": train[i]}),
    )
    out = numeric_outcomes(pd.concat([frame, base]), n_resamples=100)
    twin = out.table.loc[out.table["simulator"] == "twin"].set_index("metric")
    mae, acc = twin.loc["mae"].to_dict(), twin.loc["accuracy"].to_dict()
    h = frame["human_answer"].astype(float).to_numpy()
    m = frame["item_id"].map(train).to_numpy(dtype=float)
    assert mae["people_mean"] == pytest.approx(np.abs(h - m).mean())
    assert acc["people_mean"] == pytest.approx(1 - np.abs(h - m).mean() / 10)
    assert mae["people_mean_low"] < mae["people_mean"] < mae["people_mean_high"]
    assert mae["people_mean"] != pytest.approx(mae["loo_mean"])
    assert "train_mean" not in str(mae["note"])


def test_a_person_drawn_twice_counts_twice_in_every_resample() -> None:
    """The statistics are additive per person: a frame holding every person twice (as
    another person) has the same values as the original."""
    frame = _frame(people=20)
    twice = pd.concat([frame, frame.assign(person_id=frame["person_id"] + "'")])
    a, b = numeric_outcomes(frame, n_resamples=50), numeric_outcomes(twice, n_resamples=50)
    for metric in ("correlation", "std_ratio", "mae", "accuracy"):
        assert a.value(metric) == pytest.approx(b.value(metric)), metric
    wide = a.table.set_index("metric").loc["accuracy"]
    narrow = b.table.set_index("metric").loc["accuracy"]
    assert narrow["high"] - narrow["low"] < wide["high"] - wide["low"]


def test_flat_items_are_counted_and_a_missing_range_is_refused_by_name() -> None:
    rows = [_row(f"p{p}", "flat", p % 7, 5.0) for p in range(12)]
    no_range = {"answer_type": "numeric", "range": None, "defined_in": "mine/mapping.yaml"}
    rows += [_row(f"p{p}", "wtp", 3 * p, 2 * p + 1, meta=no_range) for p in range(12)]
    out = numeric_outcomes(pd.DataFrame(rows), n_resamples=100)
    assert out.flat[("survey", "twin", "full")] == ["flat"]
    by = out.table.set_index("metric")
    assert by.loc["correlation", "value"] == pytest.approx(1.0)  # wtp only: s = (2/3) h + 1
    assert by.loc["std_ratio", "value"] == pytest.approx((0.0 + 2 / 3) / 2)  # flat counts 0
    assert "1 of 2 items have twins' values that do not vary" in str(by.loc["correlation", "note"])
    # the counts are columns, and the correlation with the flat item counted 0 sits beside
    corr = by.loc["correlation"].to_dict()
    assert corr["n_flat"] == 1 and corr["n_items_used"] == 1 and corr["n_items"] == 2
    flat0 = by.loc["correlation_flat0"].to_dict()
    assert flat0["value"] == pytest.approx(0.5) and flat0["n_items_used"] == 2
    assert by.loc["accuracy"].to_dict()["n_items_used"] == 1  # the ranged item only
    note = str(by.loc["accuracy", "note"])
    assert "question 'wtp' in mine/mapping.yaml" in note and "range: [lo, hi]" in note
    assert by.loc["accuracy", "value"] == pytest.approx(1 - 31 / 120)  # the ranged item only
    lines = numeric_lines(out, markup=False)
    assert any("twin (full): accuracy: refused" in line for line in lines)
    console = Console(width=200, record=True)
    for line in numeric_lines(out):
        console.print(line)
    assert "add range: [lo, hi] to the question" in console.export_text()


def test_a_baseline_is_only_set_beside_a_value_over_the_same_trials() -> None:
    """MAE pools every trial, the uniform baseline exists only on ranged ones: with an item
    without a range the uniform MAE is left out (with a note), not compared over other
    trials; the accuracy (ranged trials only) keeps it. A training mean known for one item
    of two is left out the same way."""
    rows = [_row(f"p{p}", "a", p % 10, 5.0 + p % 3) for p in range(12)]
    no_range = {"answer_type": "numeric", "range": None}
    rows += [_row(f"p{p}", "wtp", 3 * p, 2 * p + 1, meta=no_range) for p in range(12)]
    rows += [
        _row(f"p{p}", "a", p % 10, 4.0, simulator="train_mean", meta=META | {"training_mean": 4})
        for p in range(12)
    ]
    out = numeric_outcomes(pd.DataFrame(rows), n_resamples=50)
    twin = out.table.loc[out.table["simulator"] == "twin"].set_index("metric")
    mae, acc = twin.loc["mae"].to_dict(), twin.loc["accuracy"].to_dict()
    assert math.isnan(mae["uniform"]) and math.isnan(mae["uniform_low"])
    assert "no uniform baseline for mae: 12 of its 24 trials have no range" in mae["note"]
    h = np.array([p % 10 for p in range(12)], dtype=float)
    assert acc["uniform"] == pytest.approx(1 - ((h**2 + (10 - h) ** 2) / 20).mean() / 10)
    # the training mean covers item a only: beside accuracy (a's trials), not beside MAE
    assert math.isnan(mae["people_mean"]) and "no people_mean baseline for mae" in mae["note"]
    assert acc["people_mean"] == pytest.approx(1 - np.abs(h - 4).mean() / 10)


def test_the_uniform_baseline_of_an_ordered_item_is_uniform_over_its_codes() -> None:
    """On a 1..5 Likert item a random answer is one of the five codes: E|h − U| is the mean
    of |h − c| over them (1.2 at the middle, 2 at the ends), not the continuous range's."""
    likert = {"answer_type": "ordered", "range": [1, 5], "codes": [1, 2, 3, 4, 5]}
    rows = [_row(f"p{p}", "lik", 1 + p % 5, 3, meta=likert) for p in range(10)]
    out = numeric_outcomes(pd.DataFrame(rows), n_resamples=50)
    by = out.table.set_index("metric")
    # each code twice: mean over h of mean_c |h - c| = (2 + 1.4 + 1.2 + 1.4 + 2) / 5 = 1.6
    assert by.loc["mae"].to_dict()["uniform"] == pytest.approx(1.6)
    assert by.loc["accuracy"].to_dict()["uniform"] == pytest.approx(1 - 1.6 / 4)
    middle = [_row(f"p{p}", "lik", 3, 3 + p % 2, meta=likert) for p in range(4)]
    mid = numeric_outcomes(pd.DataFrame(middle), n_resamples=20).table.set_index("metric")
    assert mid.loc["accuracy"].to_dict()["uniform"] == pytest.approx(1 - 1.2 / 4)  # 0.7


def test_a_simulated_value_outside_the_range_never_scores_below_zero() -> None:
    rows = [_row(f"p{p}", "a", p % 10, 40.0 if p == 0 else 5.0) for p in range(10)]
    out = numeric_outcomes(pd.DataFrame(rows), n_resamples=20)
    h = np.array([p % 10 for p in range(10)], dtype=float)
    s = np.where(np.arange(10) == 0, 40.0, 5.0)
    assert out.value("accuracy") == pytest.approx(np.clip(1 - np.abs(h - s) / 10, 0, 1).mean())
    note = out.table.set_index("metric").loc["accuracy"].to_dict()["note"]
    assert "1 simulated value(s) lie outside their item's range" in note


def test_opposite_biases_do_not_cancel_in_the_mean_absolute_glass_delta() -> None:
    rng = np.random.default_rng(5)
    h = rng.uniform(2, 8, 40)
    rows = [_row(f"p{p}", "up", h[p], h[p] + 1) for p in range(40)]
    rows += [_row(f"p{p}", "down", h[p], h[p] - 1) for p in range(40)]
    out = numeric_outcomes(pd.DataFrame(rows), n_resamples=100)
    delta = 1 / h.std(ddof=1)
    assert out.value("glass_delta") == pytest.approx(0.0, abs=1e-9)
    assert out.value("glass_delta_abs") == pytest.approx(delta)
    row = out.table.set_index("metric").loc["glass_delta_abs"].to_dict()
    assert row["low"] <= delta <= row["high"]
    console = Console(width=250, record=True)
    console.print(render_numeric(out))
    assert "mean |Δ|" in console.export_text()


def test_an_arm_whose_twins_never_vary_says_so() -> None:
    rows = [_row(f"p{p}", "q", p % 5, 2.0) for p in range(10)]
    out = numeric_outcomes(pd.DataFrame(rows), n_resamples=50)
    assert math.isnan(out.value("correlation")) and out.value("std_ratio") == 0.0
    lines = numeric_lines(out, markup=False)
    assert lines[0] == (
        "twin (full): correlation: 1 of 1 items have twins' values that do not vary (no "
        "correlation; counted 0 in the std ratio and in correlation_flat0): q"
    )
    assert lines[1].startswith("twin (full): MAE, accuracy: no training people's mean")


def test_a_twin_distribution_gets_its_expected_and_median_accuracy() -> None:
    ordered = {"answer_type": "ordered", "range": [1, 5]}
    probs = {"1": 0.1, "2": 0.2, "4": 0.6, "5": 0.1}  # median 4
    rows = [
        _row("p0", "lik", 5, 4, meta=ordered, probabilities=probs),
        _row("p1", "lik", 2, 4, meta=ordered, probabilities=probs),
        _row("p2", "lik", 3, 2, meta=ordered, samples=["2", "2", "3", "5"]),  # median 2
    ]
    out = numeric_outcomes(pd.DataFrame(rows), n_resamples=50)
    xs, ps = np.array([1, 2, 4, 5]), np.array([0.1, 0.2, 0.6, 0.1])
    expected = [1 - (ps * abs(h - xs)).sum() / 4 for h in (5, 2)]
    expected.append(1 - np.mean([abs(3 - x) for x in (2, 2, 3, 5)]) / 4)
    assert out.value("expected_accuracy") == pytest.approx(np.mean(expected))
    median = [1 - abs(5 - 4) / 4, 1 - abs(2 - 4) / 4, 1 - abs(3 - 2) / 4]
    assert out.value("median_accuracy") == pytest.approx(np.mean(median))


def test_plain_option_rows_have_no_numeric_outcomes() -> None:
    rows = [_row("p0", "q", 1, 1, meta={"option_order_seed": "x"})]
    out = numeric_outcomes(pd.DataFrame(rows))
    assert out.empty and render_numeric(out) is None and numeric_lines(out) == []


def test_a_numeric_survey_runs_end_to_end(tmp_path: Path) -> None:
    rng = np.random.default_rng(3)
    people = 24
    pd.DataFrame(
        {
            "pid": [f"p{i}" for i in range(people)],
            "age": rng.integers(20, 70, people),
            "temp": np.round(rng.uniform(0, 1, people), 2),
        }
    ).to_csv(tmp_path / "survey.csv", index=False)
    mapping = {
        "name": "warmth",
        "id_column": "pid",
        "persona": [{"column": "age", "template": "You are {value} years old."}],
        "questions": [{"column": "temp", "text": "How warm?", "type": "numeric", "range": [0, 1]}],
    }
    (tmp_path / "mapping.yaml").write_text(yaml.safe_dump(mapping))
    spec = {
        "name": "warmth",
        "data": {"source": str(tmp_path / "survey.csv"), "mapping": str(tmp_path / "mapping.yaml")},
        "simulators": [
            {"name": "llm", "backend": "mock", "answer": "generate"},
            {"name": "train_mean"},
        ],
    }
    run = bl.run(spec, out=tmp_path / "runs", progress=False)
    everything = run.to_pandas()
    assert everything["error"].isna().all() and len(everything) == people
    # train_mean answers every test person with the training people's mean
    table = pd.read_csv(tmp_path / "survey.csv", dtype={"pid": str}).set_index("pid")["temp"]
    base = everything.loc[everything["simulator"] == "train_mean"]
    train = table.drop(base["person_id"].tolist())
    assert base["answer"].astype(float).to_numpy() == pytest.approx(train.mean())
    frame = everything.loc[everything["simulator"] != "train_mean"]
    h, s = frame["human_answer"].astype(float), frame["answer"].astype(float)
    report = gap(frame, n_resamples=100)
    assert report.rows[0].estimates["accuracy"] is not None
    assert report.rows[0].estimates["accuracy"].value == pytest.approx(1 - (h - s).abs().mean())
    out = numeric_outcomes(everything, n_resamples=100)
    llm_label = str(frame["simulator"].iloc[0])
    assert out.value("mae", llm_label) == pytest.approx((h - s).abs().mean())
    # the training people's mean baseline is train_mean's answer, beside the llm's trials
    llm = out.table.loc[out.table["simulator"] == llm_label].set_index("metric")
    assert llm.loc["mae"].to_dict()["people_mean"] == pytest.approx((h - train.mean()).abs().mean())
    console = Console(width=200, record=True)
    console.print(render_numeric(out))
    text = console.export_text()
    assert "uniform over the range" in text and "training people's mean" in text
    assert "correlation" in text
    files = write_report(run, n_resamples=100)
    html = Path(files.html).read_text(encoding="utf-8")
    assert "<h3>Numeric outcomes</h3>" in html and "uniform over the range" in html
