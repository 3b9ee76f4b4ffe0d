"""The gap report's data: :class:`GapRow` per (task, simulator, condition) and
:class:`GapReport`, with JSON export."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from behaviorlab.analysis._bootstrap import Estimate
from behaviorlab.analysis._compare import COMPARE_COLUMNS
from behaviorlab.analysis._equivalence import DISTRIBUTION_TEST_COLUMNS
from behaviorlab.analysis._items import AGREEMENT_COLUMNS, ITEM_COLUMNS
from behaviorlab.analysis._paired import PairedEffect
from behaviorlab.analysis._subgroups import DISPARITY_COLUMNS, SUBGROUP_COLUMNS
from behaviorlab.analysis._turns import ROLE_COLUMNS

if TYPE_CHECKING:
    from behaviorlab.analysis._answer_key import AnswerKeyReport
    from behaviorlab.analysis._ceiling import HumanCeiling
    from behaviorlab.analysis._numeric import NumericOutcomes

FULL = "full"


def records(table: pd.DataFrame) -> list[dict[str, Any]]:
    """The rows of ``table`` as JSON-able dicts: Python scalars, None for NaN and NA."""
    columns = {c: table[c].tolist() for c in table.columns}
    out = []
    for i in range(len(table)):
        row = {}
        for c, values in columns.items():
            v = values[i]
            if isinstance(v, np.generic):
                v = v.item()
            if v is pd.NA or v is pd.NaT or (isinstance(v, float) and not math.isfinite(v)):
                v = None
            row[str(c)] = v
        out.append(row)
    return out


def empty_table(columns: tuple[str, ...]) -> pd.DataFrame:
    """A table with ``columns`` and no rows."""
    return pd.DataFrame({c: pd.Series(dtype=object) for c in columns})


@dataclass(frozen=True)
class GapRow:
    """One (task, simulator, condition): trial counts and each metric.

    ``n`` counts all trials, ``n_valid`` those scored, ``n_failed`` backend errors and
    timeouts, ``n_invalid`` unparseable answers, ``n_people`` the people with a valid trial.
    ``estimates[m]`` is None when metric ``m`` does not apply; ``missing[m]`` then says why.
    """

    task: str
    simulator: str
    condition: str
    baseline: bool
    n: int
    n_valid: int
    n_failed: int
    n_invalid: int
    n_people: int
    estimates: Mapping[str, Estimate | None]
    missing: Mapping[str, str] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "task": self.task,
            "simulator": self.simulator,
            "condition": self.condition,
            "baseline": self.baseline,
            "n": self.n,
            "n_valid": self.n_valid,
            "n_failed": self.n_failed,
            "n_invalid": self.n_invalid,
            "n_people": self.n_people,
            "metrics": {m: e.to_dict() if e else None for m, e in self.estimates.items()},
            "missing": dict(self.missing),
        }


@dataclass(frozen=True, eq=False)
class GapReport:
    """Result of :func:`gap`. ``to_pandas()`` gives the wide table, ``to_dict()`` JSON."""

    rows: tuple[GapRow, ...]
    metrics: tuple[str, ...]
    higher_is_better: Mapping[str, bool]
    noise_floors: Mapping[str, Mapping[str, Estimate]]
    """task → distance metric → human split-half noise floor."""
    effects: tuple[PairedEffect, ...]
    position: pd.DataFrame
    """:func:`position_shares` of the same results."""
    n_resamples: int
    seed: int
    level: float
    comparisons: pd.DataFrame = field(default_factory=lambda: empty_table(COMPARE_COLUMNS))
    """:func:`compare`: paired differences with permutation tests, Holm-corrected."""
    distribution_tests: pd.DataFrame = field(
        default_factory=lambda: empty_table(DISTRIBUTION_TEST_COLUMNS)
    )
    """:func:`distribution_tests`: JS, TV and Wasserstein with equivalence tests."""
    subgroups: pd.DataFrame = field(default_factory=lambda: empty_table(SUBGROUP_COLUMNS))
    """:func:`subgroup_gaps` (first table): accuracy per persona group."""
    disparities: pd.DataFrame = field(default_factory=lambda: empty_table(DISPARITY_COLUMNS))
    """:func:`subgroup_gaps` (second table): largest minus smallest group accuracy."""
    items: pd.DataFrame = field(default_factory=lambda: empty_table(ITEM_COLUMNS))
    """:func:`item_level` (first table): human and simulated share per item and option."""
    item_agreement: pd.DataFrame = field(default_factory=lambda: empty_table(AGREEMENT_COLUMNS))
    """:func:`item_level` (second table): correlation across items, error-pattern kappa."""
    roles: pd.DataFrame = field(default_factory=lambda: empty_table(ROLE_COLUMNS))
    """:func:`role_table`: per role of multi-party trials, valid turns and per-turn scores."""
    ceiling: HumanCeiling | None = None
    """:func:`human_ceiling`, or None when nobody answered an item twice."""
    yardstick_notes: list[str] = field(default_factory=list)
    """Which yardsticks apply to this report (ceiling, noise floor, baselines), or that none
    exists, in words."""
    epsilon: float = 0.05
    """The equivalence margin of :attr:`distribution_tests`."""
    numeric: NumericOutcomes | None = None
    """:func:`numeric_outcomes` of the numeric and ordered trials, or None when there is none."""
    answer_key: AnswerKeyReport | None = None
    """:func:`answer_key_agreement` of the trials with an answer key, or None without any."""

    @property
    def tasks(self) -> list[str]:
        return list(dict.fromkeys(r.task for r in self.rows))

    def row(self, simulator: str, condition: str = FULL, task: str | None = None) -> GapRow:
        """The row of one simulator and condition (and task, if there are several)."""
        for r in self.rows:
            if (r.simulator, r.condition) == (simulator, condition) and task in (None, r.task):
                return r
        raise KeyError(f"no row for simulator {simulator!r}, condition {condition!r}")

    def to_pandas(self) -> pd.DataFrame:
        """One row per (task, simulator, condition); per metric three columns ``m``,
        ``m_low``, ``m_high`` (NaN when not applicable)."""
        records = []
        for r in self.rows:
            rec: dict[str, Any] = {
                "task": r.task,
                "simulator": r.simulator,
                "condition": r.condition,
                "baseline": r.baseline,
                "n": r.n,
                "n_valid": r.n_valid,
                "n_failed": r.n_failed,
                "n_invalid": r.n_invalid,
                "n_people": r.n_people,
            }
            for m in self.metrics:
                e = r.estimates.get(m)
                rec[m] = e.value if e else math.nan
                rec[f"{m}_low"] = e.low if e else math.nan
                rec[f"{m}_high"] = e.high if e else math.nan
            records.append(rec)
        columns = ["task", "simulator", "condition", "baseline", "n", "n_valid", "n_failed"]
        columns += ["n_invalid", "n_people"]
        columns += [f"{m}{s}" for m in self.metrics for s in ("", "_low", "_high")]
        return pd.DataFrame.from_records(records, columns=columns)

    def to_dict(self) -> dict[str, Any]:
        """JSON-able dict (non-finite numbers become None)."""
        position = self.position.astype(object).where(self.position.notna(), None)
        return {
            "settings": {"n_resamples": self.n_resamples, "seed": self.seed, "level": self.level},
            "metrics": [
                {"name": m, "higher_is_better": self.higher_is_better[m]} for m in self.metrics
            ],
            "rows": [r.to_dict() for r in self.rows],
            "noise_floor": {
                t: {d: e.to_dict() for d, e in floors.items()}
                for t, floors in self.noise_floors.items()
            },
            "effects": [e.to_dict() for e in self.effects],
            "position_shares": position.to_dict(orient="records"),
            "comparisons": records(self.comparisons),
            "distribution_tests": records(self.distribution_tests),
            "epsilon": self.epsilon,
            "subgroups": records(self.subgroups),
            "disparities": records(self.disparities),
            "items": records(self.items),
            "item_agreement": records(self.item_agreement),
            "roles": records(self.roles),
            "ceiling": self.ceiling.to_dict() if self.ceiling is not None else None,
            "yardstick_notes": list(self.yardstick_notes),
            "numeric": (
                {"table": records(self.numeric.table), "items": records(self.numeric.items)}
                if self.numeric is not None
                else None
            ),
            "answer_key": (
                {
                    "summary": records(self.answer_key.summary),
                    "items": records(self.answer_key.items),
                }
                if self.answer_key is not None
                else None
            ),
        }
