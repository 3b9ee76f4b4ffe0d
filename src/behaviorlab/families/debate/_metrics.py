"""Debate metrics: the attitude reports of a run, the model's default and the drift toward it,
each with an interval clustered by debate (trajectories, spread, reference dynamics and
identity fidelity: :mod:`._dynamics`).

**Drift toward the default** by round r, for the agents of one arm (simulator × condition;
per topic and pooled): the share of the initial gap to the default closed by round r, as a
ratio of sums over agents,

    sum_i s_i (a_i0 - a_ir)  /  sum_i s_i (a_i0 - d),     s_i = sign(a_i0 - d),

leaving out agents whose initial gap ``|a_i0 - d|`` is below the threshold (task option
``drift_threshold``) and agents without a valid report at round 0 or r. ``d`` is the model's
default: the mean attitude of the ``model_default`` trials of the same simulator, per topic,
**wording** (the statement asked: a ``paraphrased_topic`` arm's debates are measured against
its own default trials, asked in the paraphrase) and role simulator. Agents of a scripted
drift at ``share`` per round close ``1 - (1 - share)**r``; stubborn agents 0.

The interval is a percentile bootstrap over clusters: the debates of the arm and the
``model_default`` trials are resampled together, and ``d`` is recomputed in every replicate
from the resampled default trials, so its uncertainty is carried into the interval (the
signs ``s_i`` and the threshold are fixed at the point estimate of ``d``).
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from behaviorlab.analysis import ClusterStats, Estimate, cluster_bootstrap
from behaviorlab.families.debate._conditions import MODEL_DEFAULT
from behaviorlab.families.debate._task import DEBATE

POOLED = "(pooled)"
MIN_DEBATES = 3
"""Fewer debates than this give no convergence / polarization reading: an interval over one
or two debates is no evidence (one debate's interval is a point)."""
REPORT_COLUMNS = [
    "simulator",
    "condition",
    "seed",
    "person_id",
    "trial_id",
    "arm",
    "topic",
    "wording",
    "role",
    "role_simulator",
    "identity",
    "agents",
    "round",
    "ask",
    "attitude",
    "mode",
    "sd",
    "threshold",
    "own_answer",
    "scale_mid",
]


def _as_dict(value: Any) -> dict[str, Any]:
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except json.JSONDecodeError:
            return {}
    return value if isinstance(value, dict) else {}


def _num(value: Any) -> float:
    return math.nan if value is None else float(value)


def debate_reports(frame: pd.DataFrame) -> pd.DataFrame:
    """One row per attitude report of every valid debate trial (:data:`REPORT_COLUMNS`;
    ``attitude`` NaN where the report was invalid; ``mode`` and ``sd``, the most likely point
    and the spread of an option-scored report's distribution, NaN for others; ``wording`` the
    statement the agents were asked)."""
    if "task" not in frame.columns or frame.empty:
        return pd.DataFrame(columns=REPORT_COLUMNS)
    trials = frame.loc[frame["task"].astype(str) == DEBATE]
    if "error" in trials.columns:  # a failed trial (a party that never answered) has no reports
        trials = trials.loc[trials["error"].isna()]
    rows: list[dict[str, Any]] = []
    for rec in trials.to_dict(orient="records"):
        value = _as_dict(rec.get("answer_json"))
        sims = dict(value.get("role_simulators") or {})
        meta = _as_dict(rec.get("meta"))
        threshold = float(meta.get("drift_threshold", value.get("drift_threshold", 0.5)))
        n = len(value.get("identities") or {})
        scale = dict(value.get("scale") or {})
        mid = (float(scale.get("min", math.nan)) + float(scale.get("max", math.nan))) / 2
        wording = str(value.get("statement", ""))
        for r in value.get("reports", []):
            rows.append(
                {
                    "simulator": str(rec["simulator"]),
                    "condition": str(rec["condition"]),
                    "seed": rec.get("seed", 0),
                    "person_id": str(rec["person_id"]),
                    "trial_id": str(rec["trial_id"]),
                    "arm": str(value.get("arm", "debate")),
                    "topic": str(value.get("topic", rec.get("item_id"))),
                    "wording": wording,
                    "role": str(r["role"]),
                    "role_simulator": str(sims.get(r["role"], "")),
                    "identity": "(none)" if r.get("identity") is None else str(r["identity"]),
                    "agents": n,
                    "round": int(r["round"]),
                    "ask": int(r.get("ask", 0)),
                    "attitude": _num(r["attitude"]),
                    "mode": _num(r.get("mode")),
                    "sd": _num(r.get("sd")),
                    "threshold": threshold,
                    "own_answer": _num(r.get("own_answer")),
                    "scale_mid": mid,
                }
            )
    return pd.DataFrame(rows, columns=REPORT_COLUMNS)


def _ratio(clusters: Any, num: np.ndarray, den: np.ndarray, **boot: Any) -> Estimate:
    stats = ClusterStats.from_rows(list(clusters), np.column_stack([num, den]))

    def value(s: np.ndarray) -> np.ndarray:
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.asarray(s[..., 0] / s[..., 1])

    return cluster_bootstrap(stats, value, **boot)


def _worded(reports: pd.DataFrame) -> pd.DataFrame:
    """``reports`` with a ``wording`` column (one wording, ``""``, where it has none)."""
    return reports if "wording" in reports.columns else reports.assign(wording="")


DEFAULT_COLUMNS = [
    "simulator",
    "topic",
    "wording",
    "role_simulator",
    "default",
    "reports",
    "trials",
]


def default_attitudes(reports: pd.DataFrame, **boot: Any) -> pd.DataFrame:
    """The model's default per (simulator, topic, wording, role simulator): the mean attitude
    of its ``model_default`` reports, with an interval clustered by trial, and their number."""
    got = _worded(reports.loc[(reports["arm"] == MODEL_DEFAULT) & reports["attitude"].notna()])
    rows = []
    keys = ["simulator", "topic", "wording", "role_simulator"]
    for key, g in got.groupby(keys, sort=True):
        est = _ratio(g["trial_id"], g["attitude"].to_numpy(), np.ones(len(g)), **boot)
        rows.append(
            {
                **dict(zip(keys, key, strict=True)),
                "default": est,
                "reports": len(g),
                "trials": g["trial_id"].nunique(),
            }
        )
    return pd.DataFrame(rows, columns=DEFAULT_COLUMNS)


@dataclass
class _DriftParts:
    """One arm's drift as additive per-cluster statistics: ``rows`` (one per agent of a
    debate, clusters ``debate:<person_id>``, and one per default trial, ``default:<trial>``)
    and ``share(s, j)``, the share closed by ``rounds[j]`` from summed rows ``s``."""

    clusters: list[str]
    rows: np.ndarray
    rounds: list[int]
    counted: dict[int, int]
    below: int
    no_default: int
    n_k: int

    @property
    def base(self) -> int:
        return len(self.rounds) + 3 * len(self.rounds) * self.n_k

    def share(self, s: np.ndarray, j: int) -> np.ndarray:
        n_r, base = len(self.rounds), self.base
        with np.errstate(divide="ignore", invalid="ignore"):
            den = np.zeros(s.shape[:-1])
            for k in range(self.n_k):
                at = n_r + 3 * (j * self.n_k + k)
                a, sign, used = s[..., at], s[..., at + 1], s[..., at + 2]
                d = s[..., base + 2 * k] / s[..., base + 2 * k + 1]
                den = den + np.where(used > 0, a - d * sign, 0.0)
            return np.asarray(s[..., j] / den)


def _drift_parts(debate: pd.DataFrame, defaults: pd.DataFrame) -> _DriftParts | None:
    """The statistics of one arm's agents (see the module docstring); None without a
    default or a round after 0. Only the default trials of the (topic, wording) pairs the
    arm's debates were asked are used."""
    debate, defaults = _worded(debate), _worded(defaults)
    asked = set(zip(debate["topic"].astype(str), debate["wording"].astype(str), strict=True))
    mine = [
        (str(t), str(w)) in asked
        for t, w in zip(defaults["topic"], defaults["wording"], strict=True)
    ]
    defaults = defaults.loc[mine]
    by = ["topic", "wording", "role_simulator"]
    keys = sorted({tuple(str(x) for x in k) for k in defaults[by].itertuples(index=False)})
    k_of = {k: i for i, k in enumerate(keys)}
    valid = defaults.loc[defaults["attitude"].notna()]
    d_hat = {tuple(str(x) for x in k): float(g["attitude"].mean()) for k, g in valid.groupby(by)}
    rounds = sorted(int(r) for r in debate["round"].unique() if r > 0)
    if not keys or not rounds:
        return None
    n_r, n_k = len(rounds), len(keys)
    width = n_r + 3 * n_r * n_k + 2 * n_k
    clusters: list[str] = []
    rows: list[np.ndarray] = []
    counted = {r: 0 for r in rounds}
    below = 0
    no_default = 0
    wide = debate.pivot_table(
        index=["person_id", "trial_id", "role", *by],
        columns="round",
        values="attitude",
        aggfunc="first",
    )
    threshold = float(debate["threshold"].iloc[0])
    for index, att in wide.iterrows():
        labels: tuple[Any, ...] = tuple(index)  # type: ignore[arg-type]
        pid, _, _, *rest = (str(x) for x in labels)
        a0 = float(att.get(0, math.nan))
        key = tuple(rest)
        if not math.isfinite(a0):
            continue
        if key not in d_hat:
            no_default += 1
            continue
        gap0 = a0 - d_hat[key]
        if abs(gap0) < threshold or gap0 == 0:
            below += 1
            continue
        s = math.copysign(1.0, gap0)
        row = np.zeros(width)
        k = k_of[key]
        for j, r in enumerate(rounds):
            ar = float(att.get(r, math.nan))
            if not math.isfinite(ar):
                continue
            counted[r] += 1
            row[j] = s * (a0 - ar)
            at = n_r + 3 * (j * n_k + k)
            row[at : at + 3] = (s * a0, s, 1.0)
        clusters.append(f"debate:{pid}")
        rows.append(row)
    base = n_r + 3 * n_r * n_k
    for got, g in valid.groupby(["trial_id", *by]):
        tid, *dkey = (str(x) for x in tuple(got))
        row = np.zeros(width)
        k = k_of[tuple(dkey)]
        row[base + 2 * k] = float(g["attitude"].sum())
        row[base + 2 * k + 1] = float(len(g))
        clusters.append(f"default:{tid}")
        rows.append(row)
    if not any(counted.values()):
        return None
    return _DriftParts(clusters, np.vstack(rows), rounds, counted, below, no_default, n_k)


def _drift_one(debate: pd.DataFrame, defaults: pd.DataFrame, **boot: Any) -> list[dict[str, Any]]:
    """Rows (round, share, agents, left out) of one arm's agents (see the module docstring)."""
    parts = _drift_parts(debate, defaults)
    if parts is None:
        return []
    stats = ClusterStats.from_rows(parts.clusters, parts.rows)
    out = []
    for j, r in enumerate(parts.rounds):

        def share(s: np.ndarray, j: int = j) -> np.ndarray:
            return parts.share(s, j)

        out.append(
            {
                "round": int(r),
                "share": cluster_bootstrap(stats, share, **boot),
                "agents": parts.counted[r],
                "below_threshold": parts.below,
                "no_default": parts.no_default,
            }
        )
    return out


def drift_differences(reports: pd.DataFrame, *, base: str = "full", **boot: Any) -> pd.DataFrame:
    """Each arm's drift minus the ``base`` arm's (condition), per simulator and round, pooled
    over topics, **paired by debate setup**: an arm's trials and the base's share their
    ``person_id`` (the setup), so one bootstrap draws the same setups (and default trials)
    for both and the interval is of the difference itself. Rows: simulator, condition,
    round, difference, setups (in both)."""
    cols = ["simulator", "condition", "round", "difference", "setups"]
    defaults = reports.loc[reports["arm"] == MODEL_DEFAULT]
    arms = reports.loc[reports["arm"] != MODEL_DEFAULT]
    rows: list[dict[str, Any]] = []
    for sim, g in arms.groupby("simulator", sort=True):
        mine = defaults.loc[defaults["simulator"] == sim]
        ref = _drift_parts(g.loc[g["condition"] == base], mine)
        if ref is None:
            continue
        for cond, gc in g.loc[g["condition"] != base].groupby("condition", sort=True):
            other = _drift_parts(gc, mine)
            if other is None:
                continue
            shared = {c for c in ref.clusters if c.startswith("debate:")} & {
                c for c in other.clusters if c.startswith("debate:")
            }
            wa = ref.rows.shape[1]
            stacked = np.vstack(
                [
                    np.hstack([ref.rows, np.zeros((len(ref.rows), other.rows.shape[1]))]),
                    np.hstack([np.zeros((len(other.rows), wa)), other.rows]),
                ]
            )
            stats = ClusterStats.from_rows([*ref.clusters, *other.clusters], stacked)
            for j, r in enumerate(ref.rounds):
                if r not in other.rounds:
                    continue
                jo = other.rounds.index(r)

                def diff(
                    s: np.ndarray,
                    j: int = j,
                    jo: int = jo,
                    a: _DriftParts = ref,
                    b: _DriftParts = other,
                    wa: int = wa,
                ) -> np.ndarray:
                    return np.asarray(b.share(s[..., wa:], jo) - a.share(s[..., :wa], j))

                rows.append(
                    {
                        "simulator": sim,
                        "condition": cond,
                        "round": r,
                        "difference": cluster_bootstrap(stats, diff, **boot),
                        "setups": len(shared),
                    }
                )
    return pd.DataFrame(rows, columns=cols)


DRIFT_COLUMNS = [
    "simulator",
    "condition",
    "arm",
    "topic",
    "round",
    "share",
    "agents",
    "below_threshold",
    "no_default",
]


def drift_table(reports: pd.DataFrame, *, per_topic: bool = True, **boot: Any) -> pd.DataFrame:
    """Drift toward the default by round (see the module docstring): one row per (simulator,
    condition, topic or ``(pooled)``, round) of every arm with reports after round 0."""
    rows: list[dict[str, Any]] = []
    defaults = reports.loc[reports["arm"] == MODEL_DEFAULT]
    arms = reports.loc[reports["arm"] != MODEL_DEFAULT]
    for (sim, cond, arm), g in arms.groupby(["simulator", "condition", "arm"], sort=True):
        mine = defaults.loc[defaults["simulator"] == sim]
        topics = sorted(g["topic"].unique())
        groups: list[tuple[str, pd.DataFrame, pd.DataFrame]] = [(POOLED, g, mine)]
        if per_topic and len(topics) > 1:
            groups += [(t, g.loc[g["topic"] == t], mine.loc[mine["topic"] == t]) for t in topics]
        elif len(topics) == 1:  # one topic: its rows are the pooled ones
            groups = [(topics[0], g, mine)]
        for topic, gg, dd in groups:
            for row in _drift_one(gg, dd, **boot):
                rows.append(
                    {"simulator": sim, "condition": cond, "arm": arm, "topic": topic, **row}
                )
    return pd.DataFrame(rows, columns=DRIFT_COLUMNS)
