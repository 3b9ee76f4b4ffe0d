"""Rankings of simulators adjusted for known confounders: :func:`adjusted_ranking`.

When simulators are scored on different trials (a simulator that failed or skipped the hard
items, a study whose arms saw different people, captured behavior that is observational), a
raw mean mixes the simulator with what its trials were like. Regression adjustment fits the
per-trial score on the arm and the confounders (``statsmodels`` OLS, standard errors
clustered by person) and reports each arm's *standardised* mean: the model's prediction
averaged over all trials of all arms with the arm set to that one, so every arm is read on the
same mix of confounders. Numeric confounders enter linearly, others as categories.

On identical trial sets (every arm scored on the same trials) a confounder that describes the
trial (a person's or an item's attribute) is balanced across arms by construction, the arm
coefficients equal the raw differences and adjustment cannot change a ranking; ``balanced``
says whether the trial sets are identical *and* every confounder is the same for every arm on
each trial. A results column measured after the simulator answered (tokens, latency) varies
with the arm on the same trial: a note names it (post-treatment; adjusting for it can change
a ranking even on identical trials).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from behaviorlab.analysis._frame import (
    MATCH_KEYS,
    SupportsToPandas,
    as_frame,
    decoded,
    require,
    valid_rows,
)
from behaviorlab.analysis._metrics import MeanMetric, Metric, get_metric


@dataclass(frozen=True)
class AdjustedRanking:
    """Raw and confounder-adjusted means of each arm, side by side.

    ``table``: per arm (best adjusted first) ``trials``, ``people``, the raw mean and the
    adjusted (standardised) mean with their ``level`` intervals (cluster-robust by person),
    their ranks (1 = best) and ``shift`` (adjusted minus raw). ``differences``: every arm
    against the best adjusted arm, raw and adjusted, with intervals. ``balanced``: whether every
    arm was scored on the same trials and every confounder is the same for every arm on each
    trial (then adjustment cannot change the ranking).
    """

    metric: str
    confounders: tuple[str, ...]
    table: pd.DataFrame
    differences: pd.DataFrame
    balanced: bool
    n_trials: int
    n_people: int
    level: float
    higher_is_better: bool
    notes: tuple[str, ...] = field(default_factory=tuple)

    @property
    def ranking_changed(self) -> bool:
        """Whether any arm's adjusted rank differs from its raw rank."""
        return bool((self.table["raw_rank"] != self.table["adjusted_rank"]).any())

    def to_dict(self) -> dict[str, Any]:
        def records(frame: pd.DataFrame) -> list[dict[str, Any]]:
            return [{str(k): v for k, v in r.items()} for r in frame.to_dict("records")]

        return {
            "metric": self.metric,
            "confounders": list(self.confounders),
            "balanced": self.balanced,
            "ranking_changed": self.ranking_changed,
            "n_trials": self.n_trials,
            "n_people": self.n_people,
            "level": self.level,
            "higher_is_better": self.higher_is_better,
            "table": records(self.table),
            "differences": records(self.differences),
            "notes": list(self.notes),
        }


def _join(frame: pd.DataFrame, table: pd.DataFrame | None, key: str, what: str) -> pd.DataFrame:
    if table is None:
        return frame
    if key not in table.columns:
        raise ValueError(f"the {what} table has no {key!r} column; its columns: {list(table)}")
    dup = table[key].astype(str).duplicated()
    if dup.any():
        raise ValueError(
            f"the {what} table has {int(dup.sum())} repeated {key} value(s), e.g. "
            f"{table.loc[dup, key].iloc[0]!r}; give one row per {key}"
        )
    extra = table.drop(columns=[c for c in table.columns if c in frame.columns and c != key])
    return frame.merge(
        extra.assign(**{key: extra[key].astype(str)}),
        on=key,
        how="left",
    )


def _design(frame: pd.DataFrame, confounders: Sequence[str]) -> tuple[pd.DataFrame, list[str]]:
    parts, notes = [], []
    for c in confounders:
        col = frame[c]
        numeric = pd.to_numeric(col, errors="coerce")
        if pd.api.types.is_bool_dtype(col) or numeric.notna().sum() < col.notna().sum():
            dummies = pd.get_dummies(col.astype(str), prefix=c, prefix_sep="=", drop_first=True)
            parts.append(dummies.astype(float))
            notes.append(f"{c}: a category ({col.nunique()} levels)")
        elif numeric.nunique() <= 2:
            levels = sorted(numeric.dropna().unique())
            parts.append((numeric == levels[-1]).astype(float).to_frame(f"{c}={levels[-1]:g}"))
            notes.append(f"{c}: two values")
        else:
            parts.append(numeric.astype(float).to_frame(c))
            notes.append(f"{c}: numeric, linear")
    return (pd.concat(parts, axis=1) if parts else pd.DataFrame(index=frame.index)), notes


