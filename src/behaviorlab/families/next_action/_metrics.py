"""Next-action (OPeRA) metrics, each with an interval clustered by person.

Every metric here applies only to rows of the ``next_action`` task (``tasks``), so the gap
tables of other tasks do not show them. Per trial they read the ``scores`` the task stored
(``action_type_correct``, ``click_type_correct``, ``target_correct``, ``reachable``), the
compact ``answer`` / ``human_answer`` (``click:<id>``, ``input:<id>=<text>``, ``terminate``),
the structured ``answer_json`` and ``meta``. Mean metrics get the CR2 t interval below 100
people and the percentile bootstrap above, like ``accuracy`` (exact match).

The person's click type is not part of ``human_answer``; it is read from a
``human_click_type`` column (:func:`with_human_actions` adds it from the dataset) or from
``meta["human_click_type"]``. Without it the click-type F1 and the purchase metric do not
apply (``click_type_accuracy`` does: the task scored it).

Session level (one score per session, put on the session's last scored step so that the
usual mean machinery and paired comparisons apply; steps are ordered by ``step_index``):

* ``session_purchase_accuracy``: whether the model's session ends in a purchase as the
  person's does. The person purchased when one of their clicks in the session has click type
  ``purchase``; the model "purchases" when it predicts a click of type ``purchase`` at any
  step of the session. The model is asked at every step given the real history (teacher
  forcing), so this asks: would it have bought somewhere along the person's path?
* ``termination_step_accuracy`` / ``termination_step_error``: the person's end is the
  position (0-based, among the session's scored steps) of their terminate, or the number of
  steps when the session has none; the model's end is the first position where it predicts
  ``terminate``, or the number of steps when it never does. Accuracy: the two are equal;
  error: their absolute difference in steps.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from behaviorlab.analysis._bootstrap import ClusterStats
from behaviorlab.analysis._frame import require, valid_rows
from behaviorlab.analysis._metrics import MacroF1, MeanMetric, metric
from behaviorlab.families.next_action._task import NEXT_ACTION

PURCHASE = "purchase"
NEXT_ACTION_METRICS = (
    "accuracy",
    "accuracy_reachable",
    "reachable",
    "action_type_accuracy",
    "action_type_f1",
    "click_type_accuracy",
    "click_type_f1",
    "target_accuracy",
    "session_purchase_accuracy",
    "termination_step_accuracy",
    "termination_step_error",
    "rationale_rouge_l",
    "rationale_token_f1",
)
"""The next-action metrics in display order (``accuracy`` is exact match)."""


def is_next_action(frame: pd.DataFrame) -> bool:
    """Whether ``frame`` has rows and all of them are next-action trials."""
    return (
        "task" in frame.columns
        and len(frame) > 0
        and bool((frame["task"].astype(str) == NEXT_ACTION).all())
    )


def as_dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def score_column(frame: pd.DataFrame, key: str) -> pd.Series:
    """``scores[key]`` per row (NaN where the key is absent)."""
    cells = frame["scores"].tolist() if "scores" in frame.columns else [None] * len(frame)
    values = [as_dict(c).get(key) for c in cells]
    numbers = pd.to_numeric(pd.Series(values, dtype=object), errors="coerce")
    return pd.Series(numbers.to_numpy(dtype=float), index=frame.index)


def _kind(compact: Any) -> str | None:
    if not isinstance(compact, str) or not compact:
        return None
    return "terminate" if compact == "terminate" else compact.partition(":")[0]


def human_action_types(frame: pd.DataFrame) -> pd.Series:
    """The person's action type per row, from ``human_answer`` (None when missing)."""
    return pd.Series([_kind(h) for h in frame["human_answer"]], index=frame.index, dtype=object)


def predicted_action_types(frame: pd.DataFrame) -> pd.Series:
    """The model's action type per row: ``answer_json["action_type"]``, else from ``answer``."""
    jsons = frame["answer_json"] if "answer_json" in frame.columns else [None] * len(frame)
    out = []
    for js, ans in zip(jsons, frame["answer"], strict=True):
        kind = as_dict(js).get("action_type")
        out.append(str(kind) if kind else _kind(ans))
    return pd.Series(out, index=frame.index, dtype=object)


