"""Debate dynamics beside the drift: attitude trajectories, the spread between a debate's
agents (convergence vs polarization), the reference dynamics (stubborn and DeGroot agents
starting where the agents started) and identity fidelity at round 0, each with an interval
clustered by debate (``person_id``).

**Spread change** compares each debate's spread (population standard deviation of its
agents' attitudes) after the last round with its spread before the first, over the agents
with a valid report at **both** ends, so the change never mixes two sets of agents. A debate
with fewer than two such agents gives no spread and is left out; both are counted
(``dropped_debates``; ``dropped_agents``, the agents with an invalid report at either end).

**DeGroot agents** each move to the mean of the others' previous attitudes; N of them follow
``m + (-1/(N-1))**r (a_0 - m)`` (``m`` the mean start); a single agent has no others and
never moves.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from behaviorlab.analysis import ClusterStats, cluster_bootstrap
from behaviorlab.families.debate._conditions import MODEL_DEFAULT
from behaviorlab.families.debate._metrics import MIN_DEBATES, _ratio


def reference_reports(reports: pd.DataFrame, kind: str) -> pd.DataFrame:
    """The debate arms' reports with every attitude after round 0 replaced by what reference
    agents starting where these agents started would report: ``stubborn`` (never move) or
    ``degroot`` (the closed form of moving to the mean of the others). A debate whose round 0
    has an invalid report is left out."""
    if kind not in ("stubborn", "degroot"):
        raise ValueError(f"reference_reports: kind is stubborn or degroot, not {kind!r}")
    out = reports.copy()
    debate = out["arm"] != MODEL_DEFAULT
    for _, g in out.loc[debate].groupby("trial_id"):
        start = g.loc[g["round"] == 0].set_index("role")["attitude"]
        if start.isna().any() or start.empty:
            out = out.drop(index=g.index)
            continue
        n, m = len(start), float(start.mean())
        factor = (-1.0 / (n - 1)) if n > 1 else 0.0
        for idx, rec in g.iterrows():
            a0 = float(start[rec["role"]])
            r = int(rec["round"])
            if kind == "stubborn" or n == 1:
                out.at[idx, "attitude"] = a0
            else:
                out.at[idx, "attitude"] = m + factor**r * (a0 - m)
    return out


def degroot_closed_form(start: Sequence[float], rounds: int) -> np.ndarray:
    """``(rounds + 1, N)`` attitudes of N DeGroot agents (each moves to the mean of the others'
    previous attitudes) from ``start``: ``m + (-1/(N-1))**r (a_0 - m)``; one agent (no others
    to move toward) keeps its start."""
    a0 = np.asarray(start, dtype=float)
    if a0.size == 0:
        raise ValueError("degroot_closed_form: start needs at least one agent's attitude")
    m = float(a0.mean())
    factor = -1.0 / (len(a0) - 1) if len(a0) > 1 else 0.0
    return np.stack([m + factor**r * (a0 - m) for r in range(rounds + 1)])


def trajectories(reports: pd.DataFrame, **boot: Any) -> pd.DataFrame:
    """The mean attitude per (simulator, condition, topic, identity, round), with an
    interval clustered by debate."""
    got = reports.loc[reports["attitude"].notna()]
    keys = ["simulator", "condition", "topic", "identity", "round"]
    rows = []
    for key, g in got.groupby(keys, sort=True):
        est = _ratio(g["person_id"], g["attitude"].to_numpy(), np.ones(len(g)), **boot)
        rows.append({**dict(zip(keys, key, strict=True)), "attitude": est, "reports": len(g)})
    return pd.DataFrame(rows, columns=[*keys, "attitude", "reports"])


def spread(reports: pd.DataFrame, **boot: Any) -> pd.DataFrame:
    """The mean spread between a debate's agents (population standard deviation of the
    attitudes valid at that round) per (simulator, condition, topic, round), with an interval
    clustered by debate. A change between rounds is :func:`spread_change` (over the agents
    valid at both)."""
    got = reports.loc[(reports["arm"] != MODEL_DEFAULT) & reports["attitude"].notna()]
    per = (
        got.groupby(["simulator", "condition", "topic", "round", "person_id", "trial_id"])[
            "attitude"
        ]
        .agg(lambda x: float(np.std(x)) if len(x) > 1 else math.nan)
        .dropna()
        .rename("sd")
        .reset_index()
    )
    keys = ["simulator", "condition", "topic", "round"]
    rows = []
    for key, g in per.groupby(keys, sort=True):
        est = _ratio(g["person_id"], g["sd"].to_numpy(), np.ones(len(g)), **boot)
        rows.append({**dict(zip(keys, key, strict=True)), "spread": est, "debates": len(g)})
    return pd.DataFrame(rows, columns=[*keys, "spread", "debates"])


SPREAD_CHANGE_COLUMNS = [
    "simulator",
    "condition",
    "topic",
    "last_round",
    "change",
    "start_spread",
    "end_spread",
    "verdict",
    "debates",
    "dropped_debates",
    "dropped_agents",
]


def _end_spreads(g: pd.DataFrame, last: int) -> tuple[list[str], list[float], list[float], int]:
    """Per debate of ``g`` (its person_id; its spreads at round 0 and ``last`` over the agents
    valid at both), and the agents left out (a report invalid or missing at either end).
    Debates with fewer than two such agents give no spread."""
    pids: list[str] = []
    start: list[float] = []
    end: list[float] = []
    dropped_agents = 0
    ends = g.loc[g["round"].isin([0, last])]
    for (pid, _), d in ends.groupby(["person_id", "trial_id"], sort=True):
        at = {
            (str(r), int(rnd)): float(a)
            for r, rnd, a in zip(d["role"], d["round"], d["attitude"], strict=True)
            if math.isfinite(float(a))
        }
        roles = sorted({str(r) for r in d["role"]})
        both = [r for r in roles if (r, 0) in at and (r, last) in at]
        dropped_agents += len(roles) - len(both)
        if len(both) < 2:
            continue
        pids.append(str(pid))
        start.append(float(np.std([at[(r, 0)] for r in both])))
        end.append(float(np.std([at[(r, last)] for r in both])))
    return pids, start, end, dropped_agents


def spread_change(reports: pd.DataFrame, **boot: Any) -> pd.DataFrame:
    """Convergence vs polarization as a test: per (simulator, condition, topic), the mean over
    debates of (spread after the last round − spread before the first), each debate's two
    spreads over its agents valid at both ends (module docstring), with an interval clustered
    by debate, and a verdict: ``converges`` when the interval lies below 0, ``polarizes`` when
    above, else ``no clear change`` (``too few debates`` below :data:`MIN_DEBATES`). The mean
    start and end spreads over the same agents sit beside it; the debates and agents left out
    are counted (:data:`SPREAD_CHANGE_COLUMNS`)."""
    arms = reports.loc[reports["arm"] != MODEL_DEFAULT]
    keys = ["simulator", "condition", "topic"]
    rows = []
    for key, g in arms.groupby(keys, sort=True):
        last = int(g["round"].max())
        if last == 0:
            continue
        pids, start, end, dropped_agents = _end_spreads(g, last)
        debates = g.groupby(["person_id", "trial_id"]).ngroups
        if not pids:
            continue
        a, b = np.asarray(start), np.asarray(end)
        ones = np.ones(len(pids))
        est = _ratio(pids, b - a, ones, **boot)
        lo, hi = est.low, est.high
        if len(set(pids)) < MIN_DEBATES or not math.isfinite(lo) or not math.isfinite(hi):
            verdict = f"too few debates (fewer than {MIN_DEBATES})"
        else:
            verdict = "converges" if hi < 0 else "polarizes" if lo > 0 else "no clear change"
        rows.append(
            {
                **dict(zip(keys, key, strict=True)),
                "last_round": last,
                "change": est,
                "start_spread": _ratio(pids, a, ones, **boot),
                "end_spread": _ratio(pids, b, ones, **boot),
                "verdict": verdict,
                "debates": len(pids),
                "dropped_debates": debates - len(pids),
                "dropped_agents": dropped_agents,
            }
        )
    return pd.DataFrame(rows, columns=SPREAD_CHANGE_COLUMNS)


FIDELITY_COLUMNS = [
    "simulator",
    "condition",
    "topic",
    "agents",
    "mae",
    "midpoint_mae",
    "exact",
    "correlation",
]


def identity_fidelity(reports: pd.DataFrame, **boot: Any) -> pd.DataFrame:
    """Identity fidelity at round 0 where identities are real respondents: per (simulator,
    condition, topic), the agents' first reports against the respondents' own answers, with
    intervals clustered by debate: the mean absolute error, the same for a twin that always
    answers the scale's midpoint (a baseline that knows nothing of the person), the share of
    exact agreements, and the correlation across agents (from additive per-debate sums).

    An option-scored report's attitude is the expected point of its distribution, which is
    rarely a point itself: its ``exact`` agreement is that of its most likely point (``mode``);
    the error and the correlation use the expected point."""
    got = reports.loc[
        (reports["round"] == 0)
        & (reports["arm"] != MODEL_DEFAULT)
        & reports["attitude"].notna()
        & reports["own_answer"].notna()
    ]
    rows: list[dict[str, Any]] = []
    for key, g in got.groupby(["simulator", "condition", "topic"], sort=True):
        x = g["attitude"].to_numpy(dtype=float)
        h = g["own_answer"].to_numpy(dtype=float)
        mode = g["mode"].to_numpy(dtype=float) if "mode" in g.columns else np.full(len(g), np.nan)
        point = np.where(np.isfinite(mode), mode, x)
        ones = np.ones(len(g))
        mid = float(g["scale_mid"].iloc[0])
        stats = ClusterStats.from_rows(
            list(g["person_id"]), np.column_stack([x, h, x * x, h * h, x * h, ones])
        )

        def corr(s: np.ndarray) -> np.ndarray:
            n = s[..., 5]
            with np.errstate(divide="ignore", invalid="ignore"):
                cov = s[..., 4] / n - s[..., 0] * s[..., 1] / n**2
                vx = s[..., 2] / n - (s[..., 0] / n) ** 2
                vh = s[..., 3] / n - (s[..., 1] / n) ** 2
                return np.asarray(cov / np.sqrt(vx * vh))

        rows.append(
            {
                **dict(zip(["simulator", "condition", "topic"], key, strict=True)),
                "agents": len(g),
                "mae": _ratio(g["person_id"], np.abs(x - h), ones, **boot),
                "midpoint_mae": _ratio(g["person_id"], np.abs(mid - h), ones, **boot),
                "exact": _ratio(g["person_id"], (point == h).astype(float), ones, **boot),
                "correlation": cluster_bootstrap(stats, corr, **boot),
            }
        )
    return pd.DataFrame(rows, columns=FIDELITY_COLUMNS)
