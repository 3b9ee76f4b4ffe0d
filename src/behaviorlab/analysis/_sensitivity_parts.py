"""Parts of :mod:`behaviorlab.analysis._sensitivity`: the rationale distances (ROUGE-L between
the rationales of the same trial in two cells) and the variance shares (type II sums of squares
of the main effects on the cell means)."""

from __future__ import annotations

import itertools
import math
import re
import unicodedata
import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

SEED = "seed"
_TOKEN = re.compile(r"[^\W_]+")


def marginals(values: np.ndarray, grid: pd.DataFrame, factor: str, levels: list[str]) -> np.ndarray:
    """(B, L): the mean over the cells at each level of ``factor``; ``values`` (B, C). NaN
    where a level has no cell with a value (a resample without the people of a short cell)."""
    cols = [np.flatnonzero(grid[factor].to_numpy() == lv) for lv in levels]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN: the mean is NaN
        return np.stack([np.nanmean(values[:, ix], axis=1) for ix in cols], axis=1)


# -- rationale distance ----------------------------------------------------------------------
# ROUGE-L written here: the rouge-score package is not a dependency, and the core cannot use
# the next_action family's scorer (families sit above the core). Word tokens as there: NFKC,
# lowercased, runs of letters and digits.


def tokenize(text: str) -> list[str]:
    """Word tokens (NFKC, lower case, letters and digits) that ROUGE-L compares; the
    next_action family's rationale metrics use the same."""
    return _TOKEN.findall(unicodedata.normalize("NFKC", text).lower())


def lcs_length(a: Sequence[str], b: Sequence[str]) -> int:
    """Length of the longest common subsequence of two token lists (O(len(a) * len(b)) time,
    O(min) memory)."""
    if len(a) < len(b):
        a, b = b, a
    prev = [0] * (len(b) + 1)
    for x in a:
        cur = [0] * (len(b) + 1)
        for j, y in enumerate(b, start=1):
            cur[j] = prev[j - 1] + 1 if x == y else max(prev[j], cur[j - 1])
        prev = cur
    return prev[-1]


def rouge_l(a: str, b: str) -> float:
    """ROUGE-L F1 of two texts on word tokens (1 when both are empty)."""
    ta, tb = tokenize(a), tokenize(b)
    if not ta and not tb:
        return 1.0
    lcs = lcs_length(ta, tb)
    if lcs == 0:
        return 0.0
    p, r = lcs / len(ta), lcs / len(tb)
    return 2 * p * r / (p + r)


def _rationale(answer_json: Any, meta: Any) -> str | None:
    for source in (answer_json, meta):
        if isinstance(source, dict):
            text = source.get("rationale")
            if isinstance(text, str):
                return text
    return None


# -- variance shares ---------------------------------------------------------------------


def balanced_shares(
    values: np.ndarray, grid: pd.DataFrame, factors: dict[str, list[str]]
) -> dict[str, np.ndarray]:
    """(B,) shares of each swept factor and the residual, for a complete balanced design,
    where each main effect's sum of squares is ``(C / L) * sum_l (m_l - grand)^2`` (what
    type II gives there), computed for every replicate at once."""
    grand = values.mean(axis=1, keepdims=True)
    total = np.square(values - grand).sum(axis=1)
    out: dict[str, np.ndarray] = {}
    for f, levels in factors.items():
        if len(levels) > 1:
            m = marginals(values, grid, f, levels)
            ss = values.shape[1] / len(levels) * np.square(m - grand).sum(axis=1)
            with np.errstate(invalid="ignore", divide="ignore"):
                out[f] = ss / total
    out["residual"] = 1.0 - np.sum(list(out.values()), axis=0)
    return out


def anova(grid: pd.DataFrame, y: np.ndarray, factors: dict[str, list[str]]) -> list[dict[str, Any]]:
    """Type II sums of squares of the main effects on the cell means (statsmodels)."""
    import statsmodels.formula.api as smf
    from statsmodels.stats.anova import anova_lm

    swept = [f for f, lv in factors.items() if len(lv) > 1]
    data = grid.assign(y=y).dropna(subset=["y"])
    if not swept or len(data) <= 1:
        return []
    cols = {f: f"f{i}" for i, f in enumerate(swept)}
    data = data.rename(columns=cols)
    formula = "y ~ " + " + ".join(f"C({cols[f]})" for f in swept)
    df_resid = len(data) - 1 - sum(len(factors[f]) - 1 for f in swept)
    if df_resid <= 0:  # saturated: no residual to divide by; the sums of squares still hold
        rows: list[dict[str, Any]] = []
        grand = float(data["y"].mean())
        for f in swept:
            means = data.groupby(cols[f])["y"].mean()
            n = data.groupby(cols[f])["y"].size()
            rows.append(
                {
                    "factor": f,
                    "df": len(means) - 1,
                    "sum_sq": float((n * (means - grand) ** 2).sum()),
                }
            )
        rows.append({"factor": "residual", "df": 0, "sum_sq": 0.0})
    else:
        table = anova_lm(smf.ols(formula, data=data).fit(), typ=2)
        back = {f"C({c})": f for f, c in cols.items()}
        rows = [
            {
                "factor": back.get(str(k), "residual"),
                "df": int(r["df"]),
                "sum_sq": float(r["sum_sq"]),
            }
            for k, r in table.iterrows()
        ]
    total = sum(float(r["sum_sq"]) for r in rows)
    for r in rows:
        r["share"] = float(r["sum_sq"]) / total if total > 0 else math.nan
    # the share a null factor would get: every sum of squares holds cell-mean noise too, about
    # df times the noise per df, which the seed's mean square measures (the seed is noise by
    # design); in a design of noise alone a factor's share averages df / (C - 1)
    seed = next((r for r in rows if r["factor"] == SEED and r["df"] > 0), None)
    per_df = float(seed["share"]) / int(seed["df"]) if seed is not None else math.nan
    for r in rows:
        r["null_share"] = int(r["df"]) * per_df
    return rows


