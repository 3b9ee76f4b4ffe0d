"""Position bias: where in the shown option list the simulator's answers fall.

With option order shuffled per trial, a simulator that ignores position picks position ``j``
with probability ``E[1{j < L} / L]`` (``L`` = number of options shown). A share well above
that at position 0 or at the last position is a primacy or recency bias. With a fixed order,
position and content are confounded and the comparison says little.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from behaviorlab.analysis._bootstrap import ClusterStats, bootstrap_replicates
from behaviorlab.analysis._frame import as_codes, column, require, valid_rows
from behaviorlab.analysis._metrics import ratio

POSITION_COLUMNS = (
    "task",
    "simulator",
    "condition",
    "position",
    "n",
    "n_answers",
    "share",
    "share_low",
    "share_high",
    "expected",
)


def _group_shares(
    group: pd.DataFrame, n_resamples: int, seed: int, level: float
) -> pd.DataFrame | None:
    lengths = np.array([len(o) if (o := as_codes(v)) else 0 for v in column(group, "options")])
    positions = pd.to_numeric(group["answer_position"], errors="coerce").to_numpy(dtype=float)
    keep = (lengths > 0) & np.isfinite(positions)
    keep[keep] &= (positions[keep] >= 0) & (positions[keep] < lengths[keep])
    if not keep.any():
        return None
    pos, lengths = positions[keep].astype(np.int64), lengths[keep]
    width = int(lengths.max())
    # event: answers at each position, then the number of answers
    index = np.concatenate([pos, np.full(len(pos), width)])
    people = group["person_id"].to_numpy()[keep]
    stats = ClusterStats.from_entries(
        np.concatenate([people, people]), index, np.ones(2 * len(pos)), (width + 1,), n=len(pos)
    )

    def shares(agg: np.ndarray) -> np.ndarray:
        return ratio(agg[..., :width], agg[..., width : width + 1])

    total = stats.values.sum(axis=0)
    reps = bootstrap_replicates(stats.values, shares, n_resamples=n_resamples, seed=seed)
    alpha = (1.0 - level) / 2.0
    low, high = np.quantile(reps, [alpha, 1.0 - alpha], axis=0)
    slots = np.arange(width)
    expected = ((slots[None, :] < lengths[:, None]) / lengths[:, None]).mean(axis=0)
    return pd.DataFrame(
        {
            "position": slots,
            "n": total[:width].astype(np.int64),
            "n_answers": int(total[width]),
            "share": shares(total),
            "share_low": low,
            "share_high": high,
            "expected": expected,
        }
    )


def position_shares(
    frame: pd.DataFrame, *, n_resamples: int = 2000, seed: int = 0, level: float = 0.95
) -> pd.DataFrame:
    """Share of answers at each shown position, per (task, simulator, condition), next to the
    share expected if the simulator ignored position.

    Columns: ``task, simulator, condition, position, n`` (answers at that position),
    ``n_answers``, ``share`` with a person-clustered bootstrap interval ``share_low`` /
    ``share_high``, and ``expected`` (the mean of ``1/len(options)`` over trials showing that
    position). Only valid trials with an ``answer_position`` and ``options`` count.
    """
    require(frame, "task", "simulator", "condition", "person_id", "options", "answer_position")
    valid = valid_rows(frame)
    valid = valid.loc[valid["answer_position"].notna()]
    parts = []
    for (task, sim, cond), group in valid.groupby(
        ["task", "simulator", "condition"], sort=True, dropna=False
    ):
        shares = _group_shares(group, n_resamples, seed, level)
        if shares is not None:
            parts.append(shares.assign(task=str(task), simulator=str(sim), condition=str(cond)))
    if not parts:
        return pd.DataFrame({c: pd.Series(dtype=object) for c in POSITION_COLUMNS})
    return pd.concat(parts, ignore_index=True).loc[:, list(POSITION_COLUMNS)]
