"""Transcript metrics: per-choice NLL, accuracy of the most likely option, the chance line.

Each metric is a ratio of sums over participants (the task stores the sums per participant in
``scores``): choices are pooled, so a participant with more choices weighs more, and the
interval resamples participants (``person_id``), the clusters. They apply only to rows of the
``transcript`` task.

* ``choice_nll``: mean negative log-likelihood per choice of the participant's response over
  the stated options (nats; lower is better);
* ``chance_nll``: the same for the uniform distribution over each choice's options (the
  chance line: ``log 2`` for two options);
* ``choice_accuracy``: share of choices whose most likely option was the response;
* ``free_text_nll``: NLL per token of the free-text responses (LLM scoring only), kept apart
  from the option NLL.

:func:`transcript_table` gives the same per experiment and pooled, with intervals.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from behaviorlab.analysis._bootstrap import ClusterStats
from behaviorlab.analysis._frame import require, valid_rows
from behaviorlab.analysis._metrics import metric, ratio
from behaviorlab.analysis._small_sample import mean_estimate
from behaviorlab.families.transcript._task import TRANSCRIPT

TRANSCRIPT_METRICS = ("choice_nll", "chance_nll", "choice_accuracy", "free_text_nll")
"""The transcript metrics in display order."""


def is_transcript(frame: pd.DataFrame) -> bool:
    return (
        "task" in frame.columns
        and len(frame) > 0
        and bool((frame["task"].astype(str) == TRANSCRIPT).all())
    )


def _as_dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _sums(frame: pd.DataFrame, num: str, den: str) -> tuple[np.ndarray, np.ndarray, pd.Index]:
    cells = frame["scores"].tolist() if "scores" in frame.columns else [None] * len(frame)
    a = np.array([float(_as_dict(c).get(num, np.nan)) for c in cells], dtype=float)
    b = np.array([float(_as_dict(c).get(den, np.nan)) for c in cells], dtype=float)
    keep = np.isfinite(a) & np.isfinite(b) & (b > 0)
    return a[keep], b[keep], frame.index[keep]


class PooledRatio:
    """``sum(scores[num]) / sum(scores[den])`` over participants."""

    tasks: tuple[str, ...] = (TRANSCRIPT,)
    num = ""
    den = ""
    higher_is_better = False
    requires = "transcript trials"
    bounds: tuple[float, float] | None = None

    def applicable(self, frame: pd.DataFrame) -> bool:
        if not is_transcript(frame):
            return False
        a, _, _ = _sums(valid_rows(frame), self.num, self.den)
        return len(a) > 0

    def stats(self, frame: pd.DataFrame) -> ClusterStats:
        require(frame, "person_id")
        a, b, index = _sums(frame, self.num, self.den)
        people = frame.loc[index, "person_id"].to_numpy()
        return ClusterStats.from_rows(people, np.column_stack([a, b]))

    def value(self, agg: np.ndarray) -> np.ndarray:
        return ratio(agg[..., 0], agg[..., 1])


@metric("choice_nll")
class ChoiceNLL(PooledRatio):
    """Mean NLL per choice of the participant's response over the stated options (nats)."""

    num, den = "nll_sum", "n_choices"
    requires = "transcript trials scored with probabilities (option scoring or a baseline)"


@metric("chance_nll")
class ChanceNLL(PooledRatio):
    """The uniform distribution's NLL per choice over the same choices (the chance line)."""

    num, den = "chance_nll_sum", "n_choices"


@metric("choice_accuracy")
class ChoiceAccuracy(PooledRatio):
    """Share of choices whose most likely option was the participant's response."""

    num, den = "hits", "n_predicted"
    higher_is_better = True
    bounds = (0.0, 1.0)


@metric("free_text_nll")
class FreeTextNLL(PooledRatio):
    """NLL per token of the free-text responses (those without stated options)."""

    num, den = "free_text_nll_sum", "free_text_tokens"
    requires = "transcript trials with free-text responses scored by an LLM"


TABLE_COLUMNS = [
    "simulator",
    "condition",
    "experiment",
    "metric",
    "value",
    "low",
    "high",
    "participants",
    "choices",
]


def transcript_table(
    frame: pd.DataFrame, *, level: float = 0.95, n_resamples: int = 2000, seed: int = 0
) -> pd.DataFrame:
    """Per (simulator, condition) and experiment (``(pooled)`` for all of them): each metric of
    :data:`TRANSCRIPT_METRICS` with its participant-clustered interval."""
    require(frame, "task", "simulator", "condition", "person_id", "item_id")
    rows = frame.loc[frame["task"].astype(str) == TRANSCRIPT]
    rows = valid_rows(rows) if len(rows) else rows
    found: dict[str, PooledRatio] = {
        "choice_nll": ChoiceNLL(),
        "chance_nll": ChanceNLL(),
        "choice_accuracy": ChoiceAccuracy(),
        "free_text_nll": FreeTextNLL(),
    }
    out: list[dict[str, Any]] = []
    for (sim, cond), g in rows.groupby(["simulator", "condition"], sort=True):
        parts = [("(pooled)", g)] if g["item_id"].nunique() > 1 else []
        parts += [(str(e), ge) for e, ge in g.groupby("item_id", sort=True)]
        for experiment, ge in parts:
            for name, m in found.items():
                stats = m.stats(ge)
                if stats.n_clusters == 0:
                    continue
                est = mean_estimate(
                    stats,
                    m.value,
                    stats.values[:, 0],
                    stats.values[:, 1],
                    n_resamples=n_resamples,
                    seed=seed,
                    level=level,
                    bounds=m.bounds,
                )
                out.append(
                    {
                        "simulator": str(sim),
                        "condition": str(cond),
                        "experiment": experiment,
                        "metric": name,
                        "value": est.value,
                        "low": est.low,
                        "high": est.high,
                        "participants": stats.n_clusters,
                        "choices": int(stats.values[:, 1].sum()),
                    }
                )
    return pd.DataFrame(out, columns=TABLE_COLUMNS)