def _varying_with_arm(data: pd.DataFrame, confounders: Sequence[str]) -> dict[str, tuple[int, int]]:
    """The confounders that take different values between arms on the same trial, each with
    how many of the trials several arms answered it varies on, and how many those are."""
    keys = list(MATCH_KEYS)
    shared = data.groupby(keys, sort=False, dropna=False)["_arm"].transform("nunique") > 1
    if not shared.any():
        return {}
    part = data.loc[shared]
    n_shared = int(part.groupby(keys, sort=False, dropna=False).ngroups)
    out = {}
    for c in confounders:
        values = part[c].astype(str)
        n_vary = int((values.groupby([part[k] for k in keys], sort=False).nunique() > 1).sum())
        if n_vary:
            out[c] = (n_vary, n_shared)
    return out


def _collinear(x: np.ndarray, n_arms: int, columns: Sequence[str]) -> list[str]:
    """The design columns (after the arms) that add nothing to the columns before them."""
    out, rank = [], n_arms
    for j, name in enumerate(columns):
        r = int(np.linalg.matrix_rank(x[:, : n_arms + j + 1]))
        if r == rank:
            out.append(name)
        rank = r
    return out


def _fit(
    y: np.ndarray,
    arms: np.ndarray,
    n_arms: int,
    conf: np.ndarray,
    groups: np.ndarray,
    columns: Sequence[str] = (),
    confounders: Sequence[str] = (),
) -> tuple[np.ndarray, np.ndarray]:
    """Standardised arm means and their cluster-robust covariance."""
    import statsmodels.api as sm

    onehot = np.eye(n_arms)[arms]
    x = np.column_stack([onehot, conf])
    if np.linalg.matrix_rank(x) < x.shape[1]:
        bad = _collinear(x, n_arms, columns)
        names = [c for c in confounders if any(b == c or b.startswith(f"{c}=") for b in bad)]
        raise ValueError(
            f"the confounder(s) {names} are collinear with the arms or with the confounders "
            f"named before them ({', '.join(bad)} add nothing to the fit): an arm's effect "
            "cannot be told apart from them (a value the same for all trials, a column that "
            "follows the arm, or a copy of another confounder); drop or coarsen "
            + ("it" if len(names) == 1 else "them")
        )
    fit = sm.OLS(y, x).fit(cov_type="cluster", cov_kwds={"groups": groups})
    centre = conf.mean(axis=0) if conf.size else np.zeros(0)
    contrasts = np.column_stack([np.eye(n_arms), np.tile(centre, (n_arms, 1))])
    beta, cov = np.asarray(fit.params), np.asarray(fit.cov_params())
    return contrasts @ beta, contrasts @ cov @ contrasts.T


def _ranks(values: np.ndarray, higher: bool) -> np.ndarray:
    return np.asarray(
        pd.Series(values * (-1 if higher else 1)).rank(method="min").astype(int).to_numpy()
    )