def has_click_types(frame: pd.DataFrame) -> bool:
    """Whether ``frame`` says what the person's click types are (a ``human_click_type``
    column, or ``meta["human_click_type"]`` on some row)."""
    if "human_click_type" in frame.columns:
        return True
    metas = frame["meta"].tolist() if "meta" in frame.columns else []
    return any("human_click_type" in as_dict(m) for m in metas)


def human_click_types(frame: pd.DataFrame) -> pd.Series:
    """The person's click type on their clicks (None elsewhere or when unknown): the
    ``human_click_type`` column, else ``meta["human_click_type"]``."""
    kinds = human_action_types(frame)
    if "human_click_type" in frame.columns:
        raw = frame["human_click_type"].tolist()
    else:
        metas = frame["meta"] if "meta" in frame.columns else [None] * len(frame)
        raw = [as_dict(m).get("human_click_type") for m in metas]
    out = [
        str(c) if k == "click" and isinstance(c, str) and c else None
        for k, c in zip(kinds, raw, strict=True)
    ]
    return pd.Series(out, index=frame.index, dtype=object)


def predicted_click_types(frame: pd.DataFrame) -> pd.Series:
    """The model's click type when it predicted a click (None otherwise)."""
    kinds = predicted_action_types(frame)
    jsons = frame["answer_json"] if "answer_json" in frame.columns else [None] * len(frame)
    out = []
    for k, js in zip(kinds, jsons, strict=True):
        c = as_dict(js).get("click_type")
        out.append(str(c) if k == "click" and c else None)
    return pd.Series(out, index=frame.index, dtype=object)


def with_human_actions(frame: pd.DataFrame, dataset: Any) -> pd.DataFrame:
    """``frame`` with a ``human_click_type`` column from ``dataset`` (a
    :class:`~behaviorlab.data.Dataset`): the recorded click type of the step each next-action
    row predicts (matched on episode id and step id = ``item_id``). A new frame."""
    types: dict[tuple[str, str], str] = {}
    for ep in dataset.episodes:
        for step in ep.steps:
            kind = step.action.attributes.get("click_type")
            if step.action.action_type == "click" and kind:
                types[(ep.episode_id, step.step_id)] = str(kind)
    keys = zip(frame["episode_id"].astype(str), frame["item_id"].astype(str), strict=True)
    column = pd.Series([types.get(k) for k in keys], index=frame.index, dtype=object)
    return frame.assign(human_click_type=column)


# -- per-trial metrics ---------------------------------------------------------------------


class NextActionMean(MeanMetric):
    """A mean over next-action trials only (survey rows get no score)."""

    tasks: tuple[str, ...] = (NEXT_ACTION,)
    bounds: tuple[float, float] | None = (0.0, 1.0)

    def applicable(self, frame: pd.DataFrame) -> bool:
        return is_next_action(frame) and super().applicable(frame)

    def score(self, frame: pd.DataFrame) -> pd.Series:
        if not is_next_action(frame):
            return pd.Series(np.full(len(frame), math.nan), index=frame.index)
        return self.next_action_score(frame)

    def next_action_score(self, frame: pd.DataFrame) -> pd.Series:
        raise NotImplementedError


class _ScoreKey(NextActionMean):
    key = ""

    def next_action_score(self, frame: pd.DataFrame) -> pd.Series:
        return score_column(frame, self.key)


@metric("action_type_accuracy")
class ActionTypeAccuracy(_ScoreKey):
    """Share of steps where the predicted action type (click / input / terminate) is the
    person's."""

    key = "action_type_correct"
    requires = "next-action trials"
    headline = True  # paired persona effects and the LLM-vs-baseline comparison use it


@metric("click_type_accuracy")
class ClickTypeAccuracy(_ScoreKey):
    """On the person's clicks: share where the model clicked with the same click type."""

    key = "click_type_correct"
    requires = "next-action trials with a click"


