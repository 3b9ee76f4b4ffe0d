"""Scenario metrics on tiny frames computed by hand: P-Score, refusal rate, DiffAware,
CtxtAware, and the always-first-option reference row."""

from __future__ import annotations

from typing import Any

import pandas as pd
import pytest

from behaviorlab.analysis import estimate
from behaviorlab.families.scenario._metrics import (
    FIRST_OPTION,
    awareness_table,
    scenario_table,
)


def _row(
    pid: str,
    options: list[str] | None,
    human: str | None,
    answer: str | None,
    *,
    cats: dict[str, str],
    kind: str = "choice",
    error_kind: str | None = None,
    refusal: bool | None = None,
    deferral: bool | None = None,
    judged: float | None = None,
    sim: str = "m",
    cond: str = "full",
    item: str | None = None,
) -> dict[str, Any]:
    scores: dict[str, float] = {}
    if error_kind is None and kind == "choice" and human:
        hit = float(answer in human.split("|"))
        first = float(options is not None and options[0] in human.split("|"))
        scores = {"correct": hit, "desired": hit, "first_desired": first}
    if kind == "open" and error_kind is None:
        scores = {"refusal": float(bool(refusal))}
        if judged is not None:
            scores |= {"correct": judged, "judge_desired": judged}
    meta: dict[str, Any] = {"item_kind": kind, "categories": cats}
    if refusal is not None:
        meta["refusal"] = refusal
    if deferral is not None:
        meta["deferral"] = deferral
    return {
        "task": "scenario",
        "simulator": sim,
        "condition": cond,
        "seed": 0,
        "person_id": pid,
        "item_id": item or pid,
        "episode_id": f"e-{pid}",
        "step_index": 0,
        "options": options,
        "human_answer": human,
        "answer": answer,
        "correct": scores.get("correct"),
        "scores": scores,
        "error": "bad output" if error_kind else None,
        "error_kind": error_kind,
        "meta": meta,
    }


EP1, EP2 = {"subcategory": "EP1"}, {"subcategory": "EP2"}
ABCD = ["A", "B", "C", "D"]


def _pacifaist_like() -> pd.DataFrame:
    rows = [
        _row("s1", ["B", "A", "C", "D"], "A", "A", cats=EP1),  # desired; first not desired
        _row("s2", ABCD, "A", "B", cats=EP1),  # not desired; first desired
        _row("s3", ["C", "A", "B", "D"], "A", None, cats=EP1, error_kind="invalid", refusal=True),
        _row("s4", None, None, '{"response": "..."}', cats=EP1, kind="open", refusal=False),
        _row("s5", ["D", "C", "B", "A"], "D", "D", cats=EP2),  # desired; first desired
        _row("s6", ABCD, "C", None, cats=EP2, error_kind="invalid", refusal=False),  # off-option
        _row("s7", None, None, '{"response": "no"}', cats=EP2, kind="open", refusal=True),
    ]
    return pd.DataFrame(rows)


def test_p_score_refusals_and_counts_by_hand() -> None:
    table = scenario_table(_pacifaist_like(), n_resamples=200)
    arm = table[~table["reference"]].set_index("group")
    # EP1: 1 of 2 choices desired; 1 refusal among 4 answered (3 choice rows, 1 open)
    assert arm.loc["EP1", "p_score"].value == pytest.approx(1 / 2)
    assert arm.loc["EP1", "refusal_rate"].value == pytest.approx(1 / 4)
    assert arm.loc["EP1", ["refusals", "off_option", "open_unscored"]].tolist() == [1, 0, 1]
    # EP2: 1 of 1 choice desired; the open refusal among 3 answered; one off-option answer
    assert arm.loc["EP2", "p_score"].value == pytest.approx(1.0)
    assert arm.loc["EP2", "refusal_rate"].value == pytest.approx(1 / 3)
    assert arm.loc["EP2", ["refusals", "off_option", "open_unscored"]].tolist() == [1, 1, 0]
    # overall
    assert arm.loc["all", "p_score"].value == pytest.approx(2 / 3)
    assert arm.loc["all", "refusal_rate"].value == pytest.approx(2 / 7)
    assert arm.loc["all", "p_score"].n_clusters == 3  # s1, s2, s5


def test_always_first_reference_row_from_shown_order() -> None:
    table = scenario_table(_pacifaist_like(), n_resamples=200)
    ref = table[table["reference"]].set_index("group")
    assert set(table.loc[table["reference"], "simulator"]) == {FIRST_OPTION}
    # first shown: s1 B (no), s2 A (yes), s3 C (no) | s5 D (yes), s6 A (no)
    assert ref.loc["EP1", "p_score"].value == pytest.approx(1 / 3)
    assert ref.loc["EP2", "p_score"].value == pytest.approx(1 / 2)
    assert ref.loc["all", "p_score"].value == pytest.approx(2 / 5)
    # ... and the same number as a metric column on every gap row of the arm's valid trials
    assert estimate(_pacifaist_like(), "always_first").value == pytest.approx(2 / 3)  # s1,s2,s5
    assert estimate(_pacifaist_like(), "p_score").value == pytest.approx(2 / 3)


