"""Reading the results frame: column checks, which rows count, and tolerant decoding of the
JSON columns (``probabilities``, ``samples``, ``options``), which arrive as Python objects from
SQLite, as numpy arrays or key/value pairs from Parquet, or still as JSON text.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Mapping
from typing import Any, Protocol, runtime_checkable

import numpy as np
import pandas as pd

FAILED_KINDS = frozenset({"backend", "timeout"})
"""``error_kind`` values counted as failed trials (``"invalid"`` is counted separately)."""

MATCH_KEYS = ("task", "person_id", "item_id", "episode_id", "step_index", "seed")
"""Columns that identify the same trial across conditions and simulators."""


@runtime_checkable
class SupportsToPandas(Protocol):
    """Anything with ``to_pandas()`` returning the results frame (a run, a store)."""

    def to_pandas(self) -> pd.DataFrame: ...


def as_frame(results: pd.DataFrame | SupportsToPandas) -> pd.DataFrame:
    """The results frame of ``results`` (a DataFrame, or an object with ``to_pandas()``)."""
    if isinstance(results, pd.DataFrame):
        return results
    if isinstance(results, SupportsToPandas):
        return results.to_pandas()
    raise TypeError(f"expected a results DataFrame or a run, got {type(results).__name__}")


def require(frame: pd.DataFrame, *columns: str) -> None:
    """Raise a ValueError naming the results-schema columns ``frame`` lacks."""
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise ValueError(
            f"results frame lacks column(s) {', '.join(missing)}; analysis expects the results "
            "schema (behaviorlab.store.COLUMNS), one row per trial"
        )


def with_columns(frame: pd.DataFrame, *columns: str) -> pd.DataFrame:
    """``frame`` with the optional ``columns`` it lacks added as None (a new frame)."""
    absent = {c: None for c in columns if c not in frame.columns}
    return frame.assign(**absent) if absent else frame


def valid_mask(frame: pd.DataFrame) -> np.ndarray:
    """Rows that count in metrics: no error and a score (``correct`` not null)."""
    require(frame, "error", "correct")
    return np.asarray(frame["error"].isna() & frame["correct"].notna(), dtype=bool)


def valid_rows(frame: pd.DataFrame) -> pd.DataFrame:
    """The rows of ``frame`` that count in metrics (see :func:`valid_mask`)."""
    return frame.loc[valid_mask(frame)]


def failure_counts(frame: pd.DataFrame) -> tuple[int, int]:
    """(failed, invalid): trials that failed in the backend or timed out (an error without a
    kind counts as failed), and trials whose output could not be parsed."""
    require(frame, "error", "error_kind")
    kind = frame["error_kind"]
    invalid = kind.eq("invalid").fillna(False).to_numpy(dtype=bool)
    errored = (frame["error"].notna() | kind.notna()).to_numpy(dtype=bool)
    return int((errored & ~invalid).sum()), int(invalid.sum())


def _decode(value: Any) -> Any:
    if isinstance(value, str | bytes):
        try:
            return json.loads(value)
        except ValueError:
            return None
    return value


class Probs(dict[str, float]):
    """Probabilities already checked and renormalised by :func:`as_probs`."""


class Codes(list[str]):
    """Option codes already decoded by :func:`as_codes`."""


def as_probs(value: Any) -> Probs | None:
    """A probability dict renormalised to sum to one, or None when there is none (missing,
    empty, or zero total mass). Negative and non-finite entries are dropped."""
    if type(value) is Probs:
        return value
    value = _decode(value)
    if isinstance(value, Mapping):
        items: Iterable[Any] = value.items()
    elif isinstance(value, list | tuple | np.ndarray) and len(value) > 0:
        items = value  # Parquet map columns arrive as (key, value) pairs
    else:
        return None
    probs: dict[str, float] = {}
    total = 0.0
    for key, raw in items:
        try:
            p = float(raw)
        except (TypeError, ValueError):
            continue
        if p > 0.0 and math.isfinite(p):
            probs[str(key)] = probs.get(str(key), 0.0) + p
            total += p
    if total <= 0.0:
        return None
    return Probs({k: p / total for k, p in probs.items()})


def as_codes(value: Any) -> Codes | None:
    """A list of option codes (``samples``, ``options``), or None when missing or empty."""
    if type(value) is Codes:
        return value
    value = _decode(value)
    if isinstance(value, list | tuple | np.ndarray) and len(value) > 0:
        return Codes(str(v) for v in value)
    return None


def decoded(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` with ``probabilities``, ``samples`` and ``options`` decoded once (a new frame;
    the input is not modified), so that every metric reads them without re-parsing."""
    updates = {}
    for name, decode in (("probabilities", as_probs), ("samples", as_codes), ("options", as_codes)):
        if name in frame.columns:
            values = [decode(v) for v in frame[name].tolist()]
            updates[name] = pd.Series(values, index=frame.index, dtype=object)
    return frame.assign(**updates) if updates else frame


def as_code(value: Any) -> str | None:
    """One option code (``answer``, ``human_answer``), or None when missing."""
    if value is None or (isinstance(value, float) and np.isnan(value)) or value is pd.NA:
        return None
    return str(value)


def column(frame: pd.DataFrame, name: str) -> list[Any]:
    """The values of one column as a plain list (object cells untouched)."""
    require(frame, name)
    return frame[name].tolist()