@metric("target_accuracy")
class TargetAccuracy(_ScoreKey):
    """On the person's clicks and inputs: share where the model named the same element."""

    key = "target_correct"
    requires = "next-action trials with a target"


@metric("reachable")
class Reachable(_ScoreKey):
    """The exact-match ceiling: share of steps whose target survived the page cut (every
    terminate counts). The same for every simulator of a run."""

    key = "reachable"
    requires = "next-action trials"


@metric("accuracy_reachable")
class AccuracyReachable(NextActionMean):
    """Exact match on the steps whose target survived the cut: exact match as a share of the
    ceiling (``correct / reachable`` summed, since only a reachable step can be correct)."""

    requires = "next-action trials"

    def next_action_score(self, frame: pd.DataFrame) -> pd.Series:
        correct = pd.to_numeric(frame["correct"], errors="coerce").astype(float)
        return correct.where(score_column(frame, "reachable") == 1.0)


# -- macro-F1 over action types and click types ----------------------------------------------


class _LabelF1(MacroF1):
    """Macro-F1 over labels of each step: per label, F1 = 2TP / (2TP + FP + FN), averaged
    over labels that occur in truth or prediction (per-person confusion margins, as
    ``macro_f1``). A step whose truth or prediction has no label (None) adds only the label
    it has: a missed label is a false negative, a spurious one a false positive."""

    tasks: tuple[str, ...] = (NEXT_ACTION,)
    requires = "next-action trials"

    def labels(self, frame: pd.DataFrame) -> tuple[pd.Series, pd.Series, pd.Series]:
        """(truth, prediction, keep) per row."""
        raise NotImplementedError

    def applicable(self, frame: pd.DataFrame) -> bool:
        if not is_next_action(frame):
            return False
        truth, pred, keep = self.labels(valid_rows(frame))
        return bool((keep & (truth.notna() | pred.notna())).any())

    def stats(self, frame: pd.DataFrame) -> ClusterStats:
        valid = valid_rows(frame)
        require(valid, "person_id")
        truth, pred, keep = self.labels(valid)
        t_list, p_list = truth[keep].tolist(), pred[keep].tolist()
        people = valid.loc[keep, "person_id"].to_numpy()
        codes = {c: i for i, c in enumerate(sorted({c for c in t_list + p_list if c}))}
        clusters, index, weights = [], [], []
        for person, t, p in zip(people, t_list, p_list, strict=True):
            if t is not None:
                clusters += [person, person]
                index += [codes[t] * 3, codes[t] * 3 + 1]
                weights += [float(t == p), 1.0]
            if p is not None:
                clusters.append(person)
                index.append(codes[p] * 3 + 2)
                weights.append(1.0)
        return ClusterStats.from_entries(
            np.asarray(clusters, dtype=object),
            np.asarray(index, dtype=np.int64),
            np.asarray(weights, dtype=float),
            (len(codes), 3),
            n=len(t_list),
        )


@metric("action_type_f1")
class ActionTypeF1(_LabelF1):
    """Macro-F1 over action types (click, input, terminate)."""

    def labels(self, frame: pd.DataFrame) -> tuple[pd.Series, pd.Series, pd.Series]:
        truth, pred = human_action_types(frame), predicted_action_types(frame)
        return truth, pred, truth.notna()


@metric("click_type_f1")
class ClickTypeF1(_LabelF1):
    """Macro-F1 over click types, over every step: the truth is the person's click type
    when they clicked, the prediction the model's when it clicked. Steps where the person
    clicked but their click type is unknown are left out."""

    requires = "the person's click types (human_click_type; see with_human_actions)"

    def labels(self, frame: pd.DataFrame) -> tuple[pd.Series, pd.Series, pd.Series]:
        truth, pred = human_click_types(frame), predicted_click_types(frame)
        kinds = human_action_types(frame)
        keep = kinds.notna() & ((kinds != "click") | truth.notna())
        return truth, pred, keep & has_click_types(frame)


# -- session level -------------------------------------------------------------------------