def adjusted_ranking(
    results: pd.DataFrame | SupportsToPandas,
    confounders: Sequence[str],
    *,
    metric: str | Metric = "accuracy",
    task: str | None = None,
    condition: str | None = None,
    persons: pd.DataFrame | None = None,
    items: pd.DataFrame | None = None,
    level: float = 0.95,
) -> AdjustedRanking:
    """Rank the arms (simulator, or simulator and condition) of ``results`` on a per-trial
    ``metric``, raw and adjusted for ``confounders`` (columns of the results, of ``persons``
    joined on ``person_id``, e.g. ``Run.persons()``, or of ``items`` joined on ``item_id``).

    Trials without a score or with a missing confounder are left out (``notes`` counts them).
    Intervals are t intervals (people - 1 degrees of freedom) from cluster-robust standard
    errors by person.
    """
    from scipy.stats import t as student

    m = get_metric(metric)
    if not isinstance(m, MeanMetric):
        raise ValueError(
            f"adjustment needs a per-trial metric (accuracy, log_loss, brier, ...), got "
            f"{type(m).__name__}"
        )
    if not confounders:
        raise ValueError("name at least one confounder (a column of the results or persons)")
    name = metric if isinstance(metric, str) else type(metric).__name__
    frame = as_frame(results)
    require(frame, *MATCH_KEYS, "simulator", "condition")
    if task is not None:
        frame = frame.loc[frame["task"].astype(str) == task]
    if condition is not None:
        frame = frame.loc[frame["condition"].astype(str) == condition]
    if frame["task"].nunique() > 1:
        raise ValueError(
            f"the results hold {frame['task'].nunique()} tasks; rank within one (task=, --task)"
        )
    valid = decoded(valid_rows(frame))
    scores = m.scored(valid)
    data = valid.loc[scores.index].assign(_score=scores.to_numpy())
    data = data.assign(person_id=data["person_id"].astype(str), item_id=data["item_id"].astype(str))
    data = _join(_join(data, persons, "person_id", "persons"), items, "item_id", "items")
    missing = [c for c in confounders if c not in data.columns]
    if missing:
        raise ValueError(
            f"no confounder column {missing}: name columns of the results, of the persons "
            f"table or of the items table (the columns are {sorted(map(str, data.columns))})"
        )
    notes = []
    complete = data[list(confounders)].notna().all(axis=1)
    if not complete.all():
        notes.append(f"{int((~complete).sum())} trials with a missing confounder are left out")
        data = data.loc[complete]
    if data.empty:
        raise ValueError("no scored trial with every confounder present")
    several = data["condition"].nunique() > 1
    arm = data["simulator"].astype(str)
    if several:
        arm = arm + " [" + data["condition"].astype(str) + "]"
    codes, labels = pd.factorize(arm, sort=True)
    data = data.assign(_arm=codes)
    keysets = {
        a: frozenset(map(tuple, data.loc[codes == k, list(MATCH_KEYS)].astype(str).to_numpy()))
        for k, a in enumerate(labels)
    }
    varying = _varying_with_arm(data, confounders)
    balanced = len(set(keysets.values())) == 1 and not varying
    conf, kinds = _design(data, confounders)
    y = data["_score"].to_numpy(dtype=float)
    groups = pd.factorize(data["person_id"])[0]
    n_people = int(groups.max()) + 1
    raw, raw_cov = _fit(y, codes, len(labels), np.zeros((len(y), 0)), groups)
    adj, adj_cov = _fit(
        y,
        codes,
        len(labels),
        conf.to_numpy(dtype=float),
        groups,
        [str(c) for c in conf.columns],
        confounders,
    )
    crit = float(student.ppf(0.5 + level / 2, max(n_people - 1, 1)))
    higher = bool(m.higher_is_better)
    rows = []
    raw_rank, adj_rank = _ranks(raw, higher), _ranks(adj, higher)
    for k, a in enumerate(labels):
        rs, as_ = (math.sqrt(max(float(c[k, k]), 0.0)) for c in (raw_cov, adj_cov))
        rows.append(
            {
                "arm": str(a),
                "trials": int((codes == k).sum()),
                "people": int(data.loc[codes == k, "person_id"].nunique()),
                "raw": float(raw[k]),
                "raw_low": float(raw[k] - crit * rs),
                "raw_high": float(raw[k] + crit * rs),
                "raw_rank": int(raw_rank[k]),
                "adjusted": float(adj[k]),
                "adjusted_low": float(adj[k] - crit * as_),
                "adjusted_high": float(adj[k] + crit * as_),
                "adjusted_rank": int(adj_rank[k]),
                "shift": float(adj[k] - raw[k]),
            }
        )
    table = pd.DataFrame(rows).sort_values(["adjusted_rank", "arm"], kind="stable")
    best = int(np.argmin(adj_rank))
    diffs = []
    for k, a in enumerate(labels):
        if k == best:
            continue
        row: dict[str, Any] = {"arm": str(a), "against": str(labels[best])}
        for what, value, cov in (("raw", raw, raw_cov), ("adjusted", adj, adj_cov)):
            d = float(value[k] - value[best])
            se = math.sqrt(max(cov[k, k] + cov[best, best] - 2 * cov[k, best], 0.0))
            row[what], row[f"{what}_low"], row[f"{what}_high"] = d, d - crit * se, d + crit * se
        diffs.append(row)
    notes.insert(0, "confounders: " + "; ".join(kinds))
    for c, (n_vary, n_shared) in varying.items():
        notes.append(
            f"{c} varies with the arm on {n_vary} of the {n_shared} trials several arms answered: "
            "it was measured after the simulator answered (post-treatment, e.g. tokens or "
            "latency), so adjusting for it can change the ranking even on the same trials and "
            "the adjusted means do not read the simulators on the same trials; adjust only for "
            "what a trial was before the simulator saw it (person and item attributes)"
        )
    if balanced:
        notes.append(
            "every arm was scored on the same trials: the confounders are balanced across arms "
            "and adjustment cannot change the ranking"
        )
    return AdjustedRanking(
        metric=name,
        confounders=tuple(confounders),
        table=table.reset_index(drop=True),
        differences=pd.DataFrame(diffs),
        balanced=balanced,
        n_trials=len(y),
        n_people=n_people,
        level=level,
        higher_is_better=higher,
        notes=tuple(notes),
    )