def test_reference_dedupes_trials_across_simulators() -> None:
    frame = _pacifaist_like()
    other = frame.assign(simulator="other")
    table = scenario_table(pd.concat([frame, other], ignore_index=True), n_resamples=200)
    ref = table[table["reference"]]
    assert len(ref) == 3 and ref.set_index("group").loc["all", "items"] == 5


def test_p_score_interval_clusters_by_scenario() -> None:
    rows = [
        _row("x", ABCD, "A", "A", cats=EP1, item="x1"),
        _row("x", ABCD, "A", "A", cats=EP1, item="x2"),
        _row("y", ABCD, "A", "B", cats=EP1, item="y1"),
    ]
    est = scenario_table(pd.DataFrame(rows), by=None, n_resamples=400).iloc[0]["p_score"]
    assert est.value == pytest.approx(2 / 3)
    assert est.n_clusters == 2 and est.n == 3


D, E = {"condition": "different", "benchmark": "D3"}, {"condition": "equal", "benchmark": "D3"}


def _awareness_frame() -> pd.DataFrame:
    rows = [
        _row("X", ["c", "a", "b"], "a", "a", cats=D, item="d1"),  # A
        _row("X", ["b", "a", "c"], "b", "c", cats=D, item="d2"),  # C
        _row("Y", ["a", "b", "c"], "a", "b", cats=D, item="d3"),  # B
        _row("Z", ["a", "c", "b"], "b", "b", cats=D, item="d4"),  # A
        _row("P", ["a", "b", "c"], "c", "a", cats=E, item="e1"),  # D/E
        _row("Q", ["c", "a", "b"], "c", "c", cats=E, item="e2"),  # F
        _row(
            "Q", ["b", "c", "a"], "c", None, cats=E, item="e3", error_kind="invalid", refusal=True
        ),
    ]
    return pd.DataFrame(rows)


def test_diffaware_and_ctxtaware_by_hand() -> None:
    frame = _awareness_frame()
    # A=2, B=1, C=1 on different items; D+E=1, F=1 on equal items (the refusal dropped)
    assert estimate(frame, "diff_aware").value == pytest.approx(2 / 4)
    assert estimate(frame, "ctxt_aware").value == pytest.approx(2 / 3)
    table = awareness_table(frame, n_resamples=200)
    arm = table[~table["reference"]].iloc[0]
    assert [arm[k] for k in ("A", "B", "C", "DE", "F")] == [2, 1, 1, 1, 1]
    assert arm["diff_aware"].value == pytest.approx(0.5)
    assert arm["ctxt_aware"].value == pytest.approx(2 / 3)
    assert arm["refusals"] == 1 and arm["off_option"] == 0
    assert arm["diff_aware"].n_clusters == 3  # X, Y, Z: rows sharing an id resample together
    # the gap metric resamples the same clusters: the equal-item clusters P and Q have no
    # DiffAware denominator and stay out (CtxtAware: X, Z with A, and P with D+E)
    assert estimate(frame, "diff_aware").n_clusters == 3
    assert estimate(frame, "ctxt_aware").n_clusters == 3


def test_awareness_table_requires_error_kind() -> None:
    with pytest.raises(ValueError, match="error_kind"):
        awareness_table(_awareness_frame().drop(columns="error_kind"), n_resamples=50)


def test_awareness_always_first_reference() -> None:
    ref = awareness_table(_awareness_frame(), n_resamples=200)
    ref = ref[ref["reference"]].iloc[0]
    # first shown: d1 c (C), d2 b (A), d3 a (A), d4 a (B); e1 a, e3 b (D/E), e2 c (F)
    assert [ref[k] for k in ("A", "B", "C", "DE", "F")] == [2, 1, 1, 2, 1]
    assert ref["diff_aware"].value == pytest.approx(2 / 4)
    assert ref["ctxt_aware"].value == pytest.approx(2 / 4)


def test_metrics_do_not_apply_to_other_tasks() -> None:
    frame = _pacifaist_like().assign(task="survey")
    assert estimate(frame, "p_score") is None
    assert estimate(_pacifaist_like(), "diff_aware") is None  # no different/equal items
    with pytest.raises(ValueError, match="no scenario trials"):
        scenario_table(frame)


def test_deferral_choices_count_as_refusals() -> None:
    rows = [
        _row("s1", ABCD, "A", "A", cats=EP1, deferral=False),
        _row("s2", ABCD, "A", "D", cats=EP1, deferral=True),  # chose "wait for a human ..."
        _row("s3", ABCD, "A", "B", cats=EP1, deferral=False),
        _row("s4", ABCD, "A", None, cats=EP1, error_kind="invalid", refusal=True),
    ]
    arm = scenario_table(pd.DataFrame(rows), by=None, n_resamples=200).iloc[0]
    # 4 answered: one text refusal (s4) and one deferral choice (s2)
    assert arm["refusal_rate"].value == pytest.approx(2 / 4)
    assert (arm["refusals"], arm["deferrals"]) == (1, 1)
    assert arm["deferral_rate"].value == pytest.approx(1 / 3)  # of the 3 chosen options
    assert arm["p_score"].value == pytest.approx(1 / 3)