def session_outcomes(frame: pd.DataFrame) -> pd.DataFrame:
    """One row per (task, simulator, condition, seed, person, session) of the valid
    next-action trials: ``n_steps``, ``human_purchase`` / ``model_purchase`` (NaN when a
    click type of the person's is unknown), ``human_end`` / ``model_end`` (see the module
    docstring), ``end_error`` and ``last_index`` (the frame index of the last step)."""
    valid = valid_rows(frame)
    cols = ["task", "simulator", "condition", "seed", "person_id", "episode_id", "n_steps"]
    cols += ["human_purchase", "model_purchase", "human_end", "model_end", "end_error"]
    if valid.empty or not is_next_action(valid):
        return pd.DataFrame({c: pd.Series(dtype=object) for c in [*cols, "last_index"]})
    work = pd.DataFrame(
        {
            "h_kind": human_action_types(valid),
            "p_kind": predicted_action_types(valid),
            "h_click": human_click_types(valid),
            "p_click": predicted_click_types(valid),
        },
        index=valid.index,
    )
    informed = has_click_types(valid)
    keys = ["task", "simulator", "condition", "seed", "person_id", "episode_id"]
    present = [k for k in keys if k in valid.columns]
    ordered = valid.sort_values([*present, "step_index"], kind="stable")
    records = []
    for key, g in ordered.groupby(present, sort=False, dropna=False):
        w = work.loc[g.index]
        n = len(g)
        h_clicks = w["h_kind"] == "click"
        known = informed and bool(w.loc[h_clicks, "h_click"].notna().all())
        human_buy = float((w["h_click"] == PURCHASE).any()) if known else math.nan
        model_buy = float((w["p_click"] == PURCHASE).any())
        h_end = _first(w["h_kind"].tolist(), n)
        m_end = _first(w["p_kind"].tolist(), n)
        rec = dict(zip(present, key if isinstance(key, tuple) else (key,), strict=True))
        rec |= {
            "n_steps": n,
            "human_purchase": human_buy,
            "model_purchase": model_buy if known else math.nan,
            "human_end": h_end,
            "model_end": m_end,
            "end_error": abs(h_end - m_end),
            "last_index": g.index[-1],
        }
        records.append(rec)
    return pd.DataFrame.from_records(records)


def _first(kinds: Sequence[Any], n: int) -> int:
    return next((i for i, k in enumerate(kinds) if k == "terminate"), n)


class _SessionMetric(NextActionMean):
    """A per-session score placed on the session's last scored step (NaN elsewhere)."""

    def session_score(self, sessions: pd.DataFrame) -> pd.Series:
        raise NotImplementedError

    def next_action_score(self, frame: pd.DataFrame) -> pd.Series:
        out = pd.Series(np.full(len(frame), math.nan), index=frame.index)
        sessions = session_outcomes(frame)
        if sessions.empty:
            return out
        values = self.session_score(sessions).to_numpy(dtype=float)
        out.loc[sessions["last_index"].to_numpy()] = values
        return out


@metric("session_purchase_accuracy")
class SessionPurchaseAccuracy(_SessionMetric):
    """Share of sessions where the model purchases (a predicted ``purchase`` click at any
    step) exactly when the person did."""

    requires = "the person's click types (human_click_type; see with_human_actions)"

    def session_score(self, sessions: pd.DataFrame) -> pd.Series:
        h, m = sessions["human_purchase"].astype(float), sessions["model_purchase"].astype(float)
        return (h == m).astype(float).where(h.notna())


@metric("termination_step_accuracy")
class TerminationStepAccuracy(_SessionMetric):
    """Share of sessions where the model's first predicted terminate is at the person's
    terminate (or both never terminate)."""

    requires = "next-action trials"

    def session_score(self, sessions: pd.DataFrame) -> pd.Series:
        return (sessions["end_error"].astype(float) == 0).astype(float)


@metric("termination_step_error")
class TerminationStepError(_SessionMetric):
    """Mean absolute difference, in steps, between the model's first predicted terminate and
    the person's."""

    higher_is_better = False
    bounds = (0.0, math.inf)
    requires = "next-action trials"

    def session_score(self, sessions: pd.DataFrame) -> pd.Series:
        return sessions["end_error"].astype(float)
