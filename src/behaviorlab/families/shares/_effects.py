"""What the group changes: ``full`` minus a control condition on each share metric, paired.

For a simulator that ran ``full`` and a control (``no_persona``, ``shuffled_group``), the
difference is taken over the units both answered, and its interval comes from the same item
draws and the same redrawn people (and simulator samples) for both arms, so noise the two
share cancels. A difference is not at a boundary, so the basic bootstrap interval serves.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd

from behaviorlab.analysis._frame import SupportsToPandas
from behaviorlab.families.shares._metrics import (
    METRICS,
    Units,
    _point,
    _replicates,
    _shares_frame,
    arm_units,
)


def _basic(
    value: float, reps: np.ndarray, level: float, bounds: tuple[float, float]
) -> tuple[float, float]:
    """The basic bootstrap interval ``2 * value - quantiles``, clipped to ``bounds``."""
    r = reps[np.isfinite(reps)]
    if not r.size or not math.isfinite(value):
        return math.nan, math.nan
    alpha = (1.0 - level) / 2.0
    lo_q, hi_q = np.quantile(r, [alpha, 1.0 - alpha])
    lo, hi = bounds
    return float(np.clip(2.0 * value - hi_q, lo, hi)), float(np.clip(2.0 * value - lo_q, lo, hi))


def _aligned(a: Units, b: Units) -> tuple[Units, np.ndarray, np.ndarray]:
    """``a`` restricted to the units ``b`` has too, and ``b``'s distributions for them and
    the samples they come from."""
    where = {u: k for k, u in enumerate(b.ids)}
    rows = [k for k, u in enumerate(a.ids) if u in where]
    width = max(a.p.shape[1], b.p.shape[1])

    def pad(x: np.ndarray) -> np.ndarray:
        return np.pad(x, ((0, 0), (0, width - x.shape[1])))

    pick = np.asarray(rows, dtype=np.int64)
    ids = [a.ids[k] for k in rows]
    items = [a.items[k] for k in rows]
    cluster = pd.factorize(pd.Series(items, dtype=object))[0] if rows else np.zeros(0, np.int64)
    sub = Units(
        ids,
        items,
        np.asarray(cluster),
        pad(a.p)[pick],
        pad(a.q)[pick],
        pad(a.mask)[pick],
        a.n[pick],
        a.samples[pick],
    )
    take = np.asarray([where[u] for u in ids], dtype=np.int64)
    return sub, pad(b.q)[take], b.samples[take]


EFFECT_COLUMNS = (
    "simulator",
    "condition",
    "control",
    "n_units",
    *(f"{m}{s}" for m in METRICS for s in ("_difference", "_low", "_high")),
)


def share_effects(
    results: pd.DataFrame | SupportsToPandas,
    *,
    n_resamples: int = 2000,
    seed: int = 0,
    level: float = 0.95,
) -> pd.DataFrame:
    """Per simulator that ran ``full`` and another condition (``no_persona``,
    ``shuffled_group``, ...): ``full`` minus the other on each share metric over the units
    both answered, with a paired interval (the same item draws and the same redrawn people
    for both arms; basic bootstrap). Columns :data:`EFFECT_COLUMNS`."""
    frame = _shares_frame(results)
    arms = {
        (str(s), str(c)): arm_units(g)[0]
        for (s, c), g in frame.groupby(["simulator", "condition"], sort=True)
    }
    rows = []
    for (sim, cond), units in arms.items():
        if cond != "full":
            continue
        for (other_sim, control), other in sorted(arms.items(), key=lambda kv: kv[0][1]):
            if other_sim != sim or control == "full":
                continue
            sub, q_other, m_other = _aligned(units, other)
            if not sub.ids:
                continue
            a, b = _point(sub, sub.q), _point(sub, q_other)
            reps, _ = _replicates(
                sub, [sub.q, q_other], n_resamples, seed, 250, [sub.samples, m_other]
            )
            row: dict[str, Any] = {
                "simulator": sim,
                "condition": cond,
                "control": control,
                "n_units": len(sub.ids),
            }
            for m in METRICS:
                diff = a[m] - b[m]
                low, high = _basic(diff, reps[m][0] - reps[m][1], level, (-math.inf, math.inf))
                row |= {f"{m}_difference": diff, f"{m}_low": low, f"{m}_high": high}
            rows.append(row)
    if not rows:
        return pd.DataFrame({c: pd.Series(dtype=object) for c in EFFECT_COLUMNS})
    return pd.DataFrame(rows)[list(EFFECT_COLUMNS)]