def rationale_stats(
    sub: pd.DataFrame,
    grid: pd.DataFrame,
    factors: dict[str, list[str]],
    reference: dict[str, str],
    people: list[str],
    valid: np.ndarray,
) -> tuple[list[dict[str, Any]], np.ndarray]:
    """The (factor, level) comparisons and their per-person sums of rationale distance and
    pair counts, shape (G, E, 2)."""
    ok = sub.loc[valid]
    texts = [
        _rationale(a, m)
        for a, m in zip(
            ok.get("answer_json", [None] * len(ok)), ok.get("meta", [None] * len(ok)), strict=True
        )
    ]
    ok = ok.assign(_rationale=pd.Series(texts, index=ok.index, dtype=object))
    ok = ok.dropna(subset=["_rationale"])
    if ok.empty:
        return [], np.zeros((len(people), 0, 2))
    # a trial is its person, item, spec seed (the stored ``seed``: several spec seeds: answer
    # each item again) and step; the simulator's own seed is a factor, in the label
    keys = [k for k in ("person_id", "item_id", "seed", "episode_id", "step_index") if k in ok]
    by_cell = {
        str(lab): part.set_index(keys)["_rationale"] for lab, part in ok.groupby("simulator")
    }
    for lab, texts_of in by_cell.items():
        if not texts_of.index.is_unique:
            raise ValueError(
                f"cell {lab} holds two rationales for one trial ({', '.join(keys)} repeat); "
                "the rationale distance pairs one trial with the same trial in another cell"
            )
    names = list(factors)
    label_of = {tuple(r[f] for f in names): r["simulator"] for r in grid.to_dict("records")}
    g_of = {p: i for i, p in enumerate(people)}
    entries: list[dict[str, Any]] = []
    sums: list[np.ndarray] = []

    def add(entry: dict[str, Any], pairs: list[tuple[str, str]]) -> None:
        acc = np.zeros((len(people), 2))
        for a, b in pairs:
            if a not in by_cell or b not in by_cell:
                continue
            joined = pd.concat(
                [by_cell[a].rename("a"), by_cell[b].rename("b")], axis=1, join="inner"
            )
            pid = joined.index.get_level_values("person_id").astype(str)
            for person, ta, tb in zip(pid, joined["a"], joined["b"], strict=True):
                acc[g_of[person], 0] += 1.0 - rouge_l(str(ta), str(tb))
                acc[g_of[person], 1] += 1.0
        if acc[:, 1].sum() > 0:
            entries.append({**entry, "n_pairs": int(acc[:, 1].sum())})
            sums.append(acc)

    def cell_pairs(f: str, level_pairs: list[tuple[str, str]]) -> list[tuple[str, str]]:
        """The cells at each (level a, level b) of ``f`` with every other factor equal."""
        others = [n for n in names if n != f]
        out = []
        for ctx in itertools.product(*(factors[n] for n in others)):
            key = dict(zip(others, ctx, strict=True))
            for a, b in level_pairs:
                la = label_of.get(tuple({**key, f: a}[n] for n in names))
                lb = label_of.get(tuple({**key, f: b}[n] for n in names))
                if la is not None and lb is not None:
                    out.append((la, lb))
        return out

    for f in names:
        levels = factors[f]
        if len(levels) < 2:
            continue
        if f == SEED:
            seed_pairs = cell_pairs(f, list(itertools.combinations(levels, 2)))
            add({"factor": f, "level": "(any two)", "reference": ""}, seed_pairs)
            continue
        for lv in (x for x in levels if x != reference[f]):
            pairs = cell_pairs(f, [(lv, reference[f])])
            add({"factor": f, "level": lv, "reference": reference[f]}, pairs)
    stacked = np.stack(sums, axis=1) if sums else np.zeros((len(people), 0, 2))
    return entries, stacked
