"""Accuracy by persona group and the disparity between groups."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from behaviorlab.analysis import estimate, subgroup_gaps
from behaviorlab.analysis._subgroups import attribute_groups, disparity_interval

GROUP_COLUMNS = [
    "task",
    "simulator",
    "condition",
    "attribute",
    "group",
    "n_people",
    "n",
    "accuracy",
    "low",
    "high",
]
DISPARITY_COLUMNS = [
    "task",
    "simulator",
    "condition",
    "attribute",
    "largest_group",
    "smallest_group",
    "disparity",
    "low",
    "high",
]


def _persons(results: pd.DataFrame) -> pd.DataFrame:
    ids = sorted(results["person_id"].unique())
    rng = np.random.default_rng(3)
    return pd.DataFrame(
        {
            "person_id": ids,
            "age": rng.integers(18, 90, len(ids)),
            "party": rng.choice(["left", "right", None], len(ids), p=[0.45, 0.45, 0.1]),
            "children": rng.integers(0, 3, len(ids)),
            "income": rng.normal(50.5, 20.0, len(ids)),
            "single": rng.choice([True, False], len(ids)),
        }
    )


def test_binning_and_labels() -> None:
    people = pd.DataFrame(
        {
            "person_id": [f"p{i}" for i in range(9)],
            "age": [18, 22, 30, 35, 41, 50, 60, 70, 90],
            "score": [0.5, 1.5, 2.5, 3.5, 4.5, 5.5, 6.5, 7.5, 8.5],
            "kids": [0, 1, 2, 0, 1, 2, 0, 1, None],
            "party": ["l", "r", "l", None, "r", "l", "r", "l", "r"],
        }
    )
    groups, labels = attribute_groups(people, "age")
    # tercile edges 33.3 and 53.3: bins (lo, hi] shown as the integers they hold
    assert labels == ["18–33", "34–53", "54–90"]
    assert list(groups) == ["18–33"] * 3 + ["34–53"] * 3 + ["54–90"] * 3
    groups, labels = attribute_groups(people, "score", bins=[0, 4, 9])
    assert labels == ["[0, 4]", "(4, 9]"] and list(groups[:5]) == ["[0, 4]"] * 4 + ["(4, 9]"]
    groups, labels = attribute_groups(people, "kids")  # few values: used as they are
    assert labels == ["0", "1", "2"] and groups.iloc[-1] is None
    groups, labels = attribute_groups(people, "party")
    assert labels == ["l", "r"] and groups.iloc[3] is None
    _, labels = attribute_groups(people, "age", bins=2)
    assert labels == ["18–41", "42–90"]


def test_groups_match_estimate_on_the_groups_trials(results: pd.DataFrame) -> None:
    persons = _persons(results)
    groups, disparities = subgroup_gaps(results, persons, ["party", "age"], n_resamples=300)
    assert list(groups.columns) == GROUP_COLUMNS
    assert list(disparities.columns) == DISPARITY_COLUMNS
    row = groups[
        (groups["simulator"] == "majority")
        & (groups["attribute"] == "party")
        & (groups["group"] == "left")
    ].iloc[0]
    left = set(persons.loc[persons["party"] == "left", "person_id"])
    arm = results[(results["simulator"] == "majority") & results["person_id"].isin(left)]
    est = estimate(arm, "accuracy")
    assert est is not None and est.method == "cluster-t-cr2"
    assert (row["accuracy"], row["low"], row["high"]) == (est.value, est.low, est.high)
    assert row["n_people"] == len(left) and row["n"] == est.n


def test_disparity_is_largest_minus_smallest(results: pd.DataFrame) -> None:
    persons = _persons(results)
    groups, disparities = subgroup_gaps(results, persons, ["age"], n_resamples=300)
    for _, d in disparities.iterrows():
        arm = groups[
            (groups["simulator"] == d["simulator"]) & (groups["condition"] == d["condition"])
        ]
        by_group = dict(zip(arm["group"], arm["accuracy"], strict=True))
        assert d["disparity"] == pytest.approx(max(by_group.values()) - min(by_group.values()))
        assert by_group[d["largest_group"]] == max(by_group.values())
        assert by_group[d["smallest_group"]] == min(by_group.values())
        assert 0.0 <= d["low"] <= d["disparity"] <= d["high"] <= 1.0


def test_small_groups_are_left_out(results: pd.DataFrame) -> None:
    persons = _persons(results)
    groups, _ = subgroup_gaps(results, persons, ["party"], min_people=14)
    assert (groups["n_people"] >= 14).all()
    few, none = subgroup_gaps(results, persons, ["party"], min_people=100)
    assert few.empty and none.empty and list(none.columns) == DISPARITY_COLUMNS


def test_default_attributes_and_errors(results: pd.DataFrame) -> None:
    persons = _persons(results)
    groups, _ = subgroup_gaps(results, persons, min_people=1, n_resamples=50)
    assert set(groups["attribute"]) == {"age", "party", "children", "income", "single"}
    assert set(groups.loc[groups["attribute"] == "single", "group"]) == {"True", "False"}
    with pytest.raises(ValueError, match="no attribute"):
        subgroup_gaps(results, persons, ["height"])


def test_disparity_interval_reaches_zero_for_equal_groups() -> None:
    rng = np.random.default_rng(0)
    replicates = 0.6 + rng.normal(0.0, 0.05, (2000, 3))
    low, high = disparity_interval(np.array([0.61, 0.6, 0.59]), replicates, 0.95)
    assert low == 0.0 and 0.15 < high < 0.3
    clear = np.array([0.2, 0.9])
    low, high = disparity_interval(clear, clear + rng.normal(0.0, 0.02, (2000, 2)), 0.95)
    assert 0.6 < low < 0.7 < high < 0.8
    assert all(math.isnan(x) for x in disparity_interval(clear, np.full((5, 2), np.nan), 0.95))
